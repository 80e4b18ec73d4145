"""The development shape (docker-compose.override.yml, what make up runs): an edit under app/
shows in the next responses, and a syntax error followed by its fix leaves the app serving,
with no command typed. Runs on a copy of the project, so the edits touch nothing here."""

import statistics
import subprocess
import time

import pytest
import requests

from harness.devloop import ORIGINAL, SETTLE_SECONDS, dev_stack, edit_and_wait, timed_edits
from harness.stack import eventually


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = dev_stack(tmp_path_factory.mktemp("dev"))
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


def test_an_edit_answers_in_the_next_responses(stack):
    seconds = timed_edits(stack, 3)
    print(f"edit to visible: {', '.join(f'{s:.2f}' for s in seconds)} s")
    assert statistics.median(seconds) < 10  # a bound for the test; make bench-devloop times it


def test_a_syntax_error_then_its_fix_leave_the_app_serving(stack):
    time.sleep(SETTLE_SECONDS)  # edits seconds apart, as a developer's (harness/devloop.py)
    edit_and_wait(stack, "return {{{", lambda response: response.status_code == 500)
    # Docker hands a container's output on asynchronously: the line may come a moment later
    assert eventually(lambda: "SyntaxError" in stack.logs(), timeout=10)
    time.sleep(SETTLE_SECONDS)
    fixed = edit_and_wait(
        stack, ORIGINAL, lambda r: r.status_code == 200 and r.json() == {"status": "ok"}
    )
    assert fixed < 10
    time.sleep(SETTLE_SECONDS)  # the first 200 came from one worker; the others reload too
    statuses = [requests.get(stack.url + "/api/items", timeout=5).status_code for _ in range(10)]
    assert statuses == [200] * 10


def test_make_migrate_applies_a_new_revision_without_a_rebuild(stack):
    versions = stack.root / "migrations" / "versions"
    (versions / "0a1b2c3d4e5f_add_colour.py").write_text(NEW_REVISION)
    (versions / "0a1b2c3d4e5f_add_colour.py").chmod(0o644)
    result = stack.compose("run", "--rm", "migrate")  # no --build: the image is as it was
    assert "Running upgrade 3b1f6c2d9a10 -> 0a1b2c3d4e5f" in result.stdout + result.stderr
    assert "colour" in stack.mysql_root("SHOW COLUMNS FROM app.items LIKE 'colour'")


NEW_REVISION = '''"""add colour

Revision ID: 0a1b2c3d4e5f
Revises: 3b1f6c2d9a10
"""
import sqlalchemy as sa
from alembic import op

revision = "0a1b2c3d4e5f"
down_revision = "3b1f6c2d9a10"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("items", sa.Column("colour", sa.String(20), nullable=True))


def downgrade():
    op.drop_column("items", "colour")
'''


def test_make_revision_after_deploy_env_autogenerates_against_the_local_db(stack):
    """With .env.rds present (the stack pointed at RDS), make revision still compares the
    models with the local db, never the RDS target (here a name that cannot resolve: any
    attempt to reach it would fail the command)."""
    (stack.root / ".env.rds").write_text(
        "DB_HOST='rds-target.invalid'\nDB_USER='app'\nDB_TLS='verify-full'\n"
    )
    before = set((stack.root / "migrations" / "versions").iterdir())
    result = subprocess.run(
        ["make", "revision", "m=check the target"],
        cwd=stack.root,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "rds-target.invalid" not in output
    assert "docker compose -f docker-compose.yml run" in output
    new = set((stack.root / "migrations" / "versions").iterdir()) - before
    # the local db has the column that test added and the models lack: autogenerate saw it
    assert len(new) == 1 and "colour" in new.pop().read_text()
