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
pool_pre_ping would: one round trip per request saved (docs/benchmarks.md). Once none has been
used for DB_IDLE_CLOSE seconds they are closed: an idle app holds no connection, so an idle
Aurora Serverless v2 cluster can pause. The server's greeting is awaited DB_CONNECT_TIMEOUT
seconds, not the queries' read timeout: a resuming cluster accepts connections and greets
15 to 30 s later, and a request answers 503 with Retry-After meanwhile instead of hanging.
"""

import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable
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
log = logging.getLogger(__name__)
# CR_SERVER_LOST while connecting: the server accepted the connection and did not greet in time.
SERVER_LOST = 2013
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


RESUMING = (
    "the database took the connection and did not greet it in time: the cluster is resuming "
    "from pause (Aurora Serverless v2 takes 15 to 30 s)?"
)


def resuming(error: BaseException) -> bool:
    """A connection the server accepted and did not greet within the connect timeout: what an
    Aurora Serverless v2 instance resuming from pause does for 15 to 30 s. PyMySQL raises the
    same error for a query past its read timeout; SQLAlchemy names the statement of that one,
    and none for a connection being made."""
    if getattr(error, "statement", None) is not None:
        return False
    error = getattr(error, "orig", None) or error
    return (
        isinstance(error, pymysql.err.OperationalError)
        and error.args[0] == SERVER_LOST
        and "timed out" in str(error.args[1:])
    )


def first_line(error: BaseException) -> str:
    """The first line of a database error's own message (the driver's, under SQLAlchemy's)."""
    return str(getattr(error, "orig", None) or error).splitlines()[0]


def why(error: BaseException) -> str:
    """What a failed connection or query says, in one line; RESUMING for a resume."""
    return RESUMING if resuming(error) else first_line(error)


def handshake_then_reads(engine: Engine, read_timeout: float | None) -> None:
    """Connections are made with the read timeout set to the connect timeout (app/config.py),
    so the greeting is awaited no longer; the queries' own read timeout applies after that.
    PyMySQL has no public setter for it, and reads `_read_timeout` before each read."""

    @event.listens_for(engine, "connect")
    def reads_from_now(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        dbapi_connection._read_timeout = read_timeout


class EachProcess:
    """A daemon thread in each process, calling `beat` every `every` seconds until stopped,
    started by the process's first start(): gunicorn forks its workers after loading the app,
    and a thread does not survive a fork."""

    def __init__(self, name: str, every: float, beat: Callable[[], object]):
        self.name, self.every, self.beat = name, every, beat
        self.lock = threading.Lock()  # held while a process makes its thread
        self._pid: int | None = None
        self._stop = threading.Event()

    def start(self, first: Callable[[], object] = lambda: None) -> None:
        """In a process that has no thread yet: `first()`, then the thread."""
        if self._pid == os.getpid() or self._stop.is_set():
            return
        with self.lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                first()
                threading.Thread(target=self._run, name=self.name, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.beat()


class IdleCloser:
    """Closes an engine's pooled connections once none has been checked out or in for
    `seconds`, from a thread of each process that uses the engine (started by its first
    checkout: gunicorn forks workers after loading the app)."""

    def __init__(self, engine: Engine, seconds: float):
        self.engine, self.seconds = engine, seconds
        self.last_used = time.monotonic()
        self._closer = EachProcess("idle-closer", max(seconds / 4, 0.25), self.tick)
        # Pools replaced by a close: a checkout that raced it took a connection of the old
        # pool and gives it back there, out of the engine's sight; closed at the next tick.
        self._retired: weakref.WeakSet[Any] = weakref.WeakSet()
        event.listen(engine, "checkout", self._used)
        event.listen(engine, "checkin", self._used)

    def tick(self) -> bool:
        """Close the pooled connections if the engine has been idle long enough: did it?"""
        if time.monotonic() - self.last_used < self.seconds:
            return False
        strays = [old for old in list(self._retired) if old.checkedin()]
        for old in strays:
            old.dispose()  # closes what was given back to it
        pool: Any = self.engine.pool
        if pool.checkedout() or not pool.checkedin():
            return bool(strays)
        log.info("closing %d idle database connection(s)", pool.checkedin())
        self._retired.add(pool)
        self.engine.dispose()  # its pool's connections closed; the next checkout opens one
        return True

    def stop(self) -> None:
        self._closer.stop()

    def _used(self, *_: Any) -> None:
        self.last_used = time.monotonic()
        self._closer.start()


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
