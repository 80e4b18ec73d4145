"""`rdsctl doctor`, `make rds-users` and `make deploy-env` against the RDS stand-in
(tests/support/standin.py), and app/credentials.py's rotation-proof logins on it.

The AWS parts (describe_db_instances, Secrets Manager, security groups, IAM tokens) run against
moto's server mode.
"""

import json
import secrets
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pymysql
import pytest
from dotenv import dotenv_values

from app import aws
from app.config import tls_connect_args
from app.credentials import IAMToken, Login, SecretPassword, connect_with
from app.settings import Settings
from harness.stack import ROOT, free_port
from rdsctl import doctor
from rdsctl.target import Target
from rdsctl.users import user_statements
from tests.support.aws import Tool
from tests.support.standin import (
    ADMIN_PASSWORD,
    on_standin,
    passwords,
    root_target,
    target,
    user_secret,
)


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
    assert "make rds-users" in fix and "not your AWS login" in fix
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


def login(standin, certs, user: str, password: str):
    return target(standin, certs, user=user, password=password).connect(database="app")


def test_rds_users_creates_a_migrator_and_a_rows_only_app_user(users, standin, certs):
    app, migrator = users["app"], users["migrator"]
    assert app["username"] == "app" and migrator["username"] == "migrator"
    for secret in (app, migrator):  # the shape Secrets Manager's MySQL rotation functions read
        assert {"engine", "host", "port", "username", "password", "dbname", "masterarn"} <= set(
            secret
        )
    with login(standin, certs, "app", app["password"]) as connection, connection.cursor() as c:
        c.execute("SELECT 1")
        for ddl in ("CREATE TABLE probe (id INT)", "ALTER TABLE alembic_version ADD x INT"):
            with pytest.raises(pymysql.err.MySQLError) as refused:
                c.execute(ddl)
            assert refused.value.args[0] in (1142, 1146)  # denied (or no such table to alter)
    migrator_login = login(standin, certs, "migrator", migrator["password"])
    with migrator_login as connection, connection.cursor() as c:
        c.execute("CREATE TABLE probe (id INT)")
        c.execute("ALTER TABLE probe ADD COLUMN x INT")
        c.execute("DROP TABLE probe")
    for password in (ADMIN_PASSWORD, app["password"], migrator["password"]):
        assert password not in users["output"]


def test_rds_users_is_rerunnable_and_keeps_the_passwords(
    users, aws_module, standin, certs, master_secret
):
    again = Tool().invoke(
        ["rds-users", *on_standin(standin, certs), "--master-secret-arn", master_secret]
    )
    assert again.exit_code == 0, again.output
    assert user_secret(aws_module, "app") == users["app"]
    assert user_secret(aws_module, "migrator") == users["migrator"]
    with login(standin, certs, "app", users["app"]["password"]):
        pass


def test_rds_users_iam_variant_creates_the_app_user_with_the_rds_plugin():
    """The stand-in has no AWSAuthenticationPlugin (RDS's own): the statements are checked."""
    statements = user_statements("app", "app", None, "app")
    assert statements[0] == (
        "CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' "
        "REQUIRE SSL",
        ("app",),
    )
    assert statements[2] == ("GRANT SELECT, INSERT, UPDATE, DELETE ON `app`.* TO %s@'%%'", ("app",))


def test_deploy_env_names_secrets_and_users_never_a_password(deployed, users, master_secret):
    env_file, result = deployed
    assert result.exit_code == 0, result.output
    assert "to apply: 57914ccb74d9, 3b1f6c2d9a10" in result.output
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dotenv_values(env_file)
    assert values["DB_HOST"] == "localhost"
    assert values["DB_USER"] == "app"
    assert values["DB_PASSWORD_SECRET_ARN"] == users["app"]["ARN"]
    assert values["MIGRATE_DB_USER"] == "migrator"
    assert values["MIGRATE_DB_PASSWORD_SECRET_ARN"] == users["migrator"]["ARN"]
    assert values["AWS_REGION"] == "eu-west-1"
    assert "DB_PASSWORD" not in values
    assert values["DB_TLS"] == "verify-full"
    assert values["DB_TLS_CA"] == ".certs/standin-ca.pem"
    assert values["APP_ENV"] == "production" and len(values["SECRET_KEY"]) == 64
    assert values["MIGRATE_MODE"] == "reviewed"
    text = env_file.read_text()
    assert master_secret not in text and "admin" not in text  # the app never holds the master's
    for password in passwords(users):
        assert password not in text and password not in result.output


