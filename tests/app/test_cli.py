"""app/cli.py: `flask items ...` (add, list, delete, seed), `flask wait-db` and the shell."""

import re

from app import create_app
from tests.support.databases import settings_for
from tests.support.items import invoke
from tests.support.output import cause_and_fix
from tests.support.revisions import pending_from_empty


def test_add_list_delete_add_again(runner):
    # The seed tutorial's data script: add, delete, add again, read back.
    assert "added item" in invoke(runner, "items", "add", "alpha", "--description", "first").output
    invoke(runner, "items", "add", "beta")
    result = invoke(runner, "items", "delete", "alpha")
    assert result.exit_code == 0, result.output
    assert "deleted item" in result.output
    assert invoke(runner, "items", "add", "alpha", "--description", "again").exit_code == 0
    lines = invoke(runner, "items", "list").output.splitlines()
    assert [line.split("\t")[1:] for line in lines] == [["beta", ""], ["alpha", "again"]]


def test_add_a_duplicate_fails_with_a_message(runner):
    invoke(runner, "items", "add", "alpha")
    result = invoke(runner, "items", "add", "alpha")
    assert result.exit_code == 1
    assert "an item named 'alpha' already exists" in result.output
    assert "fix: choose another name" in result.output
    assert "Traceback" not in result.output


def test_add_validates_like_the_api(runner):
    result = invoke(runner, "items", "add", "x" * 121)
    assert result.exit_code == 2
    assert "name must be at most 120 characters" in result.output


def test_delete_unknown_fails_with_a_message(runner):
    result = invoke(runner, "items", "delete", "ghost")
    assert result.exit_code == 1
    assert "no item named 'ghost'" in result.output


def test_wait_db_succeeds_at_once(runner):
    result = invoke(runner, "wait-db", "--timeout", "5")
    assert result.exit_code == 0
    assert "database is up" in result.output


def test_wait_db_gives_up_with_a_message_and_no_password():
    url = "mysql+pymysql://nobody:hunter2-secret@127.0.0.1:9/nothing"
    runner = create_app(settings_for(url, db_connect_timeout=1)).test_cli_runner()
    result = runner.invoke(args=["wait-db", "--timeout", "1"])
    assert result.exit_code == 1
    assert "waiting for database at mysql+pymysql://nobody:***@127.0.0.1:9/nothing" in result.output
    assert result.output.count("waiting for database") == 1  # one reason, said once ...
    assert re.search(r"still unreachable after 1s \([23] attempts\)", result.output)  # ... of 3
    assert "hunter2-secret" not in result.output


def test_list_escapes_tabs_and_newlines(runner):
    invoke(runner, "items", "add", "two\twords", "--description", "line one\nline two \\ end")
    lines = invoke(runner, "items", "list").output.splitlines()
    assert len(lines) == 1
    assert lines[0].split("\t")[1:] == ["two\\twords", "line one\\nline two \\\\ end"]


def test_list_of_an_empty_table_says_so(runner):
    result = invoke(runner, "items", "list")
    assert result.exit_code == 0
    assert "no items yet" in result.output


def test_items_list_against_an_unreachable_database_is_a_cause_and_a_fix():
    url = "mysql+pymysql://nobody:hunter2-secret@127.0.0.1:9/nothing"
    runner = create_app(settings_for(url, db_connect_timeout=1)).test_cli_runner()
    result = runner.invoke(args=["items", "list"])
    assert result.exit_code == 1
    cause, _ = cause_and_fix(result.output)
    assert result.output.startswith(cause) and "the database did not answer" in cause
    assert "hunter2-secret" not in result.output


def test_delete_finds_the_name_as_the_api_compares_names(runner):
    invoke(runner, "items", "add", "Alpha")
    result = invoke(runner, "items", "delete", " ALPHA ")
    assert result.exit_code == 0, result.output
    assert "no items yet" in invoke(runner, "items", "list").output


def test_items_on_a_database_never_migrated_say_so(empty_database):
    runner = create_app(settings_for(empty_database)).test_cli_runner()
    result = runner.invoke(args=["items", "list"])
    assert result.exit_code == 1
    assert f"schema is not ready (pending migrations: {pending_from_empty()})" in result.output
    assert "fix: make migrate" in result.output


def test_seed_adds_samples_once(runner, app):
    first = invoke(runner, "items", "seed", "--count", "5")
    assert first.exit_code == 0, first.output
    assert "seeded 5 new item(s); 0 were there already" in first.output
    again = invoke(runner, "items", "seed", "-n", "7")
    assert "seeded 2 new item(s); 5 were there already" in again.output
    names = [line.split("\t")[1] for line in invoke(runner, "items", "list").output.splitlines()]
    assert names == [f"sample {n}" for n in range(1, 8)]


def test_the_shell_starts_with_the_session_and_models(app):
    with app.app_context():
        context = app.make_shell_context()
        assert {"db", "session", "select", "Item", "items"} <= set(context)
        rows = context["session"].execute(context["select"](context["Item"])).all()
    assert rows == []
