"""The items resource: /api/items."""

from flask import Blueprint, abort, current_app, request, url_for
from sqlalchemy.exc import IntegrityError

from app import crud
from app.errors import Conflict
from app.extensions import db
from app.models import DESCRIPTION_MAX, NAME_MAX, Item
from app.validation import check_fields, int_arg, json_object, text

bp = Blueprint("items", __name__, url_prefix="/api/items")

# MySQL's INT: a larger id cannot exist, and SQLite would overflow on it.
ID_MAX = 2**31 - 1

FIELDS = {
    "name": (True, text(max_length=NAME_MAX, allow_blank=False)),
    "description": (False, text(max_length=DESCRIPTION_MAX, allow_blank=True)),
}


@bp.get("")
def list_items():
    max_size = current_app.config["API_MAX_PAGE_SIZE"]
    page = int_arg(request.args, "page", default=1, minimum=1, maximum=ID_MAX)
    per_page = int_arg(request.args, "per_page", default=20, minimum=1, maximum=max_size)
    result = crud.page_of_items(page=page, per_page=per_page)
    body = {
        "items": [item.to_dict() for item in result.items],
        "page": page,
        "per_page": per_page,
        "total": result.total,
        "pages": result.pages,
    }
    if result.has_next:
        body["next"] = url_for(".list_items", page=page + 1, per_page=per_page)
    return body


@bp.post("")
def create_item():
    values = check_fields(json_object(request), FIELDS, partial=False)
    item = Item(**values)
    db.session.add(item)
    commit_or_conflict(values)
    return item.to_dict(), 201, {"Location": url_for(".get_item", item_id=item.id)}


@bp.get("/<int:item_id>")
def get_item(item_id: int):
    return item_or_404(item_id).to_dict()


@bp.patch("/<int:item_id>")
def update_item(item_id: int):
    item = item_or_404(item_id)
    values = check_fields(json_object(request), FIELDS, partial=True)
    for name, value in values.items():
        setattr(item, name, value)
    commit_or_conflict(values)
    return item.to_dict()


@bp.delete("/<int:item_id>")
def delete_item(item_id: int):
    db.session.delete(item_or_404(item_id))
    db.session.commit()
    return "", 204


def item_or_404(item_id: int) -> Item:
    description = f"No item with id {item_id}."
    if item_id > ID_MAX:
        abort(404, description)
    return db.get_or_404(Item, item_id, description=description)


def commit_or_conflict(values: dict) -> None:
    """Commit, turning a duplicate name (the only unique column) into a 409."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(
            "An item with this name already exists.", {"name": "already exists"}
        ) from None
