"""Regression tests for holes found in review: each names the hole it closes."""

import datetime
from decimal import Decimal

import pytest
from djmoney.money import Money
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.errors import BillingError
from catalog.models import Product, ProductVersion, RateCard, ServiceItem
from contracts.entitlements import decide
from contracts.models import ChargeStatus, ConsumptionEntry
from contracts.services import charge_request_approve, charge_request_create, consume
from tests.contracts.conftest import at
from tests.factories import CustomerFactory, PersonDayBundleFactory, ServicePeriodFactory, user_with

# Uses dated in 2026 must fall in an open contract year, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]
D = datetime.date


def test_a_key_that_looks_like_a_split_part_is_a_new_operation(customer):
    contract = customer.contracts.first()
    PersonDayBundleFactory(contract=contract, days=1, valid_until=D(2026, 6, 30))
    PersonDayBundleFactory(contract=contract, days=10)
    service = ServiceItem.objects.get(code="custom-development")
    first = consume(
        customer=customer,
        service=service,
        quantity=2,
        ticket_ref="T1",
        idempotency_key="k",
        at=at(2026, 3, 4, 10),
    )
    assert [e.part for e in first] == [1, 2]
    second = consume(
        customer=customer,
        service=service,
        quantity=5,
        ticket_ref="T2",
        idempotency_key="k#2",
        at=at(2026, 3, 4, 10),
    )
    assert second[0].ticket_ref == "T2"
    assert ConsumptionEntry.objects.count() == 3


def test_a_long_idempotency_key_is_stored_hashed(customer):
    _key, raw = create_api_key(name="z", scopes=["consumption:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {
        "customer": "ACME",
        "service": "customer-training",
        "quantity": 1,
        "ticket": "T",
        "at": "2026-03-04T10:00:00+08:00",
    }
    response = client.post(
        "/api/v1/entitlements/consume", body, format="json", HTTP_IDEMPOTENCY_KEY="x" * 200
    )
    assert response.status_code == 201
    assert len(ConsumptionEntry.objects.get().idempotency_key) < 100


def test_a_token_amount_beside_many_person_days_still_needs_finance(customer, django_user_model, settings):
    settings.CHARGE_FINANCE_APPROVAL_ABOVE = 20000
    manager = user_with(django_user_model, "am", "approve_chargerequest")
    charge = charge_request_create(
        customer=customer,
        ticket_ref="T",
        description="x",
        requested_by="api:x",
        estimated_person_days=100,
        estimated_amount=Money(1, "CNY"),
    )
    assert charge_request_approve(request=charge, by=manager).status == ChargeStatus.PENDING_FINANCE


def test_only_the_customers_own_account_manager_approves(customer, django_user_model):
    users = [user_with(django_user_model, name, "approve_chargerequest") for name in ("own", "other")]
    own, other = users
    customer.account_manager = own
    customer.save()
    charge = charge_request_create(
        customer=customer, ticket_ref="T", description="x", requested_by="api:x", estimated_person_days=1
    )
    with pytest.raises(BillingError) as error:
        charge_request_approve(request=charge, by=other)
    assert error.value.code == "not_your_customer"
    assert charge_request_approve(request=charge, by=own).status == ChargeStatus.AWAITING_CUSTOMER


def test_a_from_version_of_an_unlicensed_major_does_not_make_a_major_upgrade_free(customer):
    ProductVersion.objects.create(
        product=Product.objects.get(code="KMS"),
        major=9,
        medium=1,
        minor=0,
        released_on=datetime.date(2026, 2, 1),
    )
    decision = decide(
        customer=customer,
        service="upgrade",
        at=at(2026, 3, 4, 10),
        product="KMS",
        from_version="9.0.0",
        to_version="9.1.0",
    )
    assert decision.outcome == "billable"
    assert decision.upgrade == "major"


def test_an_on_site_training_stays_a_free_training_with_travel_at_cost(customer):
    decision = decide(customer=customer, service="customer-training", at=at(2026, 3, 4, 10), on_site=True)
    assert decision.outcome == "included"
    assert decision.travel_at_cost is True


def test_without_a_rate_card_extra_training_needs_an_agreed_charge(catalogue):
    customer = CustomerFactory()
    ServicePeriodFactory(
        contract__customer=customer, start=D(2024, 1, 1), end=D(2024, 12, 31), trainings_per_year=0
    )
    RateCard.objects.all().delete()
    decision = decide(customer=customer, service="customer-training", at=at(2024, 6, 3, 10))
    assert decision.outcome == "needs_approval"


def test_prepaid_person_days_left_are_drawn_and_only_the_rest_billed(customer):
    PersonDayBundleFactory(contract=customer.contracts.first(), days=5)
    decision = decide(customer=customer, service="custom-development", at=at(2026, 3, 4, 10), quantity=8)
    assert decision.outcome == "billable"
    assert decision.price.quantity == Decimal(3)
    assert decision.price.estimate == Money(5400, "CNY")


def test_an_arrival_in_an_unpublished_year_is_provisional(customer):
    decision = decide(
        customer=customer, service="on-site-service", at=at(2026, 12, 30, 10), location="elsewhere"
    )
    assert decision.arrive_by.year == 2027
    assert decision.provisional is True


def test_a_list_filter_with_a_nul_byte_is_a_422_not_a_500(customer):
    _key, raw = create_api_key(name="z", scopes=["charges:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.get("/api/v1/charge-requests", {"customer": "A\x00B"})
    assert response.status_code == 422
    assert client.get("/api/v1/charge-requests", {"status": "nope"}).status_code == 422
