"""Where a database stands against the migrations this code ships.

One answer for everyone who asks: /readyz, the API's "schema not ready" error, the migrate
container, the doctor and deploy-env.
"""

import functools
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


@dataclass(frozen=True)
class RevisionState:
    current: tuple[str, ...]  # in alembic_version; () for a database never migrated
    heads: tuple[str, ...]  # the newest revisions in migrations/
    pending: tuple[str, ...]  # to apply, oldest first
    unknown: bool  # the database is at a revision these migrations do not have

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.heads)

    @property
    def where(self) -> str:
        return ", ".join(self.current) or "no revision (empty)"

    def problem(self) -> str | None:
        """None at the head, else what is wrong, in one line."""
        if self.at_head:
            return None
        if self.unknown:
            return f"database is at a revision these migrations do not know: {self.where}"
        if not self.pending:
            return f"database is ahead of the code: {self.where}"
        return "pending migrations: " + ", ".join(self.pending)


@functools.cache
def migration_scripts(directory: str = MIGRATIONS_DIR) -> ScriptDirectory:
    """migrations/, read once per process: the scripts do not change while it runs."""
    return ScriptDirectory(directory)


def revision_state(current: Sequence[str], scripts: ScriptDirectory | None = None) -> RevisionState:
    """Compare the revisions a database records with the scripts' heads."""
    scripts = scripts or migration_scripts()
    heads = tuple(scripts.get_heads())
    try:
        revisions = scripts.iterate_revisions(heads, tuple(current) or "base")
        pending = tuple(rev.revision for rev in reversed(list(revisions)))
    except RevisionError:
        return RevisionState(tuple(current), heads, (), unknown=True)
    return RevisionState(tuple(current), heads, pending, unknown=False)


def database_revisions(connection: sa.Connection) -> tuple[str, ...]:
    """The revisions recorded in alembic_version; () for a database never migrated."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return ()
    rows = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
    return tuple(rows.scalars())


def migration_lock(database: str) -> str:
    """The named lock (GET_LOCK) under which one migration at a time runs on `database`. Lock
    names are server-wide and at most 64 characters: a long database name is hashed."""
    name = f"flask-rds-starter.migrate.{database}"
    if len(name) > 64:
        name = "flask-rds-starter.migrate." + hashlib.sha256(database.encode()).hexdigest()[:32]
    return name


def database_state(engine: sa.Engine) -> RevisionState:
    with engine.connect() as connection:
        return revision_state(database_revisions(connection))
