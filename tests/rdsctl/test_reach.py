"""rdsctl/reach.py: the way to the database. A TCP connection that works wins over what the
security groups seem to say; when one fails, the groups' rules explain it, address ranges,
managed prefix lists and group references alike; this machine's address is asked straight."""

import contextlib
import http.server
import ipaddress
import socket
import threading

import pytest

from harness.stack import free_port
from rdsctl import doctor, reach, rules
from rdsctl.target import Target
from tests.support.rds import make_instance

ME = ipaddress.ip_address("198.51.100.7")


def check(t: Target, **options) -> str:
    lines: list[str] = []
    doctor.run(t, lines.append, **options)
    return "\n".join(lines)


@pytest.fixture
def group(aws_env):
    """A security group whose one rule opens 3306 to 203.0.113.0/24."""
    ec2 = aws_env.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    group = ec2.create_security_group(
        GroupName=f"reach-{free_port()}", Description="test", VpcId=vpc["VpcId"]
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "IpRanges": [{"CidrIp": "203.0.113.0/24"}],
            }
        ],
    )
    return group


def on_port(certs, port: int) -> Target:
    """The app user on 127.0.0.1:`port`, verify-full against the stand-in's CA."""
    ca = str(certs / "standin-ca.pem")
    return Target("127.0.0.1", port, "app", "app", "x", "verify-full", ca, connect_timeout=1)


def closed_port(certs) -> Target:
    return on_port(certs, free_port())


def test_a_failed_connection_is_explained_by_the_security_groups(aws_env, group, certs):
    public = make_instance(
        aws_env, f"reach-public-{free_port()}", VpcSecurityGroupIds=[group], PubliclyAccessible=True
    )
    private = make_instance(
        aws_env,
        f"reach-private-{free_port()}",
        VpcSecurityGroupIds=[group],
        PubliclyAccessible=False,
    )
    out = check(closed_port(certs), instance=public, my_ip=str(ME))
    assert "FAIL  TCP connect" in out
    assert f"no security group rule covers {ME} (allowed: 203.0.113.0/24)" in out
    out = check(closed_port(certs), instance=public, my_ip="203.0.113.9")
    assert "a security group rule covers 203.0.113.9; check the route" in out
    out = check(closed_port(certs), instance=private, my_ip=str(ME))
    assert "not publicly accessible" in out and "--publicly-accessible" in out


def test_a_connection_that_works_wins_over_the_rules(aws_env, group, certs, monkeypatch):
    """A public endpoint (its address global) whose groups open nothing to this machine, and
    yet TCP connects (a VPN, a rule of a kind not read): a note, and the checks go on."""
    public = make_instance(
        aws_env, f"reach-works-{free_port()}", VpcSecurityGroupIds=[group], PubliclyAccessible=True
    )
    listening = socket.create_server(("127.0.0.1", 0))

    def hang_up() -> None:  # every connection closed at once: TCP works, MySQL does not
        with contextlib.suppress(OSError):
            while True:
                listening.accept()[0].close()

    threading.Thread(target=hang_up, daemon=True).start()
    monkeypatch.setattr(reach, "step_resolve", lambda target: ["52.95.110.1"])
    out = check(on_port(certs, listening.getsockname()[1]), instance=public, my_ip=str(ME))
    listening.close()
    assert "ok    TCP connect" in out
    assert f"note  security group   no rule read covers {ME}" in out and "yet TCP connected" in out
    assert "FAIL  security group" not in out
    assert "FAIL  TLS" in out or "FAIL  login" in out or "FAIL  connect" in out  # it went on


def test_prefix_lists_and_group_references_let_in_too(aws_env):
    ec2 = aws_env.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    office = ec2.create_managed_prefix_list(
        PrefixListName=f"office-{free_port()}",
        MaxEntries=5,
        AddressFamily="IPv4",
        Entries=[{"Cidr": "198.51.100.0/24"}],
    )["PrefixList"]["PrefixListId"]
    bastion = ec2.create_security_group(GroupName=f"b-{free_port()}", Description="b", VpcId=vpc)
    group = ec2.create_security_group(GroupName=f"g-{free_port()}", Description="g", VpcId=vpc)
    ec2.authorize_security_group_ingress(
        GroupId=group["GroupId"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "PrefixListIds": [{"PrefixListId": office}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 3306,
                "ToPort": 3306,
                "UserIdGroupPairs": [{"GroupId": bastion["GroupId"]}],
            },
        ],
    )
    public = make_instance(
        aws_env,
        f"reach-lists-{free_port()}",
        VpcSecurityGroupIds=[group["GroupId"]],
        PubliclyAccessible=True,
    )
    allowed = reach.inbound(public, 3306)
    assert allowed.covers(ME)
    assert allowed.groups == [bastion["GroupId"]]
    assert "a security group rule covers" in reach.network_fix(public, 3306, ME)
    other = ipaddress.ip_address("192.0.2.1")
    assert f"members of {bastion['GroupId']}" in reach.network_fix(public, 3306, other)


def test_the_public_address_is_asked_straight_not_through_a_proxy(monkeypatch):
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"198.51.100.7\n")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(rules, "ADDRESS_SERVICES", [f"http://127.0.0.1:{server.server_port}/"])
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # a proxy that answers nothing
    try:
        assert reach.public_address(None) == ME
    finally:
        server.shutdown()
    assert reach.public_address("203.0.113.9") == ipaddress.ip_address("203.0.113.9")
