"""Command-line tools: `flask items ...` and `flask wait-db`."""

import time

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app import crud
from app.errors import ValidationError
from app.export import items_csv, items_json
from app.extensions import db
from app.items import FIELDS
from app.models import Item
from app.validation import check_fields

items_cli = AppGroup("items", help="Add, delete, list and export items.")


@items_cli.command("add")
@click.argument("name")
@click.option("--description", default="", help="Free text.")
def add_item(name: str, description: str):
    """Add an item called NAME."""
    try:
        values = check_fields({"name": name, "description": description}, FIELDS, partial=False)
    except ValidationError as exc:
        raise click.UsageError("; ".join(f"{k} {v}" for k, v in exc.fields.items())) from None
    item = Item(**values)
    db.session.add(item)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise click.ClickException(f"an item named {name!r} already exists") from None
    click.echo(f"added item {item.id}: {item.name}")


@items_cli.command("delete")
@click.argument("name")
def delete_item(name: str):
    """Delete the item called NAME."""
    item = crud.item_by_name(name)
    if item is None:
        raise click.ClickException(f"no item named {name!r}")
    db.session.delete(item)
    db.session.commit()
    click.echo(f"deleted item {item.id}: {name}")


@items_cli.command("list")
def list_items():
    """Print every item, one per line."""
    for item in crud.all_items():
        click.echo(f"{item.id}\t{item.name}\t{item.description}")


@items_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
def export_items(fmt: str, output):
    """Write every item as CSV or JSON (to standard output by default)."""
    output.write(items_csv() if fmt == "csv" else items_json())


@click.command("wait-db")
@with_appcontext
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait in all.")
def wait_db(timeout: float):
    """Wait until the database answers, retrying with backoff; exit 1 after TIMEOUT seconds."""
    url = db.engine.url.render_as_string(hide_password=True)
    deadline = time.monotonic() + timeout
    delay, attempt = 0.5, 1
    while True:
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            click.echo(f"database is up: {url}")
            return
        except DBAPIError as exc:
            reason = str(exc.orig).splitlines()[0]
            left = deadline - time.monotonic()
            if left <= 0:
                raise click.ClickException(
                    f"database at {url} still unreachable after {timeout:.0f}s: {reason}"
                ) from None
            click.echo(f"waiting for database at {url} (attempt {attempt}): {reason}")
            time.sleep(min(delay, left))
            delay, attempt = min(delay * 2, 5.0), attempt + 1


def register_commands(app: Flask) -> None:
    app.cli.add_command(items_cli)
    app.cli.add_command(wait_db)
