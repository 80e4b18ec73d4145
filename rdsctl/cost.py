"""What a development instance costs per month: an estimate, labelled as one, with its source
and date. Instance hours and storage are read from the AWS Price List API for the region when
the credentials may (pricing:GetProducts); otherwise, and for the rest, the list prices below.
Free tier, credits, taxes and data transfer are not counted.
"""

import json
from dataclasses import dataclass, field

from app.aws import AWSError, calling, client

HOURS_PER_MONTH = 730
# us-east-1 on-demand list prices, USD, as published on the pages named here on PRICES_DATE.
PRICES_DATE = "2026-11"
LIST_PRICES = {
    "db.t4g.micro": 0.016,  # per hour, MySQL Single-AZ (aws.amazon.com/rds/mysql/pricing)
    "db.t4g.small": 0.032,
    "db.t4g.medium": 0.065,
    "gp3": 0.115,  # per GiB-month (aws.amazon.com/rds/mysql/pricing, storage)
    "snapshot": 0.095,  # per GiB-month beyond the free backup storage (the same page)
    "public_ipv4": 0.005,  # per hour per address (aws.amazon.com/vpc/pricing, since 2024-02)
    "secret": 0.40,  # per secret per month (aws.amazon.com/secrets-manager/pricing)
    # Burstable classes (db.t4g) run in Unlimited mode (RDS User Guide, "DB instance class
    # types"): CPU above the baseline, sustained, is billed per vCPU-hour (rds/mysql/pricing).
    "cpu_credit": 0.075,
}
LIST_SOURCE = f"AWS list prices for us-east-1, {PRICES_DATE}"
# Aurora MySQL, Aurora Standard storage, us-east-1: quoted by third parties in 2026 (AWS's
# pricing page, aws.amazon.com/rds/aurora/pricing, could not be read here): unverified.
AURORA_PRICES = {"acu_hour": 0.12, "storage": 0.10, "io_million": 0.20}
AURORA_SOURCE = "Aurora list prices for us-east-1 as quoted in 2026, not read from AWS here"
# What a development database is awake for: 8 hours on 22 working days.
AWAKE_HOURS = 8 * 22


