"""Liveness and readiness probes."""

import logging
from typing import Any

from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from sqlalchemy.exc import DBAPIError

from app.api import operation_id
from app.aws import AWSError
from app.extensions import db
from app.revisions import database_state
from app.schemas import Health, Readiness

bp = APIBlueprint(
    "health", __name__, abp_tags=[Tag(name="health")], operation_id_callback=operation_id
)
log = logging.getLogger(__name__)


@bp.get("/healthz", responses={200: Health})
def healthz() -> dict[str, str]:
    """The process is alive. Touches no database, so a database outage never restarts the app."""
    return {"status": "ok"}


@bp.get("/readyz", responses={200: Readiness, 503: Readiness})
def readyz() -> Any:
    """The database answers and its schema is at the migrations' head."""
    try:
        problem = database_state(db.engine).problem()
    except DBAPIError as exc:
        log.warning("readiness: database unreachable: %s", str(exc.orig).splitlines()[0])
        return unavailable("database unreachable", retry_after="1")
    except AWSError as exc:
        log.warning("readiness: no database password: %s", exc.cause)
        return unavailable("database credentials unavailable", retry_after="1")
    if problem:
        return unavailable(problem)  # pending migrations: retrying cannot help
    return {"status": "ok"}


def unavailable(reason: str, retry_after: str | None = None) -> Any:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return {"status": "unavailable", "reason": reason}, 503, headers


def init_app(app: OpenAPI) -> None:
    app.register_api(bp)
