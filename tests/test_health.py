"""/healthz and /readyz."""

from app import create_app
from tests.conftest import app_config, migrate_database


def test_healthz_is_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ok_at_the_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_503_naming_pending_migrations(empty_database):
    client = create_app(app_config(empty_database)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["reason"] == "pending migrations: 57914ccb74d9"


def test_readyz_becomes_ok_once_migrated(empty_database):
    client = create_app(app_config(empty_database)).test_client()
    assert client.get("/readyz").status_code == 503
    migrate_database(empty_database)
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_for_an_unknown_revision(empty_database):
    migrate_database(empty_database)
    app = create_app(app_config(empty_database))
    with app.app_context():
        from app.extensions import db

        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00dfeed'")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "f00dfeed" in response.get_json()["reason"]


def test_readyz_is_503_when_the_database_is_unreachable():
    url = "mysql+pymysql://nobody:secret-pw@127.0.0.1:9/nothing"
    client = create_app(app_config(url, DB_CONNECT_TIMEOUT=2)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "database unreachable"}
    assert b"secret-pw" not in response.data


def test_healthz_does_not_touch_the_database():
    url = "mysql+pymysql://nobody:secret@127.0.0.1:9/nothing"
    client = create_app(app_config(url)).test_client()
    assert client.get("/healthz").status_code == 200


def test_api_answers_503_json_when_the_database_is_unreachable():
    url = "mysql+pymysql://nobody:secret-pw@127.0.0.1:9/nothing"
    client = create_app(app_config(url, DB_CONNECT_TIMEOUT=2)).test_client()
    for response in (client.get("/api/items"), client.post("/api/items", json={"name": "x"})):
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "database_unavailable"
        assert response.headers["Retry-After"] == "1"
        assert b"secret-pw" not in response.data
