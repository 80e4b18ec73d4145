"""rdsctl/cost.py: an estimate, labelled as one, with its source."""

import pytest
from botocore.stub import Stubber

from rdsctl import cost

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
