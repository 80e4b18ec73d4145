"""Queries used in more than one place (API, CLI, export)."""

from collections.abc import Iterator

from flask_sqlalchemy.pagination import Pagination

from app.extensions import db
from app.models import Item


def page_of_items(*, page: int, per_page: int) -> Pagination:
    query = db.select(Item).order_by(Item.id)
    return db.paginate(query, page=page, per_page=per_page, max_per_page=per_page, error_out=False)


def all_items() -> Iterator[Item]:
    return db.session.execute(db.select(Item).order_by(Item.id)).scalars()


def item_by_name(name: str) -> Item | None:
    return db.session.execute(db.select(Item).filter_by(name=name)).scalar_one_or_none()
