"""app/engine.py on MySQL, on the app's own engine as configured. Through a resource written as
Flask-SQLAlchemy's documentation writes one (db.session.add, db.session.commit,
db.session.get(..., with_for_update=True)): a write is all or nothing and a locking read keeps
its row locked until the commit. A read is one round trip, counted on the client side with
pings included; a connection the server closed while it sat idle is replaced; an idle app
closes its connections. The timeouts of a pause and its resume: tests/stack/test_timeouts.py."""

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app import create_app
from app import engine as app_engine
from app.extensions import db
from harness.stack import eventually
from tests.support.databases import settings_for
from tests.support.roundtrips import RoundTrips

pytestmark = pytest.mark.mysql


class Base(DeclarativeBase):
    """The test's own metadata: the app's models and migrations stay as they are."""


class Tag(Base):
    """The second resource a user adds."""

    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)


@pytest.fixture
def tags(app, database_url):
    with app.app_context():
        Base.metadata.create_all(db.engine)
    other = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    yield other  # a second connection, as another request or process
    other.dispose()
    with app.app_context():
        Base.metadata.drop_all(db.engine)


def names(engine) -> list[str]:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT name FROM tags ORDER BY id").scalars().all()


def test_a_write_whose_second_statement_fails_leaves_nothing(app, tags):
    with app.app_context():
        db.session.add(Tag(name="first"))
        db.session.flush()  # the first INSERT reached the server
        db.session.add(Tag(name="first"))  # its unique key clashes
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert names(tags) == []


def test_a_locking_read_blocks_another_write_until_the_commit(app, tags):
    with app.app_context():
        db.session.add(Tag(name="before"))
        db.session.commit()
        tag = db.session.get(Tag, 1, with_for_update=True)
        finished = threading.Event()

        def other_write():
            with tags.connect() as connection:
                connection.exec_driver_sql("UPDATE tags SET name = 'other' WHERE id = 1")
            finished.set()

        writer = threading.Thread(target=other_write)
        writer.start()
        waiting = eventually(lambda: lock_waits(tags) == 1 or finished.is_set(), timeout=10)
        assert waiting and not finished.is_set(), "the other UPDATE went through at once"
        tag.name = "mine"
        db.session.commit()
        writer.join(timeout=10)
    assert finished.is_set()
    assert names(tags) == ["other"]  # it ran after the commit, on the committed row


def lock_waits(engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
        ).scalar()


def test_a_point_read_is_one_round_trip_pings_included(app, client):
    with app.app_context():
        sent = RoundTrips(db.engine)
    item = client.post("/api/items", json={"name": "counted"}).get_json()
    assert sent.per_call(lambda: client.get(f"/api/items/{item['id']}")) == 1.0
    assert sent.per_call(lambda: client.get("/api/items?per_page=2")) == 2.0  # rows, count


def test_the_count_includes_pings(database_url, client):
    """The control for the test above: with a ping at every checkout (DB_PING_AFTER=0, what
    pool_pre_ping does), a point read counts two round trips."""
    pinging = create_app(settings_for(database_url, db_ping_after=0))
    with pinging.app_context():
        sent = RoundTrips(db.engine)
    item = client.post("/api/items", json={"name": "pinged"}).get_json()
    reader = pinging.test_client()
    assert sent.per_call(lambda: reader.get(f"/api/items/{item['id']}")) == 2.0
    assert sent.sent[-2] == "PING" and sent.sent[-1].startswith("SELECT")
    with pinging.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("method", ["patch", "delete"])
def test_patch_and_delete_lock_the_row_they_change_in_one_transaction(app, client, method):
    item = client.post("/api/items", json={"name": f"locked {method}"}).get_json()
    with app.app_context():
        sent = RoundTrips(db.engine)
    kwargs = {"json": {"description": "x"}} if method == "patch" else {}
    response = getattr(client, method)(f"/api/items/{item['id']}", **kwargs)
    assert response.status_code in (200, 204)
    assert sent.sent[0] == "BEGIN"
    assert sent.sent[1].startswith("SELECT") and sent.sent[1].rstrip().endswith("FOR UPDATE")
    assert sent.sent[2].startswith(("UPDATE", "DELETE"))
    assert sent.sent[3] == "COMMIT"
    # then, for a PATCH only, the row read back for the response; nothing else
    assert len(sent.sent) == (5 if method == "patch" else 4), sent.sent


