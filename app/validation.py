"""Validation of request bodies and query strings, reporting every bad field at once."""

import re

from flask import Request

from app.errors import APIError, BadQuery, UnsupportedMediaType, ValidationError


def json_object(request: Request) -> dict:
    """The request's JSON body, which must be an object."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise APIError("The body is not valid JSON.", {"body": "invalid JSON"})
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.", {"body": "must be an object"})
    return body


def check_fields(body: dict, spec: dict, *, partial: bool) -> dict:
    """Validate `body` against `spec` ({field: (required, check)}); return the clean values.

    Each check returns an error message, or None when the value is good.
    """
    errors = {name: "unknown field" for name in body if name not in spec}
    clean = {}
    for name, (required, check) in spec.items():
        if name not in body:
            if required and not partial:
                errors[name] = "is required"
            continue
        problem = check(body[name])
        if problem:
            errors[name] = problem
        else:
            clean[name] = body[name]
    if errors:
        raise ValidationError("Some fields are invalid.", errors)
    return clean


def text(*, max_length: int, allow_blank: bool):
    """A check for a string of at most `max_length` characters that MySQL can store."""

    def check(value) -> str | None:
        if not isinstance(value, str):
            return "must be a string"
        if not allow_blank and not value.strip():
            return "must not be blank"
        if len(value) > max_length:
            return f"must be at most {max_length} characters"
        try:
            value.encode("utf-8")  # JSON allows lone surrogates ("\ud800"); UTF-8 does not
        except UnicodeEncodeError:
            return "must be valid Unicode text"
        if "\x00" in value:
            return "must not contain NUL characters"
        return None

    return check


def int_arg(args, name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not re.fullmatch(r"[0-9]{1,12}", raw) or not minimum <= int(raw) <= maximum:
        raise BadQuery(
            f"Query parameter {name} is invalid.",
            {name: f"must be a whole number from {minimum} to {maximum}"},
        )
    return int(raw)