def test_deploy_env_refuses_the_master_users_managed_secret(
    cli, users, standin, certs, master_secret, tmp_path
):
    out = tmp_path / ".env.rds"
    result = cli.invoke(
        [
            "deploy-env",
            *on_standin(standin, certs),
            "--secret-arn",
            master_secret,
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 1
    assert "RDS's secret of the master user" in result.output and "make rds-users" in result.output
    assert not out.exists()


def test_deploy_env_refuses_a_user_that_may_change_the_schema(
    cli, aws_module, users, standin, certs, tmp_path
):
    """A copy of the master's login in a secret of one's own: the doctor sees its grants."""
    secret = json.dumps({"username": "admin", "password": ADMIN_PASSWORD})
    arn = aws_module.client("secretsmanager").create_secret(
        Name="my-admin-copy", SecretString=secret
    )["ARN"]
    out = tmp_path / ".env.rds"
    result = cli.invoke(
        ["deploy-env", *on_standin(standin, certs), "--secret-arn", arn, "--output", str(out)]
    )
    assert result.exit_code == 1
    assert "FAIL  privileges" in result.output and "more than rows" in result.output
    assert "make rds-users" in result.output
    assert not out.exists()


def test_deploy_env_never_writes_a_password(cli, standin, certs, tmp_path):
    out = tmp_path / ".env.rds"
    result = cli.invoke(
        ["deploy-env", *on_standin(standin, certs), "--output", str(out)],
        env={"RDS_PASSWORD": "typed-in"},
    )
    assert result.exit_code == 1
    assert "never writes a password" in result.output and "make rds-users" in result.output
    assert "typed-in" not in result.output
    assert not out.exists()


def test_deploy_env_without_users_says_how_to_make_them(cli, aws_module, standin, certs, tmp_path):
    out = tmp_path / ".env.rds"
    args = ["deploy-env", *on_standin(standin, certs), "--database", "other", "--output", str(out)]
    result = cli.invoke(args)
    assert result.exit_code == 1
    assert "flask-rds-starter/localhost/other/migrator does not exist" in result.output
    assert "make rds-users" in result.output
    assert not out.exists()


def test_deploy_env_refuses_plain_text(cli, standin, certs, tmp_path):
    env_file = tmp_path / ".env.rds"
    result = cli.invoke(
        [
            *["deploy-env", *on_standin(standin, certs)],
            "--tls",
            "disabled",
            "--output",
            str(env_file),
        ]
    )
    assert result.exit_code == 1
    assert "verified TLS only" in result.output
    assert "truststore.pki.rds.amazonaws.com" in result.output
    assert not env_file.exists()


def test_doctor_command_reads_the_env_file(cli, deployed):
    env_file, _ = deployed
    result = cli.invoke(["doctor", "--env-file", str(env_file), "--allow-pending"])
    assert result.exit_code == 0, result.output
    assert "login            as migrator" in result.output
    assert "ok    privileges       migrate role" in result.output
    assert "local db not reachable" in result.output
    app = cli.invoke(["doctor", "--env-file", str(env_file), "--role", "app", "--allow-pending"])
    assert app.exit_code == 0, app.output
    assert "login            as app" in app.output


def test_deploy_env_local_leaves_no_secret_on_disk(cli, tmp_path):
    env_file = tmp_path / ".env.rds"
    env_file.write_text(
        "DB_HOST='db.example'\nSECRET_KEY='s3cr3t-key'\nDB_USER='app'\n"
        "DB_PASSWORD='an-old-password'\n"
    )  # as deploy-env wrote it before
    result = cli.invoke(["deploy-env", "--local", "--output", str(env_file)])
    assert result.exit_code == 0
    assert not env_file.exists()
    off = Path(f"{env_file}.off")
    assert dotenv_values(off) == {"DB_HOST": "db.example", "DB_USER": "app"}
    assert "s3cr3t-key" not in off.read_text() and "an-old-password" not in off.read_text()
    assert stat.S_IMODE(off.stat().st_mode) == 0o600


# --- AWS: moto's server ------------------------------------------------------------------


def make_instance(boto3, name: str, **extra) -> dict:
    rds = boto3.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        Engine="mysql",
        EngineVersion="8.4.3",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="unused-" + secrets.token_hex(4),
        **extra,
    )
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def test_deploy_env_from_an_instance_id_and_the_users_secrets(
    aws_module, cli, users, standin, certs, tmp_path
):
    make_instance(aws_module, "secret-db", DBName="app")
    out = tmp_path / ".env.rds"
    # --endpoint over the looked-up one: moto's endpoint does not exist; the stand-in does.
    result = cli.invoke(
        [
            "deploy-env",
            "--instance",
            "secret-db",
            *on_standin(standin, certs),
            "--secret-arn",
            users["app"]["ARN"],
            "--migrate-secret-arn",
            users["migrator"]["ARN"],
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "ok    instance         secret-db available" in result.output
    values = dotenv_values(out)
    assert values["DB_USER"] == "app"  # from the secret, not the instance's master user
    assert values["RDS_INSTANCE"] == "secret-db"


def test_deploy_env_refuses_the_instance_master_user(
    aws_module, cli, master_secret, users, standin, certs, tmp_path
):
    make_instance(aws_module, "master-db", DBName="app")
    result = cli.invoke(
        [
            "deploy-env",
            "--instance",
            "master-db",
            *on_standin(standin, certs),
            "--user",
            "admin",
            "--secret-arn",
            users["app"]["ARN"],
            "--migrate-secret-arn",
            users["migrator"]["ARN"],
            "--output",
            str(tmp_path / "e"),
        ]
    )
    assert result.exit_code == 1
    assert "admin is the instance's master user" in result.output
    assert "make rds-users" in result.output


def test_iam_needs_the_instance_flag(aws_module, cli, users, standin, certs, tmp_path):
    make_instance(aws_module, "iam-off-db", DBName="app")
    result = cli.invoke(
        [
            "deploy-env",
            "--instance",
            "iam-off-db",
            *on_standin(standin, certs),
            "--iam",
            "--migrate-secret-arn",
            users["migrator"]["ARN"],
            "--output",
            str(tmp_path / "e"),
        ]
    )
    assert result.exit_code == 1
    assert "IAM database authentication is off on iam-off-db" in result.output
    assert "--enable-iam-database-authentication" in result.output


def test_iam_logs_in_with_a_token_and_explains_a_refusal(
    aws_module, cli, users, standin, certs, tmp_path
):
    """The stand-in cannot accept a token (no AWSAuthenticationPlugin): the doctor sends one,
    as the app user, never a secret's password, and says what IAM needs."""
    make_instance(aws_module, "iam-db", DBName="app", EnableIAMDatabaseAuthentication=True)
    result = cli.invoke(
        [
            "deploy-env",
            "--instance",
            "iam-db",
            *on_standin(standin, certs),
            "--iam",
            "--migrate-secret-arn",
            users["migrator"]["ARN"],
            "--output",
            str(tmp_path / "e"),
        ]
    )
    assert result.exit_code == 1
    assert "IAM authentication refused for user 'app'" in result.output
    assert "AWSAuthenticationPlugin" in result.output and "rds-db:connect" in result.output
    assert not (tmp_path / "e").exists()


def test_instance_lookup_feeds_the_doctor(aws_module, cli, users, tmp_path, certs):
    info = make_instance(aws_module, "lookup-db", DBName="app")
    result = cli.invoke(
        [
            "deploy-env",
            "--instance",
            "lookup-db",
            "--ca",
            str(certs / "standin-ca.pem"),
            "--secret-arn",
            users["app"]["ARN"],
            "--migrate-secret-arn",
            users["migrator"]["ARN"],
            "--output",
            str(tmp_path / "env"),
        ]
    )
    assert result.exit_code == 1
    assert info["Endpoint"]["Address"] in result.output  # looked up, then failed to resolve
    assert "FAIL  name resolution" in result.output


def test_doctor_says_a_stopped_instance_is_stopped(aws_module, cli, users, tmp_path, certs):
    make_instance(aws_module, "stopped-db", DBName="app")
    aws_module.client("rds").stop_db_instance(DBInstanceIdentifier="stopped-db")
    env_file = tmp_path / ".env.rds"
    env_file.write_text(
        f"DB_HOST='localhost'\nDB_TLS='verify-full'\nDB_TLS_CA='{certs / 'standin-ca.pem'}'\n"
        f"DB_USER='app'\nDB_PASSWORD_SECRET_ARN='{users['app']['ARN']}'\n"
        "RDS_INSTANCE='stopped-db'\nAWS_REGION='eu-west-1'\n"
    )
    result = cli.invoke(["doctor", "--env-file", str(env_file)])
    assert result.exit_code == 1
    assert "FAIL  instance         stopped-db is stopped" in result.output
    assert "start-db-instance --db-instance-identifier stopped-db" in result.output


def test_doctor_checks_the_security_group_against_this_machine(aws_module, monkeypatch, certs):
    ec2 = aws_module.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    group = ec2.create_security_group(
        GroupName="doctor-sg", Description="test", VpcId=vpc["VpcId"]
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "IpRanges": [{"CidrIp": "203.0.113.0/24"}],
            }
        ],
    )
    public = make_instance(
        aws_module, "doctor-public-db", VpcSecurityGroupIds=[group], PubliclyAccessible=True
    )
    private = make_instance(
        aws_module, "doctor-private-db", VpcSecurityGroupIds=[group], PubliclyAccessible=False
    )
    closed = Target(
        "127.0.0.1",
        free_port(),
        "app",
        "app",
        "x",
        "verify-full",
        str(certs / "standin-ca.pem"),
        connect_timeout=1,
    )

    monkeypatch.setenv("MY_IP", "198.51.100.7")
    passed, out = check(closed, instance=public)
    assert not passed
    assert "no security group rule covers 198.51.100.7 (allowed: 203.0.113.0/24)" in out
    monkeypatch.setenv("MY_IP", "203.0.113.9")
    assert "a security group rule covers 203.0.113.9" in check(closed, instance=public)[1]
    passed, out = check(closed, instance=private)
    assert "not publicly accessible" in out and "--publicly-accessible" in out

    # Before connecting, for a public endpoint (a global address; here given, not resolved):
    monkeypatch.setenv("MY_IP", "198.51.100.7")
    with pytest.raises(doctor.Failure, match=r"no security group rule covers 198\.51\.100\.7"):
        doctor.step_security_group(public, 3306, ["52.95.110.1"])
    monkeypatch.setenv("MY_IP", "203.0.113.9")
    found = doctor.step_security_group(public, 3306, ["52.95.110.1"])
    assert found == "a rule lets this machine in (203.0.113.9)"
    assert doctor.step_security_group(public, 3306, ["10.0.1.5"]) is None  # inside the VPC


def test_unknown_instance_is_one_line_of_cause_and_fix(aws_module, cli, tmp_path):
    result = cli.invoke(["deploy-env", "--instance", "ghost", "--output", str(tmp_path / "e")])
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
    result = cli.invoke(["deploy-env", "--instance", "x", "--output", str(tmp_path / "e")])
    assert result.exit_code == 1
    assert "no AWS credentials found" in result.output
    assert "aws configure" in result.output


# --- a password that changes --------------------------------------------------------------


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


@pytest.mark.parametrize(("window", "tries"), [(1.0, [0, 0, 0.25, 0.75, 1.0]), (0.0, [0, 0])])
def test_a_refused_login_is_tried_again_until_the_window_closes(window, tries):
    """Backoff from 0.25 s, the last try at the window's end, not one sleep short of it (which
    gave up after 0.75 s of a 1 s window); a window of 0 is one retry."""
    now, tried = [0.0], []

    class Refused:
        retry_window = window

        def login(self):
            return Login(None, "old")

        def candidates(self):
            return [Login(None, "old")]

        def accepted(self, login):
            raise AssertionError("nothing was accepted")

    def connect(**params):
        tried.append(now[0])
        raise pymysql.err.OperationalError(1045, "Access denied")

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(pymysql.err.OperationalError):
        connect_with(Refused(), connect, sleep=sleep, clock=lambda: now[0])(host="h")
    assert tried == tries


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


def test_iam_wins_over_a_secret():
    """With both set, a password (the master's, from its secret) is never sent."""
    from sqlalchemy.engine import make_url

    from app.credentials import provider_for

    settings = Settings(
        db_iam_auth=True, db_password_secret_arn="arn:x", db_tls="verify-full", db_tls_ca=__file__
    )
    assert isinstance(provider_for(settings, make_url("mysql+pymysql://u@h/d")), IAMToken)


def test_region_from_endpoint():
    assert aws.region_of("db.abc123.eu-west-1.rds.amazonaws.com") == "eu-west-1"
    assert aws.region_of("localhost") is None


# --- doctor details -----------------------------------------------------------------------


def test_tls_is_not_claimed_when_a_login_fails_without_tls_required(standin, certs):
    passed, out = check(target(standin, certs, tls="preferred", ca=None, password="wrong"))
    assert not passed
    assert "handshake done" not in out
    assert "not known" in out
    passed, out = check(target(standin, certs, password="wrong"))
    assert "ok    TLS              handshake done (DB_TLS=verify-full)" in out


def test_grants_held_through_a_role_count(standin, certs):
    """RDS's master user holds rds_superuser_role (MySQL 8.0.36 on): SHOW GRANTS alone shows
    the role, not what it grants."""
    root = root_target(standin, certs)
    with root.connect() as connection, connection.cursor() as cursor:
        cursor.execute("CREATE ROLE IF NOT EXISTS rds_superuser_role_test")
        cursor.execute("GRANT ALL ON app.* TO rds_superuser_role_test")
        cursor.execute("CREATE USER IF NOT EXISTS roleuser@'%' IDENTIFIED BY 'role-pw'")
        cursor.execute("GRANT rds_superuser_role_test TO roleuser@'%'")
        cursor.execute("SET DEFAULT ROLE rds_superuser_role_test TO roleuser@'%'")
    passed, out = check(
        target(standin, certs, user="roleuser", password="role-pw"), allow_pending=True
    )
    assert passed, out
    assert "ok    privileges       migrate role" in out


def test_time_zone_system_on_a_utc_host_is_not_a_difference(standin, certs):
    t = root_target(standin, certs)
    with t.connect() as connection:
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION time_zone = 'SYSTEM'")  # what RDS reports
        theirs = doctor.server_variables(connection)
    assert theirs["time_zone"] == "SYSTEM (UTC)"
    table = "\n".join(doctor.parity_table(theirs, local=t))  # the local side: '+00:00'
    zone = next(line for line in table.splitlines() if line.startswith("time_zone"))
    assert "+00:00" in zone and "differs" not in zone
    for name in (
        "innodb_lock_wait_timeout",
        "transaction_isolation",
        "max_allowed_packet",
        "log_bin_trust_function_creators",
    ):
        assert name in table


def test_an_rds_proxy_endpoint_is_verified_against_amazon_trust_services(tmp_path, monkeypatch):
    from rdsctl import deploy

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".certs").mkdir()
    (tmp_path / ".certs/amazon-trust-roots.pem").write_text("roots")
    (tmp_path / ".certs/rds-global-bundle.pem").write_text("rds")
    proxy = "app.proxy-abc123.eu-west-1.rds.amazonaws.com"
    assert str(deploy.ca_bundle(None, proxy)) == ".certs/amazon-trust-roots.pem"
    assert str(deploy.ca_bundle(None, "db.abc123.eu-west-1.rds.amazonaws.com")).endswith(
        "rds-global-bundle.pem"
    )
    assert all(
        u.startswith("https://www.amazontrust.com/repository/") for u in deploy.AMAZON_ROOT_URLS
    )
    failure = doctor.classify(
        Target(proxy, 3306, "app", "app"),
        pymysql.err.OperationalError(
            2003, "[SSL: CERTIFICATE_VERIFY_FAILED] unable to get local issuer"
        ),
    )
    assert "amazontrust.com" in failure.fix


