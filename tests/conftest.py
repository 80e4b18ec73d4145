"""Fixtures: one migrated database per run, and an app per test built through the factory.

On MySQL a test runs inside a transaction on one shared connection, rolled back at its end (its
own commits become savepoints), so it costs milliseconds; on SQLite it gets a copy of the
migrated file.
"""

import flask_migrate
import pytest
import sqlalchemy as sa
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.extensions import db
from tests.databases import start_server
from tests.stack import free_port


def app_config(url, **extra) -> dict:
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, **extra}


def migrate_database(url) -> None:
    """Build the schema the way production does: by running the migrations."""
    app = create_app(app_config(url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


SERVERS_USED = []


def pytest_terminal_summary(terminalreporter):
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
        app = create_app(app_config(db_server.copy_database(migrated_url, tmp_path)))
        yield app
        with app.app_context():
            db.engine.dispose()
        return

    app = create_app(app_config(migrated_url))
    transaction = shared_connection.begin()
    # A plain SQLAlchemy session: Flask-SQLAlchemy's would pick the engine over this connection.
    factory = sessionmaker(bind=shared_connection, join_transaction_mode="create_savepoint")
    session = scoped_session(factory, scopefunc=_app_ctx_id)
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
def _mysql_only(request, db_server):
    if request.node.get_closest_marker("mysql") and not db_server.is_mysql:
        pytest.skip("needs MySQL: start Docker or set TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def moto_server():
    """moto's AWS stand-in, in server mode on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_server, monkeypatch):
    """boto3, pointed at moto with throwaway credentials (never at AWS)."""
    for name, value in {
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    import boto3

    return boto3
