"""app/readers.py on MySQL: which query goes to the reader and which to the writer.

The reader here is a second database on the test server, migrated like the writer, that holds
only the rows a test copies into it: a replica that has received those and no others. Round
trips are counted on each engine's own connections (tests/support/roundtrips.py), for the
statements on items only (the reader's monitor checks it on the same engine once a second).
"""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app import create_app, readers
from app.extensions import db
from app.models import name_key
from tests.support.databases import migrate_database, settings_for
from tests.support.roundtrips import RoundTrips

pytestmark = pytest.mark.mysql


@pytest.fixture(scope="module")
def reader_database(db_server):
    if not db_server.is_mysql:
        pytest.skip("needs MySQL; this run is on SQLite (its 'database server' line says why)")
    url = db_server.create_database()
    migrate_database(url)
    yield url
    db_server.drop_database(url)


@pytest.fixture
def reader_url(db_server, reader_database):
    yield reader_database
    db_server.empty_tables(reader_database, ["items"])


def routed_app(database_url, reader_url, **changes):
    reader = reader_url.render_as_string(hide_password=False)
    return create_app(settings_for(database_url, database_reader_url=reader, **changes))


@pytest.fixture
def routed(database_url, reader_url):
    app = routed_app(database_url, reader_url)
    yield app
    app.extensions[readers.MONITOR].stop()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


class Counted:
    """The statements on items each engine of `app` sends from now on."""

    def __init__(self, app):
        with app.app_context():
            self.writer = RoundTrips(db.engine)
            self.reader = RoundTrips(db.engines[readers.READER])

    def on(self, side: str) -> list[str]:
        return [s for s in getattr(self, side).sent if "items" in s]


def replicate(reader_url, *items):
    """Copy rows the writer answered with into the reader, as replication would."""
    engine = sa.create_engine(reader_url)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        for item in items:
            connection.execute(
                sa.text(
                    "INSERT INTO items (id, name, name_key, description, created_at, updated_at) "
                    "VALUES (:id, :name, :key, '', :now, :now)"
                ),
                {"id": item["id"], "name": item["name"], "key": name_key(item["name"]), "now": now},
            )
    engine.dispose()


def created(app, *names):
    writer = app.test_client()
    return [writer.post("/api/items", json={"name": n}).get_json() for n in names]


def test_a_point_read_from_a_new_client_is_one_round_trip_on_the_reader(routed, reader_url):
    (item,) = created(routed, "replicated")
    replicate(reader_url, item)
    counted = Counted(routed)
    response = routed.test_client().get(f"/api/items/{item['id']}")
    assert response.status_code == 200 and response.get_json()["name"] == "replicated"
    assert len(counted.on("reader")) == 1 and counted.on("writer") == []


def test_a_list_from_another_client_is_the_readers(routed, reader_url):
    first, _ = created(routed, "on both", "on the writer only")
    replicate(reader_url, first)
    counted = Counted(routed)
    listed = routed.test_client().get("/api/items").get_json()
    assert [i["name"] for i in listed["items"]] == ["on both"]
    assert len(counted.on("reader")) == 2 and counted.on("writer") == []  # rows, count


def test_a_write_and_what_follows_it_in_the_request_go_to_the_writer(routed):
    counted = Counted(routed)
    response = routed.test_client().post("/api/items", json={"name": "new"})
    assert response.status_code == 201 and response.get_json()["name"] == "new"  # read back
    assert counted.on("reader") == [] and len(counted.on("writer")) == 2  # INSERT, SELECT


def test_a_locking_read_goes_to_the_writer(routed, reader_url):
    (item,) = created(routed, "locked")
    replicate(reader_url, item)
    counted = Counted(routed)
    patched = routed.test_client().patch(f"/api/items/{item['id']}", json={"description": "x"})
    assert patched.status_code == 200 and patched.get_json()["description"] == "x"
    assert counted.on("reader") == [] and "FOR UPDATE" in counted.on("writer")[0]


def test_a_client_that_wrote_reads_from_the_writer_for_a_while(routed, monkeypatch):
    client = routed.test_client()  # keeps its session cookie, as a browser does
    client.post("/api/items", json={"name": "mine"})
    assert [i["name"] for i in client.get("/api/items").get_json()["items"]] == ["mine"]
    later = readers.time.time() + 2.5  # DB_READER_AFTER_WRITE is 2 s
    monkeypatch.setattr(readers.time, "time", lambda: later)
    assert client.get("/api/items").get_json()["items"] == []  # the reader has not got it


def test_a_point_read_the_reader_lacks_is_asked_of_the_writer_before_a_404(routed):
    (item,) = created(routed, "just made")
    counted = Counted(routed)
    stranger = routed.test_client()  # no cookie: it cannot say that it wrote
    assert stranger.get(f"/api/items/{item['id']}").get_json()["name"] == "just made"
    assert stranger.get(f"/api/items/{item['id'] + 1}").status_code == 404
    assert len(counted.on("reader")) == 2 and len(counted.on("writer")) == 2


def test_a_reader_behind_by_more_than_the_limit_is_skipped(routed, monkeypatch):
    (item,) = created(routed, "fresh")
    monitor = routed.extensions[readers.MONITOR]
    with routed.app_context():
        monitor.usable()  # started
    monkeypatch.setattr(monitor, "_lag", lambda connection: 9.5)
    monitor.check()
    client = routed.test_client()
    assert [i["name"] for i in client.get("/api/items").get_json()["items"]] == ["fresh"]
    reader = client.get("/readyz").get_json()["reader"]
    assert reader["status"] == "lagging" and reader["lag_seconds"] == 9.5


def test_a_reader_that_is_down_is_skipped_and_a_failed_read_is_sent_to_the_writer(
    database_url, reader_url
):
    closed = reader_url.set(host="127.0.0.1", port=9)  # nothing listens there
    app = routed_app(database_url, closed, db_connect_timeout=1)
    (item,) = created(app, "writer's")
    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["reader"]["status"] == "down"
    monitor = app.extensions[readers.MONITOR]
    monitor.state = readers.ReaderState("ok")  # as if it went down after the last check
    assert client.get(f"/api/items/{item['id']}").get_json()["name"] == "writer's"
    assert monitor.state.status == "down"
    monitor.stop()


def test_without_a_reader_no_cookie_is_set(app, client):
    response = client.post("/api/items", json={"name": "plain"})
    assert response.status_code == 201 and "Set-Cookie" not in response.headers
    assert readers.MONITOR not in app.extensions


def test_an_idle_process_stops_checking_the_reader_and_checks_again_when_asked(routed, monkeypatch):
    """An idle app lets an idle database pause (Aurora Serverless v2): no checks while no
    request asks; the first question after that waits for one."""
    monitor = routed.extensions[readers.MONITOR]
    with routed.app_context():
        monitor.usable()
    checks = []
    monkeypatch.setattr(monitor, "check", lambda: checks.append(1))
    now = readers.time.monotonic()
    monkeypatch.setattr(readers.time, "monotonic", lambda: now + 1)
    monitor.tick()
    assert checks == [1]  # asked a second ago: checked
    monkeypatch.setattr(readers.time, "monotonic", lambda: now + 60)
    monitor.tick()
    assert checks == [1]  # a minute idle: not checked
    with routed.app_context():
        monitor.usable()
    assert checks == [1, 1]  # asked again: checked first
