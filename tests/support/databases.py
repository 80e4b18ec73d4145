"""Database servers for the test suite: an existing server, MySQL in a kept container, or SQLite.

Every run works in databases of its own (test_<random>), created and dropped here, so that
TEST_DATABASE_URL can name a shared server without its data being touched.

The MySQL container outlives the run: the next run finds it again by its label and skips the
cold start (about 7 s). testcontainers starts it, with its reaper (Ryuk) kept away from this
one container, which would otherwise remove it when the run ends; `make test-db-stop` does.
"""

import hashlib
import os
import secrets
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from app import create_app
from app.extensions import db
from app.settings import Settings
from harness.stack import ROOT, docker_available

DEFAULT_MYSQL_IMAGE = "mysql:8.4"
KEPT = "flask-rds-starter.test-db"  # the label the suite finds its container by
ROOT_PASSWORD = "test-root"  # noqa: S105 - a local throwaway server, published on 127.0.0.1


def settings_for(url: URL | str, **changes: Any) -> Settings:
    """Settings for a test: the defaults and `changes`, nothing from the environment or .env.
    No TLS to the test server: a handshake costs about 28 ms, as much as several tests; the
    Compose stack's tests and the RDS stand-in's test TLS. Idle connections are not closed
    (DB_IDLE_CLOSE 0) unless a test asks: a closer thread would outlive each test's app."""
    if isinstance(url, URL):
        url = url.render_as_string(hide_password=False)
    defaults = {"db_tls": "disabled", "db_idle_close": 0}  # no closer thread left per test app
    return Settings().replace(testing=True, database_url=url, **{**defaults, **changes})


