"""Database models, and the rules their fields follow wherever values come from."""

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, validates
from sqlalchemy.types import TypeEngine

from app.extensions import Base

NAME_MAX = 120
# Case folding can lengthen a name ("ß" -> "ss", "ﬃ" -> "ffi"): at most 3 code points each.
NAME_KEY_MAX = 3 * NAME_MAX
# Compared byte for byte on MySQL: its default utf8mb4_0900_ai_ci would fold again on its own,
# and SQLite compares bytes anyway, so both engines find the same duplicates.
NAME_KEY_TYPE = sa.String(NAME_KEY_MAX).with_variant(
    mysql.VARCHAR(NAME_KEY_MAX, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
DESCRIPTION_MAX = 10_000  # characters; at 4 bytes each it still fits MySQL's 64 KiB TEXT
# What is not a visible character: controls, white space and the format characters of the
# Basic Multilingual Plane (Unicode's Cc, Zs, Zl, Zp, Cf). Written as a regular expression that
# Python's re and a JSON Schema (ECMA-262) read alike, so that the OpenAPI document says the
# rule the server applies (app/schemas.py puts it there).
INVISIBLE = (
    r"\x00-\x20\x7f-\xa0\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u1680\u180e"
    r"\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000\ufeff\ufff9-\ufffb"
)
VISIBLE = re.compile(f"[^{INVISIBLE}]")


def now_utc() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A naive DATETIME column that holds UTC, handed to Python as an aware datetime.

    DATETIME, unlike TIMESTAMP, is not converted by the session time_zone, so what is stored
    does not depend on how a connection is set up.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("UTCDateTime needs an aware datetime")
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    name_key: Mapped[str] = mapped_column(NAME_KEY_TYPE, unique=True)  # what "the same name" is
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    @validates("name")
    def _keep_key_in_step(self, _: str, name: str) -> str:
        self.name_key = name_key(name)
        return clean_name(name)


def clean_name(name: str) -> str:
    """A name as stored: NFC, without surrounding white space."""
    return unicodedata.normalize("NFC", name).strip()


def name_key(name: str) -> str:
    """What makes two names the same on every engine: NFC, trimmed, case- and accent-folded
    ("Café", " cafe ", "CAFÉ" are one name), as MySQL's utf8mb4_0900_ai_ci mostly does."""
    decomposed = unicodedata.normalize("NFD", clean_name(name).casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", folded)


def has_visible_character(text: str) -> bool:
    """False for text of only spaces, controls and invisible format characters ("\u200b")."""
    return VISIBLE.search(text) is not None
