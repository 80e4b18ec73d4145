"""A Flask service on SQLite locally and MySQL 8 (Docker Compose, AWS RDS) unchanged."""

import os

from dotenv import load_dotenv
from flask import Flask

from app import cli, credentials, deploy, docs, errors, health, items, pool, provision
from app.config import load_config
from app.extensions import db, migrate
from app.logs import configure_logging
from app.schema import MIGRATIONS_DIR


def create_app(config: dict | None = None) -> Flask:
    """Create the app: defaults, then the environment (and .env), then `config` (tests)."""
    if config is None:
        load_dotenv(override=False)  # the real environment always wins over .env
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(load_config(app.instance_path, config))
    if not app.testing:
        configure_logging(app.config["LOG_LEVEL"])
    app.json.sort_keys = False

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    with app.app_context():
        if db.engine.dialect.name == "mysql":
            pool.install(db.engine, app.config["DB_PING_AFTER"])
        credentials.install(db.engine, app.config)


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(health.bp)
    app.register_blueprint(items.bp)
    app.register_blueprint(docs.bp)


def register_error_handlers(app: Flask) -> None:
    errors.register_error_handlers(app)


def register_commands(app: Flask) -> None:
    cli.register_commands(app)
    deploy.register_commands(app)
    provision.register_commands(app)
