"""app/settings.py: one typed settings object, and a bad value named in one line wherever it
is read (make run, the doctor, the operator tools)."""

import os
import subprocess
import sys

import pytest
from dotenv import dotenv_values

from app import create_app
from app.settings import DEFAULT_SECRET_KEY, ConfigError, Settings
from harness.stack import ROOT


def test_defaults_are_the_ones_env_example_documents():
    documented = {k: v for k, v in dotenv_values(ROOT / ".env.example").items() if v}
    assert Settings.from_env(documented) == Settings()


def test_an_empty_environment_gives_the_defaults():
    assert Settings.from_env({}) == Settings()


def test_values_are_typed():
    settings = Settings.from_env(
        {"DB_POOL_SIZE": "7", "DB_PING_AFTER": "0.5", "DB_IAM_AUTH": "0", "GUNICORN_PRELOAD": "0"}
    )
    assert settings.db_pool_size == 7
    assert settings.db_ping_after == 0.5
    assert settings.db_iam_auth is False
    assert settings.gunicorn_preload is False
    assert settings.gunicorn_workers is None


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("DB_POOL_SIZE", "five", "whole number from 1 to 100"),
        ("DB_PORT", "70000", "whole number from 1 to 65535"),
        ("DB_PING_AFTER", "soon", "a number"),
        ("DB_TLS", "sometimes", "disabled, preferred, required, verify-full"),
        ("DB_IAM_AUTH", "maybe", "1 or 0"),
        ("APP_ENV", "prod", "development, production"),
        ("LOG_LEVEL", "loud", "INFO"),
        ("GUNICORN_WORKERS", "-1", "whole number"),
        ("MIGRATE_MODE", "later", "apply, reviewed"),
        ("DATABASE_URL", "nonsense", "mysql+pymysql://user:password@host:3306/name"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(name, value, says):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({name: value})
    message = str(raised.value)
    assert message.startswith(name)
    assert says in message
    assert "\n" not in message


def test_unreadable_password_file_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="DB_PASSWORD_FILE"):
        Settings.from_env({"DB_HOST": "db", "DB_PASSWORD_FILE": str(tmp_path / "missing")})


def test_password_from_a_file_is_never_shown(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("from-file-secret\n")
    settings = Settings.from_env({"DB_HOST": "db", "DB_PASSWORD_FILE": str(secret)})
    assert settings.db_password == "from-file-secret"
    assert "from-file-secret" not in repr(settings)


def test_verify_full_needs_a_ca_bundle_that_exists(tmp_path):
    with pytest.raises(ConfigError, match="DB_TLS_CA"):
        Settings.from_env({"DB_TLS": "verify-full"})
    with pytest.raises(ConfigError, match="no such file"):
        Settings.from_env({"DB_TLS": "verify-full", "DB_TLS_CA": str(tmp_path / "none.pem")})


def test_iam_auth_needs_verified_tls():
    with pytest.raises(ConfigError, match="DB_TLS=verify-full"):
        Settings.from_env({"DB_IAM_AUTH": "1"})


@pytest.mark.parametrize("key", [None, DEFAULT_SECRET_KEY, ""])
def test_production_refuses_a_missing_or_default_secret_key(key):
    env = {"APP_ENV": "production", **({"SECRET_KEY": key} if key is not None else {})}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env(env)


def test_the_factory_reads_the_environment_once(monkeypatch):
    monkeypatch.setattr("dotenv.load_dotenv", lambda **kwargs: None)  # a developer's .env
    monkeypatch.setenv("DB_POOL_SIZE", "five")
    with pytest.raises(ConfigError, match="DB_POOL_SIZE"):
        create_app()


# --- where people meet a bad setting: make run, make doctor, the operator tools -------------


def run(*command, **env):
    """A command in the repository with the environment less its database settings, plus
    `env`. No .env is read: the fixture below skips these tests where the repository has one."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE", "APP_"))}
    return subprocess.run(
        command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(autouse=True)
def no_env_file():
    if (ROOT / ".env").exists():
        pytest.skip("a .env in the repository would be read by these commands")


@pytest.mark.parametrize(
    "name, value, says",
    [("DB_POOL_SIZE", "five", "DB_POOL_SIZE='five': must be a whole number"),
     ("DATABASE_URL", "nonsense", "DATABASE_URL is not a database URL")],
)  # fmt: skip
def test_make_run_with_a_bad_value_says_so_in_one_line(name, value, says):
    result = run("make", "--no-print-directory", "run", **{name: value})
    assert result.returncode != 0
    assert f"settings: {says}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_make_doctor_reports_a_broken_setting_as_a_failed_check():
    result = run(
        "make", "--no-print-directory", "doctor", DB_HOST="127.0.0.1", DB_TLS="verify-full"
    )
    assert result.returncode != 0
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert any(line.startswith("FAIL  settings") and "DB_TLS_CA" in line for line in lines), lines
    assert "Traceback" not in result.stdout + result.stderr


def test_operator_tools_run_when_the_app_settings_are_broken():
    result = run(sys.executable, "-m", "rdsctl", "rds-create", "--help", APP_ENV="production")
    assert result.returncode == 0, result.stderr
    assert "Create a development RDS" in result.stdout


def test_the_flask_command_names_a_bad_setting_in_one_line():
    flask = str(ROOT / ".venv/bin/flask") if (ROOT / ".venv/bin/flask").exists() else "flask"
    result = run(flask, "items", "list", DATABASE_URL="nonsense")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("Error: DATABASE_URL is not a database URL")
    assert lines[1].strip().startswith("fix:") and len(lines) == 2
