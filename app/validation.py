"""Checks of request bodies, query strings and field values, reporting every bad field at once."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Request

from app.errors import APIError, BadQuery, UnsupportedMediaType, ValidationError

Check = Callable[[Any], str | None]  # an error message, or None when the value is good


@dataclass(frozen=True)
class Field:
    required: bool
    check: Check


def json_object(request: Request) -> dict[str, Any]:
    """The request's JSON body, which must be an object."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise APIError("The body is not valid JSON.", {"body": "invalid JSON"})
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.", {"body": "must be an object"})
    return body


def check_fields(
    body: Mapping[str, Any], spec: Mapping[str, Field], *, partial: bool
) -> dict[str, Any]:
    """Validate `body` against `spec`; return the clean values or raise ValidationError."""
    errors = {name: "unknown field" for name in body if name not in spec}
    clean = {}
    for name, field in spec.items():
        if name not in body:
            if field.required and not partial:
                errors[name] = "is required"
            continue
        problem = field.check(body[name])
        if problem:
            errors[name] = problem
        else:
            clean[name] = body[name]
    if errors:
        raise ValidationError("Some fields are invalid.", errors)
    return clean


def text(*, max_length: int, allow_blank: bool) -> Check:
    """A check for a string of at most `max_length` characters that MySQL can store."""

    def check(value: Any) -> str | None:
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


def int_arg(args: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int) -> int:
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
