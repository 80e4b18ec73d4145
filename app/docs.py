"""The API's OpenAPI document, served as /api/openapi.json."""

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask

bp = Blueprint("docs", __name__)

OPENAPI: dict[str, Any] = json.loads((Path(__file__).parent / "openapi.json").read_text())


@bp.get("/api/openapi.json")
def openapi() -> dict[str, Any]:
    return OPENAPI


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
