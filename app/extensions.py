"""Extension objects, created unbound and bound to an app in create_app()."""

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app import credentials, engine, readers
from app.revisions import MIGRATIONS_DIR
from app.settings import Settings

# Stable constraint names: MySQL otherwise names them itself, and migrations drift.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# db.session sends reads to a reader when one is set, and everything else to the writer.
db = SQLAlchemy(model_class=Base, session_options={"class_": readers.RoutingSession})
# One transaction per revision: MySQL DDL commits implicitly anyway, and so a failure leaves the
# database recorded at the last revision that completed.
migrate = Migrate(compare_type=True, transaction_per_migration=True)


def init_app(app: Flask, settings: Settings) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    with app.app_context():
        for bound in db.engines.values():  # the writer, and the reader if there is one
            if bound.dialect.name == "mysql":
                engine.install(bound, settings.db_ping_after)
                engine.handshake_then_reads(bound, settings.db_read_timeout)
                if settings.db_idle_close:
                    app.extensions.setdefault("idle-closers", []).append(
                        engine.IdleCloser(bound, settings.db_idle_close)
                    )
            credentials.install(bound, settings)
        if readers.READER in db.engines:
            reader = db.engines[readers.READER]
            app.extensions[readers.MONITOR] = readers.ReaderMonitor(
                reader, settings.db_reader_max_lag
            )
            app.after_request(readers.remember_the_write)
