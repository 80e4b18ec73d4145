"""One round trip per read: the engine autocommits on MySQL (app/config.py), so a read is one
statement and no transaction is left to end (app/pool.py skips the ROLLBACK the server would
not need). Writes still run in one transaction each (app/items.py), begun before they read."""

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app import create_app, items
from app.extensions import db
from app.models import Item
from app.schemas import ItemCreate
from tests.support.databases import migrate_database, settings_for

pytestmark = pytest.mark.mysql


@pytest.fixture
def live(empty_database):
    """The app on a database of its own, with its own engine (not the tests' shared one)."""
    migrate_database(empty_database)
    # No idle ping in these counts: the requests here come less than a minute apart.
    app = create_app(settings_for(empty_database, db_ping_after=60))
    # Its own statements must not land between two counts: no reset (ROLLBACK) on return.
    admin = sa.create_engine(
        empty_database, isolation_level="AUTOCOMMIT", pool_reset_on_return=None
    )
    yield app, admin
    admin.dispose()
    with app.app_context():
        db.engine.dispose()


def questions(admin) -> int:
    """The server's statement counter (asking costs statements too: see below)."""
    with admin.connect() as connection:
        return int(connection.exec_driver_sql("SHOW GLOBAL STATUS LIKE 'Questions'").one()[1])


def statements_per_request(admin, client, path: str, n: int = 20) -> float:
    client.get(path)  # the connection is made, and its setup queries counted, before
    overhead = -questions(admin) + questions(admin)  # what asking costs, to take away
    before = questions(admin)
    for _ in range(n):
        assert client.get(path).status_code == 200
    return (questions(admin) - before - overhead) / n


def test_a_point_read_is_one_round_trip_and_a_list_page_two(live):
    app, admin = live
    client = app.test_client()
    for name in ("a", "b", "c"):
        assert client.post("/api/items", json={"name": name}).status_code == 201
    assert statements_per_request(admin, client, "/api/items/1") == 1.0
    assert statements_per_request(admin, client, "/api/items?per_page=2") == 2.0  # rows, count


def test_no_transaction_stays_open_after_reads_and_writes(live):
    app, admin = live
    client = app.test_client()
    item = client.post("/api/items", json={"name": "open?"}).json
    client.patch(f"/api/items/{item['id']}", json={"description": "changed"})
    client.get(f"/api/items/{item['id']}")
    client.get("/api/items")
    with admin.connect() as connection:
        open_transactions = connection.exec_driver_sql(
            "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_mysql_thread_id <> "
            "CONNECTION_ID()"
        ).scalar()
    assert open_transactions == 0


def test_a_read_sees_what_another_connection_committed(live):
    app, admin = live
    client = app.test_client()
    item = client.post("/api/items", json={"name": "fresh"}).json
    assert client.get(f"/api/items/{item['id']}").json["description"] != "from elsewhere"
    with admin.connect() as connection:
        connection.exec_driver_sql("UPDATE items SET description = 'from elsewhere'")
    assert client.get(f"/api/items/{item['id']}").json["description"] == "from elsewhere"


def test_a_write_of_several_statements_is_all_or_nothing(live):
    app, admin = live
    with app.app_context():
        items.create(ItemCreate(name="taken"))
        with pytest.raises(sa.exc.IntegrityError), items.transaction():
            db.session.add(Item(name="first of two", name_key="first of two"))
            db.session.flush()  # the first INSERT reached the server
            db.session.add(Item(name="taken", name_key="taken"))
            db.session.flush()  # the second fails: the first must not stay
    with admin.connect() as connection:
        names = connection.exec_driver_sql("SELECT name FROM items").scalars().all()
    assert names == ["taken"]


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_patch_and_delete_begin_their_transaction_before_they_read(live, method):
    app, _ = live
    client = app.test_client()
    item = client.post("/api/items", json={"name": f"locked {method}"}).json
    sent = []
    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
        event.listen(engine, "commit", lambda *a: sent.append("COMMIT"))
    kwargs = {"json": {"description": "x"}} if method == "patch" else {}
    response = getattr(client, method)(f"/api/items/{item['id']}", **kwargs)
    assert response.status_code in (200, 204)
    assert sent[0] == "START TRANSACTION"
    assert sent[1].startswith("SELECT") and sent[1].rstrip().endswith("FOR UPDATE")  # locked
    assert "COMMIT" in sent and sent.index("COMMIT") > 2
