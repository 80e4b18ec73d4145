"""`rdsctl rds-create`, `rds-allow-my-ip`, `rds-revoke-my-ip`, `rds-stop`, `rds-start`,
`rds-destroy` against moto's server. Assertions read what moto recorded, not our printout.

Where moto cannot act, responses are canned in the shape of AWS's API reference and checked
against botocore's model (botocore's Stubber, or the same check in a before-call hook for the
clients the commands make): the locked moto implements neither DescribeDBEngineVersions,
DescribeDBMajorEngineVersions nor the Pricing API, does not store EngineLifecycleSupport or
CACertificateIdentifier (the parameters sent are recorded instead), and never leaves an
instance in `creating` without an endpoint.
"""

import http.server
import threading

import click
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, NoCredentialsError
from botocore.stub import Stubber

from app import aws
from rdsctl import cost, network, parameters, provision, versions
from rdsctl.aws import TOOL_FIXES
from tests.support import canned
from tests.support.canned import DEFAULTS, MAJOR_VERSIONS, day


@pytest.fixture
def sent(aws_env, monkeypatch) -> dict:
    """The parameters of every call the commands make, by service; the version calls moto
    lacks are answered from tests/support/canned.py."""
    return canned.install(monkeypatch)


def create(cli, name, **env):
    env = {
        "RDS_INSTANCE": name,
        "MYSQL_IMAGE": "mysql:8.4",
        "CONFIRM": "yes",
        "RDS_POLL_SECONDS": "0.1",
        **env,
    }
    return cli.invoke(args=["rds-create"], env=env)


def describe(boto3, name):
    return boto3.client("rds").describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def group_of(boto3, name) -> dict:
    [group_id] = [g["VpcSecurityGroupId"] for g in describe(boto3, name)["VpcSecurityGroups"]]
    ec2 = boto3.client("ec2")
    return ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]


def inbound(boto3, name) -> list:
    return group_of(boto3, name)["IpPermissions"]


# --- 1. a security group of its own ------------------------------------------------------


def test_create_makes_a_security_group_of_its_own_with_no_inbound_rule(aws_env, cli, sent):
    result = create(cli, "own-sg-db")
    assert result.exit_code == 0, result.output
    group = group_of(aws_env, "own-sg-db")
    assert group["GroupName"] == "own-sg-db-mysql" != "default"
    assert {"Key": network.OWNER_TAG, "Value": "own-sg-db"} in group["Tags"]
    assert group["IpPermissions"] == []
    assert "make rds-users RDS_INSTANCE=own-sg-db" in result.output


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


# --- 2. one address, IPv4 or IPv6; revoke by description ----------------------------------


@pytest.fixture
def instance(aws_env, cli, sent):
    """An instance with IPv4 and IPv6 addresses (RDS_NETWORK_TYPE=DUAL)."""
    name = f"net-db-{len(aws_env.client('rds').describe_db_instances()['DBInstances'])}"
    assert create(cli, name, RDS_NETWORK_TYPE="DUAL").exit_code == 0
    return name


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
    assert ip_range["Description"].startswith(f"flask-rds-starter: {network.rule_owner()} ")
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
        network.one_address("not-an-ip", force=False)


def test_the_lookup_asks_for_my_ip_when_a_proxy_is_set():
    with pytest.raises(click.ClickException, match="HTTPS_PROXY is set") as refused:
        network.lookup_address({"HTTPS_PROXY": "http://proxy.example:3128"})
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
    monkeypatch.setattr(network, "ADDRESS_SERVICES", ["http://127.0.0.1:9/", url])
    try:
        assert network.lookup_address({}) == ("2001:db8::42", url)
    finally:
        server.shutdown()


# --- 3. rerunnable -----------------------------------------------------------------------


def test_create_again_adopts_its_own_instance_and_waits(aws_env, cli, sent):
    assert create(cli, "rerun-db").exit_code == 0
    again = create(cli, "rerun-db")
    assert again.exit_code == 0, again.output
    assert "rerun-db exists and is ours" in again.output
    assert len(sent["rds"]) and sum(1 for p in sent["rds"] if "MasterUsername" in p) == 1


def test_create_refuses_a_foreign_instance_of_the_same_name(aws_env, cli, sent):
    aws_env.client("rds").create_db_instance(
        DBInstanceIdentifier="foreign-db",
        Engine="mysql",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="secret-123456",
    )
    result = create(cli, "foreign-db")
    assert result.exit_code == 1
    assert "was not made by make rds-create" in result.output
    assert "Traceback" not in result.output


# --- 4. versions -------------------------------------------------------------------------


@pytest.fixture
def stubbed_rds(aws_env):
    rds = aws_env.client("rds")
    with Stubber(rds) as stubber:
        yield rds, stubber


