"""The items resource over HTTP: /api/items."""

from typing import Any

from flask import Blueprint, Flask, current_app, request, url_for

from app import items
from app.validation import int_arg, json_object

bp = Blueprint("items", __name__, url_prefix="/api/items")


@bp.get("")
def list_items() -> dict[str, Any]:
    max_size = current_app.config["API_MAX_PAGE_SIZE"]
    page = int_arg(request.args, "page", default=1, minimum=1, maximum=items.ID_MAX)
    per_page = int_arg(request.args, "per_page", default=20, minimum=1, maximum=max_size)
    result = items.page(page=page, per_page=per_page)
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
def create_item() -> tuple[dict[str, Any], int, dict[str, str]]:
    item = items.create(json_object(request))
    return item.to_dict(), 201, {"Location": url_for(".get_item", item_id=item.id)}


@bp.get("/<int:item_id>")
def get_item(item_id: int) -> dict[str, Any]:
    return items.find(item_id).to_dict()


@bp.patch("/<int:item_id>")
def update_item(item_id: int) -> dict[str, Any]:
    return items.update(items.find(item_id), json_object(request)).to_dict()


@bp.delete("/<int:item_id>")
def delete_item(item_id: int) -> tuple[str, int]:
    items.delete(items.find(item_id))
    return "", 204


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
