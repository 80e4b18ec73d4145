"""Round trips to MySQL counted on the client side, on an engine's own connections: every
statement, BEGIN, COMMIT, ROLLBACK and ping each waits for one answer from the server.

The server's Questions counter counts no pings, and on a shared server counts other clients
too; this counts what the app sends, and nothing else.
"""

import functools
from typing import Any

from sqlalchemy import Engine, event

# PyMySQL's public methods that each send one command and read its answer. A cursor's execute
# goes through query(); autocommit() is called once, when a connection is made.
SENDS = ("query", "ping", "begin", "commit", "rollback")


class RoundTrips:
    def __init__(self, engine: Engine):
        self.sent: list[str] = []  # what went out, in order: the SQL, or BEGIN, COMMIT, ...
        engine.dispose()  # connections made before this would go uncounted
        event.listen(engine, "connect", self._count_on)

    @property
    def count(self) -> int:
        return len(self.sent)

    def _count_on(self, dbapi_connection: Any, _record: Any) -> None:
        for name in SENDS:
            setattr(dbapi_connection, name, self._counted(name, getattr(dbapi_connection, name)))

    def _counted(self, name: str, method: Any) -> Any:
        @functools.wraps(method)
        def send(*args: Any, **kwargs: Any) -> Any:
            self.sent.append(str(args[0]) if name == "query" else name.upper())
            return method(*args, **kwargs)

        return send

    def per_call(self, call: Any, n: int = 20) -> float:
        """The round trips one `call()` costs, averaged over `n`, after one call to warm up
        (the connection is made, and its set-up statements sent, before the count starts)."""
        call()
        before = self.count
        for _ in range(n):
            call()
        return (self.count - before) / n
