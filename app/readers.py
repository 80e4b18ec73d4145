"""Reads on a replica. With DB_READER_HOST (or DATABASE_READER_URL) set, a read that needs
nothing fresh goes to the reader, and everything else to the writer:

- a session reads on the reader until it writes or locks (a flush, SELECT ... FOR UPDATE), then
  on the writer for the rest of the request: what it changed may not be on the reader yet;
- a client that wrote in the last DB_READER_AFTER_WRITE seconds reads on the writer, as its
  session cookie says (Rails' automatic role switching does the same);
- a point read (db.session.get) that finds nothing on the reader asks the writer before any
  404, so a client without cookies still finds what it has just created;
- a reader that is down, or more than DB_READER_MAX_LAG seconds behind, is skipped for the
  writer: each process checks it once a second, off the request path, and a query the reader
  fails is sent again to the writer.

Resources need nothing of this: they use db.session as Flask-SQLAlchemy's documentation shows.
"""

import logging
import time
from dataclasses import dataclass
from typing import Any

import flask
import sqlalchemy as sa
from flask_sqlalchemy.session import Session
from sqlalchemy import event, exc

from app.aws import AWSError
from app.engine import EachProcess, first_line

log = logging.getLogger(__name__)
READER = "reader"  # the bind key (SQLALCHEMY_BINDS, app/config.py)
WRITER_ONLY = "readers.writer_only"  # session.info: every query of this session to the writer
LAST_ON_READER = "readers.last_on_reader"  # session.info: the last query went to the reader
MONITOR = "reader-monitor"  # app.extensions: the ReaderMonitor
LAST_WRITE = "db_last_write"  # the client's session cookie: when it last wrote (epoch seconds)
CHECK_EVERY = 1.0  # seconds between two checks of the reader, per process, while it is asked
STALE_AFTER = 5.0  # seconds after which a state is checked again before it is used
UNKNOWN_VARIABLE = 1193  # @@aurora_server_id on a server that is not Aurora


class RoutingSession(Session):
    """db.session's class: reads to the reader where they may go (module docstring)."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kw: Any) -> Any:
        writer = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kw)
        reader = self._db.engines.get(READER)
        self.info[LAST_ON_READER] = False
        if bind is not None or reader is None or self.info.get(WRITER_ONLY) or self._flushing:
            return writer
        if not isinstance(clause, sa.Select) or clause._for_update_arg is not None:
            self.info[WRITER_ONLY] = True  # a write or a locking read: the writer from now on
            return writer
        if wrote_lately() or not monitor().usable():
            return writer
        self.info[LAST_ON_READER] = True
        return reader

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().execute(statement, *args, **kwargs)
        except (exc.OperationalError, exc.InterfaceError) as error:
            if not self.info.get(LAST_ON_READER):
                raise
            monitor().failed(error)
            self.rollback()  # nothing written yet: reads only went to the reader
            self.info[WRITER_ONLY] = True
            return super().execute(statement, *args, **kwargs)

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        found = super().get(entity, ident, **kwargs)
        if found is None and self.info.get(LAST_ON_READER):
            self.info[WRITER_ONLY] = True  # not on the reader (yet?): the writer decides
            found = super().get(entity, ident, **kwargs)
        return found


@event.listens_for(RoutingSession, "after_flush")
def _wrote(session: RoutingSession, _context: Any) -> None:
    session.info[WRITER_ONLY] = True
    if flask.has_request_context():
        flask.g.db_wrote = True


def wrote_lately() -> bool:
    """Did this request's client write in the last DB_READER_AFTER_WRITE seconds?"""
    if not flask.has_request_context():
        return False
    last = flask.session.get(LAST_WRITE)
    window = flask.current_app.config["SETTINGS"].db_reader_after_write
    return isinstance(last, float) and time.time() - last < window


def remember_the_write(response: flask.Response) -> flask.Response:
    """after_request: the time of a request's write, in its client's session cookie."""
    if flask.g.get("db_wrote"):
        flask.session[LAST_WRITE] = time.time()
    return response