def test_a_line_in_standard_support_resolves_to_its_default_minor(stubbed_rds):
    rds, stubber = stubbed_rds
    stubber.add_response("describe_db_major_engine_versions", MAJOR_VERSIONS, {"Engine": "mysql"})
    expected = {"Engine": "mysql", "EngineVersion": "8.4", "DefaultOnly": True}
    stubber.add_response("describe_db_engine_versions", DEFAULTS["8.4"], expected)
    version = versions.resolve(rds, "8.4", today=day("2026-11-25"))
    assert (version.engine_version, version.family) == ("8.4.7", "mysql8.4")
    assert version.standard_support_ends == day("2029-07-31")


def test_a_line_in_extended_support_is_refused(stubbed_rds):
    rds, stubber = stubbed_rds
    stubber.add_response("describe_db_major_engine_versions", MAJOR_VERSIONS, {"Engine": "mysql"})
    with pytest.raises(click.ClickException) as refused:
        versions.resolve(rds, "8.0", today=day("2026-11-25"))
    assert "MySQL 8.0 is not in RDS standard support" in refused.value.message
    assert "8.4, 9.7" in refused.value.message and "Extended Support" in refused.value.message


@pytest.mark.parametrize(
    "image, refusal",
    [
        ("mariadb:10.11", "is MariaDB"),
        ("mysql:lts", "names no version line"),
        ("mysql:latest", "names no version line"),
        ("mysql", "names no version line"),
    ],
)
def test_images_that_name_no_mysql_line_are_refused(image, refusal):
    with pytest.raises(click.ClickException, match=refusal):
        versions.major_line(image, None)
    assert versions.major_line("mysql:9.7", None) == "9.7"
    assert versions.major_line("mariadb:10.11", "8.4") == "8.4"


