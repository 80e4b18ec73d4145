"""app/config.py: Flask's configuration, the database URL and the engine's options."""

import ssl

import pytest

from app import create_app
from app.config import engine_options, flask_config, tls_connect_args
from app.env import ConfigError
from app.settings import Settings


def uri(settings: Settings, instance: str = "/srv/instance"):
    return flask_config(settings, instance)["SQLALCHEMY_DATABASE_URI"]


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    config = flask_config(Settings(), str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"].render_as_string() == f"sqlite:///{tmp_path}/app.db"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


def test_database_url_wins_over_the_parts():
    settings = Settings.from_env({"DATABASE_URL": "mysql+pymysql://u:p@db/app", "DB_HOST": "x"})
    assert uri(settings).render_as_string(hide_password=False) == "mysql+pymysql://u:p@db/app"


def test_url_from_parts_keeps_special_characters_in_the_password():
    env = {"DB_HOST": "db.example", "DB_USER": "app", "DB_PASSWORD": "p@ss:w/rd%", "DB_NAME": "app"}
    url = uri(Settings.from_env(env))
    assert url.password == "p@ss:w/rd%"
    assert url.host == "db.example"
    assert "p@ss" not in repr(url)


def test_mysql_engine_options_fit_rds():
    settings = Settings.from_env({"DB_HOST": "h"})
    options = engine_options(settings, uri(settings))
    assert "pool_pre_ping" not in options  # app/engine.py pings idle connections instead
    assert options["isolation_level"] == "AUTOCOMMIT"  # a read is one round trip
    # the reset costs nothing when the server says no transaction is open (app/engine.py)
    assert options["pool_reset_on_return"] == "rollback"
    assert options["pool_recycle"] < 28800  # RDS's wait_timeout
    assert options["pool_size"] == 5
    assert options["connect_args"]["charset"] == "utf8mb4"
    assert options["connect_args"]["connect_timeout"] == 5
    # the greeting is awaited the connect timeout; the queries' 30 s applies once connected
    assert options["connect_args"]["read_timeout"] == 5


def test_production_starts_with_a_real_secret_key():
    settings = Settings.from_env({"APP_ENV": "production", "SECRET_KEY": "0123456789abcdef" * 4})
    app = create_app(settings.replace(testing=True))
    assert app.config["SETTINGS"].app_env == "production"
    assert app.config["SECRET_KEY"] == "0123456789abcdef" * 4


def test_tls_required_encrypts_without_verifying():
    context = tls_connect_args("required", None)["ssl"]
    assert context.verify_mode == ssl.CERT_NONE
    assert context.check_hostname is False


def test_tls_verify_full_checks_certificate_and_host_name():
    ca = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    context = tls_connect_args("verify-full", ca)["ssl"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_tls_verify_full_needs_a_readable_ca_bundle(tmp_path):
    with pytest.raises(ConfigError, match="DB_TLS_CA"):
        tls_connect_args("verify-full", None)
    not_a_bundle = tmp_path / "ca.pem"
    not_a_bundle.write_text("not a certificate")
    with pytest.raises(ConfigError, match="not a readable CA bundle"):
        tls_connect_args("verify-full", str(not_a_bundle))


def test_tls_preferred_and_disabled():
    assert tls_connect_args("preferred", None) == {}
    assert tls_connect_args("disabled", None) == {"ssl_disabled": True}
