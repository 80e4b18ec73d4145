"""What every JSON resource shares on the way in: canonical ids in URLs, and a body that is a
JSON object before any schema sees it."""

from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import BaseConverter

from app.errors import APIError, UnsupportedMediaType, ValidationError


class CanonicalId(BaseConverter):
    """<id:name>: ASCII digits without a leading zero, so /items/1 is the only URL of item 1
    (Werkzeug's int also takes "0001" and other scripts' digits); anything else is a 404."""

    regex = r"[1-9][0-9]{0,9}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


def operation_id(*, bp_name: str | None, name: str, path: str, method: str) -> str:
    """An operation's id in the OpenAPI document is its view's name (list_items,
    create_item): what a client generated from the document calls it."""
    return name


def chunked_past_the_limit() -> bool:
    """A chunked body (no Content-Length): Werkzeug stops reading at MAX_CONTENT_LENGTH and
    hands over what it read, which would then fail as "not valid JSON". If more follows the
    limit, the body is too large."""
    limit = request.max_content_length
    if request.content_length is not None or not limit or len(request.get_data()) < limit:
        return False
    return bool(request.environ["wsgi.input"].read(1))


def json_object_body() -> None:
    """Before a resource's POST, PUT or PATCH: 415 unless JSON, 400 unless it parses, 422
    unless it is an object. The schema then checks the fields."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    if chunked_past_the_limit():
        raise RequestEntityTooLarge()
    try:
        body = request.get_json()  # cached: the schema validation reads the same object
    except RecursionError:
        raise APIError("The body is nested too deeply.", {"body": "nested too deeply"}) from None
    except BadRequest:
        raise APIError("The body is not valid JSON.", {"body": "invalid JSON"}) from None
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.", {"body": "must be an object"})
