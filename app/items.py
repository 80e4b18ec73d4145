"""The items layer: every read and write of items, for the API, the CLI and the export.

Written as Flask-SQLAlchemy's documentation writes a resource: reads with db.session, writes
with db.session.add and commit, a row read with with_for_update stays locked until the commit
(app/engine.py makes each write one transaction on MySQL). Writes take values already checked
by a schema (app/schemas.py); a taken name is NameTaken whichever way it arrived.
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


def find(item_id: int, *, for_update: bool = False) -> Item:
    """The item with this id, or NotFound; locked until the commit if `for_update`."""
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


def oldest_first() -> Iterator[Item]:
    """Every item, by id."""
    return iter(db.session.execute(db.select(Item).order_by(Item.id)).scalars())


def create(data: ItemCreate) -> Item:
    """A new item; raises NameTaken."""
    item = Item(**data.model_dump())
    db.session.add(item)
    _commit(item.name)
    return item


def update(item_id: int, data: ItemUpdate) -> Item:
    """Change the fields given of the item with this id (locked while it changes); raises
    NotFound, NameTaken."""
    item = find(item_id, for_update=True)
    for name, value in data.model_dump().items():
        setattr(item, name, value)
    _commit(item.name)
    return item


def delete(item_id: int) -> None:
    """Delete the item with this id; raises NotFound."""
    db.session.delete(find(item_id, for_update=True))
    db.session.commit()


def _commit(name: str) -> None:
    """Commit; a duplicate name (the only unique column) is NameTaken, and nothing is kept."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise NameTaken(name) from None
