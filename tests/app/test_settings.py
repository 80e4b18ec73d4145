"""app/settings.py and app/env.py: one typed settings object, each default written once and
documented in .env.example, and a bad value named in one line wherever it is read (python -m
app.settings, make run, every flask command), never a traceback."""

import os
import re
import subprocess
import sys

import pytest
from dotenv import dotenv_values

from app import create_app
from app.env import ConfigError, documented_names
from app.settings import DEFAULT_SECRET_KEY, Settings
from harness.stack import ROOT


def test_every_setting_is_documented_with_its_default():
    documented = {k: v for k, v in dotenv_values(ROOT / ".env.example").items() if v}
    assert Settings.from_env(documented) == Settings()
    read = {name.upper() for name, field in Settings.model_fields.items() if not field.exclude}
    assert read - documented_names() == set()


def test_an_empty_environment_gives_the_defaults():
    assert Settings.from_env({}) == Settings()


def test_values_are_typed():
    settings = Settings.from_env(
        {"DB_POOL_SIZE": " 7", "DB_PING_AFTER": "0.5", "DB_IAM_AUTH": "0", "GUNICORN_PRELOAD": "0"}
    )
    assert settings.db_pool_size == 7
    assert settings.db_ping_after == 0.5
    assert settings.db_iam_auth is False
    assert settings.gunicorn_preload is False
    assert settings.gunicorn_workers is None


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("DB_POOL_SIZE", "five", "a whole number from 1 to 100"),
        ("DB_PORT", "70000", "a whole number from 1 to 65535"),
        ("DB_PING_AFTER", "soon", "a number, at least 0"),
        ("DB_PING_AFTER", "inf", "a number, at least 0"),
        ("DB_TLS", "sometimes", "one of disabled, preferred, required, verify-full"),
        ("DB_IAM_AUTH", "maybe", "1 or 0"),
        ("APP_ENV", "prod", "one of development, production"),
        ("LOG_LEVEL", "loud", "one of DEBUG, INFO"),
        ("GUNICORN_WORKERS", "-1", "a whole number from 1 to 64"),
        ("DB_READ_TIMEOUT", "0", "a whole number, at least 1"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(name, value, says):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({name: value})
    message = str(raised.value)
    assert message.startswith(f"{name}={value!r}: must be {says}")
    assert "\n" not in message


@pytest.mark.parametrize(
    "url, says",
    [
        ("nonsense", "DATABASE_URL is not a database URL: write it as mysql+pymysql://"),
        (
            "mysql://app:pw@127.0.0.1/app",
            "asks for the mysqldb driver, which this project does not ship: write mysql+pymysql://",
        ),
        ("mysql+mysqlconnector://a@h/d", "asks for the mysqlconnector driver"),
        (
            "postgresql://app:pw@127.0.0.1/app",
            "names postgresql, which this project does not run on: it runs on MySQL and SQLite",
        ),
    ],
)
def test_a_database_url_this_project_cannot_use_says_which_to_write(url, says):
    with pytest.raises(ConfigError, match="^DATABASE_URL") as raised:
        Settings.from_env({"DATABASE_URL": url})
    assert says in str(raised.value)
    assert "pw" not in str(raised.value)


def test_an_unreadable_password_file_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="DB_PASSWORD_FILE"):
        Settings.from_env({"DB_HOST": "db", "DB_PASSWORD_FILE": str(tmp_path / "missing")})


def test_a_password_is_never_shown(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("from-file-secret\n")
    settings = Settings.from_env({"DB_HOST": "db", "DB_PASSWORD_FILE": str(secret)})
    assert settings.db_password == "from-file-secret"
    assert "from-file-secret" not in repr(settings)
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"SECRET_KEY": "x" * 64, "DB_PASSWORD": "p", "DB_PORT": "p"})
    assert "x" * 64 not in str(raised.value)


