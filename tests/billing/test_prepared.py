"""A prepared query answers what its queryset would, in one query, without compiling it again."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext

from billing.prepared import PreparedQuery, PreparedValues
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


def periods_from(customer_id: int, day: datetime.date):
    """An annotated values query with an integer and a date parameter (the date used twice)."""
    return (
        ServicePeriod.objects.filter(contract__customer_id=customer_id, start__lte=day, end__gte=day)
        .values("contract__number")
        .annotate(fees=Sum("fee"), periods=Count("pk"))
        .order_by("contract__number")
    )


def test_prepared_values_return_what_their_queryset_returns(two_customers):
    prepared = PreparedValues(periods_from, 770_000_001, datetime.date(1900, 1, 2))
    other = CustomerFactory(code="THIRD")
    for customer_id in (two_customers.pk, other.pk, 0):
        for day in (datetime.date(2024, 6, 1), datetime.date(2025, 6, 1), datetime.date(2030, 1, 1)):
            assert prepared(customer_id, day) == list(periods_from(customer_id, day))
    assert prepared(two_customers.pk, datetime.date(2024, 6, 1)) != prepared(
        two_customers.pk, datetime.date(2025, 6, 1)
    )  # the values do reach the query


def test_prepared_values_run_one_query_and_keep_the_fields_types(two_customers):
    prepared = PreparedValues(periods_from, 770_000_001, datetime.date(1900, 1, 2))
    prepared(two_customers.pk, datetime.date(2025, 6, 1))
    with CaptureQueriesContext(connection) as captured:
        rows = prepared(two_customers.pk, datetime.date(2025, 6, 1))
    assert len(captured) == 1
    assert rows[0]["fees"] == Decimal("12345.67")
    assert isinstance(rows[0]["periods"], int)


def test_prepared_values_refuse_a_sentinel_that_is_not_a_parameter(catalogue):
    prepared = PreparedValues(lambda _unused: ServicePeriod.objects.values("pk"), 770_000_001)
    with pytest.raises(ValueError, match="sentinel"):
        prepared(1)
