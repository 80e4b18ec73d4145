"""What one access-log line costs, measured directly (make bench runs it in a container of the
app image, whose stdout goes to Docker's log driver as the app's does). Writes LINES lines per
way of logging through the real code (our AccessLogger, gunicorn's own Logger, or the app's
logging), times the process's CPU per line, and prints the result as one JSON line at the
end."""

import json
import logging
import os
import re
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

from app.access_log import AccessLogger
from app.logs import configure_logging
from bench.log_variants import BufferedAccessLogger

LINES = int(os.environ.get("LOG_LINES", 20000))
CONF = Path("docker/gunicorn.conf.py").read_text()
OURS = re.search(r"^access_log_format = '(.*)'$", CONF, re.M)[1]
ENVIRON = {  # what gunicorn's WSGI environ holds for a point read (its atoms copy every key)
    "REQUEST_METHOD": "GET", "RAW_URI": "/api/items/17", "PATH_INFO": "/api/items/17",
    "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "172.18.0.1",
    "REMOTE_PORT": "51234", "SERVER_NAME": "0.0.0.0", "SERVER_PORT": "8000",
    "SCRIPT_NAME": "", "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "wrk",
    "HTTP_ACCEPT": "*/*", "wsgi.url_scheme": "http", "wsgi.multithread": True,
    "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
    "gunicorn.socket": None, "wsgi.input": None, "wsgi.errors": None,
}  # fmt: skip
RESPONSE = SimpleNamespace(status="200 OK", sent=187, headers=[
    ("Server", "gunicorn"), ("Date", "Thu, 26 Nov 2026 01:00:00 GMT"),
    ("Content-Type", "application/json"), ("Content-Length", "187")])  # fmt: skip
REQUEST = SimpleNamespace(headers=[("HOST", "127.0.0.1:8000"), ("USER-AGENT", "wrk")])


def gunicorn_logger(logger_class=AccessLogger, **settings) -> Logger:
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("errorlog", "/dev/null")
    for name, value in settings.items():
        cfg.set(name, value)
    return logger_class(cfg)


def cpu_us_per_line(write) -> float:
    start = time.process_time()
    for _ in range(LINES):
        write()
    return (time.process_time() - start) * 1e6 / LINES


def gunicorn_line(logger_class=AccessLogger, log_format: str = OURS) -> float:
    """CPU per line through a fresh logger: every gunicorn logger shares the logging module's
    "gunicorn.access" logger, and each one's setup replaces the handlers the last one set."""
    logger = gunicorn_logger(logger_class, access_log_format=log_format)
    took = timedelta(microseconds=4200)
    spent = cpu_us_per_line(lambda: logger.access(RESPONSE, REQUEST, ENVIRON, took))
    for handler in logger.access_log.handlers:
        handler.flush()
    return spent


def main() -> None:
    configure_logging("WARNING")
    app_log = logging.getLogger("app.request")
    app_log.setLevel(logging.INFO)
    result = {
        "ours": gunicorn_line(),
        "stock": gunicorn_line(Logger),
        "shortlog": gunicorn_line(log_format="%(s)s %(r)s"),
        "buffered": gunicorn_line(BufferedAccessLogger),
        "applog": cpu_us_per_line(lambda: app_log.info(
            '%s "%s %s" %s %s %.0fms', "172.18.0.1", "GET", "/api/items/17", 200, 187, 4.2)),
    }  # fmt: skip
    sys.stdout.flush()
    print(json.dumps({"lines_per_way": LINES, **result}), flush=True)


if __name__ == "__main__":
    main()
