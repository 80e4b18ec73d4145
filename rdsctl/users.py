"""`rdsctl rds-users`: on RDS, the two users the local db has (docker/mysql/initdb/10-users.sh):
a migrator that may change the app database's schema, and an app user that may only read and
write rows. Their passwords are generated here and kept in Secrets Manager secrets of their own,
never on disk; make deploy-env points migrate at the migrator's secret and the app at the app's.

Run as the instance's master user, whose password is read from its secret (RDS's managed
secret by default). Rerunnable: an existing secret of ours keeps its password, and the user is
set to it again.
"""

import json
from dataclasses import dataclass, field
from typing import Any

import click
import pymysql

from app.aws import AWSError, client
from app.settings import Settings
from rdsctl import doctor
from rdsctl.aws import aws_call
from rdsctl.target import Target

TAG = "flask-rds-starter"
# Local and RDS alike: the same privileges as docker/mysql/initdb/10-users.sh.
GRANTS = {
    "migrator": "ALL PRIVILEGES",
    "app": "SELECT, INSERT, UPDATE, DELETE",
}
IAM_PLUGIN = "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'"
EXCLUDED_CHARACTERS = "/@\"'\\"  # what Secrets Manager's MySQL rotation functions exclude
RESERVED = {
    "rdsadmin",
    "rdsrepladmin",
    "rds_superuser_role",
    "mysql.sys",
    "mysql.session",
    "mysql.infoschema",
    "root",
}


def secret_name(where: str, database: str, role: str) -> str:
    """The name of a user's secret: one per instance (or endpoint), database and role."""
    return f"{TAG}/{where}/{database}/{role}"


@dataclass(frozen=True)
class UserSecret:
    arn: str
    username: str
    password: str = field(repr=False)


