"""Settings from the environment: the parser the service's settings (app/settings.py) and the
operator's (rdsctl/settings.py) share, and .env under the real environment."""

import difflib
import functools
import os
import re
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from annotated_types import Ge, Le
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

PROJECT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting cannot work; the message names the variable and what to set."""


Model = TypeVar("Model", bound=BaseModel)


def parse(
    model: type[Model], environ: Mapping[str, str], sources: Mapping[str, tuple[str, ...]]
) -> Model:
    """`model` from the variables named after its fields (or `sources`); an empty value counts
    as unset, NAME_FILE holds a secret's value (a Docker secret), values are trimmed but for
    secrets. The first bad value is ConfigError naming the variable and what it accepts."""
    values, read_from = {}, {}
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        for variable in sources.get(name, (name.upper(),)):
            raw = file_value(environ, variable) if field.repr is False else environ.get(variable)
            if raw:
                values[name] = raw if field.repr is False else raw.strip()
                read_from[name] = variable
                break
    try:
        return model.model_validate(values)
    except PydanticError as exc:
        raise explained(exc, model, values, read_from) from None


def file_value(environ: Mapping[str, str], variable: str) -> str | None:
    path = environ.get(f"{variable}_FILE")
    if not path:
        return environ.get(variable)
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{variable}_FILE={path}: cannot be read ({exc.strerror})") from None


def reparse(settings: Model, changes: Mapping[str, Any]) -> Model:
    values = {name: getattr(settings, name) for name in type(settings).model_fields}
    try:
        return type(settings).model_validate({**values, **changes})
    except PydanticError as exc:
        raise explained(exc, type(settings), values, {}) from None


def explained(
    exc: PydanticError,
    model: type[BaseModel],
    values: Mapping[str, Any],
    read_from: Mapping[str, str],
) -> ConfigError:
    error = exc.errors(include_url=False)[0]
    if not error["loc"]:  # a combination refused by the model's own check
        return ConfigError(str(error.get("ctx", {}).get("error", error["msg"])))
    name = str(error["loc"][0])
    variable = read_from.get(name, name.upper())
    shown = "***" if model.model_fields[name].repr is False else repr(values.get(name))
    return ConfigError(f"{variable}={shown}: must be {accepts(model, name)}")


def accepts(model: type[BaseModel], name: str) -> str:
    """What a field accepts, in words, from its type and bounds."""
    field = model.model_fields[name]
    kind = field.annotation
    if isinstance(kind, types.UnionType):  # X | None
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    low = next((rule.ge for rule in field.metadata if isinstance(rule, Ge)), None)
    high = next((rule.le for rule in field.metadata if isinstance(rule, Le)), None)
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(str(choice) for choice in typing.get_args(kind))
    if kind is bool:
        return "1 or 0"
    if kind is float:
        return "a number" + (f", at least {low:g}" if low is not None else "")
    if kind is int and high is not None:
        return f"a whole number from {low} to {high}"
    if kind is int:
        return "a whole number" + (f", at least {low}" if low is not None else "")
    return "text"


@functools.cache
def load_env_file() -> None:
    """.env (or ENV_FILE) under the real environment, which wins, once per process. A name in
    it that no setting reads, but one nearly does, is a warning naming that one."""
    from dotenv import dotenv_values, load_dotenv

    path = Path(os.environ.get("ENV_FILE") or PROJECT / ".env")
    if not path.is_file():
        return
    load_dotenv(path, override=False)
    known = documented_names()
    for name in dotenv_values(path):
        if known and name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
            if close:
                print(
                    f"settings: {path.name} sets {name}, which nothing reads: did you mean "
                    f"{close[0]}?",
                    file=sys.stderr,
                )


def documented_names() -> set[str]:
    """Every variable .env.example names, set or commented out: what the project reads."""
    example = PROJECT / ".env.example"
    if not example.is_file():
        return set()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example.read_text(), re.M))
