"""Migrations: no drift from the models, reversible, and safe to run twice at once."""

import os
import subprocess
import sys

import flask_migrate
import pytest
import sqlalchemy as sa

from app import create_app
from harness.stack import ROOT
from tests.databases import migrate_database, settings_for

HEAD = "57914ccb74d9"


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


def tables(url) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_database):
    app = create_app(settings_for(empty_database))
    with app.app_context():
        flask_migrate.upgrade()
        assert tables(empty_database) == {"alembic_version", "items"}
        flask_migrate.downgrade(revision="base")
        assert tables(empty_database) == {"alembic_version"}
        flask_migrate.upgrade()
        assert tables(empty_database) == {"alembic_version", "items"}
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


@pytest.mark.mysql
def test_two_upgrades_at_once_apply_each_revision_once(empty_database):
    first, second = run_upgrade(empty_database), run_upgrade(empty_database)
    outputs = [p.communicate(timeout=120)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert sum(out.count(f"Running upgrade  -> {HEAD}") for out in outputs) == 1, outputs
    engine = sa.create_engine(empty_database)
    with engine.connect() as connection:
        versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    engine.dispose()
    assert versions == [(HEAD,)]
    assert tables(empty_database) == {"alembic_version", "items"}
