"""gunicorn settings for the app container; every one can be changed from the environment."""

import os

from app.logs import configure_logging

cpus = len(os.sched_getaffinity(0))

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# gunicorn's rule of thumb, capped so that workers x pool stays under max_connections (80 here,
# and on a micro RDS instance): a sync worker holds at most one database connection.
workers = int(os.environ.get("GUNICORN_WORKERS") or min(2 * cpus + 1, 12))
threads = int(os.environ.get("GUNICORN_THREADS", 1))  # over 1 switches to the gthread worker
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 20))  # under Compose's 30 s
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
max_requests_jitter = max_requests // 10

# Load the app once in the master: a bad configuration stops start-up at once, and workers
# share its memory. Each worker then drops the engine pool it inherited (see post_fork).
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"

# gunicorn 23+'s runtime control socket is not used here, and /srv is read-only for the app user.
control_socket_disable = True

# Access log to stdout; GUNICORN_ACCESS_LOG=0 turns it off (see docs/benchmarks.md for its cost).
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") == "1" else None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

configure_logging(os.environ.get("LOG_LEVEL", "INFO"))


def post_fork(server, worker):
    """Connections must not cross a fork: give each worker a fresh pool."""
    flask_app = getattr(server.app, "callable", None)  # set only when preload_app loaded it
    if flask_app is None or "sqlalchemy" not in getattr(flask_app, "extensions", {}):
        return
    from app.extensions import db

    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # leave the parent's connections to the parent
