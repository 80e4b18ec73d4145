"""rdsctl/settings.py: the operator's settings, each default written once and documented in
.env.example, a bad value named in one line."""

import pytest
from dotenv import dotenv_values

from app.env import ConfigError, documented_names
from harness.stack import ROOT
from rdsctl.settings import DEFAULT_INSTANCE, OperatorSettings


def test_every_operator_setting_is_documented_with_its_default():
    documented = {k: v for k, v in dotenv_values(ROOT / ".env.example").items() if v}
    read = {name.upper() for name in OperatorSettings.model_fields}
    assert read - documented_names() == set()
    shared = {k: v for k, v in documented.items() if k.lower() in OperatorSettings.model_fields}
    assert OperatorSettings.from_env(shared) == OperatorSettings()


def test_the_instance_name_has_one_default():
    assert OperatorSettings.from_env({}).instance_name == DEFAULT_INSTANCE
    assert OperatorSettings.from_env({}).rds_instance is None  # make migrate's snapshot asks
    assert OperatorSettings.from_env({"RDS_INSTANCE": "mine"}).instance_name == "mine"


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("MIGRATE_MODE", "later", "one of apply, reviewed"),
        ("RDS_NETWORK_TYPE", "IPV6", "one of IPV4, DUAL"),
        ("RDS_STORAGE_GB", "10", "a whole number from 20 to 65536"),
        ("CONFIRM", "sure", "1 or 0"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(name, value, says):
    with pytest.raises(ConfigError, match=f"^{name}='{value}': must be {says}$"):
        OperatorSettings.from_env({name: value})