@dataclass(frozen=True)
class ReaderState:
    status: str  # ok, lagging, stopped (not replicating), down, unknown (cannot tell)
    lag_seconds: float | None = None
    detail: str = ""


class ReaderMonitor:
    """The reader's state, as this process last saw it. A thread of the process checks it
    every CHECK_EVERY seconds while the process serves requests (an idle app must let an idle
    database pause: Aurora Serverless v2 does), started by the first question the process
    asks: gunicorn forks its workers after loading the app, and a thread does not survive a
    fork. A question after an idle spell waits for one check first."""

    def __init__(self, engine: sa.Engine, max_lag: float):
        self.engine, self.max_lag = engine, max_lag
        self.state = ReaderState("unknown", detail="not checked yet")
        self._aurora: bool | None = None
        self._asked = self._checked = 0.0  # time.monotonic() of the last question, check
        self._checker = EachProcess("reader-monitor", CHECK_EVERY, self.tick)

    def usable(self) -> bool:
        self._asked = time.monotonic()
        # the process's first question waits for one check (under the lock), not every one
        self._checker.start(first=self.check)
        if self._asked - self._checked > STALE_AFTER:
            with self._checker.lock:
                if time.monotonic() - self._checked > STALE_AFTER:
                    self.check()
        return self.state.status == "ok"

    def failed(self, error: Exception) -> None:
        self.state = ReaderState("down", detail=first_line(error))
        log.warning("reader: %s; reads go to the writer", self.state.detail)

    def check(self) -> ReaderState:
        try:
            with self.engine.connect() as connection:
                lag = self._lag(connection)
        except (exc.DBAPIError, AWSError) as error:
            state = ReaderState("down", detail=first_line(error))
        else:
            state = judged(lag, self.max_lag)
        if state.status != self.state.status:
            log.warning("reader: %s (%s)", state.status, state.detail)
        self.state, self._checked = state, time.monotonic()
        return state

    def stop(self) -> None:
        self._checker.stop()

    def tick(self) -> None:
        """The thread's beat: a check, if the process was asked lately."""
        if time.monotonic() - self._asked < STALE_AFTER:
            self.check()

    def _lag(self, connection: sa.Connection) -> float | str | None:
        """Seconds behind the writer; None when not replicating; a reason when unknown."""
        if self._aurora is None:
            try:
                connection.exec_driver_sql("SELECT @@aurora_server_id")
                self._aurora = True
            except exc.OperationalError as error:
                if getattr(error.orig, "args", (None,))[0] != UNKNOWN_VARIABLE:
                    raise
                self._aurora = False
        if self._aurora:  # Aurora User Guide: "Aurora MySQL-specific information_schema tables"
            millis = connection.exec_driver_sql(
                "SELECT REPLICA_LAG_IN_MILLISECONDS FROM information_schema.replica_host_status "
                "WHERE SERVER_ID = @@aurora_server_id"
            ).scalar()
            return 0.0 if millis is None else float(millis) / 1000  # None: the writer itself
        try:
            row = connection.exec_driver_sql("SHOW REPLICA STATUS").mappings().first()
        except exc.DBAPIError as error:
            return f"no replication status ({first_line(error)}): GRANT REPLICATION CLIENT"
        if row is None:
            return 0.0  # not a replica at all: nothing to be behind
        return row.get("Seconds_Behind_Source")  # None while replication is stopped


def judged(lag: float | str | None, max_lag: float) -> ReaderState:
    if isinstance(lag, str):
        return ReaderState("unknown", detail=lag)
    if lag is None:
        return ReaderState("stopped", detail="replication is not running")
    if lag > max_lag:
        return ReaderState("lagging", lag, f"{lag:.1f}s behind, over DB_READER_MAX_LAG")
    return ReaderState("ok", lag)


def monitor() -> ReaderMonitor:
    """The current app's reader monitor (made by app/extensions.py when a reader is set)."""
    found: ReaderMonitor = flask.current_app.extensions[MONITOR]
    return found
