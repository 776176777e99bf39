"""Revenue by service group: each invoiced line counts in the group of what it billed, credit notes in
the group of the line they credit."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from djmoney.money import Money

from catalog.models import ServiceItem
from invoices.models import DataVolumeUsage, Invoice, InvoiceRun
from invoices.selectors import OUT_OF_SCOPE, PERIODS, overdue_sums_by_age, revenue_by_group, revenue_by_month
from invoices.services import (
    credit_note_issue,
    invoice_issue,
    invoice_run_execute,
    payment_record,
    work_log_record,
)
from tests.factories import CustomerFactory, ServicePeriodFactory

# The factories' periods and bundles run 2025-2027: read them as of a day inside, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]


@pytest.fixture
def invoiced(catalogue):
    today = timezone.localdate()
    customer = CustomerFactory()
    ServicePeriodFactory(contract__customer=customer, start=today.replace(day=1), fee=1000)
    work_log_record(
        customer=customer,
        engineer="张伟",
        work_date=today.replace(day=1),
        ticket_ref="TK-1",
        idempotency_key="wl-1",
        days=Decimal(2),
        service_code="custom-development",
    )
    DataVolumeUsage.objects.create(customer=customer, quantity=250, measured_on=today.replace(day=1))
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today))
    return invoice_issue(invoice=Invoice.objects.get())


def test_each_line_counts_in_the_group_of_what_it_billed(invoiced, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        months, labels = revenue_by_group(months=3, today=timezone.localdate())
    this_month = months["CNY"][-1]
    lines = {line.description: float(line.gross.amount) for line in invoiced.lines.all()}
    development = ServiceItem.objects.get(code="custom-development").group.code
    migration = ServiceItem.objects.get(code="data-migration").group.code
    assert this_month[PERIODS] == 1000
    assert this_month[development] == next(v for k, v in lines.items() if "张伟" in k)
    assert this_month[migration] == next(v for k, v in lines.items() if "250" in k)
    assert sum(this_month[key] for key in labels) == pytest.approx(sum(lines.values()))
    assert this_month[OUT_OF_SCOPE] == 0
    assert set(labels) >= {PERIODS, development, migration, OUT_OF_SCOPE}


def test_a_credit_note_is_deducted_from_the_group_of_the_line_it_credits(invoiced):
    fee_line = next(line for line in invoiced.lines.all() if line.gross.amount == 1000)
    credit_note_issue(invoice=invoiced, reason="部分退费", lines={fee_line.pk: Decimal("0.25")})
    months, _labels = revenue_by_group(months=1, today=timezone.localdate())
    assert months["CNY"][-1][PERIODS] == 750
    by_source = revenue_by_month(months=1, today=timezone.localdate())["CNY"][-1]
    assert by_source["credited"] == -250
    assert by_source["period_fee"] == 1000


def test_months_without_invoices_are_zero(catalogue):
    by_currency, labels = revenue_by_group(months=12, today=datetime.date(2026, 6, 15))
    assert list(by_currency) == ["CNY"]
    months = by_currency["CNY"]
    assert len(months) == 12
    assert months[0]["month"] == datetime.date(2025, 7, 1)
    assert all(row[key] == 0 for row in months for key in labels)


def test_the_sums_kept_for_a_month_follow_a_document_issued_in_it(invoiced, django_assert_max_num_queries):
    """The charts keep each month's sums (invoices.selectors._month_sums); a credit note issued in the month
    changes its fingerprint, so the figures follow it at once, and the other months are not summed again."""
    today = timezone.localdate()
    assert revenue_by_group(months=12, today=today)[0]["CNY"][-1][PERIODS] == 1000
    assert revenue_by_month(months=12, today=today)["CNY"][-1]["credited"] == 0
    with django_assert_max_num_queries(3):  # the fingerprints and the catalogue: no line is summed again
        assert revenue_by_group(months=12, today=today)[0]["CNY"][-1][PERIODS] == 1000
    fee_line = next(line for line in invoiced.lines.all() if line.gross.amount == 1000)
    credit_note_issue(invoice=invoiced, reason="部分退费", lines={fee_line.pk: Decimal("0.25")})
    assert revenue_by_group(months=12, today=today)[0]["CNY"][-1][PERIODS] == 750
    assert revenue_by_month(months=12, today=today)["CNY"][-1]["credited"] == -250


def test_the_ageing_kept_follows_a_payment(invoiced):
    """The charts' ageing is kept until a payment, an issued document or another day changes it."""
    later = invoiced.due_date + datetime.timedelta(days=10)
    gross = invoiced.lines.aggregate(total=Sum("gross"))["total"]
    assert overdue_sums_by_age(today=later)["1-30"]["CNY"].amount == gross
    payment_record(
        invoice=invoiced, amount=Money(100, "CNY"), received_on=invoiced.issue_date, reference="B1"
    )
    assert overdue_sums_by_age(today=later)["1-30"]["CNY"].amount == gross - 100
    assert (
        overdue_sums_by_age(today=later + datetime.timedelta(days=30))["31-60"]["CNY"].amount == gross - 100
    )
