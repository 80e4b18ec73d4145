"""API errors, and the one place that turns every error into a JSON body."""

import logging

from flask import Flask, jsonify
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from app.extensions import db

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


class Conflict(APIError):
    status = 409
    code = "conflict"


class UnsupportedMediaType(APIError):
    status = 415
    code = "unsupported_media_type"


def error_body(status: int, code: str, message: str, fields: dict | None = None):
    body = {"error": {"status": status, "code": code, "message": message}}
    if fields:
        body["error"]["fields"] = fields
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(APIError)
    def api_error(error: APIError):
        return error_body(error.status, error.code, error.message, error.fields)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = (error.name or "error").lower().replace(" ", "_")
        return error_body(error.code or 500, code, error.description or error.name)

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def database_unavailable(error: Exception):
        # The database is down, restarting or out of connections: the client may retry.
        db.session.rollback()
        log.warning("database unavailable: %s", _first_line(error))
        response, status = error_body(503, "database_unavailable", "The database is unavailable.")
        response.headers["Retry-After"] = "1"
        return response, status

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        # The last resort: log the cause with its traceback, show the client no internals.
        log.exception("unhandled error")
        return error_body(500, "internal_error", "Internal server error.")


def _first_line(error: Exception) -> str:
    return str(getattr(error, "orig", error)).splitlines()[0]
