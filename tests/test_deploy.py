"""`rdsctl doctor` and `make deploy-env` against an RDS stand-in: a MySQL container that requires
TLS, with a certificate from a test CA that names "localhost" (and not 127.0.0.1).

The AWS parts (describe_db_instances, Secrets Manager, IAM tokens) run against moto's server
mode on 127.0.0.1.
"""

import os
import secrets
import shutil
import stat
import subprocess
from pathlib import Path

import pymysql
import pytest
from click.testing import CliRunner
from dotenv import dotenv_values

from app import aws
from app.config import tls_connect_args
from app.credentials import IAMToken, SecretPassword, connect_with
from harness.stack import ROOT, free_port
from rdsctl import doctor
from rdsctl.cli import rdsctl
from rdsctl.target import Target
from tests.databases import require_docker
from tests.tlsfiles import make_ca, make_server_cert

pytestmark = pytest.mark.deploy

ADMIN_PASSWORD = "admin-standin-pw"  # noqa: S105 - a throwaway test container's
RDS_MASTER_GRANTS = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, "
    "SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, "
    "REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, "
    "EVENT, TRIGGER"
)


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("certs")
    ca_key, ca_cert = make_ca(directory, "standin-ca")
    make_ca(directory, "other-ca")
    make_server_cert(directory, ca_key, ca_cert, ["localhost"])
    for path in [directory, *directory.iterdir()]:  # readable by the container's mysql user
        path.chmod(0o755 if path.is_dir() else 0o644)
    return directory


@pytest.fixture(scope="module")
def standin(certs, tmp_path_factory):
    """The RDS stand-in, with an `app` database, an RDS-like master user and a limited user."""
    image = os.environ.get("RDS_STANDIN_IMAGE") or os.environ.get("MYSQL_IMAGE", "mysql:8.4")
    require_docker(image)
    from testcontainers.community.mysql import MySqlContainer

    conf = tmp_path_factory.mktemp("conf")
    shutil.copy(ROOT / "docker/mysql/conf.d/rds.cnf", conf / "rds.cnf")
    (conf / "standin.cnf").write_text(
        "[mysqld]\nrequire-secure-transport = ON\n"
        "ssl-ca = /etc/mysql/certs/standin-ca.pem\n"
        "ssl-cert = /etc/mysql/certs/server-cert.pem\n"
        "ssl-key = /etc/mysql/certs/server-key.pem\n"
    )
    for path in [conf, *conf.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    container = MySqlContainer(image, dialect="pymysql", username="root", password="standin-root")
    container.with_tmpfs_mount("/var/lib/mysql")
    container.with_volume_mapping(str(conf), "/etc/mysql/conf.d")
    container.with_volume_mapping(str(certs), "/etc/mysql/certs")
    container.start()
    port = int(container.get_exposed_port(3306))
    root = Target("localhost", port, "mysql", "root", "standin-root", "verify-full",
                  str(certs / "standin-ca.pem"))  # fmt: skip
    with root.connect() as connection, connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE app")
        cursor.execute(f"CREATE USER admin@'%' IDENTIFIED BY '{ADMIN_PASSWORD}'")
        cursor.execute(f"GRANT {RDS_MASTER_GRANTS} ON *.* TO admin@'%' WITH GRANT OPTION")
        cursor.execute("CREATE USER limited@'%' IDENTIFIED BY 'limited-pw'")
        cursor.execute("CREATE USER reader@'%' IDENTIFIED BY 'reader-pw'")
        cursor.execute("GRANT SELECT ON app.* TO reader@'%'")
    yield port
    container.stop()


def target(standin, certs, **changes) -> Target:
    values = dict(
        host="localhost",
        port=standin,
        database="app",
        user="admin",
        password=ADMIN_PASSWORD,
        tls="verify-full",
        ca=str(certs / "standin-ca.pem"),
        connect_timeout=3,
    )
    values.update(changes)
    return Target(**values)


def check(t: Target, **options) -> tuple[bool, str]:
    lines = []
    passed = doctor.run(t, lines.append, **options)
    return passed, "\n".join(lines)


def failure_lines(output: str) -> tuple[str, str]:
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("FAIL"))
    return lines[at].strip(), lines[at + 1].strip()


# --- each failure, produced for real -----------------------------------------------------


def test_name_that_does_not_resolve(standin, certs):
    passed, out = check(target(standin, certs, host="no-such-endpoint.invalid"))
    assert not passed
    cause, fix = failure_lines(out)
    assert cause.startswith("FAIL  name resolution")
    assert "'no-such-endpoint.invalid' does not resolve" in cause
    assert "Endpoint" in fix


