"""Configuration: defaults, then the environment (and .env), then an explicit override."""

import os
import ssl
from pathlib import Path

from sqlalchemy.engine import URL, make_url

DEFAULT_SECRET_KEY = "dev-only-not-a-secret"  # noqa: S105 - refused in production


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says what to set."""


def load_config(instance_path: str, override: dict | None = None) -> dict:
    """Build the app config from the environment; `override` (tests) wins over it."""
    env = os.environ
    override = override or {}
    config = {
        "APP_ENV": env.get("APP_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 64 * 1024)),
        "API_MAX_PAGE_SIZE": 100,
        "SQLALCHEMY_DATABASE_URI": database_url(env, instance_path),
        "DB_POOL_SIZE": int(env.get("DB_POOL_SIZE", 5)),
        "DB_POOL_RECYCLE": int(env.get("DB_POOL_RECYCLE", 3600)),
        "DB_CONNECT_TIMEOUT": int(env.get("DB_CONNECT_TIMEOUT", 5)),
        "DB_READ_TIMEOUT": int(env.get("DB_READ_TIMEOUT", 30)),
        "DB_PING_AFTER": float(env.get("DB_PING_AFTER", 1)),
        "DB_TLS": env.get("DB_TLS", "preferred"),
        "DB_TLS_CA": env.get("DB_TLS_CA"),
        # Passwords that change (app/credentials.py): a rotated secret, or IAM tokens.
        "DB_PASSWORD_SECRET_ARN": env.get("DB_PASSWORD_SECRET_ARN"),
        "DB_IAM_AUTH": env.get("DB_IAM_AUTH", "0") == "1",
        "AWS_REGION": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
    }
    config.update(override)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = override.get(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options(config)
    )
    check_config(config)
    return config


def database_url(env, instance_path: str) -> str | URL:
    """DATABASE_URL, or a URL built from DB_HOST and friends, or SQLite in the instance folder.

    Building from parts keeps passwords with URL-special characters working unescaped.
    """
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    if env.get("DB_HOST"):
        return URL.create(
            "mysql+pymysql",
            username=env.get("DB_USER"),
            password=secret(env, "DB_PASSWORD"),
            host=env["DB_HOST"],
            port=int(env.get("DB_PORT", 3306)),
            database=env.get("DB_NAME"),
        )
    return "sqlite:///" + str(Path(instance_path) / "app.db")


def secret(env, name: str) -> str | None:
    """NAME from the environment, or the contents of the file named by NAME_FILE."""
    path = env.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={path} cannot be read: {exc.strerror}") from None
    return env.get(name)


def engine_options(config: dict) -> dict:
    """Engine options for MySQL behind RDS; SQLite gets only what applies to it."""
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "mysql":
        return {"pool_pre_ping": True}  # free on SQLite
    # MySQL: app/pool.py pings connections that sat idle, instead of pre-pinging every checkout.
    # No reset on return: the request's session (closed by Flask-SQLAlchemy at teardown) and
    # every `with engine.connect()` block end their transaction already, so the pool's own
    # ROLLBACK would be a second round trip that resets nothing.
    return dict(
        pool_reset_on_return=None,
        pool_size=config["DB_POOL_SIZE"],
        max_overflow=config["DB_POOL_SIZE"],
        pool_timeout=10,
        # Below MySQL's wait_timeout (28800 s on RDS), so the server never closes them first.
        pool_recycle=config["DB_POOL_RECYCLE"],
        connect_args={
            "charset": "utf8mb4",
            "connect_timeout": config["DB_CONNECT_TIMEOUT"],
            "read_timeout": config["DB_READ_TIMEOUT"],
            "write_timeout": config["DB_READ_TIMEOUT"],
            **tls_connect_args(config["DB_TLS"], config["DB_TLS_CA"]),
        },
    )


TLS_MODES = ("disabled", "preferred", "required", "verify-full")


def tls_connect_args(mode: str, ca_file: str | None) -> dict:
    """PyMySQL's TLS arguments for DB_TLS, built here only.

    PyMySQL is easy to get wrong (ssl_ca alone encrypts without verifying), so each mode is
    spelled out as an SSLContext that says exactly what is checked.
    """
    if mode == "disabled":
        return {"ssl_disabled": True}
    if mode == "preferred":
        return {}  # PyMySQL's default: TLS when the server offers it, certificate not checked
    if mode == "required":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # encrypted, but anyone's certificate is accepted
        return {"ssl": context}
    if mode == "verify-full":
        if not ca_file:
            raise ConfigError("DB_TLS=verify-full needs DB_TLS_CA, the CA bundle to verify with")
        try:
            context = ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"DB_TLS_CA={ca_file} is not a readable CA bundle: {exc}") from None
        return {"ssl": context}  # CERT_REQUIRED and check_hostname are the defaults
    raise ConfigError(f"DB_TLS={mode!r} is not one of: {', '.join(TLS_MODES)}")


def check_config(config: dict) -> None:
    """Refuse settings that cannot work, saying what to set."""
    if config.get("DB_IAM_AUTH") and config.get("DB_TLS") != "verify-full":
        raise ConfigError(
            "DB_IAM_AUTH=1 sends a token as the password: it needs DB_TLS=verify-full"
        )
    if config["APP_ENV"] != "production":
        return
    key = config.get("SECRET_KEY")
    if not key or key == DEFAULT_SECRET_KEY:
        raise ConfigError(
            "SECRET_KEY is missing or left at its development default; production needs a "
            'random one, e.g. python -c "import secrets; print(secrets.token_hex(32))"'
        )
