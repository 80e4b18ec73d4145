"""Our items API as a user without our settings would run it: Flask-SQLAlchemy's default engine
options (no pre-ping, no pool sizing, no timeouts), served by gunicorn with its defaults. The
same schemas, URL converter and error handling as ours, so that only the settings differ."""

from flask_openapi3 import OpenAPI

from app import errors, items_api
from app.api import CanonicalId, on_validation_error
from app.config import database_url
from app.extensions import db
from app.schemas import ErrorBody
from app.settings import Settings

app = OpenAPI(
    __name__,
    validation_error_callback=on_validation_error,
    validation_error_model=ErrorBody,
    doc_ui=False,
)
app.url_map.converters["id"] = CanonicalId
app.config["SQLALCHEMY_DATABASE_URI"] = database_url(Settings.from_env(), app.instance_path)
db.init_app(app)
items_api.init_app(app)
errors.init_app(app)
