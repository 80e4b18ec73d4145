"""`rdsctl deploy-env` (rdsctl/deploy.py) against moto and the RDS stand-in: .env.rds names
secrets and users, never a password, and only after the doctor passed as both users."""

import json
import stat
from pathlib import Path

from botocore.awsrequest import AWSResponse
from dotenv import dotenv_values

from app import aws
from app.settings import Settings
from rdsctl.deploy import target_values
from rdsctl.resolve import RdsTarget
from tests.support.output import cause_and_fix
from tests.support.rds import make_instance
from tests.support.revisions import pending_from_empty
from tests.support.standin import (
    ADMIN_PASSWORD,
    on_standin,
    passwords,
    users_secrets,
)


def deploy_env(cli, tmp_path, *args: str):
    """make deploy-env with these options, writing into tmp_path."""
    return cli.invoke(["deploy-env", *args, "--output", str(tmp_path / "e")])


def test_deploy_env_names_secrets_and_users_never_a_password(deployed, users, master_secret):
    env_file, result = deployed
    assert result.exit_code == 0, result.output
    assert f"to apply: {pending_from_empty()}" in result.output
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
    aws_module, cli, users, standin, certs, master_secret, tmp_path
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
            *users_secrets(users),
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
    result = deploy_env(
        cli,
        tmp_path,
        "--instance",
        "master-db",
        *on_standin(standin, certs),
        "--user",
        "admin",
        *users_secrets(users),
    )
    assert result.exit_code == 1
    assert "admin is the instance's master user" in result.output
    assert "make rds-users" in result.output


def test_iam_needs_the_instance_flag(aws_module, cli, users, standin, certs, tmp_path):
    make_instance(aws_module, "iam-off-db", DBName="app")
    result = deploy_env(
        cli,
        tmp_path,
        "--instance",
        "iam-off-db",
        *on_standin(standin, certs),
        "--iam",
        "--migrate-secret-arn",
        users["migrator"]["ARN"],
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
    result = deploy_env(
        cli,
        tmp_path,
        "--instance",
        "iam-db",
        *on_standin(standin, certs),
        "--iam",
        "--migrate-secret-arn",
        users["migrator"]["ARN"],
    )
    assert result.exit_code == 1
    assert "IAM authentication refused for user 'app'" in result.output
    assert "AWSAuthenticationPlugin" in result.output and "rds-db:connect" in result.output
    assert not (tmp_path / "e").exists()


def test_instance_lookup_feeds_the_doctor(aws_module, cli, users, tmp_path, certs):
    info = make_instance(aws_module, "lookup-db", DBName="app")
    result = deploy_env(
        cli,
        tmp_path,
        "--instance",
        "lookup-db",
        "--ca",
        str(certs / "standin-ca.pem"),
        *users_secrets(users),
    )
    assert result.exit_code == 1
    assert info["Endpoint"]["Address"] in result.output  # looked up, then failed to resolve
    assert "FAIL  name resolution" in result.output


def test_unknown_instance_is_one_line_of_cause_and_fix(aws_module, cli, tmp_path):
    result = cli.invoke(["deploy-env", "--instance", "ghost", "--output", str(tmp_path / "e")])
    assert result.exit_code == 1
    cause, fix = cause_and_fix(result.output)
    assert "describe RDS instance 'ghost': DBInstanceNotFound" in cause
    assert fix.startswith("fix: check the identifier")


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


CREATING = {
    "DBInstances": [
        {
            "DBInstanceIdentifier": "new-db",
            "DBInstanceStatus": "creating",
            "Engine": "mysql",
            "EngineVersion": "8.4.7",
            "MasterUsername": "admin",
            "DBInstanceArn": "arn:aws:rds:eu-west-1:123456789012:db:new-db",
        }
    ]
}


def test_an_instance_still_being_created_has_no_endpoint_yet(aws_env, monkeypatch, cli):
    """The API reference: Endpoint is absent while the instance is `creating`."""
    real_client = aws.client

    def made(service, region=None):
        made_client = real_client(service, region)
        if service == "rds":
            made_client.meta.events.register(
                "before-call.rds.DescribeDBInstances",
                lambda **_: (AWSResponse(None, 200, {}, None), CREATING),
            )
        return made_client

    monkeypatch.setattr("rdsctl.aws.client", made)
    result = cli.invoke(["deploy-env", "--instance", "new-db"])
    assert result.exit_code == 1
    assert "new-db has no endpoint yet (status creating)" in result.output
    assert "Traceback" not in result.output


def test_behind_an_rds_proxy_migrations_are_sent_to_the_instance(tmp_path, monkeypatch):
    """The app's DB_HOST is the proxy; MIGRATE_DB_HOST the instance's own endpoint (the
    migration lock would pin a proxy connection), both verified with one bundle."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".certs").mkdir()
    (tmp_path / ".certs/rds-and-amazon-roots.pem").write_text("both")
    own = "proxied.abc123.eu-west-1.rds.amazonaws.com"
    found = RdsTarget(
        "app.proxy-abc123.eu-west-1.rds.amazonaws.com",
        3306,
        "app",
        "admin",
        None,
        "eu-west-1",
        migrate_host=own,
    )
    values = target_values(found, None)
    assert values["MIGRATE_DB_HOST"] == own
    assert values["DB_TLS_CA"] == ".certs/rds-and-amazon-roots.pem"
    settings = Settings.from_env({**values, "DB_USER": "app", "DB_PASSWORD": "x"})
    assert settings.db_host == found.host and settings.for_migrations().db_host == own
