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
from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

# ER_SERVER_SHUTDOWN: the server is stopping (a restart, an RDS reboot or failover). The
# connection is finished, but SQLAlchemy's MySQL dialect does not count it as a disconnect, so
# the pool would keep it and the request's rollback would fail again on it.
SERVER_GOING_AWAY = {1053}


def install(engine: Engine, ping_after: float) -> None:
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