def test_create_sets_version_lifecycle_ca_tags_and_parameter_group(aws_env, cli, sent):
    result = create(cli, "params-db", MYSQL_IMAGE="mysql:9.7")
    assert result.exit_code == 0, result.output
    [params] = [p for p in sent["rds"] if "MasterUsername" in p]
    assert params["EngineVersion"] == "9.7.0"
    assert params["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    assert params["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert params["CopyTagsToSnapshot"] is True
    assert params["DBParameterGroupName"] == "params-db-params"
    info = describe(aws_env, "params-db")
    assert info["DBParameterGroups"][0]["DBParameterGroupName"] == "params-db-params"
    group = aws_env.client("rds").describe_db_parameter_groups(
        DBParameterGroupName="params-db-params"
    )["DBParameterGroups"][0]
    assert group["DBParameterGroupFamily"] == "mysql9.7"


def test_create_refuses_mysql_8_0_now_in_extended_support(aws_env, cli, sent):
    result = create(cli, "old-db", MYSQL_IMAGE="mysql:8.0")
    assert result.exit_code == 1
    assert "not in RDS standard support" in result.output
    assert not [p for p in sent.get("rds", []) if "MasterUsername" in p]


# --- 5. the plan: account, region, cost ---------------------------------------------------


def test_dry_run_plan_names_account_region_network_and_cost(aws_env, cli, sent):
    result = create(cli, "planned-db", DRY_RUN="1", RDS_PUBLIC="1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "AWS account          123456789012" in out
    assert "region               eu-west-1" in out
    assert "network              VPC vpc-" in out and "subnet group default" in out
    assert "new: planned-db-mysql, no inbound rule" in out
    assert "mysql 8.4.7 (RDS's default of the 8.4 line" in out and "2029-07-31" in out
    assert "an ESTIMATE" in out and "public IPv4 address" in out and "Secrets Manager" in out
    assert "DRY_RUN=1: nothing created" in out
    rds = aws_env.client("rds")
    assert "planned-db" not in [
        i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]
    ]
    assert network.owned_group(aws_env.client("ec2"), "planned-db") is None


PRICE_ITEM = (
    '{"product": {"productFamily": "Database Instance", "attributes": {"instanceType": '
    '"db.t4g.micro", "databaseEngine": "MySQL", "regionCode": "eu-west-1"}}, "terms": '
    '{"OnDemand": {"ABC.JRTCKXETXF": {"priceDimensions": {"ABC.JRTCKXETXF.6YS6EN2CT7": '
    '{"unit": "Hrs", "pricePerUnit": {"USD": "0.0180000000"}}}}}}}'
)
STORAGE_ITEM = PRICE_ITEM.replace('"Hrs"', '"GB-Mo"').replace("0.0180000000", "0.1270000000")


def test_the_estimate_reads_the_price_list_when_it_may(aws_env, monkeypatch):
    pricing = aws_env.client("pricing", region_name="us-east-1")
    monkeypatch.setattr(cost, "client", lambda *a, **k: pricing)
    with Stubber(pricing) as stubber:
        stubber.add_response("get_products", {"PriceList": [PRICE_ITEM], "FormatVersion": "aws_v1"})
        stubber.add_response(
            "get_products", {"PriceList": [STORAGE_ITEM], "FormatVersion": "aws_v1"}
        )
        estimate = cost.estimate("db.t4g.micro", 20, "eu-west-1", public=True, secrets=3)
    assert estimate.sources == ["AWS Price List API, eu-west-1, read now"]
    assert estimate.items[0][1] == pytest.approx(730 * 0.018)
    assert estimate.items[1][1] == pytest.approx(20 * 0.127)
    assert estimate.total == pytest.approx(730 * 0.018 + 20 * 0.127 + 730 * 0.005 + 3 * 0.40)


def test_without_the_price_list_the_estimate_says_whose_prices_it_used(aws_env, monkeypatch):
    pricing = aws_env.client("pricing", region_name="us-east-1")
    monkeypatch.setattr(cost, "client", lambda *a, **k: pricing)
    with Stubber(pricing) as stubber:
        stubber.add_client_error("get_products", "AccessDeniedException", "no pricing:GetProducts")
        estimate = cost.estimate("db.t4g.micro", 20, "eu-west-1", public=False, secrets=3)
    assert estimate.sources == [f"{cost.LIST_SOURCE}, not eu-west-1's"]
    assert "ESTIMATE" in estimate.lines()[0]


# --- 6. failures as cause and fix, not tracebacks -----------------------------------------


def test_no_region_is_one_line_of_cause_and_fix(cli, tmp_path, monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for command in (["rds-create"], ["rds-destroy"], ["deploy-env", "--instance", "x"]):
        result = cli.invoke(
            command, env={"CONFIRM": "yes", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
        )
        assert result.exit_code == 1, (command, result.output)
        assert "no AWS region set" in result.output and "fix: set AWS_REGION" in result.output
        assert "Traceback" not in result.output


def test_an_unknown_profile_is_one_line_of_cause_and_fix(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for command in (["rds-create"], ["rds-destroy"], ["deploy-env", "--instance", "x"]):
        result = cli.invoke(command, env={"AWS_PROFILE": "no-such-profile"})
        assert result.exit_code == 1, (command, result.output)
        assert "no-such-profile" in result.output and "list-profiles" in result.output
        assert "Traceback" not in result.output


CREATING = {
    "DBInstances": [
        {
            "DBInstanceIdentifier": "new-db",
            "DBInstanceStatus": "creating",
            "Engine": "mysql",
            "EngineVersion": "8.4.7",
            "MasterUsername": "admin",
            "DBInstanceArn": "arn:aws:rds:eu-west-1:123456789012:db:new-db",
        }
    ]
}


def test_an_instance_still_being_created_has_no_endpoint_yet(aws_env, monkeypatch, cli):
    """The API reference: Endpoint is absent while the instance is `creating`."""
    real_client = aws.client

    def made(service, region=None):
        made_client = real_client(service, region)
        if service == "rds":
            made_client.meta.events.register(
                "before-call.rds.DescribeDBInstances",
                lambda **_: (AWSResponse(None, 200, {}, None), CREATING),
            )
        return made_client

    monkeypatch.setattr("rdsctl.aws.client", made)
    result = cli.invoke(["deploy-env", "--instance", "new-db"])
    assert result.exit_code == 1
    assert "new-db has no endpoint yet (status creating)" in result.output
    assert "Traceback" not in result.output


def test_wait_loop_gives_up_after_its_timeout_with_a_last_look_at_its_end(monkeypatch):
    now, looked = [0.0], []

    def describe(name):
        looked.append(now[0])
        return {"DBInstanceStatus": "creating"}

    def sleep(seconds):
        now[0] += seconds

    monkeypatch.setattr(provision, "describe_instance", describe)
    with pytest.raises(click.ClickException, match="still creating after"):
        provision.wait_until_available(
            "slow-db", timeout=60, poll=25, sleep=sleep, clock=lambda: now[0]
        )
    assert looked == [0, 25, 50, 60]  # not given up at 50 s, one poll short of the minute


def aws_error(code, message="") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateDBInstance")


@pytest.mark.parametrize(
    "error, fix",
    [
        (NoCredentialsError(), "aws configure"),
        (aws_error("AccessDenied", "not authorized to rds:CreateDBInstance"), "lacks this action"),
        (aws_error("InstanceQuotaExceeded"), "higher instance quota"),
        (
            aws_error("InvalidParameterCombination", "db.t4g.micro not offered"),
            "describe-orderable-db-instance-options",
        ),
    ],
)
def test_aws_errors_become_cause_and_fix(error, fix):
    explained = aws.explain(error, "create RDS instance 'x'", TOOL_FIXES)
    assert explained.cause.startswith("create RDS instance 'x'")
    assert fix in explained.fix
    assert "\n" not in explained.cause and "\n" not in explained.fix


# --- 7. the parameter group mirrors the local server --------------------------------------


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


def test_a_region_without_a_default_vpc_gets_a_choice(aws_env):
    ec2 = aws_env.client("ec2")
    with Stubber(ec2) as stubber:
        stubber.add_response(
            "describe_vpcs", {"Vpcs": []}, {"Filters": [{"Name": "isDefault", "Values": ["true"]}]}
        )
        vpc = {"VpcId": "vpc-0abc", "CidrBlock": "10.0.0.0/16", "IsDefault": False}
        stubber.add_response("describe_vpcs", {"Vpcs": [vpc]})
        with pytest.raises(click.ClickException) as refused:
            network.choose_vpc(ec2, None)
    assert "no default VPC (VPCs: vpc-0abc (10.0.0.0/16))" in refused.value.message
    assert "RDS_VPC_ID=" in refused.value.message and "RDS_SUBNET_GROUP=" in refused.value.message


# --- 8. destroy, stop, start -------------------------------------------------------------


def test_destroy_refuses_an_untagged_instance(aws_env, cli, sent):
    aws_env.client("rds").create_db_instance(
        DBInstanceIdentifier="not-ours",
        Engine="mysql",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="secret-123456",
    )
    result = cli.invoke(["rds-destroy", "--instance", "not-ours"], env={"CONFIRM": "yes"})
    assert result.exit_code == 1
    assert "not created by make rds-create" in result.output
    assert describe(aws_env, "not-ours")["DBInstanceStatus"] == "available"


def test_destroy_asks_first(aws_env, cli, sent):
    assert create(cli, "kept-db").exit_code == 0
    result = cli.invoke(["rds-destroy", "--instance", "kept-db"], env={"CONFIRM": ""})
    assert result.exit_code == 3
    assert describe(aws_env, "kept-db")["DBInstanceStatus"] == "available"


def test_stop_and_start_say_what_stopping_means(aws_env, cli, sent):
    assert create(cli, "idle-db").exit_code == 0
    stopped = cli.invoke(["rds-stop", "--instance", "idle-db"])
    assert stopped.exit_code == 0, stopped.output
    assert "after 7 days" in stopped.output and "storage" in stopped.output
    assert describe(aws_env, "idle-db")["DBInstanceStatus"] == "stopped"
    started = cli.invoke(["rds-start", "--instance", "idle-db"])
    assert started.exit_code == 0, started.output
    assert describe(aws_env, "idle-db")["DBInstanceStatus"] == "available"


def test_the_security_group_goes_into_the_subnet_groups_vpc(aws_env):
    """RDS places the instance in its subnet group's VPC; a group made elsewhere is refused by
    AWS ('different VPCs'), which moto does not check."""
    subnet_group = {"DBSubnetGroupName": "private-dbs", "VpcId": "vpc-0private"}
    ec2 = aws_env.client("ec2")
    assert network.choose_vpc(ec2, None, subnet_group) == "vpc-0private"
    with pytest.raises(click.ClickException, match="is in vpc-0private, not RDS_VPC_ID=vpc-0other"):
        network.choose_vpc(ec2, "vpc-0other", subnet_group)
    with pytest.raises(click.ClickException, match="needs a DB subnet group"):
        network.choose_vpc(ec2, "vpc-0other", None)


def test_destroy_waits_while_the_security_group_is_still_in_use(aws_env, monkeypatch):
    """After the instance is gone AWS still refuses for minutes (its network interfaces)."""
    ec2 = aws_env.client("ec2")
    monkeypatch.setattr(provision.time, "sleep", lambda seconds: None)
    with Stubber(ec2) as stubber:
        for _ in range(2):
            stubber.add_client_error(
                "delete_security_group",
                "DependencyViolation",
                "resource sg-1 has a dependent object",
            )
        stubber.add_response("delete_security_group", {}, {"GroupId": "sg-1"})
        provision.delete_security_group(ec2, "sg-1", wait_minutes=1)
        stubber.assert_no_pending_responses()


def test_a_failed_instance_is_deleted_only_without_a_final_snapshot(aws_env):
    info = {"DBInstanceIdentifier": "broken-db", "DBInstanceStatus": "failed"}
    with pytest.raises(click.ClickException, match="SKIP_FINAL_SNAPSHOT=1"):
        provision.delete_instance(aws_env.client("rds"), info, False, 1)
