"""What one access-log line costs, measured directly (make bench runs it in a container of the
app image, whose stdout goes to Docker's log driver as the app's does). Writes LINES lines per
way of logging through the real code (gunicorn's Logger.access, or the app's logging), times
the process's CPU per line, and prints the result as one JSON line at the end."""

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


def gunicorn_logger(logger_class=Logger, **settings) -> Logger:
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


def main() -> None:
    configure_logging("WARNING")
    took = timedelta(microseconds=4200)
    ours = gunicorn_logger(access_log_format=OURS)
    short = gunicorn_logger(access_log_format="%(s)s %(r)s")
    buffered = gunicorn_logger(BufferedAccessLogger, access_log_format=OURS)
    app_log = logging.getLogger("app.request")
    app_log.setLevel(logging.INFO)
    result = {
        "ours": cpu_us_per_line(lambda: ours.access(RESPONSE, REQUEST, ENVIRON, took)),
        "shortlog": cpu_us_per_line(lambda: short.access(RESPONSE, REQUEST, ENVIRON, took)),
        "buffered": cpu_us_per_line(lambda: buffered.access(RESPONSE, REQUEST, ENVIRON, took)),
        "applog": cpu_us_per_line(lambda: app_log.info(
            '%s "%s %s" %s %s %.0fms', "172.18.0.1", "GET", "/api/items/17", 200, 187, 4.2)),
    }  # fmt: skip
    for handler in buffered.access_log.handlers:
        handler.flush()
    sys.stdout.flush()
    print(json.dumps({"lines_per_way": LINES, **result}), flush=True)


if __name__ == "__main__":
    main()
