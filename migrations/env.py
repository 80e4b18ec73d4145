"""Alembic environment for Flask-Migrate.

On MySQL, the upgrade runs under a named lock of its database's, so two `migrate` containers
started at once apply each revision once: the second waits, then finds nothing left to do. A
DDL waits for a table's metadata lock only a few seconds a try, and is tried again when nothing
of its revision ran. A failing revision is reported with what state the schema was left in,
then the command exits 1.
"""

import logging
import time
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError

from app.config import migration_engine
from app.models import UTCDateTime
from app.revisions import migration_lock, revision_state

config = context.config
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_ext = current_app.extensions["migrate"]
SETTINGS = current_app.config["SETTINGS"]
# How long to wait for another migrator's named lock (MIGRATE_LOCK_TIMEOUT), and for a table's
# metadata lock: MIGRATE_DDL_WAIT a try (lock_wait_timeout; the server's default is a year),
# short because every query on the table queues behind a waiting DDL, MIGRATE_DDL_TRIES tries.
LOCK_TIMEOUT = SETTINGS.migrate_lock_timeout
DDL_WAIT, DDL_TRIES = SETTINGS.migrate_ddl_wait, SETTINGS.migrate_ddl_tries
ER_LOCK_WAIT_TIMEOUT = 1205
# As the migrator (MIGRATE_DB_USER on RDS), with no read timeout: whichever command runs them.
engine = migration_engine(SETTINGS, current_app.instance_path)
LOCK_NAME = migration_lock(engine.url.database or "")
target_metadata = migrate_ext.db.metadata


def run_migrations_offline():
    """Print the SQL the migrations would run (--sql), without connecting."""
    context.configure(
        url=engine.url,
        target_metadata=target_metadata,
        literal_binds=True,
        **migrate_ext.configure_args,
    )
    with context.begin_transaction():
        context.run_migrations()


def render_item(type_, obj, autogen_context):
    """Write app.models.UTCDateTime into migrations as the plain types it stands for."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from sqlalchemy.dialects import mysql")
        return 'sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql")'
    return False


def process_revision_directives(context, revision, directives):
    """Write no empty revision when autogenerate finds no change."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_online():
    with engine.connect() as connection:
        locked = connection.dialect.name == "mysql"
        if locked:
            take_lock(connection)
        try:
            for attempt in range(1, DDL_TRIES + 1):
                if upgrade_once(connection, last_try=attempt == DDL_TRIES):
                    return
                wait = min(2 ** (attempt - 1), 10)
                logger.warning(
                    "A table's metadata lock was held past %ss (a long transaction, or a "
                    "request's): nothing of that revision ran; trying again in %ss (%d of %d)",
                    DDL_WAIT,
                    wait,
                    attempt + 1,
                    DDL_TRIES,
                )
                time.sleep(wait)
        finally:
            if locked:
                connection.rollback()
                connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": LOCK_NAME})
                connection.commit()


def upgrade_once(connection, last_try):
    """One run of the pending revisions: True when done, False when the first statement of a
    revision timed out waiting for a metadata lock (nothing of it ran: another try is safe)."""
    conf_args = dict(migrate_ext.configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("render_item", render_item)
    applied, changes = [], []  # the revisions done; the changing statements of the current one

    def done(ctx, step, heads, run_args):
        applied.append(step)
        changes.clear()

    def sent(conn, cursor, statement, *args):
        reads = statement.lstrip().upper().startswith(("SELECT", "SET", "SHOW", "DESC", "EXPLAIN"))
        if not reads and "alembic_version" not in statement:  # alembic's own bookkeeping
            changes.append(statement)

    conf_args["on_version_apply"] = done
    context.configure(connection=connection, target_metadata=target_metadata, **conf_args)
    before = context.get_context().get_current_heads()
    event.listen(connection, "before_cursor_execute", sent)
    try:
        with context.begin_transaction():
            context.run_migrations()
    except DBAPIError as exc:
        connection.rollback()
        if lock_wait_timed_out(exc) and len(changes) == 1 and not last_try:
            return False
        report_failure(exc, before, applied)
        raise SystemExit(1) from None
    finally:
        event.remove(connection, "before_cursor_execute", sent)
    connection.commit()
    return True


def lock_wait_timed_out(exc):
    return getattr(exc.orig, "args", (None,))[0] == ER_LOCK_WAIT_TIMEOUT


def take_lock(connection):
    logger.info("Taking migration lock %s (waits up to %ss)", LOCK_NAME, LOCK_TIMEOUT)
    connection.execute(text(f"SET SESSION lock_wait_timeout = {int(DDL_WAIT)}"))
    got = connection.execute(
        text("SELECT GET_LOCK(:name, :timeout)"), {"name": LOCK_NAME, "timeout": LOCK_TIMEOUT}
    ).scalar()
    connection.commit()  # the lock belongs to the session, not to this transaction
    if got != 1:
        logger.error("Another migration held %s for %ss; try again later.", LOCK_NAME, LOCK_TIMEOUT)
        raise SystemExit(1)


def report_failure(exc, before, applied):
    done = [step.up_revision_id for step in applied if step.is_upgrade]
    pending = revision_state(before, context.script).pending  # () for a downgrade or odd target
    failed = pending[len(done)] if len(pending) > len(done) else "?"
    at = done[-1] if done else (", ".join(before) or "base")
    logger.error("Migration %s failed: %s", failed, str(exc.orig).strip())
    logger.error("Statement: %s", (exc.statement or "").strip())
    logger.error(
        "The database is recorded at revision %s. MySQL DDL is not transactional: statements "
        "of %s that ran before the failing one stay applied; undo them by hand before retrying.",
        at,
        failed,
    )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
