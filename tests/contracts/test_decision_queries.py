"""The decision reads a fixed number of rows whatever the size of the database."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from catalog.models import BusinessCalendar, Product, ServiceTier
from contracts.entitlements import decide
from contracts.models import Contract, Customer, LicensedProduct, ServicePeriod
from tests.contracts.conftest import at
from tests.factories import PersonDayBundleFactory

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {"service": "defect-fix", "severity": "1", "on_site": True},
    {"service": "defect-fix", "severity": "2", "product": "KMS", "channel": "hotline"},
    {"service": "customer-training"},
    {"service": "upgrade", "product": "KMS", "to_version": "9.0.0"},
    {"service": "data-migration", "quantity": 300, "on_site": True, "location": "elsewhere"},
    {"service": "custom-development", "quantity": 3},
]


def bulk_customers(count: int) -> None:
    """``count`` customers, each with a contract, a licence and a period (fast, for size tests)."""
    tier, calendar = ServiceTier.objects.get(code="standard"), BusinessCalendar.objects.get(code="5x8")
    start = Customer.objects.count()
    customers = Customer.objects.bulk_create(
        Customer(code=f"BULK-{start + n:06d}", legal_name=f"批量客户{n}") for n in range(count)
    )
    contracts = Contract.objects.bulk_create(
        Contract(customer=c, number=f"BULK-HT-{c.code}", kind="purchase", signed_on=datetime.date(2025, 1, 1))
        for c in customers
    )
    kms = Product.objects.get(code="KMS")
    LicensedProduct.objects.bulk_create(
        LicensedProduct(contract=c, product=kms, version="8.5.2") for c in contracts
    )
    ServicePeriod.objects.bulk_create(
        ServicePeriod(
            contract=c,
            kind="paid",
            start=datetime.date(2025, 1, 1),
            end=datetime.date(2027, 12, 31),
            tier=tier,
            calendar=calendar,
            fee=Money(1000, "CNY"),
        )
        for c in contracts
    )


def queries_for_questions(customer) -> list[int]:
    """Queries per question once the catalogue snapshot is warm, as it is in a running server."""
    counts = []
    for question in QUESTIONS:
        decide(customer=customer.code, at=at(2026, 3, 4, 10), **question)
        with CaptureQueriesContext(connection) as captured:
            decide(customer=customer.code, at=at(2026, 3, 4, 10), **question)
        counts.append(len(captured))
    return counts


def test_the_decision_takes_the_same_queries_at_1k_and_100k_contracts(customer):
    PersonDayBundleFactory(contract=customer.contracts.first())
    bulk_customers(1_000)
    at_1k = queries_for_questions(customer)
    bulk_customers(99_000)
    assert Contract.objects.count() > 100_000
    at_100k = queries_for_questions(customer)
    assert at_1k == at_100k
    assert max(at_100k) <= 8