def test_nothing_listening(standin, certs):
    passed, out = check(target(standin, certs, port=free_port()))
    cause, fix = failure_lines(out)
    assert not passed
    assert cause.startswith("FAIL  TCP connect")
    assert "Connection refused" in cause
    assert "security group" in fix and "Publicly accessible" in fix


def test_wrong_password(standin, certs):
    passed, out = check(target(standin, certs, password="not-it"))
    cause, fix = failure_lines(out)
    assert not passed
    assert "ok    TLS" in out  # the handshake came before the password was refused
    assert cause.startswith("FAIL  login") and "(1045)" in cause
    assert "master user name" in fix and "not your AWS login" in fix
    assert "not-it" not in out


def test_missing_database(standin, certs):
    passed, out = check(target(standin, certs, database="nope"))
    cause, fix = failure_lines(out)
    assert not passed
    assert cause.startswith("FAIL  database") and "(1049)" in cause
    assert "Initial database name" in cause
    assert "CREATE DATABASE `nope` CHARACTER SET utf8mb4" in fix


def test_missing_database_for_a_user_without_global_privileges(standin, certs):
    passed, out = check(
        target(standin, certs, user="limited", password="limited-pw", database="nope")
    )
    cause, fix = failure_lines(out)
    assert cause.startswith("FAIL  database") and "(1044)" in cause
    assert "CREATE DATABASE `nope`" in fix and "GRANT ALL ON `nope`.*" in fix


def test_wrong_ca_bundle(standin, certs):
    passed, out = check(target(standin, certs, ca=str(certs / "other-ca.pem")))
    cause, fix = failure_lines(out)
    assert cause.startswith("FAIL  TLS")
    assert "not signed by a CA in" in cause
    assert "truststore.pki.rds.amazonaws.com" in fix


def test_host_name_mismatch(standin, certs):
    passed, out = check(target(standin, certs, host="127.0.0.1"))
    cause, fix = failure_lines(out)
    assert cause.startswith("FAIL  TLS")
    assert "does not name '127.0.0.1'" in cause
    assert "endpoint name" in fix


def test_plain_text_is_refused_by_the_server(standin, certs):
    passed, out = check(target(standin, certs, tls="disabled"))
    cause, fix = failure_lines(out)
    assert cause.startswith("FAIL  TLS required") and "(3159)" in cause
    assert "global-bundle.pem" in fix


def test_plain_text_to_an_rds_endpoint_is_refused_before_connecting():
    t = Target("db.abc123.eu-west-1.rds.amazonaws.com", 3306, "app", "admin", "x", "required", None)
    passed, out = check(t)
    cause, fix = failure_lines(out)
    assert cause.startswith("FAIL  TLS") and "verified TLS only" in cause
    assert "global-bundle.pem" in fix
    assert "name resolution" not in out


def test_missing_privileges(standin, certs):
    passed, out = check(target(standin, certs, user="reader", password="reader-pw"))
    cause, fix = failure_lines(out)
    assert cause.startswith("FAIL  privileges")
    assert "lacks" in cause and "CREATE" in cause
    assert fix.startswith("fix") and "GRANT" in fix


def test_pending_migrations(standin, certs):
    passed, out = check(target(standin, certs))
    cause, fix = failure_lines(out)
    assert cause.startswith("FAIL  migrations")
    assert "pending migrations: 57914ccb74d9, 3b1f6c2d9a10" in cause
    assert "make migrate" in fix


def test_proxy_endpoint_warns():
    t = Target("x.proxy-abc.eu-west-1.rds.amazonaws.com", 3306, "app", "a", "b", "required", None)
    _, out = check(t)
    assert "RDS Proxy endpoint" in out


# --- the success path, end to end ----------------------------------------------------------


@pytest.fixture(scope="module")
def env_file(tmp_path_factory):
    return tmp_path_factory.mktemp("deploy") / ".env.rds"


class Tool:
    """rdsctl run in this process, as `python -m rdsctl` would run it."""

    def invoke(self, args, env=None):
        return CliRunner().invoke(rdsctl, args, env=env)


@pytest.fixture
def cli():
    return Tool()


def deploy_env(cli, standin, certs, env_file, *extra, password=ADMIN_PASSWORD):
    args = ["deploy-env", "--endpoint", "localhost", "--port", str(standin), "--user", "admin",
            "--database", "app", "--ca", str(certs / "standin-ca.pem"), "--output", str(env_file),
            *extra]  # fmt: skip
    return cli.invoke(args=args, env={"RDS_PASSWORD": password, "MYSQL_PORT": str(free_port())})