def table_names(url: URL | str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def migrate_database(url: URL | str) -> None:
    """Build the schema the way production does: by running the migrations."""
    app = create_app(settings_for(url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


class DatabaseServer:
    """A server on which databases can be created and dropped."""

    def __init__(self, admin_url: URL | None, description: str, container: Any = None):
        self.admin_url = admin_url  # None for SQLite
        self.description = description
        self.container = container  # stopped at the end of the run, unless kept
        self._sqlite_dir = None if admin_url else Path(tempfile.mkdtemp(prefix="tests-sqlite-"))
        self._admin = (
            sa.create_engine(admin_url, isolation_level="AUTOCOMMIT") if admin_url else None
        )

    @property
    def is_mysql(self) -> bool:
        return self.admin_url is not None

    def create_database(self) -> URL:
        name = f"test_{secrets.token_hex(4)}"
        if not self.is_mysql:
            return make_url(f"sqlite:///{self._sqlite_dir / name}.db")
        self.run_admin(f"CREATE DATABASE `{name}`")
        return self.admin_url.set(database=name)

    def drop_database(self, url: URL) -> None:
        if self.is_mysql:
            self.run_admin(f"DROP DATABASE IF EXISTS `{url.database}`")
        else:
            Path(url.database).unlink(missing_ok=True)

    def copy_database(self, url: URL, tmp_path: Path) -> URL:
        """SQLite only: a private copy of a database, for one test."""
        copy = tmp_path / "test.db"
        shutil.copyfile(url.database, copy)
        return make_url(f"sqlite:///{copy}")

    def empty_tables(self, url: URL, tables: list[str]) -> None:
        """MySQL: delete every row a test left in `tables` (children first)."""
        with self._admin.connect() as connection:
            for table in tables:
                connection.exec_driver_sql(f"DELETE FROM `{url.database}`.`{table}`")

    @property
    def version(self) -> str:
        return self.server_variable("version") if self.is_mysql else sqlite3.sqlite_version

    def server_variable(self, name: str) -> str:
        return self.run_admin(f"SELECT @@{name}")

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.dispose()
        if self.container is not None:
            self.container.stop()
        if self._sqlite_dir:
            shutil.rmtree(self._sqlite_dir, ignore_errors=True)

    def run_admin(self, statement: str) -> Any:
        """Run one statement as the server's admin user; return its single value, if any."""
        with self._admin.connect() as connection:
            result = connection.exec_driver_sql(statement)
            return result.scalar() if result.returns_rows else None


def require_docker(*images: str) -> None:
    """Skip the calling test without Docker, or when Docker cannot provide `images` (no
    registry, say); REQUIRE_DOCKER=1 makes either a failure of the run, in one line.
    Called from the fixtures that need Docker, never at import."""
    problem = "no Docker engine answers" if not docker_available() else missing_image(*images)
    if problem is None:
        return
    if os.environ.get("REQUIRE_DOCKER") == "1":
        pytest.exit(f"REQUIRE_DOCKER=1, but {problem}", returncode=1)
    pytest.skip(f"{problem} (REQUIRE_DOCKER=1 makes this fail)")


def missing_image(*images: str) -> str | None:
    """None when Docker has every image or can pull it; else why not, naming the fix."""
    import docker

    client = docker.from_env(timeout=120)
    for image in images:
        try:
            client.images.get(image)
            continue
        except docker.errors.ImageNotFound:
            pass
        try:
            client.images.pull(image)
        except docker.errors.DockerException as exc:
            reason = reason_of(exc)
            return (
                f"Docker cannot provide {image} ({reason}): set MYSQL_IMAGE to an image it has "
                "or a mirror's (the Dockerfile's base: the engine's registry mirror, README), or "
                "TEST_DATABASE_URL to a MySQL server"
            )
    return None


def reason_of(exc: Exception) -> str:
    """Docker's own words, short: an APIError's explanation, not its request URL."""
    text = str(getattr(exc, "explanation", None) or exc)
    return text.splitlines()[0][:140]


def start_server() -> DatabaseServer:
    """TEST_DATABASE_URL if set; else MySQL in a container when Docker answers; else SQLite."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        admin = make_url(url)
        return DatabaseServer(admin.set(database=admin.database or None), "TEST_DATABASE_URL")
    if not docker_available():
        problem = "no Docker engine answers: start Docker (testcontainers runs MySQL in it)"
    else:
        try:
            return kept_container()
        except ContainerUnavailable as exc:
            problem = str(exc)
    if os.environ.get("REQUIRE_MYSQL") == "1":
        pytest.exit(
            f"REQUIRE_MYSQL=1, but {problem}; or set "
            "TEST_DATABASE_URL=mysql+pymysql://user:password@host:3306/",
            returncode=1,
        )
    return DatabaseServer(None, f"SQLite, because {problem} (REQUIRE_MYSQL=1 refuses this)")


class ContainerUnavailable(Exception):
    """Docker answers but cannot run the MySQL container; the message names the fix."""


def server_files(image: str) -> Path:
    """The server settings the Compose db starts with: MySQL's rds.cnf, or MariaDB's."""
    return ROOT / ("docker/mariadb/conf.d" if "mariadb" in image else "docker/mysql/conf.d")


def fingerprint(image: str, conf: Path) -> str:
    """What the container was started from: a change to either starts a new one."""
    digest = hashlib.sha256(image.encode())
    for path in sorted(conf.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def kept_container() -> DatabaseServer:
    """The suite's MySQL container: the one an earlier run left, else a new one."""
    import docker
    from testcontainers.core.docker_client import DockerClient

    image = os.environ.get("MYSQL_IMAGE", DEFAULT_MYSQL_IMAGE)
    conf = server_files(image)
    key = fingerprint(image, conf)
    client = docker.from_env()
    for found in client.containers.list(all=True, filters={"label": KEPT}):
        if found.labels.get(KEPT) == key and found.status == "running":
            port = DockerClient().port(found.id, 3306)
            admin = URL.create("mysql+pymysql", "root", ROOT_PASSWORD, DockerClient().host(), port)
            return DatabaseServer(admin, f"{image} (kept container {found.name}, reused)")
        if found.labels.get(f"{KEPT}.image") == image:  # started from other settings: stale
            found.remove(force=True)
    problem = missing_image(image)
    if problem:
        raise ContainerUnavailable(problem)
    container = start_container(image, conf, key)
    admin = make_url(container.get_connection_url()).set(database=None)
    name = container.get_wrapped_container().name
    return DatabaseServer(
        admin, f"{image} (kept container {name}, started now: later runs reuse it)"
    )


def start_container(image: str, conf: Path, key: str) -> Any:
    import docker
    from testcontainers.community.mysql import MySqlContainer
    from testcontainers.core.config import testcontainers_config

    container = MySqlContainer(image, dialect="pymysql", username="root", password=ROOT_PASSWORD)
    container.with_name(f"flask-rds-starter-test-db-{key}")
    container.with_kwargs(labels={KEPT: key, f"{KEPT}.image": image})
    container.with_tmpfs_mount("/var/lib/mysql")  # nothing a test writes needs to survive
    container.with_volume_mapping(str(conf), "/etc/mysql/conf.d")
    reaper_was_off = testcontainers_config.ryuk_disabled
    testcontainers_config.ryuk_disabled = True  # Ryuk would remove it when this run ends
    try:
        container.start()
    except docker.errors.DockerException as exc:
        raise ContainerUnavailable(
            f"Docker could not start the MySQL container ({reason_of(exc)}): set MYSQL_IMAGE "
            "to an image Docker has, or TEST_DATABASE_URL to a MySQL server"
        ) from None
    finally:
        testcontainers_config.ryuk_disabled = reaper_was_off
    return container
