"""The floor for the HTTP side: a Flask endpoint that touches no database."""

from flask import Flask

app = Flask(__name__)
ITEM = {"id": 1, "name": "item 1", "description": "x" * 100, "created_at": "2026-01-01T00:00:00Z"}


@app.get("/api/items/<int:item_id>")
def item(item_id: int):
    return ITEM
