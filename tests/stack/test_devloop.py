"""The development shape (docker-compose.override.yml, what make up runs): an edit under app/
shows in the next responses, and a syntax error followed by its fix leaves the app serving,
with no command typed. Runs on a copy of the project, so the edits touch nothing here."""

import secrets
import statistics
import subprocess

import pytest
import requests

from harness.devloop import ORIGINAL, dev_stack, edit_and_wait, settle, timed_edits
from harness.stack import eventually
from tests.support.revisions import head_of, write_revision


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
    serving = settle(stack)  # edits seconds apart, as a developer's (harness/devloop.py)
    edit_and_wait(stack, "return {{{", lambda response: response.status_code == 500)
    # Docker hands a container's output on asynchronously: the line may come a moment later
    assert eventually(lambda: "SyntaxError" in stack.logs(), timeout=10)
    failing = settle(stack, replaced=serving)
    fixed = edit_and_wait(
        stack, ORIGINAL, lambda r: r.status_code == 200 and r.json() == {"status": "ok"}
    )
    assert fixed < 10
    settle(stack, replaced=failing)  # the first 200 came from one worker; every one reloads
    statuses = [requests.get(stack.url + "/api/items", timeout=5).status_code for _ in range(10)]
    assert statuses == [200] * 10


def test_the_migrate_container_applies_a_new_revision_without_a_rebuild(stack):
    """migrations/ is mounted in the development shape: a revision written after the image
    was built is applied by the same image."""
    previous = head_of(stack.root)  # the revision test may have added one to the copy
    path = write_revision(
        stack.root,
        "0a1b2c3d4e5f",
        'op.add_column("items", sa.Column("colour", sa.String(20), nullable=True))',
        imports="import sqlalchemy as sa",
    )
    path.chmod(0o644)
    result = stack.compose("run", "--rm", "migrate")  # no --build: the image is as it was
    assert f"Running upgrade {previous} -> 0a1b2c3d4e5f" in result.stdout + result.stderr
    assert "colour" in stack.mysql_root("SHOW COLUMNS FROM app.items LIKE 'colour'")


def test_make_revision_after_deploy_env_autogenerates_against_the_local_db(stack):
    """With .env.rds present (the stack pointed at RDS), make revision still compares the
    models with the local db, never the RDS target (here a name that cannot resolve: any
    attempt to reach it would fail the command)."""
    (stack.root / ".env.rds").write_text(
        "DB_HOST='rds-target.invalid'\nDB_USER='app'\nDB_TLS='verify-full'\n"
    )
    column = f"drift_{secrets.token_hex(3)}"  # in the database, not in the models
    stack.mysql_root(f"ALTER TABLE app.items ADD COLUMN {column} INTEGER NULL")
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
    # the local db has a column the models lack: autogenerate saw it
    assert len(new) == 1 and column in new.pop().read_text()
