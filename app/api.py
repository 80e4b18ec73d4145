"""What every resource of the API shares on the way in: canonical ids in URLs, operation ids,
a body that is a JSON object before any schema sees it, and where a refused value was.

A view names its models by where the values are (flask-openapi3's convention): `path`, `query`
and `body`. A value the path model refuses names nothing there is (404), one the query model
refuses is a bad query (400), one the body model refuses a 422. The path and query models say
where they are by their base class (PathParams, QueryParams, at any depth), which create_app
checks against the name each view gives them; no class name or title decides it.
"""

import inspect
from typing import Any

from flask import Flask, request
from pydantic import ValidationError as PydanticError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import BaseConverter

from app.errors import (
    APIError,
    BadQuery,
    NotFound,
    UnsupportedMediaType,
    ValidationError,
    error_body,
)
from app.schemas import BAD_QUERY, NOT_FOUND, PathParams, QueryParams, field_messages


def on_validation_error(exc: PydanticError) -> Any:
    """flask-openapi3's hook: a request that failed its schema, as our error body."""
    errors = exc.errors(include_url=False)
    kind = errors[0]["type"] if len(errors) == 1 else None
    error: APIError
    if kind == NOT_FOUND:  # an id past MySQL's INT, say: nothing can be there
        error = NotFound("Nothing with that id.")
    elif kind == BAD_QUERY:
        error = BadQuery("A query parameter is invalid.", errors[0]["ctx"]["fields"])
    else:
        error = ValidationError("Some fields are invalid.", field_messages(exc, None))
    response, status = error_body(error.status, error.code, error.message, error.fields)
    response.status_code = status
    return response


LOCATIONS = {"path": PathParams, "query": QueryParams}


def check_parameter_models(app: Flask) -> None:
    """Every view's `path` and `query` models say where they are by their base class; a
    model that does not would answer 422 for what is a 404 or a 400."""
    for endpoint, view in app.view_functions.items():
        parameters = inspect.signature(inspect.unwrap(view)).parameters
        for where, base in LOCATIONS.items():
            model = parameters[where].annotation if where in parameters else None
            if isinstance(model, type) and not issubclass(model, base):
                raise TypeError(
                    f"{endpoint}: its {where} model {model.__name__} must subclass "
                    f"app.api.{base.__name__}, so that a value it refuses is answered as one "
                    f"in the {where}"
                )


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
