"""`rdsctl rds-allow-my-ip` and `rds-revoke-my-ip` (rdsctl/rules.py) against moto: one address
a rule, in the group rds-create made only, found again by this machine's id."""

import http.server
import threading
from datetime import UTC, datetime, timedelta

import click
import pytest

from rdsctl import rules
from tests.support.rds import create, describe, inbound


@pytest.fixture
def instance(aws_env, cli, sent):
    """An instance with IPv4 and IPv6 addresses (RDS_NETWORK_TYPE=DUAL)."""
    name = f"net-db-{len(aws_env.client('rds').describe_db_instances()['DBInstances'])}"
    assert create(cli, name, RDS_NETWORK_TYPE="DUAL").exit_code == 0
    return name


def test_allow_refuses_a_group_rds_create_did_not_make(aws_env, cli, sent):
    ec2 = aws_env.client("ec2")
    default = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"
    ]
    result = create(cli, "shared-sg-db", RDS_SECURITY_GROUP_IDS=default[0]["GroupId"])
    assert result.exit_code == 0, result.output
    before = inbound(aws_env, "shared-sg-db")
    allow = cli.invoke(["rds-allow-my-ip", "--instance", "shared-sg-db", "--ip", "203.0.113.7"])
    assert allow.exit_code == 1
    assert "opens no group it did not make" in allow.output
    assert inbound(aws_env, "shared-sg-db") == before


def test_an_ipv6_rule_for_an_ipv4_only_instance_is_refused(aws_env, cli, sent):
    assert create(cli, "v4-db").exit_code == 0
    result = cli.invoke(["rds-allow-my-ip", "--instance", "v4-db", "--ip", "2001:db8::7"])
    assert result.exit_code == 1
    assert "IPv4 addresses only" in result.output and "MY_IP=" in result.output
    assert inbound(aws_env, "v4-db") == []


def test_allowing_the_same_address_again_is_not_an_error(aws_env, cli, instance):
    for _ in range(2):
        result = cli.invoke(["rds-allow-my-ip", "--instance", instance, "--ip", "203.0.113.8"])
        assert result.exit_code == 0, result.output
    assert "allowed already" in result.output
    assert len(inbound(aws_env, instance)) == 1


def test_allow_and_revoke_an_ipv4_address(aws_env, cli, instance):
    result = cli.invoke(["rds-allow-my-ip", "--instance", instance, "--ip", "203.0.113.7"])
    assert result.exit_code == 0, result.output
    [rule] = inbound(aws_env, instance)
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 3306, 3306)
    [ip_range] = rule["IpRanges"]
    assert ip_range["CidrIp"] == "203.0.113.7/32"
    assert ip_range["Description"].startswith(f"flask-rds-starter: {rules.machine_id()} ")
    revoked = cli.invoke(["rds-revoke-my-ip", "--instance", instance])
    assert revoked.exit_code == 0, revoked.output
    assert inbound(aws_env, instance) == []


@pytest.mark.parametrize("force", [False, True])
def test_an_ipv6_address_is_one_address_forced_or_not(aws_env, cli, instance, force):
    args = ["rds-allow-my-ip", "--instance", instance, "--ip", "2001:db8::7"]
    result = cli.invoke(args + (["--force"] if force else []))
    assert result.exit_code == 0, result.output
    [rule] = inbound(aws_env, instance)
    assert [r["CidrIpv6"] for r in rule["Ipv6Ranges"]] == ["2001:db8::7/128"]


def test_an_address_with_a_prefix_is_not_widened(aws_env, cli, instance):
    result = cli.invoke(
        ["rds-allow-my-ip", "--instance", instance, "--ip", "2001:db8::7/32", "--force"]
    )
    assert result.exit_code == 1
    assert "an address with a prefix, not a network" in result.output
    assert inbound(aws_env, instance) == []


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", "203.0.113.0/24", "2001:db8::/64"])
def test_wide_networks_are_refused_unless_forced_and_then_exactly(aws_env, cli, instance, cidr):
    result = cli.invoke(["rds-allow-my-ip", "--instance", instance, "--ip", cidr])
    assert result.exit_code == 1
    assert f"refusing {cidr}" in result.output and "FORCE=1" in result.output
    assert inbound(aws_env, instance) == []
    forced = cli.invoke(["rds-allow-my-ip", "--instance", instance, "--ip", cidr, "--force"])
    assert forced.exit_code == 0, forced.output
    [rule] = inbound(aws_env, instance)
    ranges = [r.get("CidrIp") or r.get("CidrIpv6") for r in rule["IpRanges"] + rule["Ipv6Ranges"]]
    assert ranges == [cidr]


