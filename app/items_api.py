"""The items resource over HTTP: /api/items. Each view names its schemas; flask-openapi3
validates the request against them and writes the OpenAPI document from them."""

from typing import Any

from flask import url_for
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from pydantic import BaseModel

from app import items
from app.api import json_object_body, operation_id
from app.schemas import (
    ErrorBody,
    ItemCreate,
    ItemPage,
    ItemPath,
    ItemPublic,
    ItemUpdate,
    PageQuery,
)

# Every answer but the success one is an ErrorBody; which codes each operation can answer:
Responses = dict[str | int, type[BaseModel] | None]
READ: Responses = {503: ErrorBody}
ONE: Responses = {404: ErrorBody, 503: ErrorBody}
WRITE: Responses = {400: ErrorBody, 409: ErrorBody, 413: ErrorBody, 415: ErrorBody, 422: ErrorBody}

bp = APIBlueprint(
    "items",
    __name__,
    url_prefix="/api/items",
    abp_tags=[Tag(name="items")],
    operation_id_callback=operation_id,
)
bp.before_request(json_object_body)


@bp.get("", responses={200: ItemPage, 400: ErrorBody, **READ})
def list_items(query: PageQuery) -> dict[str, Any]:
    """A page of items, oldest first."""
    result = items.page(page=query.page, per_page=query.per_page)
    body = ItemPage(
        items=[ItemPublic.model_validate(item) for item in result.items],
        page=query.page,
        per_page=query.per_page,
        total=result.total or 0,
        pages=result.pages,
    )
    if result.has_next:
        body.next = url_for(".list_items", page=query.page + 1, per_page=query.per_page)
    return body.model_dump(mode="json")


@bp.post("", responses={201: ItemPublic, **WRITE, **READ})
def create_item(body: ItemCreate) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Create an item; its URL is in Location."""
    item = items.create(body)
    location = url_for(".get_item", item_id=item.id)
    return ItemPublic.model_validate(item).model_dump(mode="json"), 201, {"Location": location}


@bp.get("/<id:item_id>", responses={200: ItemPublic, **ONE})
def get_item(path: ItemPath) -> dict[str, Any]:
    """One item."""
    return ItemPublic.model_validate(items.find(path.item_id)).model_dump(mode="json")


@bp.patch("/<id:item_id>", responses={200: ItemPublic, **WRITE, **ONE})
def update_item(path: ItemPath, body: ItemUpdate) -> dict[str, Any]:
    """Change the fields given, and only those."""
    item = items.update(path.item_id, body)
    return ItemPublic.model_validate(item).model_dump(mode="json")


@bp.delete("/<id:item_id>", responses={204: None, **ONE})
def delete_item(path: ItemPath) -> tuple[str, int]:
    """Delete an item."""
    items.delete(path.item_id)
    return "", 204


def init_app(app: OpenAPI) -> None:
    app.register_api(bp)
