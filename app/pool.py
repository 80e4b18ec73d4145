"""Connection checks that cost a round trip only when they can buy something, and a server
shutdown counted as the disconnect it is.

SQLAlchemy's pool_pre_ping pings at every checkout: on a busy worker that is one extra round
trip per request for a connection used milliseconds ago. Here a connection is pinged only when
it sat idle in the pool for DB_PING_AFTER seconds or more, the case where the server may have
closed it (wait_timeout, a restart, an RDS failover). A connection that dies while busy fails
its request with a 503, and SQLAlchemy then drops every connection of that pool.
"""

import time
from typing import Any

import pymysql
from pymysql.constants import SERVER_STATUS
from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

# ER_SERVER_SHUTDOWN: the server is stopping (a restart, an RDS reboot or failover). The
# connection is finished, but SQLAlchemy's MySQL dialect does not count it as a disconnect, so
# the pool would keep it and the request's rollback would fail again on it.
SERVER_GOING_AWAY = {1053}


def open_transaction_possible(dbapi_connection: Any) -> bool:
    """False only when the server's last OK packet said: autocommit on, no transaction open.
    PyMySQL reads the status from OK packets (not from a result set's EOF); every statement
    that opens or ends a transaction (START TRANSACTION, COMMIT, ROLLBACK, SET autocommit) is
    answered with one, so the flag is never stale about that. Without autocommit a
    transaction may be open before the server flags it: then always True.

    Not SQLAlchemy's `skip_autocommit_rollback`: it looks at autocommit only, which stays on
    inside START TRANSACTION, so a failed write's ROLLBACK would be skipped, its locks kept."""
    status = getattr(dbapi_connection, "server_status", None)
    if status is None:
        return True
    autocommit = status & SERVER_STATUS.SERVER_STATUS_AUTOCOMMIT
    return bool(status & SERVER_STATUS.SERVER_STATUS_IN_TRANS) or not autocommit


def install(engine: Engine, ping_after: float) -> None:
    rollback = engine.dialect.do_rollback

    def rollback_if_open(dbapi_connection: Any) -> None:
        """No ROLLBACK when the server says it autocommits and no transaction is open: a
        request that only read has none, and its session's close would cost a round trip."""
        if not open_transaction_possible(dbapi_connection):
            return
        rollback(dbapi_connection)

    engine.dialect.do_rollback = rollback_if_open  # type: ignore[method-assign]

    @event.listens_for(engine, "handle_error")
    def shutdown_is_a_disconnect(context: ExceptionContext) -> None:
        error = context.original_exception
        if isinstance(error, pymysql.err.OperationalError) and error.args[0] in SERVER_GOING_AWAY:
            context.is_disconnect = True

    @event.listens_for(engine, "checkin")
    def returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(
        dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < ping_after:
            return  # new, or in use a moment ago
        try:
            dbapi_connection.ping(reconnect=False)
        except (pymysql.err.Error, OSError) as exc:
            raise DisconnectionError(f"idle connection is gone: {exc}") from exc  # pool retries
