"""moto's AWS stand-in in server mode, and the operator tools run in this process against it.

Registered as fixtures by tests/conftest.py (pytest_plugins); moto is imported only by a test
that asks for it.
"""

import pytest
from click.testing import CliRunner

from harness.stack import free_port

MOTO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
}


@pytest.fixture(scope="session")
def moto_server():
    """moto's server. It listens on every interface so that containers on a bridge network
    reach it through host.docker.internal (tests/stack); tests here use 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="0.0.0.0", port=port, verbose=False)  # noqa: S104
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def point_at_moto(patch: pytest.MonkeyPatch, moto_url: str):
    """boto3, pointed at moto with throwaway credentials (never at AWS)."""
    for name, value in {"AWS_ENDPOINT_URL": moto_url, **MOTO_ENV}.items():
        patch.setenv(name, value)
    patch.delenv("AWS_PROFILE", raising=False)
    import boto3

    return boto3


@pytest.fixture
def aws_env(moto_server, monkeypatch):
    """boto3 against moto, for one test."""
    return point_at_moto(monkeypatch, moto_server)


@pytest.fixture(scope="module")
def aws_module(moto_server):
    """boto3 against moto, for a whole module."""
    with pytest.MonkeyPatch.context() as patch:
        yield point_at_moto(patch, moto_server)


class Tool:
    """rdsctl run in this process, as `python -m rdsctl` would run it."""

    def invoke(self, args, env=None):
        from rdsctl.cli import rdsctl

        return CliRunner().invoke(rdsctl, args, env={"MYSQL_PORT": "1", **(env or {})})


@pytest.fixture
def cli():
    return Tool()


@pytest.fixture
def sent(aws_env, monkeypatch) -> dict:
    """The parameters of every call the commands make, by service; the version calls moto
    lacks are answered from tests/support/canned.py."""
    from tests.support import canned

    return canned.install(monkeypatch)
