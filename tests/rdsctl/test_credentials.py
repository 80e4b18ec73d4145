"""app/credentials.py against moto's Secrets Manager and the RDS stand-in (here, beside the
operator tools' suite, for both): a rotated password is read again and waited for."""

import json
import secrets
import subprocess
import sys
import threading
import time

import pymysql
import pytest

from app import aws
from app.config import tls_connect_args
from app.credentials import IAMToken, SecretPassword, connect_with
from app.settings import Settings
from harness.stack import ROOT, free_port
from tests.support.standin import (
    root_target,
)


@pytest.fixture
def rotor(standin, certs, aws_module):
    """A user on the stand-in and its secret: (secret ARN, set_server_password)."""
    name = "rotor" + secrets.token_hex(3)
    root = root_target(standin, certs)

    def set_server_password(password: str) -> None:
        with root.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE USER IF NOT EXISTS {name}@'%%' IDENTIFIED BY %s", (password,))
            cursor.execute(f"ALTER USER {name}@'%%' IDENTIFIED BY %s", (password,))

    set_server_password("first")
    secret = json.dumps({"username": name, "password": "first"})
    arn = aws_module.client("secretsmanager").create_secret(Name=name, SecretString=secret)["ARN"]
    return name, arn, set_server_password


def connect_as(name, standin, certs, provider):
    params = dict(
        host="localhost",
        port=standin,
        user=name,
        **tls_connect_args("verify-full", str(certs / "standin-ca.pem")),
    )
    return connect_with(provider, pymysql.connect)(**params)


def test_a_refused_password_is_read_again(rotor, standin, certs, aws_module):
    name, arn, set_server_password = rotor
    provider = SecretPassword(arn, "eu-west-1")
    assert provider.login().password == "first"  # what a process read before the rotation
    aws_module.client("secretsmanager").put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": name, "password": "second"})
    )
    set_server_password("second")
    with connect_as(name, standin, certs, provider) as connection, connection.cursor() as c:
        c.execute("SELECT CURRENT_USER()")
        assert c.fetchone()[0] == f"{name}@%"
    assert provider.login().password == "second"


def test_during_a_rotation_the_pending_version_is_tried(rotor, standin, certs, aws_module):
    """Between setSecret and finishSecret the server has the new password, AWSCURRENT the old."""
    name, arn, set_server_password = rotor
    provider = SecretPassword(arn, "eu-west-1")
    aws_module.client("secretsmanager").put_secret_value(
        SecretId=arn,
        SecretString=json.dumps({"username": name, "password": "pending"}),
        VersionStages=["AWSPENDING"],
    )
    set_server_password("pending")
    with connect_as(name, standin, certs, provider):
        pass
    assert provider.login().password == "pending"


def test_a_secret_updated_before_the_server_is_waited_for(
    rotor, standin, certs, aws_module, caplog
):
    name, arn, set_server_password = rotor
    provider = SecretPassword(arn, "eu-west-1")
    aws_module.client("secretsmanager").put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": name, "password": "later"})
    )
    assert provider.login().password == "later"  # read now: the timer starts after the slow part
    threading.Timer(1.5, set_server_password, args=("later",)).start()
    started = time.monotonic()
    with connect_as(name, standin, certs, provider):
        pass
    assert time.monotonic() - started >= 1.0
    assert "reading it again" in caplog.text  # refused first, then waited for


def test_a_wrong_password_gives_up_when_the_window_closes(rotor, standin, certs, aws_module):
    name, arn, set_server_password = rotor
    set_server_password("nobody-has-this")
    provider = SecretPassword(arn, "eu-west-1")
    provider.retry_window = 1.0
    started = time.monotonic()
    with pytest.raises(pymysql.err.OperationalError) as refused:
        connect_as(name, standin, certs, provider)
    assert refused.value.args[0] == 1045
    assert 1.0 <= time.monotonic() - started < 10  # its last try at the window's end


