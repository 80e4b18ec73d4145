"""Fixtures: one migrated database per run, and an app per test built through the factory, on
its own engine as configured (autocommit, write transactions, pool checks: what production runs).

On MySQL each test starts from empty tables (the rows a test leaves are deleted after it); on
SQLite it gets a copy of the migrated file. The stand-ins of tests/support register their own
fixtures below.
"""

import statistics

import pytest

from app import create_app
from app.extensions import db
from harness.stack import ROOT
from tests.support.databases import migrate_database, settings_for, start_server

pytest_plugins = ["tests.support.aws", "tests.support.standin"]
SERVERS_USED = []
BEFORE = pytest.StashKey[dict[str, float]]()


# What the operator tools write where they run: a test that lets them write into the work tree
# would overwrite a developer's own .env.rds. Checked at the end of every run.
WRITTEN_BY_TOOLS = (".env.rds", ".certs")


def tool_files() -> dict[str, float]:
    found = {}
    for name in WRITTEN_BY_TOOLS:
        path = ROOT / name
        for file in [path, *path.rglob("*")] if path.is_dir() else [path]:
            if file.is_file():
                found[str(file.relative_to(ROOT))] = file.stat().st_mtime
    return found


def pytest_sessionstart(session):
    session.config.stash[BEFORE] = tool_files()


def pytest_sessionfinish(session, exitstatus):
    before = session.config.stash.get(BEFORE, {})
    written = sorted(f for f, mtime in tool_files().items() if before.get(f) != mtime)
    if written:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        said = f"the tests wrote into the work tree: {', '.join(written)}"
        reporter.write("\n")
        reporter.write_sep("=", said, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
    """A database of its own, with no schema, for tests that migrate it themselves."""
    url = db_server.create_database()
    yield url
    db_server.drop_database(url)


@pytest.fixture
def database_url(db_server, migrated_url, tmp_path):
    """A migrated database with no rows, for this test alone."""
    if not db_server.is_mysql:
        yield db_server.copy_database(migrated_url, tmp_path)
        return
    yield migrated_url
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    db_server.empty_tables(migrated_url, tables)


@pytest.fixture
def app(database_url):
    app = create_app(settings_for(database_url))
    yield app
    with app.app_context():
        db.engine.dispose()  # a connection a test left in a transaction is rolled back


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
