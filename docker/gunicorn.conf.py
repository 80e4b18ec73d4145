"""gunicorn settings for the app container, from app.settings (every one has a variable).

Only app.settings and app.logs are imported here: they import nothing else of the app, so the
gunicorn master holds no app code unless preload_app loads it on purpose.
"""

import os
import sys

from app.env import ConfigError
from app.logs import configure_logging
from app.settings import Settings

try:
    settings = Settings.from_env()
except ConfigError as exc:
    sys.exit(f"settings: {exc}")  # one line naming the variable, not a traceback
cpus = len(os.sched_getaffinity(0))

bind = "0.0.0.0:8000"  # inside the container; Compose publishes it on APP_PORT
# gunicorn's rule of thumb, capped at 12 so that workers x threads stays under max_connections.
workers = settings.gunicorn_workers or min(2 * cpus + 1, 12)
threads = settings.gunicorn_threads  # over 1 (the default, 4) is the gthread worker
# A worker holds one database connection per request it serves at once: about workers x
# threads in all (a pool holds at most 2 x DB_POOL_SIZE), which must stay under the server's
# max_connections (60 locally and on a db.t4g.micro, RDS's formula for its memory; make doctor
# shows the target's), with room for migrations and you.
if workers * threads > 50:
    print(
        f"gunicorn: {workers} workers x {threads} threads may hold {workers * threads} "
        "database connections: check the server's max_connections (make doctor)",
        file=sys.stderr,
    )
timeout = settings.gunicorn_timeout
graceful_timeout = settings.gunicorn_graceful_timeout  # under Compose's 30 s
keepalive = settings.gunicorn_keepalive
max_requests = settings.gunicorn_max_requests
max_requests_jitter = max_requests // 10

# Load the app once in the master: a bad configuration stops start-up at once, and workers
# share its memory. Each worker then drops the engine pool it inherited (see post_fork).
preload_app = settings.gunicorn_preload and not settings.gunicorn_reload

# Development (docker-compose.override.yml): each worker watches the modules it loaded and
# exits when one changes; the new worker imports them afresh. The master holds only
# app.settings and app.logs (and app/__init__.py), so a change to those needs
# a restart.
reload = settings.gunicorn_reload

# gunicorn 23+'s runtime control socket is not used here, and /srv is read-only for the app user.
control_socket_disable = True

# gunicorn's access log, one line per request to stdout; GUNICORN_ACCESS_LOG=0 turns it off.
accesslog = "-" if settings.gunicorn_access_log else None
errorlog = "-"
loglevel = settings.log_level.lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

configure_logging(settings.log_level)


def post_fork(server, worker):  # type: ignore[no-untyped-def]  # gunicorn's hook signature
    """Connections must not cross a fork: give each worker a fresh pool."""
    flask_app = getattr(server.app, "callable", None)  # set only when preload_app loaded it
    if flask_app is None or "sqlalchemy" not in getattr(flask_app, "extensions", {}):
        return
    from app.extensions import db

    with flask_app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)  # leave the parent's connections to the parent
