"""Cover follows the product's contract: a question about a product is answered from the periods of the
contracts that license it, continue one that does, or cover every product."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from catalog.models import Product, ServiceTier
from contracts.entitlements import decide
from contracts.models import Contract, ContractKind, ServicePeriod
from contracts.services import period_renew
from tests.contracts.conftest import at
from tests.factories import ContractFactory, CustomerFactory, LicensedProductFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db
ASKED = at(2026, 3, 4, 10)


def codes(decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


@pytest.fixture
def two_contracts(catalogue):
    """KMS under a running contract, EIS under a contract whose period lapsed at the end of 2024."""
    customer = CustomerFactory(code="TWO")
    kms = ServicePeriodFactory(contract__customer=customer, contract__number="HT-KMS").contract
    LicensedProductFactory(contract=kms)
    eis = ServicePeriodFactory(
        contract__customer=customer,
        contract__number="HT-EIS",
        start=datetime.date(2023, 1, 1),
        end=datetime.date(2024, 12, 31),
    ).contract
    LicensedProductFactory(contract=eis, product=Product.objects.get(code="EIS"), version="5.2.0")
    return customer, kms, eis


def test_a_product_whose_contract_lapsed_is_not_covered_through_another_products_contract(two_contracts):
    customer, kms, _eis = two_contracts
    eis_defect = decide(customer=customer, service="defect-fix", at=ASKED, product="EIS")
    assert eis_defect.outcome == "not_covered"
    assert codes(eis_defect) == ["product_not_covered", "lapsed"]
    assert "2024-12-31" in eis_defect.reasons[1].text("en")
    kms_defect = decide(customer=customer, service="defect-fix", at=ASKED, product="KMS")
    assert kms_defect.outcome == "included"
    assert kms_defect.period.contract == kms


def test_a_renewal_contract_continuing_the_products_contract_covers_it(two_contracts):
    customer, _kms, eis = two_contracts
    renewal = ContractFactory(customer=customer, number="HT-EIS-R", kind=ContractKind.RENEWAL, continues=eis)
    ServicePeriodFactory(contract=renewal, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31))
    decision = decide(customer=customer, service="defect-fix", at=ASKED, product="EIS")
    assert decision.outcome == "included"
    assert decision.period.contract == renewal
    # and a renewal of the renewal still covers EIS
    second = ContractFactory(
        customer=customer, number="HT-EIS-R2", kind=ContractKind.RENEWAL, continues=renewal
    )
    ServicePeriodFactory(contract=second, start=datetime.date(2027, 1, 1), end=datetime.date(2027, 12, 31))
    later = decide(customer=customer, service="defect-fix", at=at(2027, 3, 4, 10), product="EIS")
    assert later.period.contract == second


def test_a_strategic_contract_covering_every_product_covers_the_lapsed_one(two_contracts):
    customer, _kms, _eis = two_contracts
    strategic = ContractFactory(
        customer=customer, number="HT-ZL", kind=ContractKind.STRATEGIC, covers_all_products=True
    )
    ServicePeriodFactory(contract=strategic, tier=ServiceTier.objects.get(code="strategic"))
    decision = decide(customer=customer, service="defect-fix", at=ASKED, product="EIS")
    assert decision.outcome == "included"
    assert decision.period.contract == strategic


def test_a_contract_continues_only_a_contract_of_the_same_customer(two_contracts):
    _customer, kms, _eis = two_contracts
    stranger = ContractFactory(customer=CustomerFactory(), kind=ContractKind.RENEWAL, continues=kms)
    with pytest.raises(ValidationError):
        stranger.clean()


def test_the_check_names_the_contract_that_covers_the_product(two_contracts):
    _key, raw = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    question = {"customer": "TWO", "service": "defect-fix", "at": "2026-03-04T10:00:00+08:00"}
    kms = client.post("/api/v1/entitlements/check", {**question, "product": "KMS"}, format="json").json()
    assert (kms["outcome"], kms["contract"]) == ("included", "HT-KMS")
    eis = client.post("/api/v1/entitlements/check", {**question, "product": "EIS"}, format="json").json()
    assert (eis["outcome"], eis["contract"]) == ("not_covered", None)
    assert [reason["code"] for reason in eis["reasons"]] == ["product_not_covered", "lapsed"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.dates(min_value=datetime.date(2023, 1, 1), max_value=datetime.date(2027, 12, 31)),
    days=st.integers(min_value=0, max_value=1500),
    kind=st.sampled_from([ContractKind.PURCHASE, ContractKind.RENEWAL, ContractKind.UPGRADE]),
    tier=st.sampled_from(["standard", "strategic"]),
    asked=st.dates(min_value=datetime.date(2023, 1, 1), max_value=datetime.date(2028, 12, 31)),
)
def test_an_answer_for_a_product_never_depends_on_another_products_contract(
    two_contracts, start, days, kind, tier, asked
):
    customer, _kms, _eis = two_contracts
    when = at(asked.year, asked.month, asked.day, 10)

    def answer():
        decision = decide(customer=customer.code, service="defect-fix", at=when, product="EIS", severity="2")
        return decision.outcome, codes(decision), decision.period, decision.respond_by

    before = answer()
    other = ContractFactory(customer=customer, kind=kind)
    LicensedProductFactory(contract=other, product=Product.objects.get(code="KK"), version="6.1.0")
    ServicePeriod.objects.create(
        contract=other,
        kind="paid",
        start=start,
        end=start + datetime.timedelta(days=days),
        tier=ServiceTier.objects.get(code=tier),
        calendar=customer.contracts.first().periods.first().calendar,
        fee=1000,
    )
    try:
        assert answer() == before
    finally:
        ServicePeriod.objects.filter(contract=other).delete()
        Contract.objects.filter(pk=other.pk).delete()


def test_a_retroactive_renewal_continues_its_own_contracts_last_period_not_another_products(two_contracts):

    _customer, _kms, eis = two_contracts
    renewed = period_renew(
        contract=eis,
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2026, 12, 31),
        fee=1000,
        retroactive=True,
    )
    assert renewed.start == datetime.date(2025, 1, 1)  # the day after EIS's own period, not KMS's


def test_a_check_naming_no_product_lists_each_products_own_cover_and_asks_for_the_product(two_contracts):
    customer, _kms, _eis = two_contracts
    decision = decide(customer=customer, service="defect-fix", at=ASKED)
    assert decision.outcome == "included"  # the best period of any contract, as before
    assert [(c.product, c.covered, c.contract) for c in decision.products] == [
        ("EIS", False, None),
        ("KMS", True, "HT-KMS"),
    ]
    assert "name_the_product" in codes(decision)
    assert "EIS" in next(r for r in decision.reasons if r.code == "name_the_product").text("zh-hans")


def test_a_check_naming_no_product_does_not_ask_for_it_when_every_product_is_covered_alike(two_contracts):
    customer, _kms, eis = two_contracts
    renewal = ContractFactory(customer=customer, number="HT-EIS-R", kind=ContractKind.RENEWAL, continues=eis)
    ServicePeriodFactory(contract=renewal, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31))
    decision = decide(customer=customer, service="defect-fix", at=ASKED)
    assert [(c.product, c.covered, c.contract) for c in decision.products] == [
        ("EIS", True, "HT-EIS-R"),
        ("KMS", True, "HT-KMS"),
    ]
    assert "name_the_product" not in codes(decision)
    assert decide(customer=customer, service="defect-fix", at=ASKED, product="EIS").products == []


def test_the_api_lists_each_products_cover_when_no_product_is_named(two_contracts):
    _key, raw = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    question = {"customer": "TWO", "service": "defect-fix", "at": "2026-03-04T10:00:00+08:00"}
    answer = client.post("/api/v1/entitlements/check", question, format="json").json()
    assert answer["products"] == [
        {"product": "EIS", "covered": False, "contract": None, "until": None},
        {"product": "KMS", "covered": True, "contract": "HT-KMS", "until": answer["period"]["end"]},
    ]
    assert "name_the_product" in [reason["code"] for reason in answer["reasons"]]


def test_the_entitlement_page_lists_each_products_cover(admin_client, two_contracts):
    page = admin_client.get(
        "/staff/entitlements/",
        {"customer": "TWO", "service": "defect-fix", "at": "2026-03-04 10:00", "quantity": 1},
    )
    assert page.status_code == 200
    table = page.content.decode().split('id="products"')[1].split("</table>")[0]
    assert "HT-KMS" in table
    assert "EIS" in table
