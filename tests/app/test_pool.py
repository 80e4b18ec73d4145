"""app/pool.py: a connection the server closed while it sat idle is replaced, not handed out."""

import time

import pytest
import sqlalchemy as sa

from app import pool

pytestmark = pytest.mark.mysql


def engine_with_one_connection(db_server, migrated_url, ping_after):
    engine = sa.create_engine(migrated_url, pool_size=1, max_overflow=0, pool_reset_on_return=None)
    pool.install(engine, ping_after)
    with engine.connect() as connection:
        thread_id = connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
    return engine, thread_id


def kill(db_server, thread_id):
    db_server.run_admin(f"KILL {thread_id}")
    time.sleep(0.2)


def test_idle_connection_killed_by_the_server_is_replaced(db_server, migrated_url):
    engine, thread_id = engine_with_one_connection(db_server, migrated_url, ping_after=0.1)
    kill(db_server, thread_id)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar() != thread_id
    engine.dispose()


def test_connection_used_a_moment_ago_is_not_pinged(db_server, migrated_url):
    # The check is skipped for a busy connection: proof that it is not a ping per request.
    engine, thread_id = engine_with_one_connection(db_server, migrated_url, ping_after=3600)
    kill(db_server, thread_id)
    with pytest.raises(sa.exc.OperationalError), engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    with engine.connect() as connection:  # ... and the pool recovers on the next checkout
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    engine.dispose()
