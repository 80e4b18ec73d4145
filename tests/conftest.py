"""Fixtures: one migrated database per run, and an app per test built through the factory.

On MySQL a test runs inside a transaction on one shared connection, rolled back at its end (its
own commits become savepoints), so it costs milliseconds; on SQLite it gets a copy of the
migrated file.
"""

import statistics

import pytest
import sqlalchemy as sa
from flask import g
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.extensions import db
from harness.stack import free_port
from tests.databases import migrate_database, settings_for, start_server

SERVERS_USED = []


def pytest_terminal_summary(terminalreporter):
    calls = [r.duration for r in terminalreporter.stats.get("passed", []) if r.when == "call"]
    if calls:
        median_ms = statistics.median(calls) * 1000
        terminalreporter.write_line(f"per-test median: {median_ms:.1f} ms over {len(calls)} tests")
    for server in SERVERS_USED:
        terminalreporter.write_line(f"database server: {server}")


@pytest.fixture(scope="session")
def db_server():
    server = start_server()
    SERVERS_USED.append(f"{server.description}, version {server.version}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def migrated_url(db_server):
    url = db_server.create_database()
    migrate_database(url)
    yield url
    db_server.drop_database(url)


@pytest.fixture
def empty_database(db_server):
    """A database of its own, with no schema, for tests that migrate or commit for real."""
    url = db_server.create_database()
    yield url
    db_server.drop_database(url)


@pytest.fixture(scope="session")
def shared_connection(db_server, migrated_url):
    """One MySQL connection for the whole run: a new one per test would cost a TLS handshake."""
    if not db_server.is_mysql:
        yield None
        return
    engine = sa.create_engine(migrated_url, poolclass=sa.pool.NullPool)
    connection = engine.connect()
    yield connection
    connection.close()
    engine.dispose()


@pytest.fixture
def app(db_server, migrated_url, shared_connection, tmp_path, monkeypatch):
    if not db_server.is_mysql:
        app = create_app(settings_for(db_server.copy_database(migrated_url, tmp_path)))
        yield app
        with app.app_context():
            db.engine.dispose()
        return

    app = create_app(settings_for(migrated_url))
    transaction = shared_connection.begin()
    # A plain SQLAlchemy session: Flask-SQLAlchemy's picks the engine over this connection, and
    # it has no public way to bind one. Scoped like Flask-SQLAlchemy's, to the app context
    # (`g` is one object per app context), and removed by its teardown all the same.
    factory = sessionmaker(bind=shared_connection, join_transaction_mode="create_savepoint")
    session = scoped_session(factory, scopefunc=lambda: id(g._get_current_object()))
    monkeypatch.setattr(db, "session", session)
    yield app
    transaction.rollback()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def _mysql_only(request):
    """Tests marked mysql skip on SQLite; the server is started only for tests that use it."""
    marked = request.node.get_closest_marker("mysql")
    if marked and not request.getfixturevalue("db_server").is_mysql:
        pytest.skip("needs MySQL; this run is on SQLite (its 'database server' line says why)")


@pytest.fixture(scope="session")
def moto_server():
    """moto's AWS stand-in, in server mode. It listens on every interface so that containers on
    a bridge network reach it through host.docker.internal (tests/test_deploy.py); tests on
    this machine use 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="0.0.0.0", port=port, verbose=False)  # noqa: S104
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def point_at_moto(patch: pytest.MonkeyPatch, moto_url: str):
    """boto3, pointed at moto with throwaway credentials (never at AWS)."""
    for name, value in {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
    }.items():
        patch.setenv(name, value)
    patch.delenv("AWS_PROFILE", raising=False)
    import boto3

    return boto3


@pytest.fixture
def aws_env(moto_server, monkeypatch):
    """boto3 against moto, for one test."""
    return point_at_moto(monkeypatch, moto_server)
