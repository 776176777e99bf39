"""The entitlement decision, one rule per test."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import Product, ProductVersion, RateCard, ServiceTier
from catalog.services import rate_card_new_version
from contracts.entitlements import decide
from contracts.models import ConsumptionEntry, ContractKind, CustomModule, PeriodKind
from contracts.services import period_renew
from tests.contracts.conftest import at
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    LicensedProductFactory,
    PersonDayBundleFactory,
    ServicePeriodFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def codes(decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


# --- cover ---------------------------------------------------------------------------------------------


def test_standard_service_is_included_while_a_period_runs(customer):
    decision = decide(customer=customer, service="defect-fix", at=at(2026, 3, 4, 10))
    assert decision.outcome == "included"
    assert decision.period.end == D(2027, 12, 31)
    assert decision.period.kind == PeriodKind.PAID
    assert codes(decision) == ["standard_service"]


def test_nothing_is_covered_before_the_first_period(customer):
    decision = decide(customer=customer, service="hotline", at=at(2024, 12, 31, 10))
    assert decision.outcome == "not_covered"
    assert codes(decision) == ["before_first_period"]
    assert decision.period is None


def test_nothing_is_covered_in_a_gap_between_periods(catalogue):
    customer = CustomerFactory()
    ServicePeriodFactory(contract__customer=customer, start=D(2024, 1, 1), end=D(2024, 12, 31))
    ServicePeriodFactory(contract__customer=customer, start=D(2025, 3, 1), end=D(2025, 12, 31))
    decision = decide(customer=customer, service="hotline", at=at(2025, 2, 10, 10))
    assert decision.outcome == "not_covered"
    assert codes(decision) == ["in_gap"]
    assert "2025-03-01" in decision.reasons[0].text("en")


def test_nothing_is_covered_once_a_period_has_lapsed(catalogue):
    customer = CustomerFactory()
    ServicePeriodFactory(contract__customer=customer, start=D(2023, 1, 1), end=D(2024, 5, 31))
    decision = decide(customer=customer, service="defect-fix", at=at(2026, 3, 4, 10), severity="1")
    assert decision.outcome == "not_covered"
    assert codes(decision) == ["lapsed"]
    assert decision.respond_by is None


def test_a_customer_without_periods_is_not_covered(catalogue):
    decision = decide(customer=CustomerFactory(), service="hotline", at=at(2026, 3, 4, 10))
    assert (decision.outcome, codes(decision)) == ("not_covered", ["no_service_period"])


def test_the_last_day_of_a_period_is_covered_in_shanghai_time(customer):
    late_evening = datetime.datetime(2027, 12, 31, 15, 59, tzinfo=datetime.UTC)  # 23:59 in Shanghai
    assert decide(customer=customer, service="hotline", at=late_evening).outcome == "included"
    next_morning = datetime.datetime(2027, 12, 31, 16, 1, tzinfo=datetime.UTC)  # 2028-01-01 00:01
    assert decide(customer=customer, service="hotline", at=next_morning).outcome == "not_covered"


def test_a_late_renewal_covers_from_its_own_start_only(catalogue):
    customer = CustomerFactory()
    first = ServicePeriodFactory(contract__customer=customer, start=D(2024, 1, 1), end=D(2024, 12, 31))
    period_renew(contract=first.contract, start=D(2025, 4, 1), end=D(2026, 3, 31), fee=Money(60000, "CNY"))
    assert decide(customer=customer, service="hotline", at=at(2025, 2, 3, 10)).outcome == "not_covered"
    assert decide(customer=customer, service="hotline", at=at(2025, 4, 1, 10)).outcome == "included"


def test_a_retroactive_renewal_closes_the_gap(catalogue):
    customer = CustomerFactory()
    first = ServicePeriodFactory(contract__customer=customer, start=D(2024, 1, 1), end=D(2024, 12, 31))
    renewal = period_renew(
        contract=first.contract,
        start=D(2025, 4, 1),
        end=D(2026, 3, 31),
        fee=Money(60000, "CNY"),
        retroactive=True,
    )
    assert renewal.start == D(2025, 1, 1)
    assert decide(customer=customer, service="hotline", at=at(2025, 2, 3, 10)).outcome == "included"


def test_a_product_the_customer_does_not_license_is_not_covered(customer):
    decision = decide(customer=customer, service="defect-fix", at=at(2026, 3, 4, 10), product="EIS")
    assert (decision.outcome, codes(decision)) == ("not_covered", ["unknown_product"])


# --- response and arrival deadlines -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("1", at(2026, 2, 14, 9)),  # Friday 17:00 + 1 h: the make-up Saturday before the Spring Festival
        ("2", at(2026, 2, 14, 17)),  # 0.5 h on Friday, 7.5 h on the make-up Saturday
        ("non-fault", at(2026, 2, 25, 17)),  # 8.5 h before the festival, 15.5 h after it
    ],
)
def test_respond_by_counts_working_hours_on_the_period_calendar(customer, severity, expected):
    decision = decide(customer=customer, service="fault-diagnosis", at=at(2026, 2, 13, 17), severity=severity)
    assert decision.respond_by == expected
    assert decision.provisional is False


def test_a_deadline_in_an_unpublished_year_is_provisional(customer):
    decision = decide(customer=customer, service="fault-diagnosis", at=at(2027, 3, 3, 10), severity="4")
    assert decision.provisional is True
    assert "provisional_calendar" in codes(decision)
    assert decision.outcome == "included"


def test_the_strategic_tier_answers_sooner_and_wins_over_a_standard_period(customer):
    ServicePeriodFactory(
        contract=ContractFactory(customer=customer, kind=ContractKind.STRATEGIC),
        tier=ServiceTier.objects.get(code="strategic"),
        start=D(2026, 1, 1),
        end=D(2026, 12, 31),
    )
    decision = decide(customer=customer, service="fault-diagnosis", at=at(2026, 3, 4, 10), severity="1")
    assert decision.period.tier.code == "strategic"
    assert decision.respond_by == at(2026, 3, 4, 10, 30)


def test_on_site_fault_handling_is_included_with_travel_at_cost_and_level_1_arrives_within_24_hours(customer):
    decision = decide(
        customer=customer, service="fault-diagnosis", at=at(2026, 3, 6, 16), severity="1", on_site=True
    )
    assert decision.outcome == "included"
    assert decision.travel_at_cost is True
    assert decision.arrive_by == at(2026, 3, 7, 16)
    assert "level_1_on_site" in codes(decision)


def test_on_site_arrival_is_48_hours_in_the_city_and_3_working_days_elsewhere(customer):
    same_city = decide(customer=customer, service="on-site-service", at=at(2026, 9, 30, 10), on_site=True)
    assert same_city.arrive_by == at(2026, 10, 2, 10)
    elsewhere = decide(
        customer=customer, service="on-site-service", at=at(2026, 9, 30, 10), on_site=True, location="上海"
    )
    assert elsewhere.arrive_by == at(2026, 10, 10, 10)  # 10-8, 10-9 and the make-up Saturday 10-10
    in_city = decide(customer=customer, service="on-site-service", at=at(2026, 9, 30, 10), location="北京")
    assert in_city.arrive_by == same_city.arrive_by


def test_an_on_site_visit_on_request_for_standard_service_is_billable(customer):
    decision = decide(
        customer=customer, service="install-config", at=at(2026, 3, 4, 10), severity="4", on_site=True
    )
    assert decision.outcome == "billable"
    assert decision.price.unit_price == Money(2400, "CNY")
    assert decision.price.delivery_mode == "on_site"
    assert decision.price.travel_at_cost is True
    assert decision.arrive_by == at(2026, 3, 6, 10)


# --- upgrades ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to_version", "outcome", "reason"),
    [
        ("8.5.3", "included", "minor_upgrade"),
        ("8.6.0", "included", "medium_upgrade"),
        ("9.0.0", "billable", "major_upgrade"),
        ("8.4.0", "needs_approval", "downgrade"),
    ],
)
def test_minor_and_medium_upgrades_are_included_and_a_major_one_is_not(customer, to_version, outcome, reason):
    decision = decide(
        customer=customer, service="upgrade", at=at(2026, 3, 4, 10), product="KMS", to_version=to_version
    )
    assert decision.outcome == outcome
    assert reason in codes(decision)


def test_a_major_upgrade_licensed_by_an_upgrade_contract_is_included(customer):
    LicensedProductFactory(
        contract=ContractFactory(customer=customer, kind=ContractKind.UPGRADE), version="9.0.0"
    )
    decision = decide(
        customer=customer,
        service="upgrade",
        at=at(2026, 3, 4, 10),
        product="KMS",
        from_version="8.5.2",
        to_version="9.0.0",
    )
    assert (decision.outcome, codes(decision)) == ("included", ["upgrade_contract"])


@pytest.mark.parametrize(
    ("to_version", "at_day"),
    [
        ("8.99.0", at(2026, 3, 4, 10)),  # never released
        ("9.0.0", at(2026, 1, 15, 10)),  # released on 2026-01-16, asked the day before
    ],
)
def test_an_upgrade_to_a_version_not_released_on_the_day_is_not_covered(customer, to_version, at_day):
    decision = decide(customer=customer, service="upgrade", at=at_day, product="KMS", to_version=to_version)
    assert (decision.outcome, codes(decision)) == ("not_covered", ["unreleased_version"])
    assert decision.upgrade is None
    assert to_version in decision.reasons[0].text("en")


def test_a_version_listed_without_a_release_date_is_not_an_upgrade_target(customer):
    ProductVersion.objects.create(product=Product.objects.get(code="KMS"), major=8, medium=7, minor=0)
    decision = decide(
        customer=customer, service="upgrade", at=at(2026, 3, 4, 10), product="KMS", to_version="8.7"
    )
    assert codes(decision) == ["unreleased_version"]


def test_a_release_date_set_in_the_admin_makes_the_version_an_upgrade_target_at_once(customer):
    version = ProductVersion.objects.create(
        product=Product.objects.get(code="KMS"), major=8, medium=7, minor=0
    )
    decide(customer=customer, service="upgrade", at=at(2026, 3, 4, 10), product="KMS", to_version="8.7.0")
    version.released_on = datetime.date(2026, 3, 1)
    version.save()
    decision = decide(
        customer=customer, service="upgrade", at=at(2026, 3, 4, 10), product="KMS", to_version="8.7.0"
    )
    assert (decision.outcome, codes(decision)) == ("included", ["medium_upgrade"])


def test_custom_modules_get_no_upgrades_and_work_on_them_needs_approval(customer):
    CustomModule.objects.create(contract=customer.contracts.first(), code="oa-flow", name="定制流程")
    upgrade = decide(
        customer=customer, service="upgrade", at=at(2026, 3, 4, 10), product="oa-flow", to_version="8.6.0"
    )
    assert (upgrade.outcome, codes(upgrade)) == ("not_covered", ["custom_module_upgrade"])
    fix = decide(customer=customer, service="defect-fix", at=at(2026, 3, 4, 10), product="oa-flow")
    assert (fix.outcome, codes(fix)) == ("needs_approval", ["custom_module"])


def test_an_upgrade_check_needs_a_target_version(customer):
    with pytest.raises(BillingError):
        decide(customer=customer, service="upgrade", at=at(2026, 3, 4, 10), product="KMS")
    with pytest.raises(BillingError):
        decide(customer=customer, service="upgrade", at=at(2026, 3, 4, 10), product="KMS", to_version="nine")


# --- trainings -----------------------------------------------------------------------------------------


def _use_training(customer, period, day, key):
    ConsumptionEntry.objects.create(
        customer=customer,
        kind="training",
        period=period,
        service_code="customer-training",
        quantity=1,
        used_on=day,
        ticket_ref="T-1",
        idempotency_key=key,
    )


def test_trainings_are_included_while_the_contract_years_allowance_lasts_then_billable(customer):
    period = customer.contracts.first().periods.first()
    first = decide(customer=customer, service="customer-training", at=at(2026, 3, 4, 10))
    assert first.outcome == "included"
    assert (first.quota.allowance, first.quota.used, first.quota.left) == (2, 0, 2)
    assert (first.quota.valid_from, first.quota.valid_until) == (D(2026, 1, 1), D(2026, 12, 31))
    assert first.travel_at_cost is True
    _use_training(customer, period, D(2026, 2, 1), "a")
    _use_training(customer, period, D(2026, 3, 1), "b")
    used_up = decide(customer=customer, service="customer-training", at=at(2026, 3, 4, 10))
    assert used_up.outcome == "billable"
    assert used_up.quota.left == 0
    assert used_up.price.role == "trainer"


def test_a_multi_year_period_gets_its_allowance_each_contract_year(customer):
    period = customer.contracts.first().periods.first()
    _use_training(customer, period, D(2025, 5, 1), "a")
    _use_training(customer, period, D(2025, 6, 1), "b")
    assert (
        decide(customer=customer, service="customer-training", at=at(2025, 12, 31, 10)).outcome == "billable"
    )
    next_year = decide(customer=customer, service="customer-training", at=at(2026, 1, 1, 10))
    assert (next_year.outcome, next_year.quota.left) == ("included", 2)


def test_contract_years_run_from_the_period_start(catalogue):
    period = ServicePeriodFactory(start=D(2025, 7, 15), end=D(2027, 7, 14))
    assert period.contract_year(D(2026, 7, 14)) == (D(2025, 7, 15), D(2026, 7, 14))
    assert period.contract_year(D(2026, 7, 15)) == (D(2026, 7, 15), D(2027, 7, 14))
    leap = ServicePeriodFactory(start=D(2024, 2, 29), end=D(2026, 12, 31))
    assert leap.contract_year(D(2025, 3, 1)) == (D(2025, 2, 28), D(2026, 2, 27))


# --- value-added services ------------------------------------------------------------------------------


def test_value_added_person_days_are_billable_at_the_rate_card_in_force(customer):
    decision = decide(customer=customer, service="custom-development", at=at(2026, 3, 4, 10), quantity=3)
    assert decision.outcome == "billable"
    assert decision.price.rate_card == "list:1"
    assert decision.price.basis == "per_person_day"
    assert decision.price.unit_price == Money(1800, "CNY")
    assert decision.price.estimate == Money(5400, "CNY")
    assert decision.price.travel_at_cost is False


def test_a_role_and_on_site_delivery_change_the_person_day_rate(customer):
    decision = decide(
        customer=customer,
        service="architecture-optimisation",
        at=at(2026, 3, 4, 10),
        role="architect",
        on_site=True,
    )
    assert decision.price.unit_price == Money(4500, "CNY")
    assert decision.travel_at_cost is True
    assert "travel_at_cost" in codes(decision)


def test_data_volume_services_are_priced_on_graduated_tiers(customer):
    decision = decide(customer=customer, service="data-migration", at=at(2026, 3, 4, 10), quantity=250)
    assert decision.outcome == "billable"
    assert decision.price.estimate == Money(100 * 200 + 150 * 150, "CNY")
    assert [t["up_to"] for t in decision.price.tiers] == [Decimal(100), Decimal(500), None]


def test_fixed_and_per_person_prices(customer):
    health = decide(customer=customer, service="health-check", at=at(2026, 3, 4, 10))
    assert (health.price.basis, health.price.estimate) == ("fixed", Money(25000, "CNY"))
    certification = decide(customer=customer, service="kms-certification", at=at(2026, 3, 4, 10), quantity=4)
    assert certification.price.estimate == Money(19200, "CNY")


def test_a_new_rate_card_version_prices_requests_from_its_start(customer):
    second = rate_card_new_version(rate_card=RateCard.objects.get(version=1), effective_from=D(2026, 7, 1))
    second.persondayrates.filter(role="engineer", delivery_mode="remote").update(price=2000)
    before = decide(customer=customer, service="custom-development", at=at(2026, 6, 30, 10))
    after = decide(customer=customer, service="custom-development", at=at(2026, 7, 1, 10))
    assert (before.price.rate_card, before.price.unit_price) == ("list:1", Money(1800, "CNY"))
    assert (after.price.rate_card, after.price.unit_price) == ("list:2", Money(2000, "CNY"))


def test_prepaid_person_days_are_drawn_before_anything_is_billed(customer):
    PersonDayBundleFactory(contract=customer.contracts.first(), days=5)
    within = decide(customer=customer, service="custom-development", at=at(2026, 3, 4, 10), quantity=5)
    assert within.outcome == "included"
    assert (within.quota.allowance, within.quota.left) == (5, 5)
    beyond = decide(customer=customer, service="custom-development", at=at(2026, 3, 4, 10), quantity=6)
    assert beyond.outcome == "billable"


def test_a_service_without_a_price_needs_an_agreed_charge(customer):
    decision = decide(customer=customer, service="product-training", at=at(2024, 6, 1, 10))
    assert decision.outcome == "not_covered"  # before the period
    RateCard.objects.all().delete()
    decision = decide(customer=customer, service="product-training", at=at(2026, 3, 4, 10))
    assert (decision.outcome, codes(decision)) == ("needs_approval", ["no_price"])


# --- answers -------------------------------------------------------------------------------------------


def test_reasons_come_in_chinese_and_english(customer):
    reason = decide(customer=customer, service="hotline", at=at(2026, 3, 4, 10)).reasons[0].as_dict()
    assert reason["code"] == "standard_service"
    assert "2027-12-31" in reason["en"]
    assert "Standard service" in reason["en"]
    assert "标准服务" in reason["zh-hans"]
    with translation.override("en"):
        assert (
            decide(customer=customer, service="hotline", at=at(2026, 3, 4, 10)).reasons[0].as_dict() == reason
        )


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"customer": "NOPE", "service": "hotline"}, "unknown_customer"),
        ({"customer": "ACME", "service": "nope"}, "unknown_service"),
        ({"customer": "ACME", "service": "hotline", "severity": "5"}, "invalid_severity"),
        ({"customer": "ACME", "service": "hotline", "quantity": 0}, "invalid_quantity"),
        (
            {"customer": "ACME", "service": "hotline", "at": datetime.datetime(2026, 3, 4, 10)},
            "naive_datetime",
        ),
    ],
)
def test_bad_questions_are_refused_with_a_clear_error(customer, kwargs, code):
    with pytest.raises(BillingError) as error:
        decide(**kwargs)
    assert error.value.code == code
