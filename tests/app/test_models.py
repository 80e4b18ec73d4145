"""app/models.py on MySQL, where only MySQL can get it wrong: 4-byte UTF-8, collations,
strict mode, time zones, and the server configured as RDS is."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DataError, OperationalError

from app import create_app
from app.extensions import db
from app.models import Item
from tests.support.databases import migrate_database, settings_for

pytestmark = pytest.mark.mysql


def test_server_mirrors_rds_settings(db_server):
    assert "STRICT_TRANS_TABLES" in db_server.server_variable("sql_mode")
    assert db_server.server_variable("character_set_server") == "utf8mb4"
    assert db_server.server_variable("time_zone") in ("+00:00", "UTC", "SYSTEM")


def test_items_columns_are_utf8mb4(app):
    with app.app_context():
        charsets = (
            db.session.execute(
                sa.text(
                    "SELECT DISTINCT character_set_name FROM information_schema.columns "
                    "WHERE table_schema = DATABASE() AND table_name = 'items' "
                    "AND character_set_name IS NOT NULL"
                )
            )
            .scalars()
            .all()
        )
    assert charsets == ["utf8mb4"]


def test_four_byte_utf8_round_trips(client):
    name = "emoji 🍰🙂 music 𝄞 han 𠜎"
    item = client.post("/api/items", json={"name": name, "description": "🦄" * 1000}).get_json()
    stored = client.get(f"/api/items/{item['id']}").get_json()
    assert stored["name"] == name
    assert stored["description"] == "🦄" * 1000


def test_names_equal_under_the_collation_conflict(client):
    # utf8mb4_0900_ai_ci (MySQL) and utf8mb4_general_ci (MariaDB) ignore case and accents.
    assert client.post("/api/items", json={"name": "Cafe"}).status_code == 201
    for variant in ("cafe", "CAFE", "Café", "café"):
        response = client.post("/api/items", json={"name": variant})
        assert response.status_code == 409, variant
    assert client.get("/api/items").get_json()["total"] == 1


def test_strict_mode_rejects_too_long_values_instead_of_truncating(app):
    with app.app_context():
        db.session.add(Item(name="n" * 121))
        with pytest.raises((DataError, OperationalError), match="1406|Data too long"):
            db.session.flush()
        db.session.rollback()


def test_too_long_values_through_the_api_are_422_and_write_nothing(client):
    response = client.post("/api/items", json={"name": "🍰" * 121})
    assert response.status_code == 422
    assert client.get("/api/items").get_json()["total"] == 0


@pytest.mark.parametrize("session_zone", ["+05:30", "-08:00"])
def test_timestamps_stay_utc_whatever_the_session_time_zone(empty_database, session_zone):
    migrate_database(empty_database)
    options = {"connect_args": {"init_command": f"SET time_zone = '{session_zone}'"}}
    # PyMySQL takes init_command from the URL's query too, beside the app's own engine options.
    shifted = empty_database.update_query_dict(
        {"init_command": f"SET time_zone = '{session_zone}'"}
    )
    app = create_app(settings_for(shifted))
    before = datetime.now(UTC).replace(microsecond=0)
    item = app.test_client().post("/api/items", json={"name": "clock"}).get_json()
    created = datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))
    assert before <= created <= datetime.now(UTC) + timedelta(seconds=1)

    # Read back through a UTC session and a shifted one: the stored value does not move.
    engine = sa.create_engine(empty_database, **options)
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT created_at FROM items").scalar_one()
    engine.dispose()
    assert stored.replace(tzinfo=UTC) == created
    with app.app_context():
        assert db.session.get(Item, item["id"]).created_at == created
