"""The operator tools keep a machine id in the user's config folder (rdsctl/rules.py): here, a
folder of the run's own, never the developer's."""

import pytest


@pytest.fixture(autouse=True)
def _config_folder(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))
