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
from rdsctl.aws import aws_call
from rdsctl.certs import ca_bundle
from rdsctl.login import classify
from rdsctl.resolve import RdsTarget, resolve
from rdsctl.settings import OperatorSettings
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
    """Our secret by name, or None if there is none. One scheduled for deletion (make
    rds-destroy leaves a recovery window) is restored; one of the same name that is not ours is
    refused with the fix."""
    from botocore.exceptions import ClientError

    secretsmanager = secretsmanager or client("secretsmanager", region)
    with aws_call(f"look up the secret {name}"):
        try:
            described = secretsmanager.describe_secret(SecretId=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        tags = {t["Key"]: t["Value"] for t in described.get("Tags", [])}
        if TAG not in tags:
            raise AWSError(
                f"a secret named {name} exists and was not made by rds-users (no {TAG} tag)",
                "delete or rename that secret, or point deploy-env at it with RDS_SECRET_ARN",
            )
        if described.get("DeletedDate"):
            secretsmanager.restore_secret(SecretId=described["ARN"])
            click.echo(f"restored the secret {name}, which rds-destroy had scheduled for deletion")
        text = secretsmanager.get_secret_value(SecretId=described["ARN"])["SecretString"]
    try:
        value = json.loads(text)
        return UserSecret(described["ARN"], str(value["username"]), str(value["password"]))
    except (ValueError, KeyError, TypeError):
        raise AWSError(
            f"the secret {name} is not a database login (JSON with username and password)",
            "delete it, then run make rds-users again (it makes a new one)",
        ) from None


def secret_region(arn: str) -> str | None:
    """The region in a secret's ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 6 and parts[2] == "secretsmanager" else None


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
@click.option("--instance", "rds_instance", help="RDS instance identifier (RDS_INSTANCE).")
@click.option("--endpoint", "rds_endpoint", help="Host name, over --instance's (RDS_ENDPOINT).")
@click.option("--port", "rds_port", type=int, help="RDS_PORT")
@click.option("--database", "rds_database", help="Database name (RDS_DATABASE; MYSQL_DATABASE).")
@click.option("--master-user", "rds_master_user", help="Default: the instance's (RDS_MASTER_USER).")
@click.option(
    "--master-secret-arn",
    "rds_master_secret_arn",
    help="The master's secret (RDS_MASTER_SECRET_ARN; default: the instance's managed one).",
)
@click.option("--app-user", "app_db_user", help="APP_DB_USER (app)")
@click.option("--migrator-user", "migrator_user", help="MIGRATOR_USER (migrator)")
@click.option("--iam", "rds_iam", is_flag=True, help="The app logs in with IAM tokens (RDS_IAM).")
@click.option("--ca", "rds_ca", help="CA bundle (RDS_CA; default: AWS's, fetched into .certs/).")
@click.option("--region", "aws_region", help="AWS_REGION")
@click.pass_obj
def rds_users(operator: OperatorSettings, /, **options: object) -> None:
    """Create the migrator and app users on RDS, their passwords in Secrets Manager."""
    operator = operator.given(**options)  # the options over the environment
    found = resolve(operator)
    if not found.master_secret_arn:
        raise click.ClickException(
            "the master user's password is not in a secret this tool can read.\n"
            "  fix: give RDS_MASTER_SECRET_ARN=<its secret>, or RDS_INSTANCE=<id> of an "
            "instance created with a managed password (make rds-create does that)"
        )
    app_user, migrator_user = operator.app_db_user, operator.migrator_user
    refuse_names(app_user, migrator_user, found.master_user)
    region = found.region or secret_region(found.master_secret_arn)
    master = Target.from_settings(
        Settings(
            db_host=found.migrate_host or found.host,
            db_port=found.port,
            db_name=found.database,
            db_user=found.master_user,
            db_tls="verify-full",
            db_tls_ca=str(ca_bundle(operator.rds_ca, found.host, for_containers=False)),
            db_password_secret_arn=found.master_secret_arn,
            aws_region=region,
        )
    )
    click.echo(f"as the master user: {master.display()}")
    with connected(master) as connection, connection.cursor() as cursor:
        try:
            ensure_database(cursor, master.database)
            for role, username in (("migrator", migrator_user), ("app", app_user)):
                iam_user = role == "app" and operator.rds_iam
                make_user(cursor, role, username, master, found, None if iam_user else region)
        except pymysql.err.OperationalError as exc:  # a statement waited past the read timeout
            raise click.ClickException(
                f"{master.display()}: {exc.args[-1]}\n  fix: another session may hold a lock "
                "(SHOW PROCESSLIST as the master user); end it, then run make rds-users again"
            ) from None
    click.echo("next: make deploy-env (it points migrate at the migrator, the app at the app user)")


def ensure_database(cursor: Any, name: str) -> None:
    """CREATE DATABASE only where there is none: even with IF NOT EXISTS it waits for every
    open transaction that has read a table of the database (a schema-wide metadata lock)."""
    cursor.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
    if cursor.fetchone() is None:
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{name}` "
            "CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci"
        )


def connected(master: Target) -> Any:
    try:
        return master.connect(database=None)
    except pymysql.err.MySQLError as exc:
        failure = classify(master, exc)
        raise click.ClickException(f"{failure.cause}\n  fix: {failure.fix}") from None


def make_user(
    cursor: Any, role: str, username: str, master: Target, found: RdsTarget, region: str | None
) -> None:
    """One user with its grants: with a password kept in its secret, or (region None, the
    IAM variant) logging in with tokens."""
    if region is None:
        for sql, params in user_statements(role, username, None, master.database):
            cursor.execute(sql, params)
        click.echo(f"user {username}: {GRANTS[role]} on {master.database}, IAM tokens")
        return
    names = secret_names([found.where, master.host], master.database, role)
    secret = ensure_secret(
        names, role, username, master, found.where, found.master_secret_arn, region
    )
    for sql, params in user_statements(role, secret.username, secret.password, master.database):
        cursor.execute(sql, params)
    click.echo(
        f"user {secret.username}: {GRANTS[role]} on {master.database}, password in {secret.arn}"
    )
