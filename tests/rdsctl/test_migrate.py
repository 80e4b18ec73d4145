"""`rdsctl migrate`, the migrate container's command, on a copy of the project with one more
revision: a DDL longer than the read timeout completes, and a metadata lock is waited for only
MIGRATE_LOCK_TIMEOUT seconds."""

import os
import shutil
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from harness.stack import ROOT
from tests.support.databases import migrate_database

HEAD = "3b1f6c2d9a10"


def tables(url) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def project_with_revision(tmp_path, name: str, upgrade_sql: str):
    """A copy of the code and migrations with one more revision after HEAD running `sql`."""
    for part in ("app", "rdsctl", "migrations"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "migrations/versions" / f"{name}.py").write_text(
        f'"""{name}"""\nfrom alembic import op\n\nrevision = "{name}"\n'
        f'down_revision = "{HEAD}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        f"def upgrade():\n    op.execute({upgrade_sql!r})\n\n\n"
        "def downgrade():\n    pass\n"
    )
    return tmp_path


def rdsctl_migrate(project, url, **env) -> subprocess.CompletedProcess:
    """The migrate container's command, `rdsctl migrate`, on a copy of the project."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))},
        "DATABASE_URL": url.render_as_string(False),
        "PYTHONPATH": str(project),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "rdsctl", "migrate"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.mysql
def test_a_migration_longer_than_the_read_timeout_completes_and_is_recorded(
    empty_database, tmp_path
):
    """DB_READ_TIMEOUT guards a request's worker; a migration's DDL may take longer (here
    2 s of DDL against a 1 s read timeout) and must not lose its connection halfway."""
    project = project_with_revision(
        tmp_path, "slow0ddl0001", "CREATE TABLE slow_ddl AS SELECT SLEEP(2) AS waited"
    )
    result = rdsctl_migrate(project, empty_database, DB_READ_TIMEOUT="1")
    assert result.returncode == 0, result.stdout + result.stderr
    engine = sa.create_engine(empty_database)
    with engine.connect() as connection:
        versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    engine.dispose()
    assert versions == [("slow0ddl0001",)]
    assert "slow_ddl" in tables(empty_database)


@pytest.mark.mysql
def test_a_ddl_waits_for_a_metadata_lock_only_as_long_as_migrate_lock_timeout(
    empty_database, tmp_path
):
    """An ALTER queued behind an open transaction blocks every query on the table while it
    waits: the migration gives up after MIGRATE_LOCK_TIMEOUT (the same wait as the named
    lock's), says so, and leaves the schema at the last applied revision."""
    migrate_database(empty_database)
    project = project_with_revision(
        tmp_path, "alter0items1", "ALTER TABLE items ADD COLUMN colour VARCHAR(20)"
    )
    engine = sa.create_engine(empty_database)
    with engine.connect() as holder:
        holder.exec_driver_sql("SELECT COUNT(*) FROM items").all()  # the transaction stays open
        started = time.monotonic()
        result = rdsctl_migrate(project, empty_database, MIGRATE_LOCK_TIMEOUT="1")
        waited = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "waits up to 1s" in output
    assert "1205" in output or "Lock wait timeout" in output, output
    assert waited < 60  # the process's start and the 1 s wait; without a limit, a year
    with engine.connect() as connection:
        versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    engine.dispose()
    assert versions == [(HEAD,)]
