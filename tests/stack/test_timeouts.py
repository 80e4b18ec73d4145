"""Timeouts on the app's own engine, against a real MySQL server and against one that takes
connections and never greets them (an Aurora Serverless v2 cluster resuming from pause): what
the RDS stack's pause rehearsal (test_rds_stack.py) builds on. Each waits out a timeout by
design, so they run here rather than in make test's inner loop."""

import contextlib
import socket
import threading
import time

import pytest
import sqlalchemy as sa

from app import create_app
from app.engine import SERVER_LOST, resuming
from app.extensions import db
from tests.support.databases import settings_for

pytestmark = pytest.mark.mysql


@pytest.fixture
def silent_server():
    """A server that takes every connection and never greets it: a cluster resuming from pause."""
    listener, held = socket.create_server(("127.0.0.1", 0)), []

    def take() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(listener.accept()[0])

    threading.Thread(target=take, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for connection in held:
        connection.close()


def test_a_database_that_takes_the_connection_and_does_not_greet_is_503_within_the_timeout(
    silent_server, caplog
):
    url = f"mysql+pymysql://app:pw@127.0.0.1:{silent_server}/app"
    app = create_app(settings_for(url, db_connect_timeout=1))  # DB_READ_TIMEOUT stays 30
    start = time.monotonic()
    response = app.test_client().get("/api/items")
    waited = time.monotonic() - start
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert waited < 10, waited  # the connect timeout, not the queries' read timeout
    assert "resuming from pause" in caplog.text
    result = app.test_cli_runner().invoke(args=["wait-db", "--timeout", "1"])
    assert result.exit_code == 1 and "resuming from pause" in result.output


def test_a_query_past_its_read_timeout_is_not_taken_for_a_resume(database_url):
    """PyMySQL raises one error for both: 2013, timed out. A slow query is not a pause."""
    app = create_app(settings_for(database_url, db_read_timeout=1))
    with app.app_context():
        with pytest.raises(sa.exc.OperationalError) as raised:
            db.session.execute(sa.text("SELECT SLEEP(2)"))
        assert raised.value.orig.args[0] == SERVER_LOST and "timed out" in str(raised.value)
        assert not resuming(raised.value)
        db.session.rollback()
        db.engine.dispose()


def test_a_query_may_take_longer_than_the_connect_timeout(database_url):
    """The greeting is awaited DB_CONNECT_TIMEOUT; a query, DB_READ_TIMEOUT (30 s)."""
    app = create_app(settings_for(database_url, db_connect_timeout=1))
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT SLEEP(1.2)").scalar() == 0
        db.engine.dispose()
