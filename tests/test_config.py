"""Configuration from the environment, production checks and engine options."""

import ssl

import pytest
from sqlalchemy.engine import make_url

from app import create_app
from app.config import ConfigError, engine_options, load_config, tls_connect_args


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("DATABASE_URL", "DB_HOST", "APP_ENV", "SECRET_KEY", "DB_PASSWORD", "DB_TLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("app.load_dotenv", lambda **kwargs: None)  # ignore a developer's .env
    return monkeypatch


def test_default_database_is_sqlite_in_the_instance_folder(clean_env, tmp_path):
    config = load_config(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/app.db"
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


def test_database_url_from_the_environment(clean_env, tmp_path):
    clean_env.setenv("DATABASE_URL", "mysql+pymysql://u:p@db/app")
    assert load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "mysql+pymysql://u:p@db/app"


def test_url_from_parts_keeps_special_characters_in_the_password(clean_env, tmp_path):
    clean_env.setenv("DB_HOST", "db.example")
    clean_env.setenv("DB_USER", "app")
    clean_env.setenv("DB_PASSWORD", "p@ss:w/rd%")
    clean_env.setenv("DB_NAME", "app")
    url = make_url(load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"])
    assert url.password == "p@ss:w/rd%"
    assert url.host == "db.example"
    assert "p@ss" not in repr(url)


def test_password_from_a_file(clean_env, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    clean_env.setenv("DB_HOST", "db")
    clean_env.setenv("DB_PASSWORD_FILE", str(secret))
    assert load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"].password == "from-file"


def test_unreadable_password_file_names_the_variable(clean_env, tmp_path):
    clean_env.setenv("DB_HOST", "db")
    clean_env.setenv("DB_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="DB_PASSWORD_FILE"):
        load_config(str(tmp_path))


def test_mysql_engine_options_fit_rds():
    options = engine_options(
        {
            "SQLALCHEMY_DATABASE_URI": "mysql+pymysql://u:p@h/d",
            "DB_POOL_SIZE": 5,
            "DB_POOL_RECYCLE": 3600,
            "DB_CONNECT_TIMEOUT": 5,
            "DB_READ_TIMEOUT": 30,
            "DB_TLS": "preferred",
            "DB_TLS_CA": None,
        }
    )
    assert "pool_pre_ping" not in options  # app/pool.py pings idle connections instead
    assert options["pool_reset_on_return"] is None  # sessions end their own transactions
    assert options["pool_recycle"] < 28800  # RDS's wait_timeout
    assert options["connect_args"]["charset"] == "utf8mb4"
    assert options["connect_args"]["connect_timeout"] == 5


@pytest.mark.parametrize("key", [None, "dev-only-not-a-secret", ""])
def test_production_refuses_a_missing_or_default_secret_key(clean_env, key):
    clean_env.setenv("APP_ENV", "production")
    if key is not None:
        clean_env.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_starts_with_a_real_secret_key(clean_env):
    clean_env.setenv("APP_ENV", "production")
    clean_env.setenv("SECRET_KEY", "0123456789abcdef" * 4)
    assert create_app().config["APP_ENV"] == "production"


def test_tls_required_encrypts_without_verifying():
    context = tls_connect_args("required", None)["ssl"]
    assert context.verify_mode == ssl.CERT_NONE
    assert context.check_hostname is False


def test_tls_verify_full_checks_certificate_and_host_name():
    ca = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
    context = tls_connect_args("verify-full", ca)["ssl"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_tls_verify_full_needs_a_ca_bundle():
    with pytest.raises(ConfigError, match="DB_TLS_CA"):
        tls_connect_args("verify-full", None)
    with pytest.raises(ConfigError, match="not a readable CA bundle"):
        tls_connect_args("verify-full", "/nonexistent/ca.pem")


def test_unknown_tls_mode_lists_the_choices():
    with pytest.raises(ConfigError, match="verify-full"):
        tls_connect_args("sometimes", None)


def test_tls_disabled():
    assert tls_connect_args("disabled", None) == {"ssl_disabled": True}