def test_deploy_env_writes_nothing_when_a_check_fails(cli, standin, certs, tmp_path):
    env_file = tmp_path / ".env.rds"
    result = deploy_env(cli, standin, certs, env_file, password="wrong")
    assert result.exit_code == 1
    assert "FAIL  login" in result.output
    assert "was not written" in result.output
    assert not env_file.exists()
    assert "wrong" not in result.output.replace("wrong user name", "")


def test_deploy_env_refuses_plain_text(cli, standin, certs, tmp_path):
    env_file = tmp_path / ".env.rds"
    result = deploy_env(cli, standin, certs, env_file, "--tls", "disabled")
    assert result.exit_code == 1
    assert "verified TLS only" in result.output
    assert "truststore.pki.rds.amazonaws.com" in result.output
    assert not env_file.exists()


@pytest.fixture(scope="module")
def deployed(standin, certs, env_file):
    """.env.rds as make deploy-env writes it for the stand-in, and what it printed."""
    result = deploy_env(Tool(), standin, certs, env_file)
    yield env_file, result
    (ROOT / ".certs/standin-ca.pem").unlink(missing_ok=True)


def test_deploy_env_writes_a_private_env_file(deployed):
    env_file, result = deployed
    assert result.exit_code == 0, result.output
    assert "to apply: 57914ccb74d9, 3b1f6c2d9a10" in result.output
    assert ADMIN_PASSWORD not in result.output
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dotenv_values(env_file)
    assert values["DB_HOST"] == "localhost"
    assert values["DB_PASSWORD"] == ADMIN_PASSWORD
    assert values["DB_TLS"] == "verify-full"
    assert values["DB_TLS_CA"] == ".certs/standin-ca.pem"
    assert values["APP_ENV"] == "production" and len(values["SECRET_KEY"]) == 64
    assert values["MIGRATE_MODE"] == "reviewed"
    assert (ROOT / ".certs/standin-ca.pem").exists()


def compose_rds(env_file, *args, env=None):
    """The stack with the RDS override; this test's override puts migrate on the host network
    so that "localhost", the name the stand-in's certificate carries, reaches it."""
    files = ["docker-compose.yml", "docker/compose.rds.yml", "tests/compose.standin.yml"]
    command = ["docker", "compose", "--env-file", ".env.example"]
    for file in files:
        command += ["-f", file]
    full_env = {**os.environ, "RDS_ENV_FILE": str(env_file), **(env or {})}
    full_env.setdefault("COMPOSE_PROJECT_NAME", f"rds-{secrets.token_hex(3)}")
    full_env["APP_IMAGE"] = "flask-rds-starter-app:rds-e2e"
    full_env["MIGRATE_IMAGE"] = "flask-rds-starter-migrate:rds-e2e"
    return subprocess.run([*command, *args], cwd=ROOT, env=full_env, capture_output=True, text=True,
                          timeout=900)  # fmt: skip


def test_migrate_through_the_override_shows_sql_then_applies_once_confirmed(
    standin, certs, deployed
):
    env_file, _ = deployed
    project = {"COMPOSE_PROJECT_NAME": f"rds-{secrets.token_hex(3)}"}
    try:
        unconfirmed = compose_rds(env_file, "run", "--rm", "--build", "migrate", env=project)
        output = unconfirmed.stdout + unconfirmed.stderr
        assert unconfirmed.returncode == 3, output
        assert "CREATE TABLE items" in output
        assert "not applied" in output and "CONFIRM=yes" in output
        assert ADMIN_PASSWORD not in output

        confirmed = compose_rds(
            env_file, "run", "--rm", "migrate", env={**project, "CONFIRM": "yes"}
        )
        output = confirmed.stdout + confirmed.stderr
        assert confirmed.returncode == 0, output
        assert "Running upgrade 57914ccb74d9 -> 3b1f6c2d9a10" in output
        assert ADMIN_PASSWORD not in output
    finally:
        compose_rds(env_file, "down", "--remove-orphans", env=project)
    passed, out = check(target(standin, certs))
    assert passed, out
    assert "at head (3b1f6c2d9a10)" in out
    assert "require_secure_transport" in out


