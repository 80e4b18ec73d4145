"""How the database schema compares with the migrations this code ships."""

import os

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from flask import current_app

from app.extensions import db

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def migration_scripts() -> ScriptDirectory:
    """migrations/, read once per process: the scripts never change while it runs."""
    scripts = current_app.extensions.get("migration_scripts")
    if scripts is None:
        config = current_app.extensions["migrate"].migrate.get_config()
        scripts = ScriptDirectory.from_config(config)
        current_app.extensions["migration_scripts"] = scripts
    return scripts


def database_heads() -> tuple[str, ...]:
    """The revisions recorded in alembic_version; () for a database never migrated."""
    with db.engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return ()
        return tuple(
            connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
        )


def pending_revisions(scripts: ScriptDirectory, current: tuple[str, ...]) -> list[str]:
    """Revisions between the database's and the code's heads, oldest first.

    Raises RevisionError when the database is at a revision the scripts do not know.
    """
    revisions = scripts.iterate_revisions(scripts.get_heads(), current or "base")
    return [rev.revision for rev in reversed(list(revisions))]


def schema_problem() -> str | None:
    """None when the database is at the migrations' head, else what is wrong, in one line."""
    scripts = migration_scripts()
    current = database_heads()
    if set(current) == set(scripts.get_heads()):
        return None
    try:
        pending = pending_revisions(scripts, current)
    except RevisionError:
        return "database is at a revision these migrations do not know: " + ", ".join(current)
    if not pending:
        return "database is ahead of the code: " + ", ".join(current)
    return "pending migrations: " + ", ".join(pending)
