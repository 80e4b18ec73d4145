"""Answers for the AWS calls moto cannot answer, in the shape of AWS's API reference and checked
against botocore's model, for the clients rdsctl's commands make (tests/rdsctl)."""

from datetime import UTC, datetime

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ParamValidationError
from botocore.validate import ParamValidator

from app import aws
from rdsctl import aws as rdsctl_aws
from rdsctl import cost, provision


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def lifecycle(name: str, start: str, end: str) -> dict:
    return {
        "LifecycleSupportName": name,
        "LifecycleSupportStartDate": day(start),
        "LifecycleSupportEndDate": day(end),
    }


STANDARD, EXTENDED = "open-source-rds-standard-support", "open-source-rds-extended-support"
# DescribeDBMajorEngineVersions, as the API reference shapes it; the dates are RDS's calendar.
MAJOR_VERSIONS = {
    "DBMajorEngineVersions": [
        {
            "Engine": "mysql",
            "MajorEngineVersion": "8.0",
            "SupportedEngineLifecycles": [
                lifecycle(STANDARD, "2018-10-23", "2026-07-31"),
                lifecycle(EXTENDED, "2026-08-01", "2029-07-31"),
            ],
        },
        {
            "Engine": "mysql",
            "MajorEngineVersion": "8.4",
            "SupportedEngineLifecycles": [
                lifecycle(STANDARD, "2024-07-23", "2029-07-31"),
                lifecycle(EXTENDED, "2029-08-01", "2032-07-31"),
            ],
        },
        {
            "Engine": "mysql",
            "MajorEngineVersion": "9.7",
            "SupportedEngineLifecycles": [lifecycle(STANDARD, "2026-05-01", "2031-07-31")],
        },
    ]
}


def default_version(version: str, family: str) -> dict:
    """DescribeDBEngineVersions with DefaultOnly=True, as the API reference shapes it."""
    return {
        "DBEngineVersions": [
            {
                "Engine": "mysql",
                "EngineVersion": version,
                "DBParameterGroupFamily": family,
                "DBEngineDescription": "MySQL Community Edition",
                "Status": "available",
            }
        ]
    }


DEFAULTS = {
    "8.4": default_version("8.4.7", "mysql8.4"),
    "9.7": default_version("9.7.0", "mysql9.7"),
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
            if "MasterUsername" in p
        }
        for instance in parsed.get("DBInstances", []):
            if instance["DBInstanceIdentifier"] in created:
                instance["NetworkType"] = created[instance["DBInstanceIdentifier"]]

    def canned(self, model, **_):
        if model.name == "DescribeDBMajorEngineVersions":
            response = MAJOR_VERSIONS
        else:
            response = DEFAULTS[self.last[model.name]["EngineVersion"]]
        report = ParamValidator().validate(response, model.output_shape)
        if report.has_errors():  # not AWS's shape: as botocore's Stubber refuses it
            raise ParamValidationError(report=report.generate_report())
        return AWSResponse(None, 200, {}, None), response


def install(monkeypatch) -> dict:
    """Every command's clients canned (CannedClients); returns the calls, by service."""
    clients = CannedClients(aws.client)
    for module in (provision, cost, rdsctl_aws):
        monkeypatch.setattr(module, "client", clients.client)
    return clients.calls
