"""The items table as records, CSV, JSON or a pandas DataFrame."""

import csv
import io
import json
from typing import Any

from app import items
from app.schemas import ItemPublic

COLUMNS = ["id", "name", "description", "created_at", "updated_at"]


def items_records() -> list[dict[str, Any]]:
    """Each item as the API returns it."""
    return [ItemPublic.model_validate(i).model_dump(mode="json") for i in items.oldest_first()]


def items_csv() -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(items_records())
    return out.getvalue()


def items_json() -> str:
    return json.dumps(items_records(), ensure_ascii=False, indent=2) + "\n"


def items_dataframe() -> Any:
    """Return the items table as a pandas DataFrame, one row per item, ordered by id.

    Timestamps are timezone-aware UTC. Needs an application context and pandas, which the
    venv has (requirements/dev.txt) and the image does not::

        with app.app_context():
            frame = items_dataframe()
    """
    try:
        import pandas as pd
    except ImportError:
        raise RuntimeError(
            "items_dataframe() needs pandas: make install (requirements/dev.txt has it)"
        ) from None
    frame = pd.DataFrame(items_records(), columns=COLUMNS)
    for column in ("created_at", "updated_at"):
        times = pd.to_datetime(frame[column], utc=True, format="ISO8601")
        frame[column] = times.astype("datetime64[us, UTC]")  # microseconds, as stored
    # The same dtypes for an empty table as for a full one.
    return frame.astype({"id": "int64", "name": "object", "description": "object"})