def test_rds_users_refuses_names_that_would_reset_the_master(cli, standin, certs, master_secret):
    for extra in (
        ["--app-user", "admin"],
        ["--migrator-user", "rdsadmin"],
        ["--app-user", "same", "--migrator-user", "same"],
    ):
        result = cli.invoke(
            ["rds-users", *on_standin(standin, certs), "--master-secret-arn", master_secret, *extra]
        )
        assert result.exit_code == 1, (extra, result.output)
        assert "fix: " in result.output and "APP_DB_USER" in result.output


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


def test_aws_out_of_reach_keeps_a_password_that_still_works(rotor, standin, certs, monkeypatch):
    name, arn, _ = rotor
    provider = SecretPassword(arn, "eu-west-1", max_age=0)
    connect_as(name, standin, certs, provider).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # AWS is gone
    provider._client = None  # the next read makes a client, as after a failed read
    time.sleep(0.01)
    with connect_as(name, standin, certs, provider) as connection, connection.cursor() as c:
        c.execute("SELECT 1")  # the cached password still works: no 503 for an AWS outage


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


def test_create_allow_users_deploy_revoke_destroy_leaves_only_the_final_snapshot(
    aws_module, monkeypatch, cli, standin, certs, master_secret, tmp_path
):
    """The whole life of a development instance on moto, with the stand-in as its endpoint
    (users of their own and a database of its own, so the module's users stay as they are)."""
    from tests.support import canned

    canned.install(monkeypatch)
    name, env_file = "life-db", tmp_path / ".env.rds"
    create = {
        "RDS_INSTANCE": name,
        "MYSQL_IMAGE": "mysql:8.4",
        "CONFIRM": "yes",
        "RDS_POLL_SECONDS": "0.1",
        "RDS_PUBLIC": "1",
    }
    on_it = [
        "--instance",
        name,
        "--endpoint",
        "localhost",
        "--port",
        str(standin),
        "--database",
        "lifedb",
        "--ca",
        str(certs / "standin-ca.pem"),
    ]
    steps = [
        (["rds-create"], create),
        (["rds-allow-my-ip", "--instance", name, "--ip", "203.0.113.7"], {}),
        (
            [
                "rds-users",
                *on_it,
                "--master-secret-arn",
                master_secret,
                "--app-user",
                "life_app",
                "--migrator-user",
                "life_migrator",
            ],
            {},
        ),
        (["deploy-env", *on_it, "--output", str(env_file)], {}),
        (["rds-revoke-my-ip", "--instance", name], {"MY_IP": ""}),
        (["rds-destroy", "--instance", name, "--env-file", str(env_file)], {"CONFIRM": "yes"}),
    ]
    for args, env in steps:
        result = cli.invoke(args, env=env)
        assert result.exit_code == 0, (args[0], result.output)
        if args[0] == "deploy-env":
            assert dotenv_values(env_file)["DB_USER"] == "life_app"
            made = aws_module.client("secretsmanager").list_secrets(
                Filters=[{"Key": "name", "Values": [f"flask-rds-starter/{name}/"]}]
            )["SecretList"]
            assert len(made) == 2  # the app's and the migrator's, which destroy must remove
    assert "up to $1.90 a month" in result.output  # the final snapshot: 20 GiB x $0.095

    rds, ec2 = aws_module.client("rds"), aws_module.client("ec2")
    assert name not in [
        i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]
    ]
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=name)["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"].startswith(f"{name}-final-") for s in snapshots] == [True]
    ours = [{"Name": "tag:flask-rds-starter:instance", "Values": [name]}]
    assert ec2.describe_security_groups(Filters=ours)["SecurityGroups"] == []
    groups = [
        g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
    ]
    assert f"{name}-params" not in groups
    secrets_left = aws_module.client("secretsmanager").list_secrets(
        Filters=[{"Key": "name", "Values": [f"flask-rds-starter/{name}/"]}]
    )["SecretList"]
    assert secrets_left == []
    assert not env_file.exists()
    assert "SECRET_KEY" not in Path(f"{env_file}.off").read_text()
