"""The access line (app/access_log.py, docker/gunicorn.conf.py): one line per request,
the same line gunicorn's own logger writes, built from only the atoms our format names."""

import re
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from app.access_log import AccessLogger
from harness.stack import ROOT, free_port, wait_until

OURS = re.search(r"^access_log_format = '(.*)'$",
                 (ROOT / "docker/gunicorn.conf.py").read_text(), re.M)[1]  # fmt: skip
ENVIRON = {
    "REQUEST_METHOD": "GET", "RAW_URI": '/api/items?q="x"&page=2', "PATH_INFO": "/api/items",
    "QUERY_STRING": 'q="x"&page=2', "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "172.18.0.1",
    "HTTP_USER_AGENT": "curl/8", "HTTP_REFERER": "http://example.test/",
    "HTTP_X_REQUEST_ID": "abc", "HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz",
}  # fmt: skip
REQUEST = SimpleNamespace(headers=[("X-REQUEST-ID", "abc"), ("USER-AGENT", "curl/8")])
RESPONSES = [
    SimpleNamespace(status="200 OK", sent=187, headers=[("Content-Type", "application/json")]),
    SimpleNamespace(status="404 NOT FOUND", sent=0, headers=[]),
    SimpleNamespace(status="500 INTERNAL SERVER ERROR", sent=None, headers=[]),
    SimpleNamespace(status=503, headers=[]),  # no size sent at all
]
WITHOUT_CLIENT = {key: value for key, value in ENVIRON.items() if key != "REMOTE_ADDR"}


def write_lines(logger_class, log_format: str, path) -> str:
    cfg = Config()
    cfg.set("accesslog", str(path))
    cfg.set("errorlog", "/dev/null")
    cfg.set("access_log_format", log_format)
    logger = logger_class(cfg)
    for response in RESPONSES:
        for took in (timedelta(microseconds=4200), timedelta(seconds=2, microseconds=999999)):
            for environ in (ENVIRON, WITHOUT_CLIENT, {**ENVIRON, "REMOTE_ADDR": None}):
                logger.access(response, REQUEST, environ, took)
    for handler in logger.access_log.handlers:
        handler.close()
    return path.read_text()


@pytest.mark.parametrize(
    ("log_format", "lean"),
    [
        (OURS, True),
        ("%(s)s %(r)s", True),
        ('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"', False),  # gunicorn's
        ("%({x-request-id}i)s %(r)s %(D)s", False),
        ("%(M)d ms, %(s)s: 100%%", True),
        ("%s", False),  # no names: the whole dict, as gunicorn writes it
        ("no atoms at all", False),
    ],
)
def test_the_line_is_the_one_gunicorns_logger_writes(tmp_path, monkeypatch, log_format, lean):
    monkeypatch.setattr(Logger, "now", lambda self: "[26/Nov/2026:04:30:00 +0000]")  # %(t)s
    ours = write_lines(AccessLogger, log_format, tmp_path / "ours.log")
    theirs = write_lines(Logger, log_format, tmp_path / "gunicorn.log")
    assert ours == theirs
    assert len(ours.splitlines()) == 2 * 3 * len(RESPONSES)
    cfg = Config()
    cfg.set("access_log_format", log_format)
    assert AccessLogger(cfg).lean is lean  # the short path where the format allows it


def test_gunicorn_as_configured_writes_one_line_per_request(tmp_path):
    """docker/gunicorn.conf.py as shipped, on SQLite (no Docker): real requests, real lines."""
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GUNICORN_WORKERS": "1",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "LOG_LEVEL": "WARNING"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "docker/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "app:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        wait_until(f"http://127.0.0.1:{port}/healthz", timeout=30)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nope?a=1", timeout=2)
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    lines = [line for line in out.splitlines() if '"GET ' in line]
    assert re.fullmatch(r'127\.0\.0\.1 "GET /healthz HTTP/1\.1" 200 \d+ \d+ms', lines[-2])
    assert re.fullmatch(r'127\.0\.0\.1 "GET /nope\?a=1 HTTP/1\.1" 404 \d+ \d+ms', lines[-1])
    assert all("/healthz" in line for line in lines[:-2])  # the waits, one line each
