"""Liveness and readiness probes."""

import logging
from dataclasses import asdict
from typing import Any, Literal

from flask import current_app
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from pydantic import MISSING, BaseModel, Field
from sqlalchemy.exc import DBAPIError

from app import readers
from app.api import operation_id
from app.aws import AWSError
from app.engine import first_line
from app.extensions import db
from app.revisions import database_state


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class ReaderStatus(BaseModel):
    """The reader (DB_READER_HOST), as this process last checked it: reads go there only
    when ok; otherwise to the writer, and the app stays ready."""

    status: Literal["ok", "lagging", "stopped", "down", "unknown"]
    lag_seconds: float | None = None
    detail: str = ""


class Readiness(BaseModel):
    status: str = Field(examples=["unavailable"])
    reason: str | MISSING = Field(default=MISSING, examples=["pending migrations: 57914ccb74d9"])
    reader: ReaderStatus | MISSING = MISSING


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
    """The database answers and its schema is at the migrations' head. With a reader set, its
    state too: a reader that is down or behind does not make the app unready (reads go to the
    writer then)."""
    try:
        problem = database_state(db.engine).problem()
    except DBAPIError as exc:
        log.warning("readiness: database unreachable: %s", first_line(exc))
        return unavailable("database unreachable", retry_after="1")
    except AWSError as exc:
        log.warning("readiness: no database password: %s", exc.cause)
        return unavailable("database credentials unavailable", retry_after="1")
    if problem:
        return unavailable(problem)  # pending migrations: retrying cannot help
    if readers.MONITOR in current_app.extensions:
        reader = readers.monitor()
        reader.usable()  # started in this process, if it was not
        return {"status": "ok", "reader": asdict(reader.state)}
    return {"status": "ok"}


def unavailable(reason: str, retry_after: str | None = None) -> Any:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return {"status": "unavailable", "reason": reason}, 503, headers


def init_app(app: OpenAPI) -> None:
    app.register_api(bp)