def test_the_secret_is_read_once_not_per_connection(rotor, standin, certs, aws_module, monkeypatch):
    name, arn, _ = rotor
    provider = SecretPassword(arn, "eu-west-1")
    reads = []
    read_secret = aws.read_secret
    monkeypatch.setattr(aws, "read_secret", lambda *a, **k: reads.append(a) or read_secret(*a, **k))
    for _ in range(3):
        connect_as(name, standin, certs, provider).close()
    assert len(reads) == 1
    provider.max_age = 0  # past its age: read again
    time.sleep(0.01)
    connect_as(name, standin, certs, provider).close()
    assert len(reads) == 2


def test_iam_token_is_made_for_each_connection(aws_env, monkeypatch):
    token = IAMToken("db.abc.eu-west-1.rds.amazonaws.com", 3306, "app_iam", None).login().password
    assert token.startswith("db.abc.eu-west-1.rds.amazonaws.com:3306/?Action=connect")
    assert "DBUser=app_iam" in token
    assert "X-Amz-Expires=900" in token

    calls = []
    monkeypatch.setattr(aws, "iam_token", lambda *args, **kw: calls.append(args) or "token")
    opened = []
    connect = connect_with(
        IAMToken("h", 3306, "u", "eu-west-1"), lambda **p: opened.append(p["password"])
    )
    connect(host="h")
    connect(host="h")
    assert opened == ["token", "token"]
    assert len(calls) == 2


def test_the_alternating_users_rotation_switches_the_user(rotor, standin, certs, aws_module):
    """Secrets Manager's alternating-users rotation moves the secret to a clone of the user."""
    name, arn, set_server_password = rotor
    root = root_target(standin, certs)
    with root.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE USER IF NOT EXISTS {name}_clone@'%' IDENTIFIED BY 'clone-pw'")
    provider = SecretPassword(arn, "eu-west-1")
    assert provider.login().user == name
    aws_module.client("secretsmanager").put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": f"{name}_clone", "password": "clone-pw"})
    )
    set_server_password("the-old-one-is-retired")
    with connect_as(name, standin, certs, provider) as connection, connection.cursor() as c:
        c.execute("SELECT CURRENT_USER()")
        assert c.fetchone()[0] == f"{name}_clone@%"


def test_aws_out_of_reach_keeps_a_password_that_still_works(
    rotor, standin, certs, monkeypatch, caplog
):
    name, arn, _ = rotor
    provider = SecretPassword(arn, "eu-west-1", max_age=0)
    connect_as(name, standin, certs, provider).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # AWS is gone
    provider._client = None  # the next read makes a client, as after a failed read
    time.sleep(0.01)
    with connect_as(name, standin, certs, provider) as connection, connection.cursor() as c:
        c.execute("SELECT 1")  # the cached password still works: no 503 for an AWS outage
    assert "cannot read the secret again" in caplog.text  # AWS was asked, and did not answer


def test_a_refused_secret_answers_503_with_no_secret_in_the_body_or_logs(
    rotor, standin, certs, monkeypatch, caplog
):
    from app import create_app

    name, arn, set_server_password = rotor
    set_server_password("not-what-the-secret-says")
    monkeypatch.setattr(SecretPassword, "retry_window", 0.5)
    settings = Settings(
        testing=True,
        db_host="localhost",
        db_port=standin,
        db_name="app",
        db_user=name,
        db_password_secret_arn=arn,
        aws_region="eu-west-1",
        db_tls="verify-full",
        db_tls_ca=str(certs / "standin-ca.pem"),
    )
    response = create_app(settings).test_client().get("/api/items")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"
    for text in (response.get_data(as_text=True), caplog.text):
        assert "first" not in text and "not-what-the-secret-says" not in text


def test_debug_logging_keeps_botocore_quiet(rotor):
    """At LOG_LEVEL=DEBUG botocore would print the secret's value with the response."""
    name, arn, _ = rotor
    code = (
        "from app.logs import configure_logging; from app.credentials import SecretPassword;"
        f"configure_logging('DEBUG'); SecretPassword({arn!r}, 'eu-west-1').login()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "first" not in result.stdout + result.stderr