def test_revoke_finds_a_rule_added_from_an_earlier_address(aws_env, cli, instance):
    for address in ("203.0.113.7", "198.51.100.20"):  # the laptop moved between the two
        assert (
            cli.invoke(["rds-allow-my-ip", "--instance", instance, "--ip", address]).exit_code == 0
        )
    result = cli.invoke(["rds-revoke-my-ip", "--instance", instance], env={"MY_IP": ""})
    assert result.exit_code == 0, result.output
    assert "203.0.113.7/32" in result.output and "198.51.100.20/32" in result.output
    assert inbound(aws_env, instance) == []


def test_bad_address_is_refused(cli):
    with pytest.raises(click.ClickException, match="'not-an-ip' is not an IP address"):
        rules.one_address("not-an-ip", force=False)


def test_the_lookup_asks_for_my_ip_when_a_proxy_is_set(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    with pytest.raises(click.ClickException, match="HTTPS_PROXY is set") as refused:
        rules.lookup_address()
    assert "MY_IP=" in refused.value.message


def test_the_lookup_names_the_service_that_answered(monkeypatch):
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"2001:db8::42\n")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    monkeypatch.setattr(rules, "ADDRESS_SERVICES", ["http://127.0.0.1:9/", url])
    for name in rules.PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    try:
        assert rules.lookup_address() == ("2001:db8::42", url)
    finally:
        server.shutdown()


def test_a_rule_is_found_again_after_the_host_name_changed(aws_env, cli, instance, monkeypatch):
    """A laptop's host name follows the network it joins; the machine's id does not."""
    monkeypatch.setattr(rules.socket, "gethostname", lambda: "laptop-at-home")
    assert (
        cli.invoke(["rds-allow-my-ip", "--instance", instance, "--ip", "203.0.113.7"]).exit_code
        == 0
    )
    monkeypatch.setattr(rules.socket, "gethostname", lambda: "laptop-at-the-office")
    revoked = cli.invoke(["rds-revoke-my-ip", "--instance", instance], env={"MY_IP": ""})
    assert revoked.exit_code == 0, revoked.output
    assert "removed 203.0.113.7/32" in revoked.output
    assert inbound(aws_env, instance) == []


def test_a_rule_may_expire_and_rds_allow_my_ip_sweeps_expired_ones(aws_env, cli, instance):
    ec2 = aws_env.client("ec2")
    group = rules.our_group_of(ec2, describe(aws_env, instance))["GroupId"]
    for cidr, description in [
        ("198.51.100.1/32", "flask-rds-starter: m-0ther bob@box 2026-01-01 until 2026-01-08"),
        ("198.51.100.2/32", "flask-rds-starter: m-0ther bob@box 2026-01-01"),
    ]:
        ec2.authorize_security_group_ingress(
            GroupId=group, IpPermissions=[rules.permission(3306, cidr, description)]
        )
    result = cli.invoke(
        ["rds-allow-my-ip", "--instance", instance, "--ip", "203.0.113.7"],
        env={"RDS_RULE_DAYS": "7"},
    )
    assert result.exit_code == 0, result.output
    assert "removed the expired rule 198.51.100.1/32" in result.output
    left = {
        r["CidrIp"]: r.get("Description", "")
        for p in inbound(aws_env, instance)
        for r in p["IpRanges"]
    }
    assert set(left) == {"198.51.100.2/32", "203.0.113.7/32"}  # no expiry: kept
    until = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    assert left["203.0.113.7/32"].endswith(f" until {until}")