def find_secret(name: str, region: str | None, secretsmanager: Any = None) -> UserSecret | None:
    """Our secret by name, or None if there is none. A secret of the same name that is not ours,
    or that is scheduled for deletion, is refused with the fix."""
    from botocore.exceptions import ClientError

    secretsmanager = secretsmanager or client("secretsmanager", region)
    with aws_call(f"look up the secret {name}"):
        try:
            described = secretsmanager.describe_secret(SecretId=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        if described.get("DeletedDate"):
            raise AWSError(
                f"the secret {name} is scheduled for deletion",
                f"restore it: aws secretsmanager restore-secret --secret-id {name}",
            )
        tags = {t["Key"]: t["Value"] for t in described.get("Tags", [])}
        if TAG not in tags:
            raise AWSError(
                f"a secret named {name} exists and was not made by rds-users (no {TAG} tag)",
                "delete or rename that secret, or point deploy-env at it with RDS_SECRET_ARN",
            )
        text = secretsmanager.get_secret_value(SecretId=described["ARN"])["SecretString"]
    try:
        value = json.loads(text)
        return UserSecret(described["ARN"], str(value["username"]), str(value["password"]))
    except (ValueError, KeyError, TypeError):
        raise AWSError(
            f"the secret {name} is not a database login (JSON with username and password)",
            "delete it, then run make rds-users again (it makes a new one)",
        ) from None


def secret_names(places: list[str], database: str, role: str) -> list[str]:
    """The names a user's secret may have: by instance identifier, else by endpoint (make
    rds-users and deploy-env may be given either, and must find the same secret)."""
    return [secret_name(place, database, role) for place in dict.fromkeys(places) if place]


def find_any(names: list[str], region: str | None, secretsmanager: Any = None) -> UserSecret | None:
    for name in names:
        found = find_secret(name, region, secretsmanager)
        if found:
            return found
    return None


def ensure_secret(
    names: list[str],
    role: str,
    username: str,
    target: Target,
    where: str,
    master_arn: str | None,
    region: str | None,
) -> UserSecret:
    """Our secret for `role`, created with a new password if it does not exist yet. The JSON is
    the shape Secrets Manager's MySQL rotation functions read (alternating users: masterarn)."""
    secretsmanager = client("secretsmanager", region)
    found = find_any(names, region, secretsmanager)
    if found:
        return found
    name = names[0]
    with aws_call("generate a password"):  # as Secrets Manager's rotation functions do
        password = secretsmanager.get_random_password(
            PasswordLength=32, ExcludeCharacters=EXCLUDED_CHARACTERS
        )["RandomPassword"]
    value = {
        "engine": "mysql",
        "host": target.host,
        "port": target.port,
        "username": username,
        "password": password,
        "dbname": target.database,
    }
    if master_arn:
        value["masterarn"] = master_arn
    tags = [{"Key": TAG, "Value": role}, {"Key": f"{TAG}:target", "Value": where}]
    with aws_call(f"create the secret {name}"):
        created = secretsmanager.create_secret(
            Name=name,
            Description=f"The {role} user of {target.database} on {where} (make rds-users)",
            SecretString=json.dumps(value),
            Tags=tags,
        )
    return UserSecret(created["ARN"], username, str(value["password"]))


def refuse_names(app_user: str, migrator_user: str, master_user: str) -> None:
    """Names that would reset the master's password (out of step with its managed secret),
    or RDS's own users, or one user for both roles."""
    for name in (app_user, migrator_user):
        if name == master_user or name in RESERVED:
            raise click.ClickException(
                f"{name!r} is the master user or one of RDS's own: rds-users would reset its "
                "password\n  fix: choose other names (APP_DB_USER, MIGRATOR_USER)"
            )
    if app_user == migrator_user:
        raise click.ClickException(
            f"the app and the migrator are both {app_user!r}: the app would hold schema "
            "privileges\n  fix: give them different names (APP_DB_USER, MIGRATOR_USER)"
        )


Statement = tuple[str, tuple[str, ...]]


def user_statements(
    role: str, username: str, password: str | None, database: str
) -> list[Statement]:
    """The SQL that creates (or resets) one user and grants its role. password None: the IAM
    variant, which logs in with tokens through RDS's AWSAuthenticationPlugin."""
    params: tuple[str, ...]
    if password is None:
        login, params = IAM_PLUGIN, (username,)
    else:
        login, params = "IDENTIFIED BY %s", (username, password)
    grant = f"GRANT {GRANTS[role]} ON `{database}`.* TO %s@'%%'"
    return [
        (f"CREATE USER IF NOT EXISTS %s@'%%' {login} REQUIRE SSL", params),
        (f"ALTER USER %s@'%%' {login} REQUIRE SSL", params),
        (grant, (username,)),
    ]


@click.command("rds-users")
@click.option("--instance", envvar="RDS_INSTANCE", help="RDS instance identifier.")
@click.option("--endpoint", envvar="RDS_ENDPOINT", help="Host name (over --instance's).")
@click.option("--port", envvar="RDS_PORT", type=int)
@click.option("--database", envvar="RDS_DATABASE", help="Database name (default MYSQL_DATABASE).")
@click.option("--master-user", envvar="RDS_MASTER_USER", help="Default: the instance's.")
@click.option(
    "--master-secret-arn",
    envvar="RDS_MASTER_SECRET_ARN",
    help="The master user's secret (default: the instance's managed one).",
)
@click.option("--app-user", envvar="APP_DB_USER", default="app", show_default=True)
@click.option("--migrator-user", envvar="MIGRATOR_USER", default="migrator", show_default=True)
@click.option("--iam", is_flag=True, envvar="RDS_IAM", help="The app logs in with IAM tokens.")
@click.option("--ca", envvar="RDS_CA", help="CA bundle (default: AWS's, fetched into .certs/).")
@click.option("--region", envvar="AWS_REGION")
def rds_users(
    instance: str | None,
    endpoint: str | None,
    port: int | None,
    database: str | None,
    master_user: str | None,
    master_secret_arn: str | None,
    app_user: str,
    migrator_user: str,
    iam: bool,
    ca: str | None,
    region: str | None,
) -> None:
    """Create the migrator and app users on RDS, their passwords in Secrets Manager."""
    from rdsctl.deploy import ca_bundle, resolve_target, secret_region

    found = resolve_target(
        instance, endpoint, port, database, master_user, master_secret_arn, region
    )
    master_arn = found.get("_secret_arn")
    if not master_arn:
        raise click.ClickException(
            "the master user's password is not in a secret this tool can read.\n"
            "  fix: give RDS_MASTER_SECRET_ARN=<its secret>, or RDS_INSTANCE=<id> of an "
            "instance created with a managed password (make rds-create does that)"
        )
    refuse_names(app_user, migrator_user, found["DB_USER"])
    region = found.get("AWS_REGION") or secret_region(master_arn)
    where = instance or found["DB_HOST"]
    master = Target.from_settings(
        Settings(
            db_host=found["DB_HOST"],
            db_port=int(found["DB_PORT"]),
            db_name=found["DB_NAME"],
            db_user=found["DB_USER"],
            db_tls="verify-full",
            db_tls_ca=str(ca_bundle(ca, found["DB_HOST"])),
            db_password_secret_arn=master_arn,
            aws_region=region,
        )
    )
    click.echo(f"as the master user: {master.display()}")
    try:
        connection = master.connect(database=None)
    except pymysql.err.MySQLError as exc:
        failure = doctor.classify(master, exc)
        raise click.ClickException(f"{failure.cause}\n  fix: {failure.fix}") from None
    with connection, connection.cursor() as cursor:
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{master.database}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci"
        )
        for role, username in (("migrator", migrator_user), ("app", app_user)):
            if role == "app" and iam:
                for sql, params in user_statements(role, username, None, master.database):
                    cursor.execute(sql, params)
                click.echo(f"user {username}: {GRANTS[role]} on {master.database}, IAM tokens")
                continue
            names = secret_names([where, master.host], master.database, role)
            secret = ensure_secret(names, role, username, master, where, master_arn, region)
            for sql, params in user_statements(
                role, secret.username, secret.password, master.database
            ):
                cursor.execute(sql, params)
            click.echo(
                f"user {secret.username}: {GRANTS[role]} on {master.database}, "
                f"password in {secret.arn}"
            )
    click.echo("next: make deploy-env (it points migrate at the migrator, the app at the app user)")
