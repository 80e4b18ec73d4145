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
    return {"LifecycleSupportName": name, "LifecycleSupportStartDate": day(start),
            "LifecycleSupportEndDate": day(end)}  # fmt: skip


STANDARD, EXTENDED = "open-source-rds-standard-support", "open-source-rds-extended-support"
# DescribeDBMajorEngineVersions, as the API reference shapes it; the dates are RDS's calendar.
MAJOR_VERSIONS = {
    "DBMajorEngineVersions": [
        {"Engine": "mysql", "MajorEngineVersion": "8.0", "SupportedEngineLifecycles": [
            lifecycle(STANDARD, "2018-10-23", "2026-07-31"),
            lifecycle(EXTENDED, "2026-08-01", "2029-07-31")]},
        {"Engine": "mysql", "MajorEngineVersion": "8.4", "SupportedEngineLifecycles": [
            lifecycle(STANDARD, "2024-07-23", "2029-07-31"),
            lifecycle(EXTENDED, "2029-08-01", "2032-07-31")]},
        {"Engine": "mysql", "MajorEngineVersion": "9.7", "SupportedEngineLifecycles": [
            lifecycle(STANDARD, "2026-05-01", "2031-07-31")]},
    ]
}  # fmt: skip


def default_version(version: str, family: str) -> dict:
    """DescribeDBEngineVersions with DefaultOnly=True, as the API reference shapes it."""
    return {"DBEngineVersions": [{"Engine": "mysql", "EngineVersion": version,
                                  "DBParameterGroupFamily": family, "DBEngineDescription":
                                  "MySQL Community Edition", "Status": "available"}]}  # fmt: skip


DEFAULTS = {
    "8.4": default_version("8.4.7", "mysql8.4"),
    "9.7": default_version("9.7.0", "mysql9.7"),
}


def install(monkeypatch) -> dict:
    """The commands' clients talk to moto; the two version calls moto lacks are answered from
    the canned responses above (validated against botocore's model), and the parameters of
    every call are recorded (moto does not keep all of them)."""
    calls: dict[str, list] = {}
    last: dict[str, dict] = {}  # operation: its parameters, as the caller gave them
    real_client = aws.client

    def answer(operation):
        if operation == "DescribeDBMajorEngineVersions":
            return MAJOR_VERSIONS
        return DEFAULTS[last[operation]["EngineVersion"]]

    def made(service, region=None):
        made_client = real_client(service, region)
        model = made_client.meta.service_model

        def record(params, model, service=service, **_):
            calls.setdefault(service, []).append(dict(params))
            last[model.name] = dict(params)

        made_client.meta.events.register(f"provide-client-params.{service}", record)
        if service == "rds":

            def network_type(parsed, **_):
                """moto does not store NetworkType: give back what the create sent."""
                created = {p["DBInstanceIdentifier"]: p.get("NetworkType", "IPV4")
                           for p in calls.get("rds", []) if "MasterUsername" in p}  # fmt: skip
                for instance in parsed.get("DBInstances", []):
                    if instance["DBInstanceIdentifier"] in created:
                        instance["NetworkType"] = created[instance["DBInstanceIdentifier"]]

            made_client.meta.events.register("after-call.rds.DescribeDBInstances", network_type)
            for operation in ("DescribeDBMajorEngineVersions", "DescribeDBEngineVersions"):

                def canned(operation=operation, **_):
                    response = answer(operation)
                    shape = model.operation_model(operation).output_shape
                    report = ParamValidator().validate(response, shape)
                    if report.has_errors():  # not AWS's shape: as botocore's Stubber refuses it
                        raise ParamValidationError(report=report.generate_report())
                    return AWSResponse(None, 200, {}, None), response

                made_client.meta.events.register(f"before-call.rds.{operation}", canned)
        return made_client

    for module in (provision, cost, rdsctl_aws):
        monkeypatch.setattr(module, "client", made)
    return calls
