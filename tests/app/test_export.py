"""app/export.py: the items as CSV, JSON or a pandas DataFrame (flask items export)."""

import csv
import io
import json

from app.export import items_dataframe
from tests.support.items import invoke


def test_export_csv(runner):
    invoke(runner, "items", "add", "alpha", "--description", 'with "quotes", commas')
    invoke(runner, "items", "add", "beta 🍰")
    rows = list(csv.DictReader(io.StringIO(invoke(runner, "items", "export").output)))
    assert [row["name"] for row in rows] == ["alpha", "beta 🍰"]
    assert rows[0]["description"] == 'with "quotes", commas'
    assert rows[0]["created_at"].endswith("Z")


def test_export_json_to_a_file(runner, tmp_path):
    invoke(runner, "items", "add", "alpha")
    out = tmp_path / "items.json"
    result = invoke(runner, "items", "export", "--format", "json", "-o", str(out))
    assert result.exit_code == 0, result.output
    records = json.loads(out.read_text(encoding="utf-8"))
    assert [r["name"] for r in records] == ["alpha"]
    assert set(records[0]) == {"id", "name", "description", "created_at", "updated_at"}


def test_export_rejects_an_unknown_format(runner):
    result = invoke(runner, "items", "export", "--format", "xml")
    assert result.exit_code == 2
    assert "'xml' is not one of 'csv', 'json'" in result.output


def test_dataframe_export(app, runner):
    invoke(runner, "items", "add", "alpha")
    invoke(runner, "items", "add", "beta")
    invoke(runner, "items", "delete", "alpha")
    invoke(runner, "items", "add", "alpha")
    with app.app_context():
        frame = items_dataframe()
    assert list(frame.columns) == ["id", "name", "description", "created_at", "updated_at"]
    assert list(frame["name"]) == ["beta", "alpha"]
    assert str(frame["created_at"].dt.tz) == "UTC"
    assert frame["id"].is_monotonic_increasing


def test_dataframe_of_an_empty_table(app):
    with app.app_context():
        frame = items_dataframe()
    assert frame.empty
    assert list(frame.columns) == ["id", "name", "description", "created_at", "updated_at"]


def test_dataframe_dtypes_are_the_same_empty_or_full(app, runner):
    with app.app_context():
        empty = items_dataframe().dtypes.to_dict()
    invoke(runner, "items", "add", "alpha")
    with app.app_context():
        full = items_dataframe().dtypes.to_dict()
    assert empty == full
    assert str(full["id"]) == "int64"
    assert str(full["created_at"]) == "datetime64[us, UTC]"
