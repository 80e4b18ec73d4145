"""gunicorn's access line, one per request (docker/gunicorn.conf.py: logger_class)."""

import re
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

NAMED = re.compile(r"%\(([^)]*)\)")


class AccessLogger(Logger):  # type: ignore[misc]  # gunicorn publishes no types
    """gunicorn's logger, whose access line is built from only what the format names when that
    is the client, the request line, the status, the size and the time taken (our format).
    gunicorn's own atoms() also copies every request header, response header and environ key
    and formats a timestamp for each line: about a third of the line's CPU, measured alone
    (docs/benchmarks.md). Any other format gets gunicorn's atoms; the line is the same either
    way (tests/test_access_log.py)."""

    LEAN = frozenset({"h", "r", "s", "b", "M"})

    def setup(self, cfg: Any) -> None:  # at start and again on SIGHUP, with the new settings
        super().setup(cfg)
        log_format = cfg.access_log_format
        names = set(NAMED.findall(log_format))
        positional = NAMED.sub("", log_format).replace("%%", "").count("%")
        self.lean = bool(names) and names <= self.LEAN and not positional

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any],
              request_time: timedelta) -> dict[str, Any]:  # fmt: skip
        if not self.lean:
            return dict(super().atoms(resp, req, environ, request_time))
        status, sent = resp.status, getattr(resp, "sent", None)
        return {
            "h": environ.get("REMOTE_ADDR", "-"),
            "r": f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}",
            "s": status.split(None, 1)[0] if isinstance(status, str) else status,
            "b": "-" if sent is None else str(sent),
            "M": request_time.seconds * 1000 + request_time.microseconds // 1000,
        }
