"""The errors a client can cause, and the one place that turns every error into a JSON body."""

import logging
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.aws import AWSError
from app.engine import first_line, resuming, why
from app.extensions import db
from app.revisions import database_state

log = logging.getLogger(__name__)


class APIError(Exception):
    """An error a client caused; `fields` maps each bad field to what is wrong with it."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationError(APIError):
    status = 422
    code = "validation_failed"


class BadQuery(APIError):
    status = 400
    code = "bad_query"


class NotFound(APIError):
    status = 404
    code = "not_found"


class Conflict(APIError):
    status = 409
    code = "conflict"


class UnsupportedMediaType(APIError):
    status = 415
    code = "unsupported_media_type"


def error_body(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> tuple[Response, int]:
    error: dict[str, object] = {"status": status, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return jsonify({"error": error}), status


def database_unavailable(reason: str) -> tuple[Response, int]:
    """503 for a database that is down, restarting, out of connections or out of credentials:
    the client may retry."""
    db.session.rollback()
    log.warning("database unavailable: %s", reason)
    response, status = error_body(503, "database_unavailable", "The database is unavailable.")
    response.headers["Retry-After"] = "1"
    return response, status


def schema_problem() -> str | None:
    """After a failed statement: is the schema behind the code (no migrations applied)?"""
    try:
        return database_state(db.engine).problem()
    except (sa_exc.DBAPIError, AWSError):
        return None  # the database itself is the problem


def schema_not_ready(problem: str) -> tuple[Response, int]:
    """503 without Retry-After: retrying cannot help until someone migrates."""
    db.session.rollback()
    log.error("database schema not ready: %s", problem)
    message = f"The database schema is not ready ({problem}): run make migrate."
    return error_body(503, "schema_not_ready", message)


def no_type_without_a_body(response: Response) -> Response:
    """Flask labels empty answers text/html: a 204 and an OPTIONS answer carry no body (an
    OPTIONS request's 404 or 405 does, a JSON one)."""
    if response.status_code == 204 or (request.method == "OPTIONS" and response.status_code < 400):
        response.headers.pop("Content-Type", None)
    return response


def api_error(error: APIError) -> tuple[Response, int]:
    return error_body(error.status, error.code, error.message, error.fields)


def http_error(error: HTTPException) -> Response | tuple[Response, int]:
    if error.response is not None:  # a response made already: a schema's error body
        return error.response  # type: ignore[return-value]
    code = (error.name or "error").lower().replace(" ", "_")
    message = error.description or error.name
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        message = f"The body is larger than {limit} bytes (MAX_CONTENT_LENGTH)."
    response, status = error_body(error.code or 500, code, message)
    for name, value in error.get_headers():  # Allow on a 405, as RFC 9110 requires
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


def database_error(error: Exception) -> tuple[Response, int]:
    # SQLite says "no such table" as an OperationalError
    problem = None if resuming(error) else schema_problem()
    if problem:
        return schema_not_ready(problem)
    return database_unavailable(why(error))


def value_does_not_fit(error: sa_exc.DataError) -> tuple[Response, int]:
    """A schema let through what a column cannot hold: the schema is wrong, the client is told
    which value, and nothing was written."""
    db.session.rollback()
    log.error("a value passed its schema but not the database: %s", first_line(error))
    return error_body(422, "validation_failed", "A value does not fit the database.")


def statement_error(error: sa_exc.ProgrammingError) -> tuple[Response, int]:
    problem = schema_problem()  # MySQL's 1146, "table doesn't exist"
    if problem:
        return schema_not_ready(problem)
    return unexpected(error)


def credentials_error(error: AWSError) -> tuple[Response, int]:
    """The password comes from AWS (Secrets Manager, IAM) and AWS did not give it."""
    return database_unavailable(error.cause)


def unexpected(error: Exception) -> tuple[Response, int]:
    """The last resort: log the cause with its traceback, show the client no internals."""
    log.exception("unhandled error")
    return error_body(500, "internal_error", "Internal server error.")


HANDLERS: list[tuple[type[Exception], Any]] = [
    (APIError, api_error),
    (HTTPException, http_error),
    (sa_exc.OperationalError, database_error),
    (sa_exc.InterfaceError, database_error),
    (sa_exc.TimeoutError, database_error),
    (sa_exc.DataError, value_does_not_fit),
    (sa_exc.ProgrammingError, statement_error),
    (AWSError, credentials_error),
    (Exception, unexpected),
]


def init_app(app: Flask) -> None:
    app.after_request(no_type_without_a_body)
    for kind, handler in HANDLERS:
        app.register_error_handler(kind, handler)
