"""Each operator-tool test runs in a folder of its own: what the tools write where they are run
(.env.rds, .certs/) lands there, never in the work tree. The machine id they keep in the user's
config folder (rdsctl/rules.py) goes to a folder of the run's own, never the developer's."""

import pytest


@pytest.fixture(autouse=True)
def _own_folders(tmp_path, tmp_path_factory, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))
