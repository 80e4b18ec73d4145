"""Migrations: no drift from the models, reversible, and safe to run twice at once."""

import os
import subprocess
import sys

import flask_migrate
import pytest
import sqlalchemy as sa

from app import create_app
from app.revisions import migration_lock
from harness.stack import ROOT, eventually
from tests.support.databases import migrate_database, settings_for, table_names
from tests.support.revisions import before, head

BEFORE_NAME_KEY = before("3b1f6c2d9a10")  # the name-key migration, which these tests are about


def test_models_and_migrations_do_not_drift(runner):
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_db_check_detects_drift(empty_database):
    migrate_database(empty_database)
    engine = sa.create_engine(empty_database)
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE items ADD COLUMN stray INTEGER")
    engine.dispose()
    result = create_app(settings_for(empty_database)).test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code != 0


def test_upgrade_downgrade_upgrade(empty_database):
    app = create_app(settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade()
        assert table_names(empty_database) == {"alembic_version", "items"}
        flask_migrate.downgrade(revision="base")
        assert table_names(empty_database) == {"alembic_version"}
        flask_migrate.upgrade()
        assert table_names(empty_database) == {"alembic_version", "items"}
    client = app.test_client()
    assert client.post("/api/items", json={"name": "after"}).status_code == 201


def run_upgrade(url) -> subprocess.Popen:
    env = {**os.environ, "FLASK_APP": "app", "DATABASE_URL": url.render_as_string(False)}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def waiting_for_the_lock(connection, lock: str) -> int:
    sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE %s"
    return connection.exec_driver_sql(sql, (f"SELECT GET_LOCK('{lock}'%",)).scalar()


@pytest.mark.mysql
def test_two_upgrades_at_once_apply_each_revision_once(empty_database):
    """The test holds the migrators' lock until both upgrades wait for it, so they overlap."""
    engine = sa.create_engine(empty_database, isolation_level="AUTOCOMMIT")
    lock = migration_lock(empty_database.database)
    with engine.connect() as holder:
        holder.exec_driver_sql("SELECT GET_LOCK(%s, 10)", (lock,))
        first, second = run_upgrade(empty_database), run_upgrade(empty_database)
        both_wait = eventually(lambda: waiting_for_the_lock(holder, lock) == 2, 60, every=0.1)
        holder.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (lock,))
        outputs = [p.communicate(timeout=120)[0] for p in (first, second)]
        versions = holder.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    engine.dispose()
    assert both_wait, outputs
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert sum(out.count(f" -> {head()}") for out in outputs) == 1, outputs
    assert versions == [(head(),)]
    assert table_names(empty_database) == {"alembic_version", "items"}


def add_rows(url, *names):
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for name in names:
            connection.execute(
                sa.text(
                    "INSERT INTO items (name, description, created_at, updated_at) "
                    "VALUES (:name, '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"name": name},
            )
    engine.dispose()


def test_name_key_migration_fills_the_key_on_a_table_with_rows(empty_database):
    app = create_app(settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE_NAME_KEY)
        add_rows(empty_database, "Widget", " Gadget\t", "Straße")
        flask_migrate.upgrade()
    engine = sa.create_engine(empty_database)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT name, name_key FROM items ORDER BY id")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("Widget", "widget"),
        ("Gadget", "gadget"),
        ("Straße", "strasse"),
    ]


def test_name_key_migration_stops_listing_names_that_would_collide(empty_database):
    app = create_app(settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE_NAME_KEY)
        add_rows(empty_database, "widget", " widget", "other")  # one name once trimmed
        with pytest.raises(SystemExit) as stopped:
            flask_migrate.upgrade()
    assert "id 1 'widget'; id 2 ' widget'" in str(stopped.value)
    assert "Rename all but one" in str(stopped.value)
    assert "name_key" not in {c["name"] for c in columns(empty_database, "items")}


def columns(url, table):
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_columns(table)
    finally:
        engine.dispose()


def test_name_key_migration_finishes_a_run_that_stopped_halfway(empty_database):
    # MySQL commits each DDL statement: a run that died after ADD COLUMN left it behind.
    app = create_app(settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE_NAME_KEY)
        add_rows(empty_database, "Widget")
        engine = sa.create_engine(empty_database)
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE items ADD COLUMN name_key VARCHAR(360) NULL")
        engine.dispose()
        flask_migrate.upgrade()
    with app.app_context():
        assert app.test_client().get("/readyz").status_code == 200
    assert app.test_client().post("/api/items", json={"name": "WIDGET"}).status_code == 409