def test_no_transaction_stays_open_after_reads_and_writes(client, tags):
    item = client.post("/api/items", json={"name": "open?"}).get_json()
    client.patch(f"/api/items/{item['id']}", json={"description": "changed"})
    client.get(f"/api/items/{item['id']}")
    client.get("/api/items")
    client.post("/api/items", json={"name": "OPEN?"})  # a 409: its transaction rolled back
    with tags.connect() as connection:
        open_transactions = connection.exec_driver_sql(
            "SELECT COUNT(*) FROM information_schema.innodb_trx "
            "WHERE trx_mysql_thread_id <> CONNECTION_ID()"
        ).scalar()
    assert open_transactions == 0


def test_a_read_sees_what_another_connection_committed(client, tags):
    item = client.post("/api/items", json={"name": "fresh"}).get_json()
    assert client.get(f"/api/items/{item['id']}").get_json()["description"] == ""
    with tags.connect() as connection:
        connection.exec_driver_sql("UPDATE items SET description = 'from elsewhere'")
    assert client.get(f"/api/items/{item['id']}").get_json()["description"] == "from elsewhere"


def one_connection(url, ping_after):
    engine = sa.create_engine(url, pool_size=1, max_overflow=0, pool_reset_on_return=None)
    app_engine.install(engine, ping_after)
    with engine.connect() as connection:
        thread_id = connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
    return engine, thread_id


def kill(db_server, thread_id):
    db_server.run_admin(f"KILL {thread_id}")
    gone = f"SELECT COUNT(*) FROM information_schema.processlist WHERE id = {thread_id}"
    assert eventually(lambda: db_server.run_admin(gone) == 0, timeout=10)


def test_an_idle_connection_the_server_closed_is_replaced(db_server, database_url):
    engine, thread_id = one_connection(database_url, ping_after=0)
    kill(db_server, thread_id)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar() != thread_id
    engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(db_server, database_url):
    # The check is skipped for a busy connection: proof that it is not a ping per request.
    engine, thread_id = one_connection(database_url, ping_after=3600)
    kill(db_server, thread_id)
    with pytest.raises(sa.exc.OperationalError), engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    with engine.connect() as connection:  # ... and the pool recovers on the next checkout
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    engine.dispose()


def test_an_idle_app_closes_its_connections_and_opens_one_when_asked(database_url, db_server):
    """An idle Aurora Serverless v2 cluster pauses only with no connection open."""
    app = create_app(settings_for(database_url, db_idle_close=0.2))
    client = app.test_client()
    assert client.get("/api/items").status_code == 200
    with app.app_context(), db.engine.connect() as connection:
        server_id = connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
    query = f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {server_id}"
    assert db_server.run_admin(query) == 1
    assert eventually(lambda: db_server.run_admin(query) == 0, timeout=10)
    assert client.get("/api/items").status_code == 200  # a new connection, at once
    app.extensions["idle-closers"][0].stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def closer(database_url):
    """The app's idle closer, its thread stopped: the test ticks it."""
    app = create_app(settings_for(database_url, db_idle_close=60))
    [closer] = app.extensions["idle-closers"]
    closer.stop()
    with app.app_context():
        yield closer
        db.engine.dispose()


def test_a_connection_in_use_is_never_closed_for_idleness(closer):
    with db.engine.connect() as connection:
        closer.last_used -= 120
        assert closer.tick() is False  # in use
        connection.exec_driver_sql("SELECT 1")
    closer.last_used -= 120
    assert closer.tick() is True  # returned, and idle


def test_a_connection_taken_while_the_pool_is_closed_is_closed_at_the_next_tick(closer):
    """A checkout that races the close takes a connection of the pool being replaced, and
    gives it back there; the next idle tick closes it (it would hold the cluster awake)."""
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    old_pool, closing = db.engine.pool, db.engine.dispose
    raced = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db.engine, "dispose", lambda: (raced.append(db.engine.connect()), closing()))
        closer.last_used -= 120
        assert closer.tick() is True
    raced[0].exec_driver_sql("SELECT 1")
    raced[0].close()  # back to the old pool, which the engine no longer has
    assert db.engine.pool is not old_pool and old_pool.checkedin() == 1
    closer.last_used -= 120
    assert closer.tick() is True and old_pool.checkedin() == 0
