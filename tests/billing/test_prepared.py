"""A prepared query answers what its queryset would, in one query, without compiling it again."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from billing.prepared import PreparedQuery
from contracts.models import ServicePeriod
from tests.factories import ContractFactory, CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db


def periods_of(code):
    return (
        ServicePeriod.objects.filter(contract__customer__code=code)
        .select_related("contract__customer")
        .order_by("start")
    )


@pytest.fixture
def two_customers(catalogue):
    acme = CustomerFactory(code="ACME", city="上海")
    contract = ContractFactory(customer=acme)
    ServicePeriodFactory(
        contract=contract,
        kind="free",
        fee=0,
        start=datetime.date(2024, 1, 1),
        end=datetime.date(2024, 12, 31),
    )
    ServicePeriodFactory(contract=contract, start=datetime.date(2025, 1, 1), fee=Decimal("12345.67"))
    ServicePeriodFactory(contract__customer=CustomerFactory(code="OTHER"))
    return acme


def fields(period: ServicePeriod) -> tuple:
    """Every concrete field of the period, its contract and the contract's customer, as Python values."""

    def values(obj):
        return tuple(getattr(obj, f.attname) for f in obj._meta.concrete_fields)

    return values(period), values(period.contract), values(period.contract.customer)


def test_a_prepared_query_returns_what_its_queryset_returns(two_customers):
    prepared = PreparedQuery(periods_of)
    for code in ("ACME", "OTHER", "NOBODY"):
        expected = [fields(p) for p in periods_of(code)]
        assert [fields(p) for p in prepared(code)] == expected
    acme = prepared("ACME")
    assert [p.kind for p in acme] == ["free", "paid"]
    # converted by the backend's converters, as a queryset does (SQLite returns text for these)
    assert isinstance(acme[0].start, datetime.date)
    assert acme[1].fee.amount == Decimal("12345.67")
    assert acme[0].contract.customer.city == "上海"


def test_a_prepared_query_loads_its_related_rows_without_further_queries(two_customers):
    prepared = PreparedQuery(periods_of)
    prepared("ACME")  # compiled
    with CaptureQueriesContext(connection) as captured:
        periods = prepared("ACME")
        codes = {p.contract.customer.code for p in periods}
    assert codes == {"ACME"}
    assert len(captured) == 1


def test_a_prepared_query_takes_its_value_as_a_parameter_only(two_customers):
    prepared = PreparedQuery(periods_of)
    assert prepared("ACME' OR '1'='1") == []
    assert prepared("%") == []


@pytest.mark.django_db(transaction=True)
def test_a_prepared_query_serves_other_threads_on_their_own_connections(two_customers):
    prepared = PreparedQuery(periods_of)
    expected = [fields(p) for p in prepared("ACME")]
    seen = []

    def ask():
        try:
            seen.append([fields(p) for p in prepared("ACME")])
        finally:
            connections.close_all()

    worker = threading.Thread(target=ask)
    worker.start()
    worker.join()
    assert seen == [expected]


def test_a_queryset_that_does_not_use_its_value_once_is_refused(catalogue):
    with pytest.raises(ValueError, match="once"):
        PreparedQuery(lambda code: ServicePeriod.objects.all())("ACME")
    with pytest.raises(ValueError, match="once"):
        PreparedQuery(
            lambda code: ServicePeriod.objects.filter(contract__number=code, contract__customer__code=code)
        )("ACME")
