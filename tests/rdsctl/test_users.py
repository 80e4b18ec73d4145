"""`rdsctl rds-users` (rdsctl/users.py) on the RDS stand-in: a migrator and a rows-only app user,
their passwords in secrets of their own, rerunnable."""

import secrets

import pymysql
import pytest

from rdsctl.users import user_statements
from tests.support.aws import Tool
from tests.support.standin import (
    ADMIN_PASSWORD,
    on_standin,
    root_target,
    target,
    user_secret,
)


def login(standin, certs, user: str, password: str):
    return target(standin, certs, user=user, password=password).connect(database="app")


def test_rds_users_creates_a_migrator_and_a_rows_only_app_user(users, standin, certs):
    app, migrator = users["app"], users["migrator"]
    assert app["username"] == "app" and migrator["username"] == "migrator"
    for secret in (app, migrator):  # the shape Secrets Manager's MySQL rotation functions read
        assert {"engine", "host", "port", "username", "password", "dbname", "masterarn"} <= set(
            secret
        )
    with root_target(standin, certs).connect() as connection, connection.cursor() as c:
        c.execute("CREATE TABLE IF NOT EXISTS app.existing (id INT)")  # a table to try to alter
    with login(standin, certs, "app", app["password"]) as connection, connection.cursor() as c:
        c.execute("SELECT 1 FROM existing")
        for ddl in ("CREATE TABLE probe (id INT)", "ALTER TABLE existing ADD x INT"):
            with pytest.raises(pymysql.err.MySQLError) as refused:
                c.execute(ddl)
            assert refused.value.args[0] == 1142  # ER_TABLEACCESS_DENIED_ERROR
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


def test_rds_users_reruns_beside_an_open_transaction(
    users, aws_module, standin, certs, master_secret
):
    """A session reading the app's tables (a request, a shell) does not hold rds-users up:
    CREATE DATABASE IF NOT EXISTS would wait for it, as for a metadata lock on the schema."""
    root, table = root_target(standin, certs), f"app.held_{secrets.token_hex(3)}"
    with root.connect() as connection, connection.cursor() as c:
        c.execute(f"CREATE TABLE {table} (id INT)")
    with root.connect() as connection, connection.cursor() as c:
        c.execute(f"SELECT COUNT(*) FROM {table}")  # autocommit off: the transaction stays
        again = Tool().invoke(
            ["rds-users", *on_standin(standin, certs), "--master-secret-arn", master_secret]
        )
    assert again.exit_code == 0, again.output


def test_rds_users_iam_variant_creates_the_app_user_with_the_rds_plugin():
    """The stand-in has no AWSAuthenticationPlugin (RDS's own): the statements are checked."""
    statements = user_statements("app", "app", None, "app")
    assert statements[0] == (
        "CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' "
        "REQUIRE SSL",
        ("app",),
    )
    assert statements[2] == ("GRANT SELECT, INSERT, UPDATE, DELETE ON `app`.* TO %s@'%%'", ("app",))


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
