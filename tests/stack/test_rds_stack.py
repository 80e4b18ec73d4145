"""The stack pointed at RDS (docker/compose.rds.yml) against the RDS stand-in
(tests/support/standin.py): migrate shows its SQL and asks, the containers read the secrets
with a developer's profile, and the app rides out a password rotation under load.
"""

import json
import os
import secrets
import subprocess
import time

import pytest
import requests
from dotenv import dotenv_values

from harness.stack import ROOT, eventually, free_port, lifetime
from rdsctl import doctor
from rdsctl.target import Target
from tests.support.load import Load
from tests.support.pause import PausingProxy
from tests.support.revisions import head, revisions
from tests.support.standin import empty_app_database, passwords, root_target, target


@pytest.fixture(scope="module")
def aws_profile(moto_server, tmp_path_factory) -> dict[str, str]:
    """A throwaway ~/.aws, private to a user that is not the image's (uid 4242 when run as
    root), with three profiles: `standin` reaches moto on 127.0.0.1 (host network), `bridge`
    through host.docker.internal (a bridge network, as the RDS override runs), and `vaulted`
    logs in through a credential_process helper that lives on the host (aws-vault), not in
    the containers."""
    port = moto_server.rsplit(":", 1)[1]
    home = tmp_path_factory.mktemp("aws-home") / ".aws"
    home.mkdir()
    (home / "config").write_text(
        f"[profile standin]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:{port}\n\n"
        f"[profile bridge]\nregion = eu-west-1\nendpoint_url = http://host.docker.internal:{port}\n\n"
        "[profile vaulted]\nregion = eu-west-1\n"
        "credential_process = /opt/homebrew/bin/aws-vault export --format=json dev\n"
    )
    keys = "aws_access_key_id = testing\naws_secret_access_key = testing\n"
    (home / "credentials").write_text(f"[standin]\n{keys}\n[bridge]\n{keys}")
    (home / "sso" / "cache").mkdir(parents=True)  # the override mounts it writable
    uid = 4242 if os.geteuid() == 0 else os.getuid()
    for path in (home, home / "sso", home / "sso" / "cache", home / "config", home / "credentials"):
        path.chmod(0o700 if path.is_dir() else 0o600)
        if os.geteuid() == 0:
            os.chown(path, uid, uid)
    return {
        "AWS_CONFIG_DIR": str(home),
        "AWS_UID": str(uid),
        "AWS_GID": str(uid),
        "AWS_PROFILE": "standin",
    }


@pytest.fixture(autouse=True)
def unmigrated(standin, certs):
    """Each test starts on an unmigrated `app` database, and leaves one: these tests migrate
    it, and other suites' tests (the doctor's pending migrations) need it as deploy-env found
    it, whatever the order."""
    empty_app_database(standin, certs)
    yield
    empty_app_database(standin, certs)


def compose_rds(env_file, *args, env=None, standin=True):
    """The stack with the RDS override. This test's override (standin=True) puts migrate and
    app on the host network so that "localhost", the name the stand-in's certificate carries,
    reaches it. AWS credentials come only from `env` (a profile), never from this process."""
    files = ["docker-compose.yml", "docker/compose.rds.yml"]
    files += ["tests/stack/compose.standin.yml"] if standin else []
    command = ["docker", "compose", "--env-file", ".env.example"]
    for file in files:
        command += ["-f", file]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full_env.update(
        {
            "RDS_ENV_FILE": str(env_file),
            "RDS_CERTS_DIR": str(env_file.parent / ".certs"),
            **(env or {}),
        }
    )
    full_env.setdefault("COMPOSE_PROJECT_NAME", f"rds-{secrets.token_hex(3)}")
    full_env["APP_IMAGE"] = "flask-rds-starter-app:rds-e2e"
    full_env["MIGRATE_IMAGE"] = "flask-rds-starter-migrate:rds-e2e"
    return subprocess.run(
        [*command, *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=900
    )


def test_migrate_through_the_override_shows_sql_then_applies_once_confirmed(
    standin, certs, deployed, users, aws_profile
):
    env_file, _ = deployed
    project = {"COMPOSE_PROJECT_NAME": f"rds-{secrets.token_hex(3)}", **aws_profile}
    try:
        unconfirmed = compose_rds(env_file, "run", "--rm", "--build", "migrate", env=project)
        output = unconfirmed.stdout + unconfirmed.stderr
        assert unconfirmed.returncode == 3, output
        assert "CREATE TABLE items" in output
        assert "not applied" in output and "CONFIRM=yes" in output

        confirmed = compose_rds(
            env_file, "run", "--rm", "migrate", env={**project, "CONFIRM": "yes"}
        )
        output += confirmed.stdout + confirmed.stderr
        assert confirmed.returncode == 0, output
        assert f"Running upgrade {revisions()[-2]} -> {head()}" in output
        for password in passwords(users):
            assert password not in output
    finally:
        compose_rds(env_file, "down", "--remove-orphans", env=project)
    out: list[str] = []
    passed = doctor.run(target(standin, certs), out.append)
    out = "\n".join(out)
    assert passed, out
    assert f"at head ({head()})" in out
    assert "require_secure_transport" in out
    admin = target(standin, certs).connect(database="app")
    with admin as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.tables "
            "WHERE table_schema = 'app' AND table_name = 'items'"
        )
        assert cursor.fetchone()[0] == 1


