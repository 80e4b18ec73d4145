"""Liveness and readiness probes."""

import logging

from flask import Blueprint
from sqlalchemy.exc import DBAPIError

from app.schema import schema_problem

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """The process is alive. Touches no database, so a database outage never restarts the app."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """The database answers and its schema is at the migrations' head."""
    try:
        problem = schema_problem()
    except DBAPIError as exc:
        log.warning("readiness: database unreachable: %s", str(exc.orig).splitlines()[0])
        problem = "database unreachable"
    if problem:
        return {"status": "unavailable", "reason": problem}, 503
    return {"status": "ok"}
