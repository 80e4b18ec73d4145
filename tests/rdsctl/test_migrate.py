"""`rdsctl migrate` (rdsctl/migrate.py, migrations/env.py), the migrate container's command, on a
copy of the project with one more revision: a DDL longer than the read timeout completes; a
metadata lock is waited for a few seconds a try, and tried again when nothing of the revision
ran; a revision that cannot be shown as SQL is applied only when named."""

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.support.databases import migrate_database, table_names
from tests.support.revisions import copy_project, head, write_revision


def recorded(url) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    engine.dispose()
    return [version for (version,) in versions]


def project_with_revision(tmp_path, name: str, upgrade_sql: str):
    """A copy of the code and migrations with one more revision after the head running SQL."""
    write_revision(copy_project(tmp_path), name, f"op.execute({upgrade_sql!r})")
    return tmp_path


def rdsctl_migrate_command(project, url, **env) -> tuple[list[str], dict[str, str]]:
    """The migrate container's command, `rdsctl migrate`, on a copy of the project."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))},
        "DATABASE_URL": url.render_as_string(False),
        "PYTHONPATH": str(project),
        "ENV_FILE": os.devnull,
        **env,
    }
    return [sys.executable, "-m", "rdsctl", "migrate"], environment


def rdsctl_migrate(project, url, **env) -> subprocess.CompletedProcess:
    command, environment = rdsctl_migrate_command(project, url, **env)
    return subprocess.run(
        command, cwd=project, env=environment, capture_output=True, text=True, timeout=120
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
    assert recorded(empty_database) == ["slow0ddl0001"]
    assert "slow_ddl" in table_names(empty_database)


@pytest.mark.mysql
def test_a_ddl_waits_for_a_metadata_lock_briefly_a_try_then_gives_up(empty_database, tmp_path):
    """An ALTER queued behind an open transaction blocks every query on the table while it
    waits: each try waits MIGRATE_DDL_WAIT, the next comes after a pause (nothing of the
    revision ran), and after MIGRATE_DDL_TRIES the migration says so and leaves the schema at
    the last applied revision."""
    migrate_database(empty_database)
    project = project_with_revision(
        tmp_path, "alter0items1", "ALTER TABLE items ADD COLUMN colour VARCHAR(20)"
    )
    engine = sa.create_engine(empty_database)
    with engine.connect() as holder:
        holder.exec_driver_sql("SELECT COUNT(*) FROM items").all()  # the transaction stays open
        result = rdsctl_migrate(
            project, empty_database, MIGRATE_DDL_WAIT="1", MIGRATE_DDL_TRIES="2"
        )
    engine.dispose()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "trying again in 1s (2 of 2)" in output
    assert "1205" in output or "Lock wait timeout" in output, output
    assert recorded(empty_database) == [head()]


@pytest.mark.mysql
def test_a_ddl_goes_through_once_the_lock_is_let_go(empty_database, tmp_path):
    """The long transaction ends after the first try timed out: the next try applies it."""
    migrate_database(empty_database)
    project = project_with_revision(
        tmp_path, "alter0items2", "ALTER TABLE items ADD COLUMN shade VARCHAR(20)"
    )
    engine = sa.create_engine(empty_database)
    holder = engine.connect()
    holder.exec_driver_sql("SELECT COUNT(*) FROM items").all()
    command, env = rdsctl_migrate_command(
        project, empty_database, MIGRATE_DDL_WAIT="1", MIGRATE_DDL_TRIES="5"
    )
    with subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as migrate:
        output = []
        for line in migrate.stdout:
            output.append(line)
            if "trying again" in line:
                holder.close()  # the long transaction ends
        migrate.wait(timeout=60)
    engine.dispose()
    assert migrate.returncode == 0, "".join(output)
    assert recorded(empty_database) == ["alter0items2"]


@pytest.mark.mysql
def test_a_revision_that_reads_the_database_is_applied_only_when_named(empty_database, tmp_path):
    """Offline, to show the SQL, op.get_bind() has no database: the revision is named, and
    applied unseen only with MIGRATE_UNRENDERED naming it too."""
    migrate_database(empty_database)
    write_revision(
        copy_project(tmp_path),
        "reads0rows01",
        """
count = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM items")).scalar()
op.execute(f"CREATE TABLE counted (n INT) AS SELECT {int(count)} AS n")
""",
        imports="import sqlalchemy as sa",
    )
    reviewed = {"MIGRATE_MODE": "reviewed", "CONFIRM": "yes"}
    refused = rdsctl_migrate(tmp_path, empty_database, **reviewed)
    output = refused.stdout + refused.stderr
    assert refused.returncode == 3, output
    assert "reads0rows01 cannot be shown as SQL" in output
    assert "MIGRATE_UNRENDERED=reads0rows01" in output and "Traceback" not in output
    assert recorded(empty_database) == [head()]
    applied = rdsctl_migrate(
        tmp_path, empty_database, MIGRATE_UNRENDERED="reads0rows01", **reviewed
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert recorded(empty_database) == ["reads0rows01"]
    assert "counted" in table_names(empty_database)
