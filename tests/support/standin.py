"""The RDS stand-in: a MySQL container that requires TLS, with a certificate from a test CA that
names "localhost" (and not 127.0.0.1), an `app` database, an RDS-like master user whose password
is in a moto secret, and the users `make rds-users` makes. One per run, for tests/rdsctl and
tests/stack; registered as fixtures by tests/conftest.py (pytest_plugins).
"""

import contextlib
import json
import os
import shutil
from pathlib import Path

import pytest

from harness.stack import ROOT
from tests.support.aws import Tool, point_at_moto
from tests.support.databases import require_docker
from tests.support.tls import make_ca, make_server_cert

ADMIN_PASSWORD = "admin-standin-pw"  # noqa: S105 - a throwaway test container's
ROOT_PASSWORD = "standin-root"  # noqa: S105 - likewise
RDS_MASTER_GRANTS = (
    "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, ALTER, "
    "SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, "
    "REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, "
    "EVENT, TRIGGER"
)


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("certs")
    ca_key, ca_cert = make_ca(directory, "standin-ca")
    make_ca(directory, "other-ca")
    make_server_cert(directory, ca_key, ca_cert, ["localhost"])
    for path in [directory, *directory.iterdir()]:  # readable by the container's mysql user
        path.chmod(0o755 if path.is_dir() else 0o644)
    return directory


@pytest.fixture(scope="session")
def standin(certs, tmp_path_factory):
    """The stand-in's published port."""
    from rdsctl.target import Target

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
    container = MySqlContainer(image, dialect="pymysql", username="root", password=ROOT_PASSWORD)
    container.with_tmpfs_mount("/var/lib/mysql")
    container.with_volume_mapping(str(conf), "/etc/mysql/conf.d")
    container.with_volume_mapping(str(certs), "/etc/mysql/certs")
    container.start()
    port = int(container.get_exposed_port(3306))
    root = Target(
        "localhost",
        port,
        "mysql",
        "root",
        ROOT_PASSWORD,
        "verify-full",
        str(certs / "standin-ca.pem"),
    )
    with root.connect() as connection, connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE app")
        cursor.execute(f"CREATE USER admin@'%' IDENTIFIED BY '{ADMIN_PASSWORD}'")
        cursor.execute(f"GRANT {RDS_MASTER_GRANTS} ON *.* TO admin@'%' WITH GRANT OPTION")
        cursor.execute("CREATE USER limited@'%' IDENTIFIED BY 'limited-pw'")
        cursor.execute("CREATE USER reader@'%' IDENTIFIED BY 'reader-pw'")
        cursor.execute("GRANT SELECT ON app.* TO reader@'%'")
    yield port
    container.stop()


def target(standin, certs, **changes):
    """A Target on the stand-in: its master user on `app`, unless `changes` say otherwise."""
    from rdsctl.target import Target

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
    return Target(**{**values, **changes})


def root_target(standin, certs):
    return target(standin, certs, database="mysql", user="root", password=ROOT_PASSWORD)


def empty_app_database(standin, certs) -> None:
    """Drop and create the stand-in's `app` database: no tables, no revision. The users' grants
    name the database, so they stay."""
    with root_target(standin, certs).connect() as connection, connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS app")
        cursor.execute("CREATE DATABASE app")


def on_standin(standin, certs, *extra) -> list[str]:
    """The rdsctl options that name the stand-in."""
    return [
        "--endpoint",
        "localhost",
        "--port",
        str(standin),
        "--database",
        "app",
        "--ca",
        str(certs / "standin-ca.pem"),
        *extra,
    ]


def users_secrets(users) -> list[str]:
    """The deploy-env options that name the app's and the migrator's secrets (rds-users')."""
    return ["--secret-arn", users["app"]["ARN"], "--migrate-secret-arn", users["migrator"]["ARN"]]


@pytest.fixture(scope="session")
def moto_env(moto_server):
    """boto3 against moto for the session's fixtures below, undone after each use."""

    def patched():
        patch = pytest.MonkeyPatch()
        point_at_moto(patch, moto_server)
        return patch

    return patched


@pytest.fixture(scope="session")
def master_secret(moto_env) -> str:
    """The master user's password in a secret, as RDS's managed secret holds it."""
    import boto3

    patch = moto_env()
    try:
        secret = json.dumps({"username": "admin", "password": ADMIN_PASSWORD})
        created = boto3.client("secretsmanager").create_secret(
            Name="rds!db-standin", SecretString=secret
        )
    finally:
        patch.undo()
    return str(created["ARN"])


def user_secret(boto3, role: str, where: str = "localhost") -> dict:
    secretsmanager = boto3.client("secretsmanager")
    name = f"flask-rds-starter/{where}/app/{role}"
    value = secretsmanager.get_secret_value(SecretId=name)
    return {**json.loads(value["SecretString"]), "ARN": value["ARN"]}


@pytest.fixture(scope="session")
def users(moto_env, standin, certs, master_secret) -> dict:
    """make rds-users on the stand-in: the output and the two users' secrets."""
    import boto3

    patch = moto_env()
    try:
        result = Tool().invoke(
            ["rds-users", *on_standin(standin, certs), "--master-secret-arn", master_secret]
        )
        assert result.exit_code == 0, result.output
        app, migrator = user_secret(boto3, "app"), user_secret(boto3, "migrator")
    finally:
        patch.undo()
    return {"output": result.output, "app": app, "migrator": migrator}


def passwords(users) -> list[str]:
    return [ADMIN_PASSWORD, users["app"]["password"], users["migrator"]["password"]]


@pytest.fixture(scope="session")
def deployed(moto_env, users, standin, certs, tmp_path_factory):
    """.env.rds as make deploy-env writes it for the stand-in, and what it printed, in a folder
    of its own (its .certs/ too, which the RDS override mounts with RDS_CERTS_DIR): nothing
    lands in the work tree."""
    folder = tmp_path_factory.mktemp("deploy")
    env_file = folder / ".env.rds"
    patch = moto_env()
    try:
        with contextlib.chdir(folder):
            result = Tool().invoke(
                ["deploy-env", *on_standin(standin, certs), "--output", str(env_file)]
            )
    finally:
        patch.undo()
    return env_file, result
