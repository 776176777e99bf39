"""`manage.py load_demo --scale N`: many customers with five years of history, as consistent as the services
would have written it."""

import datetime
import itertools
from collections import defaultdict

import pytest
from django.utils import timezone

from contracts.entitlements import decide
from contracts.models import Customer, ServicePeriod
from invoices.models import Charge, Invoice, InvoiceKind, InvoiceRun, InvoiceStatus
from invoices.scale_demo import load_scale
from invoices.selectors import invoice_balance
from invoices.services import invoice_run_execute

pytestmark = pytest.mark.django_db


@pytest.fixture
def scaled(catalogue):
    return load_scale(customers=20, seed=7)


def test_scale_customers_get_years_of_history(scaled):
    assert scaled["customers"] == 20
    assert 20 * 60 <= scaled["work logs"] <= 20 * 140
    assert scaled["invoices"] >= 20 * 6
    assert scaled["payments"] > scaled["invoices"] / 2
    assert scaled["quotes"] == scaled["charge requests"] == 2
    assert scaled["credit notes"] >= 1


def test_issued_invoices_are_the_sums_of_their_lines_numbered_without_gaps(scaled):
    numbers = defaultdict(list)
    for invoice in Invoice.objects.filter(status=InvoiceStatus.ISSUED).order_by("issue_date", "sequence"):
        lines = list(invoice.lines.all())
        assert lines
        assert all(line.gross == line.net + line.vat for line in lines)
        numbers[(invoice.series, invoice.year)].append(invoice.sequence)
    for sequences in numbers.values():
        assert sequences == list(range(1, len(sequences) + 1))


def test_nothing_is_overpaid_and_no_past_charge_is_unbilled(scaled):
    for invoice in Invoice.objects.filter(status=InvoiceStatus.ISSUED, kind=InvoiceKind.INVOICE):
        assert invoice_balance(invoice).amount >= 0
    month_start = timezone.localdate().replace(day=1)
    assert not Charge.objects.filter(invoice_line__isnull=True, service_date__lt=month_start).exists()


def test_periods_of_one_contract_never_overlap(scaled):
    by_contract = defaultdict(list)
    for period in ServicePeriod.objects.order_by("start"):
        by_contract[period.contract_id].append(period)
    for periods in by_contract.values():
        for before, after in itertools.pairwise(periods):
            assert before.end < after.start


def test_an_invoice_run_today_bills_only_this_month(scaled):
    today = timezone.localdate()
    billed = set(Charge.objects.filter(invoice_line__isnull=False).values_list("pk", flat=True))
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today))
    new = Charge.objects.filter(invoice_line__isnull=False).exclude(pk__in=billed)
    assert not new.filter(service_date__lt=today.replace(day=1)).exists()
    assert (
        Charge.objects.filter(pk__in=billed, invoice_line__invoice__status=InvoiceStatus.DRAFT).count() == 0
    )


def test_a_second_load_adds_new_customers(scaled):
    load_scale(customers=3, seed=7)
    assert Customer.objects.filter(code__startswith="SCALE-").count() == 23


def test_the_entitlement_check_answers_for_scale_customers(scaled):
    today = timezone.localdate()
    at = timezone.make_aware(datetime.datetime.combine(today, datetime.time(10)))
    covered = ServicePeriod.objects.filter(
        start__lte=today, end__gte=today, contract__customer__code__startswith="SCALE-"
    )
    lapsed = Customer.objects.filter(code__startswith="SCALE-").exclude(
        pk__in=covered.values("contract__customer_id")
    )
    assert covered.exists()
    assert lapsed.exists()
    answers = [
        decide(customer=period.contract.customer, service="defect-fix", at=at, severity="2")
        for period in covered
    ]
    assert "included" in {answer.outcome for answer in answers}
    assert all(answer.period is not None for answer in answers)
    lapsed_answer = decide(customer=lapsed.first(), service="defect-fix", at=at, severity="2")
    assert lapsed_answer.outcome != "included"
    assert "lapsed" in [reason.code for reason in lapsed_answer.reasons]
