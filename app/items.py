"""The items layer: every read and write of items, for the API, the CLI and the export.

Writes take values already checked by a schema (app/schemas.py); a write commits or raises,
and a taken name is NameTaken whichever way it arrived.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Item, name_key
from app.pool import open_transaction_possible
from app.schemas import ID_MAX, ItemCreate, ItemUpdate


class NameTaken(Conflict):
    def __init__(self, name: str):
        super().__init__("An item with this name already exists.", {"name": "already exists"})
        self.name = name


def find(item_id: int, *, for_update: bool = False) -> Item:
    """The item with this id, or NotFound; locked until the transaction ends if `for_update`."""
    if not 0 < item_id <= ID_MAX:
        raise NotFound(f"No item with id {item_id}.")
    # populate_existing: a locking read goes to the server even for an object already loaded
    item = db.session.get(Item, item_id, with_for_update=for_update, populate_existing=for_update)
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


@contextmanager
def transaction() -> Iterator[None]:
    """One transaction around a write, all or nothing. On MySQL the engine autocommits (a read
    is one round trip, app/config.py), so a write starts its transaction itself, before it
    reads what it changes (unless one is open already); COMMIT ends it, an error rolls it back.
    """
    try:
        if not _in_transaction():
            db.session.execute(text("START TRANSACTION"))
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def create(data: ItemCreate) -> Item:
    """A new item; raises NameTaken."""
    item = Item(**data.model_dump())
    with _name_checked(item.name), transaction():
        db.session.add(item)
    return item


def update(item_id: int, data: ItemUpdate) -> Item:
    """Change the fields given of the item with this id (locked while it changes); raises
    NotFound, NameTaken."""
    with transaction():
        item = find(item_id, for_update=True)
        for name, value in data.model_dump().items():
            setattr(item, name, value)
        with _name_checked(item.name):
            db.session.flush()
    return item


def delete(item_id: int) -> None:
    """Delete the item with this id; raises NotFound."""
    with transaction():
        db.session.delete(find(item_id, for_update=True))


def _in_transaction() -> bool:
    """Whether this session's connection is in a transaction already, or opens them itself:
    only an autocommitting MySQL connection with none open needs START TRANSACTION (SQLite's
    driver, and MySQL without autocommit, begin implicitly)."""
    return open_transaction_possible(db.session.connection().connection.dbapi_connection)


@contextmanager
def _name_checked(name: str) -> Iterator[None]:
    """A duplicate name (the only unique column) is NameTaken."""
    try:
        yield
    except IntegrityError:
        raise NameTaken(name) from None