def test_doctor_command_reads_the_env_file(cli, deployed):
    env_file, _ = deployed
    result = cli.invoke(args=["doctor", "--env-file", str(env_file), "--allow-pending"],
                        env={"MYSQL_PORT": "1"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ok    migrations" in result.output
    assert "ok    privileges       migrate role" in result.output
    assert "local db not reachable" in result.output


def test_deploy_env_local_undoes_the_switch(cli, tmp_path):
    env_file = tmp_path / ".env.rds"
    env_file.write_text("DB_HOST='db.example'\n")
    result = cli.invoke(args=["deploy-env", "--local", "--output", str(env_file)])
    assert result.exit_code == 0
    assert not env_file.exists()
    assert Path(f"{env_file}.off").exists()


# --- AWS: moto's server on 127.0.0.1 ------------------------------------------------------


def make_instance(boto3, name: str, **extra) -> dict:
    rds = boto3.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier=name, Engine="mysql", EngineVersion="8.4.3",
        DBInstanceClass="db.t4g.micro", AllocatedStorage=20, MasterUsername="admin",
        MasterUserPassword="unused-" + secrets.token_hex(4), **extra,
    )  # fmt: skip
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def test_deploy_env_from_an_instance_id_and_its_secret(aws_env, cli, standin, certs, tmp_path):
    make_instance(aws_env, "secret-db", DBName="app")
    secret = f'{{"username": "admin", "password": "{ADMIN_PASSWORD}"}}'
    arn = aws_env.client("secretsmanager").create_secret(Name="rds!secret-db", SecretString=secret)[
        "ARN"
    ]
    out = tmp_path / ".env.rds"
    # --endpoint over the looked-up one: moto's endpoint does not exist; the stand-in does.
    result = cli.invoke(
        args=["deploy-env", "--instance", "secret-db", "--endpoint", "localhost", "--port",
              str(standin), "--secret-arn", arn, "--ca", str(certs / "standin-ca.pem"),
              "--output", str(out)],
        env={"MYSQL_PORT": "1"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    values = dotenv_values(out)
    assert values["DB_USER"] == "admin"  # the instance's master user, from describe_db_instances
    assert values["DB_NAME"] == "app"
    assert values["DB_PASSWORD"] == ADMIN_PASSWORD  # from the secret
    assert values["RDS_INSTANCE"] == "secret-db"
    assert f"Secrets Manager {arn}" in out.read_text()
    assert ADMIN_PASSWORD not in result.output


def test_instance_lookup_feeds_the_doctor(aws_env, cli, tmp_path, certs):
    info = make_instance(aws_env, "lookup-db", DBName="app")
    result = cli.invoke(
        args=["deploy-env", "--instance", "lookup-db", "--ca", str(certs / "standin-ca.pem"),
              "--output", str(tmp_path / "env")],
        env={"RDS_PASSWORD": "x"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert info["Endpoint"]["Address"] in result.output  # looked up, then failed to resolve
    assert "FAIL  name resolution" in result.output


def test_unknown_instance_is_one_line_of_cause_and_fix(aws_env, cli, tmp_path):
    result = cli.invoke(args=["deploy-env", "--instance", "ghost", "--output", str(tmp_path / "e")])
    assert result.exit_code == 1
    assert "describe RDS instance 'ghost': DBInstanceNotFound" in result.output
    assert "fix: check the identifier" in result.output
    assert "Traceback" not in result.output


def test_no_aws_credentials_is_explained(monkeypatch, cli, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never the real AWS
    result = cli.invoke(args=["deploy-env", "--instance", "x", "--output", str(tmp_path / "e")])
    assert result.exit_code == 1
    assert "no AWS credentials found" in result.output
    assert "aws configure" in result.output


def test_rotated_secret_is_read_again_after_1045(aws_env, standin, certs):
    client = aws_env.client("secretsmanager")
    before = '{"password": "before-rotation"}'
    arn = client.create_secret(Name="rotating", SecretString=before)["ARN"]
    provider = SecretPassword(arn, "eu-west-1")
    assert provider.password() == "before-rotation"  # what a process read before the rotation
    client.put_secret_value(SecretId=arn, SecretString=f'{{"password": "{ADMIN_PASSWORD}"}}')
    t = target(standin, certs)
    params = dict(host="localhost", port=standin, user="admin", database="app",
                  **tls_connect_args("verify-full", t.ca))  # fmt: skip
    connection = connect_with(provider, lambda **p: pymysql.connect(**p))(**params)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT CURRENT_USER()")
        assert cursor.fetchone()[0] == "admin@%"
    assert provider.password() == ADMIN_PASSWORD


def test_iam_token_is_made_for_each_connection(aws_env, monkeypatch):
    token = IAMToken("db.abc.eu-west-1.rds.amazonaws.com", 3306, "app_iam", None).password()
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


def test_region_from_endpoint():
    assert aws.region_of("db.abc123.eu-west-1.rds.amazonaws.com") == "eu-west-1"
    assert aws.region_of("localhost") is None
