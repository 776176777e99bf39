import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import (
    DataVolumePrice,
    PersonDayRate,
    PricingBasis,
    RateCard,
    ServiceItem,
    ServiceKind,
    TaxCategory,
    VatRate,
    VolumeModel,
    WorkingWindow,
)
from catalog.selectors import rate_card_in_force, vat_rate_on
from catalog.services import rate_card_new_version
from tests.factories import BusinessCalendarFactory, RateCardFactory

pytestmark = pytest.mark.django_db


def test_names_follow_the_active_language(catalogue):
    item = ServiceItem.objects.get(code="hotline")
    with translation.override("zh-hans"):
        assert item.name == "400热线服务支持"
    with translation.override("en"):
        assert item.name == "400 hotline support"


def test_a_standard_service_cannot_be_priced(catalogue):
    item = ServiceItem.objects.get(code="hotline")
    item.pricing_basis = PricingBasis.PER_PERSON_DAY
    with pytest.raises(ValidationError):
        item.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        item.save()


def test_a_value_added_service_cannot_be_included(catalogue):
    item = ServiceItem.objects.get(code="custom-development")
    item.pricing_basis = PricingBasis.INCLUDED
    with pytest.raises(ValidationError):
        item.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        item.save()
    assert item.kind == ServiceKind.VALUE_ADDED


def test_vat_rates_are_dated(catalogue):
    assert vat_rate_on(category_code=TaxCategory.SERVICES, on=datetime.date(2026, 1, 1)) == Decimal("0.06")
    assert vat_rate_on(category_code=TaxCategory.SOFTWARE, on=datetime.date(2026, 1, 1)) == Decimal("0.13")
    assert vat_rate_on(category_code=TaxCategory.SOFTWARE, on=datetime.date(2019, 3, 31)) == Decimal("0.16")
    with pytest.raises(BillingError):
        vat_rate_on(category_code=TaxCategory.SOFTWARE, on=datetime.date(2010, 1, 1))


def test_a_vat_rate_is_a_fraction_between_zero_and_one(catalogue):
    rate = VatRate(
        category=TaxCategory.objects.get(code="services"), rate=Decimal(6), valid_from="2030-01-01"
    )
    with pytest.raises(ValidationError):
        rate.full_clean()


def test_the_rate_card_in_force_is_the_latest_started_version(catalogue):
    first = RateCard.objects.get(code="list", version=1)
    second = rate_card_new_version(rate_card=first, effective_from=datetime.date(2026, 7, 1))
    assert rate_card_in_force(on=datetime.date(2026, 6, 30)) == first
    assert rate_card_in_force(on=datetime.date(2026, 7, 1)) == second
    with pytest.raises(BillingError):
        rate_card_in_force(on=datetime.date(2024, 12, 31))


def test_a_price_change_is_a_new_version_and_the_old_prices_stay(catalogue):
    first = RateCard.objects.get(code="list", version=1)
    second = rate_card_new_version(rate_card=first, effective_from=datetime.date(2026, 7, 1))
    assert second.version == 2
    new_rate = second.persondayrates.get(role="architect", delivery_mode="on_site")
    new_rate.price = Money(5000, "CNY")
    new_rate.save()
    assert first.persondayrates.get(role="architect", delivery_mode="on_site").price == Money(4500, "CNY")
    assert second.persondayrates.count() == first.persondayrates.count() == 10
    assert second.unitprices.count() == first.unitprices.count()
    assert [t.up_to for t in second.data_volume_prices.get(service__code="data-migration").tiers.all()] == [
        Decimal(100),
        Decimal(500),
        None,
    ]
    assert second.travel_policy.lodging_cap_per_night == Money(500, "CNY")


def test_a_new_version_must_start_after_the_latest(catalogue):
    first = RateCard.objects.get(code="list", version=1)
    with pytest.raises(BillingError):
        rate_card_new_version(rate_card=first, effective_from=first.effective_from)


def test_prices_are_in_the_rate_cards_currency(catalogue):
    card = RateCardFactory(currency="CNY")
    rate = PersonDayRate(rate_card=card, role="engineer", delivery_mode="remote", price=Money(100, "USD"))
    with pytest.raises(ValidationError):
        rate.full_clean()


def test_package_pricing_needs_a_package_size(catalogue):
    card = RateCard.objects.get(version=1)
    pricing = DataVolumePrice(
        rate_card=card, service=ServiceItem.objects.get(code="kms-course"), model=VolumeModel.PACKAGE
    )
    with pytest.raises(ValidationError):
        pricing.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        pricing.save()


def test_working_windows_must_not_overlap():
    calendar = BusinessCalendarFactory()
    window = WorkingWindow(calendar=calendar, weekday=0, start=datetime.time(11), end=datetime.time(14))
    with pytest.raises(ValidationError):
        window.full_clean()
    evening = WorkingWindow(calendar=calendar, weekday=0, start=datetime.time(18), end=datetime.time(0))
    evening.full_clean()
