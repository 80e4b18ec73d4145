"""Two other ways to keep one line per request, for make bench to weigh against gunicorn's
access log (docker/gunicorn.conf.py):

- `create_app()`: the app logs each request itself (an after_request hook, Python logging to
  stdout), with gunicorn's access log off (GUNICORN_ACCESS_LOG=0);
- `BufferedAccessLogger`: our access log (app/access_log.py), handed to its stream 64 lines at a
  time (`--logger-class bench.log_variants.BufferedAccessLogger`); a crash loses up to 64
  lines. A MemoryHandler still writes each line on its own when it flushes.
"""

import logging
import logging.handlers
import time

from flask import Flask, Response, g, request

import app as our_app
from app.access_log import AccessLogger

log = logging.getLogger("app.request")


def create_app() -> Flask:
    flask_app = our_app.create_app()
    log.setLevel(logging.INFO)  # whatever LOG_LEVEL says for the rest

    @flask_app.before_request
    def started() -> None:
        g.started = time.perf_counter()

    @flask_app.after_request
    def logged(response: Response) -> Response:
        ms = (time.perf_counter() - g.started) * 1000
        log.info('%s "%s %s" %s %s %.0fms', request.remote_addr, request.method,
                 request.full_path.rstrip("?"), response.status_code,
                 response.content_length, ms)  # fmt: skip
        return response

    return flask_app


class BufferedAccessLogger(AccessLogger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in list(self.access_log.handlers):
            self.access_log.removeHandler(handler)
            buffered = logging.handlers.MemoryHandler(64, logging.ERROR, target=handler)
            self.access_log.addHandler(buffered)
