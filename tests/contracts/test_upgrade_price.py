"""A major upgrade needs a separate paid upgrade contract (升级服务合同): the decision prices it from the rate
card, per product and target major version, through catalog.pricing; with no price it is agreed first."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import UPGRADE_CONTRACT, Product, RateCard, ServiceItem, ServiceKind, UpgradePrice
from catalog.pricing import price_upgrade
from catalog.services import rate_card_new_version
from contracts.entitlements import decide
from tests.contracts.conftest import at
from tests.contracts.test_api import CHECK, api

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 4)
MAJOR_UPGRADE = {"service": "upgrade", "product": "KMS", "to_version": "9.0.0", "at": at(2026, 3, 4, 10)}


def test_the_catalogue_has_a_value_added_upgrade_contract_item_named_in_both_languages(catalogue):
    item = ServiceItem.objects.get(code=UPGRADE_CONTRACT)
    assert item.kind == ServiceKind.VALUE_ADDED
    assert (item.name_zh, item.name_en) == ("大版本升级服务合同", "Major upgrade contract")


def test_the_seeded_rate_card_prices_the_next_major_of_every_product(catalogue):
    seeded = set(UpgradePrice.objects.values_list("product__code", "major"))
    assert seeded == {("KMS", 9), ("EIS", 6), ("KK", 7)}


def test_an_upgrade_contract_is_one_contract_at_its_price_with_the_vat_of_its_tax_category(catalogue):
    priced = price_upgrade(product="kms", major=9, on=DAY)
    assert priced.quantity == 1
    assert priced.list_amount == priced.gross == Money(120000, "CNY")  # seeded VAT-inclusive, software 13%
    assert priced.vat_rate == Decimal("0.13")
    assert priced.net == Money("106194.69", "CNY")
    assert priced.net + priced.vat == priced.gross


def test_an_upgrade_contract_discount_is_shown_apart_from_its_list_amount(catalogue):
    priced = price_upgrade(product="KMS", major=9, on=DAY, discount=Decimal("0.1"))
    assert priced.list_amount == Money(120000, "CNY")
    assert priced.discount_amount == Money(12000, "CNY")
    assert priced.gross == Money(108000, "CNY")


def test_an_upgrade_to_a_major_without_a_price_is_not_priced(catalogue):
    with pytest.raises(BillingError) as error:
        price_upgrade(product="KMS", major=10, on=DAY)
    assert error.value.code == "no_price"


def test_a_major_upgrade_is_billable_at_the_upgrade_contract_price(customer):
    decision = decide(customer=customer, **MAJOR_UPGRADE)
    assert decision.outcome == "billable"
    assert [reason.code for reason in decision.reasons] == ["major_upgrade"]
    price = decision.price
    assert price.rate_card == "list:1"
    assert price.quantity == 1
    assert price.unit_price == price.estimate == price.gross == Money(120000, "CNY")
    assert price.vat_rate == Decimal("0.13")
    assert price.travel_at_cost is False


def test_the_major_upgrade_reason_names_the_upgrade_contract_item_in_both_languages(customer):
    reason = decide(customer=customer, **MAJOR_UPGRADE).reasons[0].as_dict()
    assert "大版本升级服务合同" in reason["zh-hans"]
    assert "Major upgrade contract" in reason["en"]


def test_a_major_upgrade_follows_the_rate_card_in_force_on_the_day(customer):
    card = rate_card_new_version(
        rate_card=RateCard.objects.get(version=1), effective_from=datetime.date(2026, 6, 1)
    )
    UpgradePrice.objects.filter(rate_card=card).update(price=Decimal(150000))
    before = decide(customer=customer, **MAJOR_UPGRADE)
    after = decide(customer=customer, **{**MAJOR_UPGRADE, "at": at(2026, 6, 2, 10)})
    assert (before.price.rate_card, before.price.gross) == ("list:1", Money(120000, "CNY"))
    assert (after.price.rate_card, after.price.gross) == ("list:2", Money(150000, "CNY"))


def test_a_major_upgrade_with_no_price_on_the_rate_card_needs_approval(customer):
    UpgradePrice.objects.filter(product=Product.objects.get(code="KMS")).delete()
    decision = decide(customer=customer, **MAJOR_UPGRADE)
    assert decision.outcome == "needs_approval"
    assert [reason.code for reason in decision.reasons] == ["major_upgrade", "no_price"]
    assert decision.price is None


def test_minor_and_medium_upgrades_stay_free_and_unpriced(customer):
    decision = decide(customer=customer, **{**MAJOR_UPGRADE, "to_version": "8.6.0"})
    assert (decision.outcome, decision.price) == ("included", None)


def test_the_check_api_prices_a_major_upgrade(customer):
    response = api("entitlements:read").post(
        CHECK,
        {
            "customer": "ACME",
            "service": "upgrade",
            "product": "KMS",
            "to_version": "9.0.0",
            "at": "2026-03-04T10:00:00+08:00",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "billable"
    assert [reason["code"] for reason in body["reasons"]] == ["major_upgrade"]
    assert body["price"]["rate_card"] == "list:1"
    assert body["price"]["unit_price"] == {"amount": "120000.00", "currency": "CNY"}
    assert body["price"]["gross"] == {"amount": "120000.00", "currency": "CNY"}
    assert Decimal(body["price"]["quantity"]) == 1


def test_the_entitlement_page_shows_the_price_of_a_major_upgrade(customer, admin_client):
    page = admin_client.get(
        reverse("contracts:entitlement-lookup"),
        {
            "customer": "ACME",
            "service": "upgrade",
            "product": "KMS",
            "to_version": "9.0.0",
            "at": "2026-03-04T10:00",
            "quantity": 1,
        },
    ).content.decode()
    assert 'data-outcome="billable"' in page
    assert "price-gross" in page
    assert "120,000.00" in page or "120000.00" in page
