"""A Flask service on SQLite locally and MySQL 8 (Docker Compose, AWS RDS) unchanged."""

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask_openapi3 import OpenAPI

    from app.settings import Settings


def create_app(settings: "Settings | None" = None) -> "OpenAPI":
    """Create the app from `settings`, or from the environment (and .env) when none is given.

    The modules are imported here, not at the top: `docker/gunicorn.conf.py` imports
    app.settings, and a package that loaded the whole app would put every module into the
    gunicorn master, where restarted workers would inherit it.
    """
    from flask_openapi3 import Info, OpenAPI

    from app import api, cli, docs, errors, extensions, health, items_api
    from app.config import flask_config
    from app.logs import configure_logging
    from app.schemas import ErrorBody
    from app.settings import Settings

    if settings is None:
        settings = Settings.from_env()  # the environment over .env (or ENV_FILE)
    app = OpenAPI(
        __name__,
        instance_relative_config=True,
        info=Info(title="Items API", version="1.0.0"),
        security_schemes={},  # none; flask-openapi3 otherwise writes null, which is invalid
        validation_error_callback=api.on_validation_error,
        validation_error_model=ErrorBody,
        doc_ui=False,  # app/docs.py serves the document and the UI itself
    )
    app.url_map.converters["id"] = api.CanonicalId
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(flask_config(settings, app.instance_path))
    if not settings.testing:
        configure_logging(settings.log_level)
    app.json.sort_keys = False  # type: ignore[attr-defined]

    extensions.init_app(app, settings)
    health.init_app(app)
    items_api.init_app(app)
    docs.init_app(app, with_ui=settings.docs_enabled)
    errors.init_app(app)
    cli.init_app(app)
    api.check_parameter_models(app)
    return app
