"""Command-line tools: `flask items ...` and `flask wait-db`."""

import time
from typing import IO, Any

import click
from flask import Flask
from flask.cli import AppGroup, ScriptInfo, with_appcontext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import items
from app.aws import AWSError
from app.engine import first_line, why
from app.env import ConfigError
from app.errors import ValidationError, schema_problem
from app.export import items_csv, items_json
from app.extensions import db
from app.models import Item
from app.schemas import ItemCreate, validated
from app.settings import Settings


def app_for_the_command_line() -> Flask:
    """What the `flask` command loads (FLASK_APP, in .flaskenv, the Makefile and the image):
    the app, or a bad setting in one line of cause and one of fix, not a traceback. `flask db`
    runs as the migrator, with no read timeout: migrations/env.py makes its own engine."""
    from app import create_app

    try:
        return create_app(Settings.from_env())
    except ConfigError as exc:
        raise SystemExit(
            f"Error: {exc}\n  fix: set it in .env or the environment (.env.example lists them)"
        ) from None


class ItemsGroup(AppGroup):
    """Database and AWS failures as one line of cause and fix, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            with ctx.ensure_object(ScriptInfo).load_app().app_context():
                problem = schema_problem()
            if problem:
                raise click.ClickException(
                    f"the database schema is not ready ({problem})\n"
                    "  fix: make migrate (the stack), or flask db upgrade (make run's database)"
                ) from None
            reason = first_line(exc)
            raise click.ClickException(
                f"the database did not answer: {reason}\n  fix: check DATABASE_URL or DB_HOST, "
                "and that the database runs (make up, or flask wait-db)"
            ) from None
        except AWSError as exc:
            raise click.ClickException(str(exc)) from None


items_cli = ItemsGroup("items", help="Add, delete, list and export items.")


@items_cli.command("add")
@click.argument("name")
@click.option("--description", default="", help="Free text.")
def add_item(name: str, description: str) -> None:
    """Add an item called NAME."""
    try:
        item = items.create(validated(ItemCreate, {"name": name, "description": description}))
    except ValidationError as exc:
        raise click.UsageError("; ".join(f"{k} {v}" for k, v in exc.fields.items())) from None
    except items.NameTaken:
        raise click.ClickException(
            f"an item named {name!r} already exists (names match ignoring case and accents)\n"
            "  fix: choose another name, or see them all: flask items list"
        ) from None
    click.echo(f"added item {item.id}: {item.name}")


@items_cli.command("delete")
@click.argument("name")
def delete_item(name: str) -> None:
    """Delete the item called NAME."""
    item = items.by_name(name)
    if item is None:
        raise click.ClickException(
            f"no item named {name!r}\n  fix: flask items list shows the names there are"
        )
    item_id = item.id
    items.delete(item_id)
    click.echo(f"deleted item {item_id}: {name}")


@items_cli.command("list")
def list_items() -> None:
    """Print every item, one per line: id, name and description, tab-separated (a tab, a
    newline or a backslash in them is written \\t, \\n, \\\\)."""
    listed = False
    for item in items.oldest_first():
        click.echo(f"{item.id}\t{escaped(item.name)}\t{escaped(item.description)}")
        listed = True
    if not listed:
        click.echo("no items yet: flask items add NAME", err=True)


def escaped(text: str) -> str:
    """One field of a tab-separated line, as mysql --batch writes it."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@items_cli.command("seed")
@click.option("--count", "-n", default=20, show_default=True, type=click.IntRange(1, 10_000))
def seed_items(count: int) -> None:
    """Add sample items "sample 1" to "sample COUNT"; those already there are left as they are."""
    added = 0
    for number in range(1, count + 1):
        name = f"sample {number}"
        if items.by_name(name) is None:
            description = f"Sample item {number} of {count}, from flask items seed."
            items.create(validated(ItemCreate, {"name": name, "description": description}))
            added += 1
    click.echo(f"seeded {added} new item(s); {count - added} were there already")


@items_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
def export_items(fmt: str, output: IO[str]) -> None:
    """Write every item as CSV or JSON (to standard output by default)."""
    output.write(items_csv() if fmt == "csv" else items_json())


@click.command("wait-db")
@with_appcontext
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait in all.")
def wait_db(timeout: float) -> None:
    """Wait until the database answers, retrying with backoff; exit 1 after TIMEOUT seconds."""
    wait_for_database(timeout)


def wait_for_database(timeout: float) -> None:
    """Connect until the database answers, backing off from 0.5 s to 5 s between attempts;
    after `timeout` seconds, fail with the last reason. Each reason is said once (a cluster
    resuming from pause takes several attempts). Needs an app context."""
    url = db.engine.url.render_as_string(hide_password=True)
    deadline = time.monotonic() + timeout
    delay, attempt, said = 0.5, 1, ""
    while True:
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            click.echo(f"database is up: {url}")
            return
        except (DBAPIError, AWSError) as exc:
            if isinstance(exc, AWSError) and exc.lasting:
                raise  # no credentials, no permission: waiting does not help
            reason = exc.cause if isinstance(exc, AWSError) else why(exc)
            left = deadline - time.monotonic()
            if left <= 0:
                raise click.ClickException(
                    f"database at {url} still unreachable after {timeout:.0f}s "
                    f"({attempt} attempts): {reason}\n"
                    "  fix: start it (make up), or check DATABASE_URL / DB_HOST and the network"
                ) from None
            if reason != said:
                click.echo(f"waiting for database at {url} (attempt {attempt}): {reason}")
                said = reason
            time.sleep(min(delay, left))
            delay, attempt = min(delay * 2, 5.0), attempt + 1


def shell_context() -> dict[str, object]:
    """What `flask shell` (make shell) starts with: the session, the models, the items layer."""
    return {"db": db, "session": db.session, "select": db.select, "Item": Item, "items": items}


def init_app(app: Flask) -> None:
    app.cli.add_command(items_cli)
    app.cli.add_command(wait_db)
    app.shell_context_processor(shell_context)