def test_verify_full_needs_a_ca_bundle_that_exists(tmp_path):
    with pytest.raises(ConfigError, match="DB_TLS_CA"):
        Settings.from_env({"DB_TLS": "verify-full"})
    with pytest.raises(ConfigError, match="no such file"):
        Settings.from_env({"DB_TLS": "verify-full", "DB_TLS_CA": str(tmp_path / "none.pem")})


def test_iam_auth_needs_verified_tls():
    with pytest.raises(ConfigError, match="DB_IAM_AUTH=1 sends a token"):
        Settings.from_env({"DB_IAM_AUTH": "1"})


@pytest.mark.parametrize("key", [None, DEFAULT_SECRET_KEY, ""])
def test_production_refuses_a_missing_or_default_secret_key(key):
    env = {"APP_ENV": "production", **({"SECRET_KEY": key} if key is not None else {})}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env(env)


def test_migrations_run_as_the_migrator_without_a_read_timeout():
    settings = Settings.from_env(
        {
            "DB_HOST": "h",
            "DB_USER": "app",
            "DB_PASSWORD": "app-pw",
            "MIGRATE_DB_USER": "migrator",
            "MIGRATE_DB_PASSWORD_SECRET_ARN": "arn:m",
        }
    )
    migrations = settings.for_migrations()
    assert (migrations.db_user, migrations.db_password) == ("migrator", None)
    assert migrations.db_password_secret_arn == "arn:m"
    assert migrations.db_read_timeout is None and settings.db_read_timeout == 30


def test_create_app_without_settings_reads_the_environment(monkeypatch):
    monkeypatch.setenv("ENV_FILE", os.devnull)  # a developer's .env stays out of it
    monkeypatch.setenv("DB_POOL_SIZE", "five")
    with pytest.raises(ConfigError, match="DB_POOL_SIZE"):
        create_app()


# --- where people meet a bad setting: the command line, make run, a typo in .env ----------


def run(*command, env_file=os.devnull, **env):
    """A command in the repository with the environment less its settings, plus `env`, and
    ENV_FILE instead of the repository's .env (a developer's stays out of it)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE", "APP_"))}
    return subprocess.run(
        command,
        cwd=ROOT,
        env={**base, "ENV_FILE": str(env_file), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def two_lines(output: str) -> list[str]:
    lines = output.strip().splitlines()
    assert len(lines) == 2, output
    assert "Traceback" not in output
    return lines


def test_flask_with_a_url_of_a_driver_not_shipped_says_so_in_two_lines():
    flask = ROOT / ".venv/bin/flask"
    result = run(str(flask), "items", "list", DATABASE_URL="mysql://app:pw@127.0.0.1/app")
    assert result.returncode != 0
    cause, fix = two_lines(result.stderr)
    assert cause.startswith("Error: DATABASE_URL asks for the mysqldb driver")
    assert "mysql+pymysql://" in cause and fix.strip().startswith("fix:")


def test_make_run_with_a_url_of_a_driver_not_shipped_says_so_in_two_lines():
    result = run("make", "--no-print-directory", "run", DATABASE_URL="postgresql://a:pw@h/d")
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)]
    cause, fix = two_lines("\n".join(ours))
    assert cause.startswith("settings: DATABASE_URL names postgresql")
    assert fix.strip().startswith("fix:")


def test_a_near_miss_in_env_names_the_setting_it_meant(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DATABSE_URL=mysql+pymysql://app:pw@127.0.0.1/app\nMY_OWN_THING=1\n")
    result = run(sys.executable, "-m", "app.settings", env_file=env_file)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        "settings: .env sets DATABSE_URL, which nothing reads: did you mean DATABASE_URL?"
    ]
    assert "database: sqlite:///" in result.stdout  # what the typo left in force


def test_python_m_app_settings_answers_help_and_a_closed_pipe():
    helped = run(sys.executable, "-m", "app.settings", "--help")
    assert helped.returncode == 0 and "--quiet" in helped.stdout
    piped = subprocess.run(
        f"{sys.executable} -m app.settings | head -1",
        shell=True,
        cwd=ROOT,
        env={**os.environ, "ENV_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert piped.stdout.startswith("database: ")
    assert "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr
