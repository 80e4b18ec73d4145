"""A Flask service on SQLite locally and MySQL 8 (Docker Compose, AWS RDS) unchanged."""

import os
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from app.settings import Settings


def create_app(settings: "Settings | None" = None) -> Flask:
    """Create the app from `settings`, or from the environment (and .env) when none is given.

    The modules are imported here, not at the top: `docker/gunicorn.conf.py` imports
    app.settings, and a package that loaded the whole app would put every module into the
    gunicorn master, where restarted workers would inherit it.
    """
    from dotenv import load_dotenv

    from app import cli, docs, errors, extensions, health, items_api
    from app.config import flask_config
    from app.logs import configure_logging
    from app.settings import Settings

    if settings is None:
        load_dotenv(override=False)  # the real environment always wins over .env
        settings = Settings.from_env(os.environ)
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(flask_config(settings, app.instance_path))
    if not settings.testing:
        configure_logging(settings.log_level)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    extensions.init_app(app, settings)
    health.init_app(app)
    items_api.init_app(app)
    docs.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
