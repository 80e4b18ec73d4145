"""One pydantic schema per resource shape: it validates requests (API and CLI alike), shapes the
responses, and is what the OpenAPI document at /api/openapi.json is generated from.

The field rules a JSON Schema cannot say (a visible character, no NUL, names compared folded)
are validators here too, so they apply wherever values come from; docs/schemas.md says which.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Self, TypeVar

from annotated_types import Ge, Le
from pydantic import (
    MISSING,
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    model_validator,
)
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError

from app.errors import ValidationError
from app.models import DESCRIPTION_MAX, INVISIBLE, NAME_MAX, clean_name, has_visible_character

# MySQL's INT: a larger id cannot exist, and SQLite would overflow on it.
ID_MAX = 2**31 - 1
PAGE_SIZE_MAX = 100


class Strict(BaseModel):
    """A request body: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def storable_text(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul", "must not contain NUL characters")
    return value


def visible_name(value: str) -> str:
    value = clean_name(storable_text(value))
    if not has_visible_character(value):
        raise PydanticCustomError("blank", "must contain a visible character")
    if len(value) > NAME_MAX:  # NFC can lengthen a string (U+0958 becomes two code points)
        raise PydanticCustomError("too_long", f"must be at most {NAME_MAX} characters")
    return value


# What the validators above enforce, as the document's patterns: a client generated from the
# document refuses what the server refuses (the server's messages stay its own).
NO_NUL = r"^[^\x00]*$"
NAME_PATTERN = rf"^[^\x00]*[^{INVISIBLE}][^\x00]*$"

# A name is stored NFC and trimmed, and two names are the same when they fold alike
# (app.models.name_key): " Café" and "CAFE" are one name, on SQLite as on MySQL.
Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=NAME_MAX,
        description=f"1 to {NAME_MAX} characters, at least one of them visible (not a "
        "control, white space or an invisible format character); stored trimmed; unique "
        "ignoring case, accents and surrounding white space",
        examples=["widget"],
        json_schema_extra={"pattern": NAME_PATTERN},
    ),
    AfterValidator(visible_name),
]
Description = Annotated[
    str,
    Field(
        max_length=DESCRIPTION_MAX,
        description="Free text, no NUL characters.",
        json_schema_extra={"pattern": NO_NUL},
    ),
    AfterValidator(storable_text),
]


class ItemCreate(Strict):
    name: Name
    description: Description = ""


class ItemUpdate(Strict):
    """PATCH: only the fields given change; null is not a value."""

    name: Name | MISSING = MISSING
    description: Description | MISSING = MISSING


class ItemPublic(BaseModel):
    """An item as the API returns it; timestamps are UTC with a Z."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


NOT_FOUND, BAD_QUERY = "path_not_found", "bad_query"


class PathParams(BaseModel):
    """URL path parameters: a value its model refuses names nothing there is (404)."""

    @model_validator(mode="wrap")
    @classmethod
    def _nothing_there(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except PydanticError:
            raise PydanticCustomError(NOT_FOUND, "names nothing there is") from None


class QueryParams(BaseModel):
    """Query string parameters: a value its model refuses is a 400 bad_query, per field."""

    @model_validator(mode="wrap")
    @classmethod
    def _bad_query(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except PydanticError as exc:
            fields = field_messages(exc, cls)
            raise PydanticCustomError(BAD_QUERY, "{fields}", {"fields": fields}) from None


class ItemPath(PathParams):
    item_id: Annotated[int, Ge(1), Le(ID_MAX)] = Field(
        description="The item's id: ASCII digits, no leading zero.",
        json_schema_extra={"example": 1},
    )


def ascii_digits(value: Any) -> Any:
    """Query numbers as written in a URL: 1 to 12 ASCII digits ("1.0", "+3", "1_0" are not)."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,12}", value):
        raise PydanticCustomError("int_parsing", "must be a whole number")
    return value


QueryInt = BeforeValidator(ascii_digits)


class PageQuery(QueryParams):
    page: Annotated[int, Ge(1), Le(ID_MAX), QueryInt] = 1
    per_page: Annotated[int, Ge(1), Le(PAGE_SIZE_MAX), QueryInt] = 20


class ItemPage(BaseModel):
    items: list[ItemPublic]
    page: int
    per_page: int
    total: int
    pages: int
    next: str | MISSING = Field(default=MISSING, description="The next page's URL, if any.")


class ErrorDetail(BaseModel):
    status: int
    code: str = Field(examples=["validation_failed"])
    message: str
    fields: dict[str, str] | MISSING = Field(
        default=MISSING, description="Each bad field, and what is wrong with it."
    )


class ErrorBody(BaseModel):
    """Every error the API answers: 4xx and 503 alike."""

    error: ErrorDetail


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], values: Mapping[str, Any]) -> Model:
    """`values` checked against `model` (the CLI's way in); our ValidationError if not."""
    try:
        return model.model_validate(values)
    except PydanticError as exc:
        raise ValidationError("Some fields are invalid.", field_messages(exc, model)) from None


def field_messages(exc: PydanticError, model: type[BaseModel] | None) -> dict[str, str]:
    """{field: what is wrong}, in our words, one message per field."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        name = ".".join(str(part) for part in error["loc"]) or "body"
        fields.setdefault(name, message_for(error, model))
    return fields


def message_for(error: Any, model: type[BaseModel] | None) -> str:
    kind, context = error["type"], error.get("ctx", {})
    field = str(error["loc"][0]) if error["loc"] else ""
    if model is not None and field in model.model_fields:
        low, high = bounds(model, field)
        if low is not None and high is not None:
            return f"must be a whole number from {low} to {high}"
    messages = {
        "missing": "is required",
        "extra_forbidden": "unknown field",
        "string_type": "must be a string",
        "string_unicode": "must be valid Unicode text",
        "string_too_short": "must not be empty",
        "string_too_long": f"must be at most {context.get('max_length')} characters",
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
    }
    return messages.get(kind) or str(error["msg"])


def bounds(model: type[BaseModel], field: str) -> tuple[int | None, int | None]:
    low = high = None
    for rule in model.model_fields[field].metadata:
        if isinstance(rule, Ge):
            low = int(rule.ge)  # type: ignore[call-overload]
        if isinstance(rule, Le):
            high = int(rule.le)  # type: ignore[call-overload]
    return low, high
