"""Answers for the AWS calls moto cannot answer, in the shape of AWS's API reference and checked
against botocore's model, for the clients rdsctl's commands make (tests/rdsctl)."""

from datetime import UTC, datetime

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ParamValidationError
from botocore.validate import ParamValidator

from app import aws
from rdsctl import aws as rdsctl_aws
from rdsctl import cost, destroy, provision


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def lifecycle(name: str, start: str, end: str) -> dict:
    return {
        "LifecycleSupportName": name,
        "LifecycleSupportStartDate": day(start),
        "LifecycleSupportEndDate": day(end),
    }


STANDARD, EXTENDED = "open-source-rds-standard-support", "open-source-rds-extended-support"


def line(engine: str, major: str, *lifecycles: dict) -> dict:
    return {
        "Engine": engine,
        "MajorEngineVersion": major,
        "SupportedEngineLifecycles": list(lifecycles),
    }


# DescribeDBMajorEngineVersions, as the API reference shapes it, by engine. RDS for MySQL's
# dates are RDS's calendar; Aurora's stand for lines in support (the code reads the dates).
MAJOR_VERSIONS = {
    "mysql": [
        line(
            "mysql",
            "8.0",
            lifecycle(STANDARD, "2018-10-23", "2026-07-31"),
            lifecycle(EXTENDED, "2026-08-01", "2029-07-31"),
        ),
        line(
            "mysql",
            "8.4",
            lifecycle(STANDARD, "2024-07-23", "2029-07-31"),
            lifecycle(EXTENDED, "2029-08-01", "2032-07-31"),
        ),
        line("mysql", "9.7", lifecycle(STANDARD, "2026-05-01", "2031-07-31")),
    ],
    "aurora-mysql": [
        line("aurora-mysql", "8.0", lifecycle(STANDARD, "2021-11-18", "2028-04-30")),
        line("aurora-mysql", "8.4", lifecycle(STANDARD, "2026-05-21", "2031-04-30")),
    ],
}


def version(engine: str, number: str, family: str, min_acu: float | None = None) -> dict:
    """One DBEngineVersion, as the API reference shapes it."""
    found = {
        "Engine": engine,
        "EngineVersion": number,
        "DBParameterGroupFamily": family,
        "DBEngineDescription": "MySQL Community Edition",
        "Status": "available",
    }
    if min_acu is not None:
        found["ServerlessV2FeaturesSupport"] = {"MinCapacity": min_acu, "MaxCapacity": 256.0}
    return found


# DescribeDBEngineVersions for a line: its default (DefaultOnly=True), then all of it. Aurora
# MySQL 8.0's default here is a 3.04 (an LTS release) that cannot scale to 0 ACU.
VERSIONS = {
    ("mysql", "8.4"): [version("mysql", "8.4.7", "mysql8.4")],
    ("mysql", "9.7"): [version("mysql", "9.7.0", "mysql9.7")],
    ("aurora-mysql", "8.4"): [version("aurora-mysql", "8.4.7", "aurora-mysql8.4", 0.0)],
    ("aurora-mysql", "8.0"): [
        version("aurora-mysql", "8.0.mysql_aurora.3.04.4", "aurora-mysql8.0", 0.5),
        version("aurora-mysql", "8.0.mysql_aurora.3.08.2", "aurora-mysql8.0", 0.0),
        version("aurora-mysql", "8.0.mysql_aurora.3.10.1", "aurora-mysql8.0", 0.0),
    ],
}


class CannedClients:
    """Clients that talk to moto, but for the two version calls moto lacks, answered from the
    canned responses above (validated against botocore's model, as its Stubber would), with
    the parameters of every call recorded (moto does not keep all of them)."""

    def __init__(self, real_client):
        self.real_client = real_client
        self.calls: dict[str, list] = {}
        self.last: dict[str, dict] = {}  # operation: its parameters, as the caller gave them

    def client(self, service, region=None):
        made = self.real_client(service, region)
        made.meta.events.register(f"provide-client-params.{service}", self.record)
        if service == "rds":
            made.meta.events.register("after-call.rds.DescribeDBInstances", self.network_type)
            for operation in ("DescribeDBMajorEngineVersions", "DescribeDBEngineVersions"):
                made.meta.events.register(f"before-call.rds.{operation}", self.canned)
        return made

    def record(self, params, model, **_):
        self.calls.setdefault(model.service_model.service_name, []).append(dict(params))
        self.last[model.name] = dict(params)

    def network_type(self, parsed, **_):
        """moto does not store NetworkType: give back what the create sent."""
        created = {
            p["DBInstanceIdentifier"]: p.get("NetworkType", "IPV4")
            for p in self.calls.get("rds", [])
            if "MasterUsername" in p and "DBInstanceIdentifier" in p
        }
        for instance in parsed.get("DBInstances", []):
            if instance["DBInstanceIdentifier"] in created:
                instance["NetworkType"] = created[instance["DBInstanceIdentifier"]]

    def canned(self, model, **_):
        asked = self.last[model.name]
        if model.name == "DescribeDBMajorEngineVersions":
            response = {"DBMajorEngineVersions": MAJOR_VERSIONS[asked["Engine"]]}
        else:
            found = VERSIONS[asked["Engine"], asked["EngineVersion"]]
            response = {"DBEngineVersions": found[:1] if asked.get("DefaultOnly") else found}
        report = ParamValidator().validate(response, model.output_shape)
        if report.has_errors():  # not AWS's shape: as botocore's Stubber refuses it
            raise ParamValidationError(report=report.generate_report())
        return AWSResponse(None, 200, {}, None), response


def install(monkeypatch) -> dict:
    """Every command's clients canned (CannedClients); returns the calls, by service."""
    clients = CannedClients(aws.client)
    for module in (provision, cost, rdsctl_aws, destroy):
        monkeypatch.setattr(module, "client", clients.client)
    return clients.calls
