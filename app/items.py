"""The items layer: every read and write of items, for the API, the CLI and the export.

Writes take values already checked by a schema (app/schemas.py); a write commits or raises,
and a taken name is NameTaken whichever way it arrived.
"""

from collections.abc import Iterator

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Item, name_key
from app.schemas import ID_MAX, ItemCreate, ItemUpdate


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
    """The item whose name folds like `name` (app.models.name_key), on every engine."""
    query = db.select(Item).filter_by(name_key=name_key(name))
    return db.session.execute(query).scalar_one_or_none()


def page(*, page: int, per_page: int) -> Pagination:
    query = db.select(Item).order_by(Item.id)
    return db.paginate(query, page=page, per_page=per_page, max_per_page=per_page, error_out=False)


def every() -> Iterator[Item]:
    """Every item, oldest first."""
    return iter(db.session.execute(db.select(Item).order_by(Item.id)).scalars())


def create(data: ItemCreate) -> Item:
    """A new item; raises NameTaken."""
    item = Item(**data.model_dump())
    db.session.add(item)
    _commit(item.name)
    return item


def update(item: Item, data: ItemUpdate) -> Item:
    """Change the fields given; raises NameTaken."""
    for name, value in data.model_dump().items():
        setattr(item, name, value)
    _commit(item.name)
    return item


def delete(item: Item) -> None:
    db.session.delete(item)
    db.session.commit()


def _commit(name: str) -> None:
    """Commit, turning a duplicate name (the only unique column) into NameTaken."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise NameTaken(name) from None
