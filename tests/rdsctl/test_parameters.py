"""rdsctl/parameters.py: the parameter group generated from docker/mysql/conf.d/rds.cnf."""

from rdsctl import parameters
from tests.support.rds import create


def test_every_local_setting_is_in_the_group_or_managed_by_rds_with_a_reason():
    local = parameters.local_settings()
    group = parameters.group_parameters(require_tls=True)
    for name in local:
        in_group = parameters.RENAMED.get(name, name) in group
        explained = parameters.RDS_MANAGED.get(name) or parameters.SELECTABLE.get(name)
        assert in_group or explained, f"{name}: neither in the group nor explained"
        assert not (in_group and name in parameters.RDS_MANAGED), name
    renamed = {parameters.RENAMED.get(name, name) for name in local}
    assert set(group) <= renamed  # nothing in the group that the local server does not set
    assert group["time_zone"] == "UTC" and group["sql_mode"] == local["sql_mode"]
    assert parameters.group_parameters(require_tls=False)["require_secure_transport"] == "0"


def test_the_group_carries_the_local_values(aws_env, cli, sent):
    assert create(cli, "mirror-db", RDS_REQUIRE_TLS="0").exit_code == 0
    [modified] = [
        p
        for p in sent["rds"]
        if p.get("DBParameterGroupName") == "mirror-db-params" and "Parameters" in p
    ]
    values = {p["ParameterName"]: p["ParameterValue"] for p in modified["Parameters"]}
    assert values == parameters.group_parameters(require_tls=False)


def test_max_connections_follows_the_class_on_rds_and_its_formula_locally():
    assert "max_connections" not in parameters.group_parameters(require_tls=True)
    assert "max_connections" in parameters.RDS_MANAGED
    local = int(parameters.local_settings()["max_connections"])
    assert local == parameters.max_connections(parameters.MIRRORED_CLASS_MEMORY)
    assert parameters.max_connections(16 * 2**30) > 10 * local  # a larger class: more
