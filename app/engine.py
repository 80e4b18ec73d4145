"""How the MySQL engine talks to the server: a read is one round trip, a write a transaction.

The engine autocommits (app/config.py), so a read is one statement with no transaction to end.
A transaction begins where one is needed: BEGIN goes out just before the first statement that
writes or locks (INSERT, UPDATE, DELETE, SAVEPOINT, SELECT ... FOR UPDATE or FOR SHARE), on the
same connection, and the session's commit() or rollback() ends it. So a resource written as
Flask-SQLAlchemy's documentation writes it (add, flush, commit; get with with_for_update) is all
or nothing, and its locked rows stay locked until the commit. A read before the first write of
a transaction sees the latest committed data; read with with_for_update what must not change.

Connections are pinged only when they sat idle DB_PING_AFTER seconds or more, where the server
may have closed them (wait_timeout, a restart, a failover), not at every checkout as
pool_pre_ping would: one round trip per request saved (docs/benchmarks.md).
"""

import re
import time
from typing import Any

import pymysql
from pymysql.constants import SERVER_STATUS
from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

# Statements that need a transaction: they write, or lock what they read.
WRITES = re.compile(r"\s*\(?\s*(INSERT|UPDATE|DELETE|REPLACE|SAVEPOINT|CALL|LOAD)\b", re.I)
LOCKS = re.compile(r"\bFOR\s+(UPDATE|SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b", re.I)
# ER_SERVER_SHUTDOWN: the server is stopping (a restart, an RDS reboot or failover). SQLAlchemy's
# MySQL dialect does not count it as a disconnect, so the pool would keep the dead connection.
SERVER_GOING_AWAY = {1053}


def needs_transaction(statement: str) -> bool:
    return bool(WRITES.match(statement) or LOCKS.search(statement))


def transaction_open(dbapi_connection: Any) -> bool:
    """False only when the server's last OK packet said: autocommit on, no transaction open.
    PyMySQL keeps the status of OK packets, and every statement that opens or ends a
    transaction is answered with one. Without autocommit the server opens transactions by
    itself, so one may be open before it says so: then True."""
    status = getattr(dbapi_connection, "server_status", None)
    if status is None:
        return True
    autocommit = status & SERVER_STATUS.SERVER_STATUS_AUTOCOMMIT
    return bool(status & SERVER_STATUS.SERVER_STATUS_IN_TRANS) or not autocommit


def install(engine: Engine, ping_after: float) -> None:
    rollback = engine.dialect.do_rollback

    def rollback_if_open(dbapi_connection: Any) -> None:
        """No ROLLBACK when no transaction is open: after a read there is none, and the
        session's close would otherwise cost a round trip."""
        if transaction_open(dbapi_connection):
            rollback(dbapi_connection)

    engine.dialect.do_rollback = rollback_if_open  # type: ignore[method-assign]

    @event.listens_for(engine, "before_cursor_execute")
    def begin_before_writes(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        dbapi_connection = conn.connection.dbapi_connection
        if needs_transaction(statement) and not transaction_open(dbapi_connection):
            dbapi_connection.begin()

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
