"""Our items API as a user without our settings would run it: Flask-SQLAlchemy's default engine
options (no pre-ping, no pool sizing, no timeouts), served by gunicorn with its defaults."""

from flask import Flask

from app import errors, items_api
from app.config import database_url
from app.extensions import db
from app.settings import Settings

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = database_url(Settings.from_env(), app.instance_path)
db.init_app(app)
items_api.init_app(app)
errors.init_app(app)
