"""The items layer: every read and write of items, for the API, the CLI and the export.

Values are checked against the rules beside the model (app.models.ITEM_FIELDS); a write
commits or raises, and a taken name is NameTaken whichever way it arrived.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import ITEM_FIELDS, Item
from app.validation import check_fields

# MySQL's INT: a larger id cannot exist, and SQLite would overflow on it.
ID_MAX = 2**31 - 1


class NameTaken(Conflict):
    def __init__(self, name: str):
        super().__init__("An item with this name already exists.", {"name": "already exists"})
        self.name = name


def find(item_id: int) -> Item:
    """The item with this id, or NotFound."""
    item = db.session.get(Item, item_id) if 0 < item_id <= ID_MAX else None
    if item is None:
        raise NotFound(f"No item with id {item_id}.")
    return item


def by_name(name: str) -> Item | None:
    return db.session.execute(db.select(Item).filter_by(name=name)).scalar_one_or_none()


def page(*, page: int, per_page: int) -> Pagination:
    query = db.select(Item).order_by(Item.id)
    return db.paginate(query, page=page, per_page=per_page, max_per_page=per_page, error_out=False)


def every() -> Iterator[Item]:
    """Every item, oldest first."""
    return iter(db.session.execute(db.select(Item).order_by(Item.id)).scalars())


def create(values: Mapping[str, Any]) -> Item:
    """A new item from client values (checked); raises ValidationError or NameTaken."""
    clean = check_fields(values, ITEM_FIELDS, partial=False)
    item = Item(**clean)
    db.session.add(item)
    _commit(clean)
    return item


def update(item: Item, values: Mapping[str, Any]) -> Item:
    """Change the given fields (checked); raises ValidationError or NameTaken."""
    clean = check_fields(values, ITEM_FIELDS, partial=True)
    for name, value in clean.items():
        setattr(item, name, value)
    _commit(clean)
    return item


def delete(item: Item) -> None:
    db.session.delete(item)
    db.session.commit()


def _commit(values: Mapping[str, Any]) -> None:
    """Commit, turning a duplicate name (the only unique column) into NameTaken."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise NameTaken(str(values.get("name", ""))) from None
