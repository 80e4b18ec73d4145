"""The stack pointed at RDS (docker/compose.rds.yml) against the RDS stand-in
(tests/support/standin.py): migrate shows its SQL and asks, the containers read the secrets
with a developer's profile, and the app rides out a password rotation under load.
"""

import json
import os
import secrets
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

from harness.stack import ROOT, eventually, free_port
from rdsctl import doctor
from tests.support.standin import passwords, target


@pytest.fixture(scope="module")
def aws_profile(moto_server, tmp_path_factory) -> dict[str, str]:
    """A throwaway ~/.aws, private to a user that is not the image's (uid 4242 when run as
    root), with two profiles: `standin` reaches moto on 127.0.0.1 (host network), `bridge`
    through host.docker.internal (a bridge network, as the RDS override runs)."""
    port = moto_server.rsplit(":", 1)[1]
    home = tmp_path_factory.mktemp("aws-home") / ".aws"
    home.mkdir()
    (home / "config").write_text(
        f"[profile standin]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:{port}\n\n"
        f"[profile bridge]\nregion = eu-west-1\nendpoint_url = http://host.docker.internal:{port}\n"
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
    full_env.update({"RDS_ENV_FILE": str(env_file), **(env or {})})
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
        assert "Running upgrade 57914ccb74d9 -> 3b1f6c2d9a10" in output
        for password in passwords(users):
            assert password not in output
    finally:
        compose_rds(env_file, "down", "--remove-orphans", env=project)
    out: list[str] = []
    passed = doctor.run(target(standin, certs), out.append)
    out = "\n".join(out)
    assert passed, out
    assert "at head (3b1f6c2d9a10)" in out
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


def test_the_stack_rides_out_a_password_rotation_under_load(
    standin, certs, deployed, users, aws_module, aws_profile
):
    """Secrets Manager's rotation, step by step, while requests run: the new password goes
    into AWSPENDING, then onto the server, then becomes AWSCURRENT. The app recycles its
    connections every 3 s (tests/stack/compose.standin.yml), so new connections meet each step.
    Every request from before the change until 30 s after must succeed, with no restart."""
    env_file, _ = deployed
    port = free_port()
    project = {
        "COMPOSE_PROJECT_NAME": f"rds-{secrets.token_hex(3)}",
        **aws_profile,
        "STANDIN_APP_PORT": str(port),
        "CONFIRM": "yes",
    }
    secretsmanager = aws_module.client("secretsmanager")
    arn = users["app"]["ARN"]
    new_password = "rotated-" + secrets.token_hex(12)
    statuses: list = []
    stop = threading.Event()

    def load():
        while not stop.is_set():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/items", timeout=15) as r:
                    statuses.append(r.status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
            except OSError as exc:
                statuses.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.02)

    try:
        up = compose_rds(env_file, "up", "--build", "--detach", "--wait", env=project)
        assert up.returncode == 0, up.stdout + up.stderr
        threads = [threading.Thread(target=load) for _ in range(3)]
        for thread in threads:
            thread.start()
        # Each worker's first connection reads the secret and makes a TLS session: on 2 busy
        # cores that can take seconds, so wait for answers rather than for a fixed time.
        eventually(lambda: len(statuses) > 10, timeout=60, every=0.1)
        before = len(statuses)
        # createSecret: the new version, labelled AWSPENDING
        current = json.loads(secretsmanager.get_secret_value(SecretId=arn)["SecretString"])
        pending = secretsmanager.put_secret_value(
            SecretId=arn,
            SecretString=json.dumps({**current, "password": new_password}),
            VersionStages=["AWSPENDING"],
        )["VersionId"]
        # setSecret: the server now wants the new password; AWSCURRENT still holds the old one
        with target(standin, certs).connect() as connection, connection.cursor() as cursor:
            cursor.execute("ALTER USER 'app'@'%%' IDENTIFIED BY %s", (new_password,))
        changed = time.monotonic()
        time.sleep(5)  # testSecret
        # finishSecret: AWSCURRENT moves to the new version
        stages = secretsmanager.describe_secret(SecretId=arn)["VersionIdsToStages"]
        old = next(v for v, labels in stages.items() if "AWSCURRENT" in labels)
        secretsmanager.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=pending,
            RemoveFromVersionId=old,
        )
        time.sleep(max(0.0, changed + 30 - time.monotonic()))
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        logs = compose_rds(env_file, "logs", "--no-color", env=project)
    finally:
        stop.set()
        compose_rds(env_file, "down", "--remove-orphans", env=project)
    failed = [s for s in statuses if not (isinstance(s, int) and 200 <= s < 300)]
    assert before > 10 and len(statuses) > before + 100, (before, len(statuses))
    assert not failed, f"{len(failed)} of {len(statuses)} failed: {sorted(set(map(str, failed)))}"
    assert "reading it again" in logs.stdout  # the refusals happened, and were ridden out
    for password in [*passwords(users), new_password]:
        assert password not in logs.stdout + logs.stderr
        assert password not in env_file.read_text()
