"""Database servers for the test suite: MySQL in a container, an existing server, or SQLite.

Every run works in databases of its own (test_<random>), created and dropped here, so that
TEST_DATABASE_URL can name a shared server without its data being touched.
"""

import inspect
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


def settings_for(url: URL | str, **changes: Any) -> Settings:
    """Settings for a test: the defaults and `changes`, nothing from the environment or .env."""
    if isinstance(url, URL):
        url = url.render_as_string(hide_password=False)
    return Settings().replace(testing=True, database_url=url, **changes)


def migrate_database(url) -> None:
    """Build the schema the way production does: by running the migrations."""
    app = create_app(settings_for(url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


class DatabaseServer:
    """A server on which databases can be created and dropped."""

    def __init__(self, admin_url: URL | None, description: str, container=None):
        self.admin_url = admin_url  # None for SQLite
        self.description = description
        self.container = container
        self._sqlite_dir = None if admin_url else Path(tempfile.mkdtemp(prefix="tests-sqlite-"))

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
        """SQLite only: a private copy of a database, for a test that may commit."""
        copy = tmp_path / "test.db"
        shutil.copyfile(url.database, copy)
        return make_url(f"sqlite:///{copy}")

    @property
    def version(self) -> str:
        return self.server_variable("version") if self.is_mysql else sqlite3.sqlite_version

    def server_variable(self, name: str) -> str:
        return self.run_admin(f"SELECT @@{name}")

    def stop(self) -> None:
        if self.container is not None:
            self.container.stop()
        if self._sqlite_dir:
            shutil.rmtree(self._sqlite_dir, ignore_errors=True)

    def run_admin(self, statement: str):
        """Run one statement as the server's admin user; return its single value, if any."""
        engine = sa.create_engine(self.admin_url, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as connection:
                result = connection.execute(sa.text(statement))
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()


def require_docker(*images: str) -> None:
    """Skip the calling module without Docker, or when Docker cannot provide `images` (no
    registry, say); REQUIRE_DOCKER=1 makes either a failure, in one line."""
    problem = "no Docker engine answers" if not docker_available() else missing_image(*images)
    if problem is None:
        return
    if os.environ.get("REQUIRE_DOCKER") == "1":
        pytest.exit(f"REQUIRE_DOCKER=1, but {problem}", returncode=1)
    caller = inspect.stack()[1].frame.f_globals.get("__name__", "")  # the test module
    reason = f"{caller.rsplit('.', 1)[-1]}: {problem} (REQUIRE_DOCKER=1 makes this fail)"
    pytest.skip(reason, allow_module_level=True)


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
            return start_container()
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


def start_container() -> DatabaseServer:
    import docker
    from testcontainers.community.mysql import MySqlContainer

    image = os.environ.get("MYSQL_IMAGE", DEFAULT_MYSQL_IMAGE)
    problem = missing_image(image)
    if problem:
        raise ContainerUnavailable(problem)
    container = MySqlContainer(image, dialect="pymysql", username="root", password="test-root")
    # The data directory in memory: nothing a test writes needs to survive the run.
    container.with_tmpfs_mount("/var/lib/mysql")
    if "mariadb" in image:
        container.with_volume_mapping(str(ROOT / "docker/mariadb/conf.d"), "/etc/mysql/conf.d")
    else:
        container.with_volume_mapping(str(ROOT / "docker/mysql/conf.d"), "/etc/mysql/conf.d")
    try:
        container.start()
    except docker.errors.DockerException as exc:  # Ryuk's image, most often, on a closed network
        reason = reason_of(exc)
        raise ContainerUnavailable(
            f"Docker could not start the MySQL container ({reason}): without a registry set "
            "TESTCONTAINERS_RYUK_DISABLED=true, and MYSQL_IMAGE to an image Docker has"
        ) from None
    admin = make_url(container.get_connection_url()).set(database=None)
    return DatabaseServer(admin, f"{image} (testcontainers)", container)