def test_containers_read_the_secrets_with_a_profile_over_the_bridge(deployed, users, aws_profile):
    """The RDS override as a developer runs it: a bridge network, their ~/.aws (mode 0600, not
    the image user's) mounted, the container running as its owner; moto on this machine."""
    env_file, _ = deployed
    code = (
        "import boto3, json, os; s = boto3.client('secretsmanager');"
        "v = s.get_secret_value(SecretId='flask-rds-starter/localhost/app/app');"
        "print('user', json.loads(v['SecretString'])['username'], 'uid', os.getuid())"
    )
    project = {
        "COMPOSE_PROJECT_NAME": f"rds-{secrets.token_hex(3)}",
        **aws_profile,
        "AWS_PROFILE": "bridge",
    }
    try:
        result = compose_rds(
            env_file,
            "run",
            "--rm",
            "--build",
            "migrate",
            "python",
            "-c",
            code,
            env=project,
            standin=False,
        )
    finally:
        compose_rds(env_file, "down", "--remove-orphans", env=project, standin=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"user app uid {aws_profile['AWS_UID']}" in result.stdout


def rotate(secretsmanager, arn: str, server: Target, new_password: str) -> None:
    """Secrets Manager's rotation, step by step: the new password goes into AWSPENDING
    (createSecret), onto the server (setSecret), is tested for 5 s (testSecret), then becomes
    AWSCURRENT (finishSecret); between the second and the last step the server refuses what
    AWSCURRENT holds."""
    current = json.loads(secretsmanager.get_secret_value(SecretId=arn)["SecretString"])
    pending = secretsmanager.put_secret_value(
        SecretId=arn,
        SecretString=json.dumps({**current, "password": new_password}),
        VersionStages=["AWSPENDING"],
    )["VersionId"]
    with server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("ALTER USER 'app'@'%%' IDENTIFIED BY %s", (new_password,))
    time.sleep(5)  # the window of the scenario, not a wait for something
    stages = secretsmanager.describe_secret(SecretId=arn)["VersionIdsToStages"]
    old = next(v for v, labels in stages.items() if "AWSCURRENT" in labels)
    secretsmanager.update_secret_version_stage(
        SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=pending, RemoveFromVersionId=old
    )


def test_the_stack_rides_out_a_password_rotation_under_load(
    standin, certs, deployed, users, aws_module, aws_profile
):
    """A rotation (rotate() above) while requests run. The app recycles its connections every
    3 s (tests/stack/compose.standin.yml), so new connections meet each step. Every request
    from before the change until 30 s after must succeed, with no restart of the container or
    of any gunicorn process."""
    env_file, _ = deployed
    port = free_port()
    project = {
        "COMPOSE_PROJECT_NAME": f"rds-{secrets.token_hex(3)}",
        **aws_profile,
        "STANDIN_APP_PORT": str(port),
        "CONFIRM": "yes",
    }
    new_password = "rotated-" + secrets.token_hex(12)
    try:
        up = compose_rds(env_file, "up", "--build", "--detach", "--wait", env=project)
        assert up.returncode == 0, up.stdout + up.stderr
        app = compose_rds(env_file, "ps", "-q", "app", env=project).stdout.strip()
        at_start = lifetime(app)
        with Load(f"http://127.0.0.1:{port}/api/items", threads=3, limit=150) as load:
            # Each worker's first connection reads the secret and makes a TLS session: on 2
            # busy cores that can take seconds, so wait for answers rather than for a time.
            eventually(lambda: len(load.answers) > 10, timeout=60, every=0.1)
            changed = time.monotonic()
            rotate(
                aws_module.client("secretsmanager"),
                users["app"]["ARN"],
                target(standin, certs),
                new_password,
            )
            eventually(lambda: bool(load.since(changed + 30)), timeout=60, every=0.1)
        at_end = lifetime(app)
        logs = compose_rds(env_file, "logs", "--no-color", env=project)
    finally:
        compose_rds(env_file, "down", "--remove-orphans", env=project)
    failed = [a for a in load.answers if not a.ok]
    assert len(load.since(changed)) > 100 and load.since(changed + 30), len(load.answers)
    assert not failed, f"{len(failed)} of {len(load.answers)} failed: {failed[:5]}"
    # No restart: the same container start, no restart counted, the same master and workers.
    assert len(at_start[2]) >= 2 and at_end == at_start, (at_start, at_end)
    assert "reading it again" in logs.stdout  # the refusals happened, and were ridden out
    for password in [*passwords(users), new_password]:
        assert password not in logs.stdout + logs.stderr
        assert password not in env_file.read_text()


def test_a_profile_that_cannot_log_in_in_a_container_is_503_and_one_error_line(
    standin, deployed, aws_profile
):
    """A credential_process helper on the host cannot run in the containers: migrate's output
    has one error line (no traceback, no second error), and the app answers every request
    503 with Retry-After, never 500 or 200."""
    env_file, _ = deployed
    port = free_port()
    project = {
        "COMPOSE_PROJECT_NAME": f"rds-{secrets.token_hex(3)}",
        **aws_profile,
        "AWS_PROFILE": "vaulted",
        "STANDIN_APP_PORT": str(port),
        "CONFIRM": "yes",
    }
    try:
        migrate = compose_rds(env_file, "run", "--rm", "--build", "migrate", env=project)
        said = [
            line
            for line in (migrate.stdout + migrate.stderr).splitlines()
            if "Error" in line or "Traceback" in line or "fix:" in line
        ]
        assert migrate.returncode != 0
        assert len(said) == 1, said
        assert "login failed" in said[0] and "export-credentials" in said[0]
        up = compose_rds(env_file, "up", "--detach", "--wait", "--no-deps", "app", env=project)
        assert up.returncode == 0, up.stdout + up.stderr
        statuses = {}
        for path in ("/api/items", "/api/items/1", "/readyz"):
            answer = requests.get(f"http://127.0.0.1:{port}{path}", timeout=30)
            statuses[path] = (answer.status_code, answer.headers.get("Retry-After"))
        assert set(statuses.values()) == {(503, "1")}, statuses
        logs = compose_rds(env_file, "logs", "--no-color", "app", env=project).stdout
        assert "Traceback" not in logs and "login failed" in logs
    finally:
        compose_rds(env_file, "down", "--remove-orphans", env=project)


def app_connections(standin, certs) -> int:
    sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app'"
    with root_target(standin, certs).connect() as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


def test_an_idle_stack_lets_the_database_pause_and_rides_out_its_resume(
    standin, certs, deployed, aws_profile
):
    """Aurora Serverless v2 pauses only with no connection open, and resumes on the next one,
    holding it about 15 s (tests/support/pause.py stands in for it before the stand-in). The
    idle app holds no connection after DB_IDLE_CLOSE; while the database resumes, requests
    answer 503 with Retry-After (the greeting is awaited DB_CONNECT_TIMEOUT seconds), none
    500 and no worker restarts; within 10 s of the database answering, all are 2xx. The
    reader endpoint, as deploy-env writes it for Aurora, leads through the same pause."""
    env_file, _ = deployed
    proxy = PausingProxy(standin)
    paused = env_file.parent / ".env.paused"  # beside it: the same .certs/
    host = dotenv_values(env_file)["DB_HOST"]
    paused.write_text(
        env_file.read_text().replace(f"DB_PORT='{standin}'", f"DB_PORT='{proxy.port}'")
        + f"DB_IDLE_CLOSE='2'\nDB_READER_HOST='{host}'\nDB_READER_PORT='{proxy.port}'\n"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/items"
    project = {
        "COMPOSE_PROJECT_NAME": f"rds-{secrets.token_hex(3)}",
        **aws_profile,
        "STANDIN_APP_PORT": str(port),
        "CONFIRM": "yes",
    }
    try:
        up = compose_rds(paused, "up", "--build", "--detach", "--wait", env=project)
        assert up.returncode == 0, up.stdout + up.stderr
        app = compose_rds(paused, "ps", "-q", "app", env=project).stdout.strip()
        at_start = lifetime(app)
        assert requests.get(url, timeout=30).status_code == 200
        ready = requests.get(url.replace("/api/items", "/readyz"), timeout=30).json()
        assert "reader" in ready, ready  # the reader is configured, and checked
        assert eventually(lambda: app_connections(standin, certs) == 0, timeout=30)  # idle
        proxy.pause(15)

        def ten_seconds_after_the_resume() -> bool:
            return proxy.resumed_at is not None and len(load.since(proxy.resumed_at + 10)) > 20

        with Load(url, threads=3, limit=120) as load:
            assert eventually(ten_seconds_after_the_resume, timeout=90)
        at_end = lifetime(app)
    finally:
        compose_rds(paused, "down", "--remove-orphans", env=project)
        proxy.close()
    statuses = {a.status for a in load.answers}
    assert statuses == {200, 503}, statuses  # the resume was felt, and nothing else
    assert {a.retry_after for a in load.answers if a.status == 503} == {"1"}
    assert all(a.ok for a in load.since(proxy.resumed_at + 10))
    assert at_end == at_start  # no worker restarted
