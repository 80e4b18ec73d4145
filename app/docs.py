"""The API's OpenAPI document, served as /api/openapi.json."""

import json
from pathlib import Path

from flask import Blueprint

bp = Blueprint("docs", __name__)

OPENAPI = json.loads((Path(__file__).parent / "openapi.json").read_text())


@bp.get("/api/openapi.json")
def openapi():
    return OPENAPI
