"""rdsctl/doctor.py against the RDS stand-in: each failure produced for real, one line of cause
and one of fix; the success path and its parity table (rdsctl/login.py, grants.py, parity.py)."""

import pymysql

from harness.stack import free_port
from rdsctl import doctor
from rdsctl.login import classify
from rdsctl.parity import local_variables, parity_table, server_variables
from rdsctl.target import Target
from tests.support.pause import PausingProxy
from tests.support.rds import make_instance
from tests.support.revisions import pending_from_empty
from tests.support.standin import (
    root_target,
    target,
)


def check(t: Target, **options) -> tuple[bool, str]:
    lines = []
    passed = doctor.run(t, lines.append, **options)
    return passed, "\n".join(lines)


def failure_lines(output: str) -> tuple[str, str]:
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if line.lstrip().startswith("FAIL"))
    return lines[at].strip(), lines[at + 1].strip()


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
    assert f"pending migrations: {pending_from_empty()}" in cause
    assert "make migrate" in fix


def test_proxy_endpoint_warns():
    t = Target("x.proxy-abc.eu-west-1.rds.amazonaws.com", 3306, "app", "a", "b", "required", None)
    _, out = check(t)
    assert "RDS Proxy endpoint" in out


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
        theirs = server_variables(connection)
    assert theirs["time_zone"] == "SYSTEM (UTC)"
    table = "\n".join(parity_table(theirs, local_variables(t)))  # the local side: '+00:00'
    zone = next(line for line in table.splitlines() if line.startswith("time_zone"))
    assert "+00:00" in zone and "differs" not in zone
    for name in (
        "innodb_lock_wait_timeout",
        "transaction_isolation",
        "max_allowed_packet",
        "log_bin_trust_function_creators",
    ):
        assert name in table


def test_doctor_command_reads_the_env_file(aws_module, cli, deployed, monkeypatch):
    env_file, _ = deployed
    monkeypatch.chdir(env_file.parent)  # DB_TLS_CA is .certs/..., as in the project
    result = cli.invoke(["doctor", "--env-file", str(env_file), "--allow-pending"])
    assert result.exit_code == 0, result.output
    assert "login            as migrator" in result.output
    assert "ok    privileges       migrate role" in result.output
    assert "local db not reachable" in result.output
    app = cli.invoke(["doctor", "--env-file", str(env_file), "--role", "app", "--allow-pending"])
    assert app.exit_code == 0, app.output
    assert "login            as app" in app.output


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


def test_an_rds_proxy_endpoint_is_verified_against_amazon_trust_services(tmp_path, monkeypatch):
    """The proxy presents an ACM certificate; migrations, behind it, reach the instance's own
    endpoint and its RDS certificate: the proxy's bundle holds both."""
    from rdsctl import certs as bundles

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".certs").mkdir()
    (tmp_path / ".certs/rds-and-amazon-roots.pem").write_text("both")
    (tmp_path / ".certs/rds-global-bundle.pem").write_text("rds")
    proxy = "app.proxy-abc123.eu-west-1.rds.amazonaws.com"
    assert str(bundles.ca_bundle(None, proxy)) == ".certs/rds-and-amazon-roots.pem"
    assert str(bundles.ca_bundle(None, "db.abc123.eu-west-1.rds.amazonaws.com")).endswith(
        "rds-global-bundle.pem"
    )
    urls = bundles.PROXY_BUNDLE[1]
    assert urls[0] == bundles.RDS_BUNDLE[1][0]
    assert all(u.startswith("https://www.amazontrust.com/repository/") for u in urls[1:])
    failure = classify(
        Target(proxy, 3306, "app", "app"),
        pymysql.err.OperationalError(
            2003, "[SSL: CERTIFICATE_VERIFY_FAILED] unable to get local issuer"
        ),
    )
    assert "amazontrust.com" in failure.fix


def test_a_cluster_resuming_from_pause_is_waited_for_and_said_once(standin, certs):
    """Aurora Serverless v2 holds the connections that wake it until it has resumed (about
    15 s): the doctor waits (RESUME_WAIT), and says why once, instead of failing on the
    handshake's timeout."""
    proxy = PausingProxy(standin)
    proxy.pause(3)  # a short resume: the doctor's connect timeout here is 1 s
    try:
        passed, out = check(target(standin, certs, port=proxy.port, connect_timeout=1))
    finally:
        proxy.close()
    assert out.count("resuming from pause") == 1, out
    assert "ok    login" in out and proxy.resumed_at is not None
