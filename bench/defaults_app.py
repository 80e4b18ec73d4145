"""Our app as a user without our settings would run it: Flask-SQLAlchemy's default engine
options (no pre-ping, no pool sizing, no timeouts), served by gunicorn with its defaults."""

from app import create_app

app = create_app({"SQLALCHEMY_ENGINE_OPTIONS": {}})