@dataclass
class Estimate:
    items: list[tuple[str, float]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(amount for _, amount in self.items)

    def lines(self) -> list[str]:
        lines = [
            f"about ${self.total:.2f} a month, an ESTIMATE ({'; '.join(self.sources)}; "
            "free tier, credits, taxes and data transfer not counted):"
        ]
        lines += [f"  ${amount:7.2f}  {what}" for what, amount in self.items]
        return lines


def price_list(region: str, filters: dict[str, str]) -> float | None:
    """One on-demand USD price from the AWS Price List API, or None if there is no answer."""
    pricing = client("pricing", "us-east-1")  # the API answers in us-east-1 for every region
    query = [
        {"Type": "TERM_MATCH", "Field": k, "Value": v}
        for k, v in {"regionCode": region, **filters}.items()
    ]
    with calling("read the AWS price list"):
        products = pricing.get_products(ServiceCode="AmazonRDS", Filters=query, MaxResults=10)
    for text in products.get("PriceList", []):
        product = json.loads(text) if isinstance(text, str) else text
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                usd = dimension.get("pricePerUnit", {}).get("USD")
                if usd and float(usd) > 0:
                    return float(usd)
    return None


def regional_prices(instance_class: str, region: str) -> tuple[float | None, float | None]:
    """(instance per hour, gp3 per GiB-month) for MySQL Single-AZ in `region`, if readable."""
    try:
        hourly = price_list(
            region,
            {
                "productFamily": "Database Instance",
                "instanceType": instance_class,
                "databaseEngine": "MySQL",
                "deploymentOption": "Single-AZ",
            },
        )
        storage = price_list(
            region,
            {
                "productFamily": "Database Storage",
                "volumeType": "General Purpose-GP3",
                "databaseEngine": "MySQL",
                "deploymentOption": "Single-AZ",
            },
        )
    except AWSError:
        return None, None
    return hourly, storage


Prices = tuple[float | None, float | None]


def estimate(
    instance_class: str,
    storage_gb: int,
    region: str,
    *,
    public: bool,
    secrets: int,
    prices: Prices | None = None,
) -> Estimate:
    """The monthly estimate of an instance running all month, with its secrets."""
    hourly, per_gb = prices if prices is not None else regional_prices(instance_class, region)
    result = Estimate()
    if hourly is not None and per_gb is not None:
        result.sources.append(f"AWS Price List API, {region}, read now")
    else:
        result.sources.append(LIST_SOURCE + (f", not {region}'s" if region != "us-east-1" else ""))
        hourly = LIST_PRICES.get(instance_class)
        per_gb = LIST_PRICES["gp3"]
    if hourly is None:
        result.items.append((f"instance hours: no list price here for {instance_class}", 0.0))
    else:
        result.items.append(
            (f"{instance_class}, {HOURS_PER_MONTH} h x ${hourly}", HOURS_PER_MONTH * hourly)
        )
    result.items.append((f"{storage_gb} GiB gp3 x ${per_gb}", storage_gb * per_gb))
    if public:
        result.items.append(
            (
                f"public IPv4 address, {HOURS_PER_MONTH} h x ${LIST_PRICES['public_ipv4']}",
                HOURS_PER_MONTH * LIST_PRICES["public_ipv4"],
            )
        )
    result.items.append(
        (
            f"{secrets} Secrets Manager secrets (master, migrator, app) x ${LIST_PRICES['secret']}",
            secrets * LIST_PRICES["secret"],
        )
    )
    if instance_class.startswith("db.t"):
        result.items.append(
            (
                f"CPU credits: {instance_class} runs in Unlimited mode; CPU above its baseline, "
                f"sustained, is billed at about ${LIST_PRICES['cpu_credit']} a vCPU-hour "
                "(not counted here; CloudWatch's CPUSurplusCreditsCharged shows it)",
                0.0,
            )
        )
    backups = (
        "automated backups: free up to the storage size; a final snapshot costs "
        + snapshot_line(storage_gb)
        + " after rds-destroy"
    )
    result.items.append((backups, 0.0))
    return result


def serverless_estimate(max_acu: float, *, public: bool, secrets: int) -> Estimate:
    """An Aurora Serverless v2 cluster from 0 ACU: nothing for compute while paused, ACU-hours
    while awake, storage and I/O as used."""
    acu, prices = 1.0, AURORA_PRICES
    result = Estimate(sources=[AURORA_SOURCE])
    result.items.append(
        (
            f"awake {AWAKE_HOURS} h (8 h x 22 days) at ~{acu:.0f} ACU x ${prices['acu_hour']} "
            f"(up to {max_acu:g} ACU: ${max_acu * prices['acu_hour']:.2f} an hour at most); "
            "paused: $0 for compute",
            AWAKE_HOURS * acu * prices["acu_hour"],
        )
    )
    result.items.append(
        (f"storage as used, ~1 GiB x ${prices['storage']} a GiB-month", prices["storage"])
    )
    result.items.append(
        (f"I/O: ${prices['io_million']} a million requests (a development database: cents)", 0.0)
    )
    if public:
        result.items.append(
            (
                f"public IPv4 address, {HOURS_PER_MONTH} h x ${LIST_PRICES['public_ipv4']} "
                "(AWS does not say whether a paused instance's is billed: counted)",
                HOURS_PER_MONTH * LIST_PRICES["public_ipv4"],
            )
        )
    result.items.append(
        (
            f"{secrets} Secrets Manager secrets (master, migrator, app) x ${LIST_PRICES['secret']}",
            secrets * LIST_PRICES["secret"],
        )
    )
    result.items.append(
        (
            "all month awake (an open connection keeps it from pausing) at 1 ACU: "
            f"${HOURS_PER_MONTH * prices['acu_hour']:.2f} for compute instead",
            0.0,
        )
    )
    return result


def snapshot_line(storage_gb: int) -> str:
    """What a snapshot of an instance of `storage_gb` costs per month, at most."""
    monthly = storage_gb * LIST_PRICES["snapshot"]
    return (
        f"up to ${monthly:.2f} a month ({storage_gb} GiB x ${LIST_PRICES['snapshot']}, "
        f"an estimate from {LIST_SOURCE})"
    )
