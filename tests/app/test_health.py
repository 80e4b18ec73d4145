"""/healthz and /readyz."""

from app import create_app
from tests.support.databases import migrate_database, settings_for
from tests.support.revisions import pending_from_empty


def test_healthz_is_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ok_at_the_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_503_naming_pending_migrations(empty_database):
    client = create_app(settings_for(empty_database)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["reason"] == f"pending migrations: {pending_from_empty()}"


def test_readyz_becomes_ok_once_migrated(empty_database):
    client = create_app(settings_for(empty_database)).test_client()
    assert client.get("/readyz").status_code == 503
    migrate_database(empty_database)
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_for_an_unknown_revision(empty_database):
    migrate_database(empty_database)
    app = create_app(settings_for(empty_database))
    with app.app_context():
        from app.extensions import db

        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00dfeed'")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert "f00dfeed" in response.get_json()["reason"]


def test_readyz_is_503_when_the_database_is_unreachable():
    url = "mysql+pymysql://nobody:secret-pw@127.0.0.1:9/nothing"
    client = create_app(settings_for(url, db_connect_timeout=2)).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "reason": "database unreachable"}
    assert b"secret-pw" not in response.data


def test_healthz_does_not_touch_the_database():
    url = "mysql+pymysql://nobody:secret@127.0.0.1:9/nothing"
    client = create_app(settings_for(url)).test_client()
    assert client.get("/healthz").status_code == 200


def test_api_answers_503_json_when_the_database_is_unreachable():
    url = "mysql+pymysql://nobody:secret-pw@127.0.0.1:9/nothing"
    client = create_app(settings_for(url, db_connect_timeout=2)).test_client()
    for response in (client.get("/api/items"), client.post("/api/items", json={"name": "x"})):
        assert response.status_code == 503
        assert response.get_json()["error"]["code"] == "database_unavailable"
        assert response.headers["Retry-After"] == "1"
        assert b"secret-pw" not in response.data


def test_secrets_manager_unreachable_is_503_with_retry_after(monkeypatch):
    # The password lives in Secrets Manager, and nothing answers where the API should be.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never the real AWS
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    settings = settings_for(
        "mysql+pymysql://app@127.0.0.1:9/app",
        db_password_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
        aws_region="eu-west-1",
    )
    client = create_app(settings).test_client()
    items = client.get("/api/items")
    assert items.status_code == 503
    assert items.get_json()["error"]["code"] == "database_unavailable"
    assert items.headers["Retry-After"] == "1"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {
        "status": "unavailable",
        "reason": "database credentials unavailable",
    }
    assert ready.headers["Retry-After"] == "1"


def test_api_on_a_database_without_migrations_names_them(empty_database):
    client = create_app(settings_for(empty_database)).test_client()
    for response in (client.get("/api/items"), client.post("/api/items", json={"name": "x"})):
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["code"] == "schema_not_ready"
        assert f"pending migrations: {pending_from_empty()}" in error["message"]
        assert "make migrate" in error["message"]
        assert "Retry-After" not in response.headers  # retrying cannot help
