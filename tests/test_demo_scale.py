"""`manage.py load_demo --scale N`: many customers with five years of history, as consistent as the services
would have written it."""

import datetime
import itertools
from collections import defaultdict

import pytest
from django.utils import timezone

from contracts.entitlements import decide
from contracts.models import ChargeRequest, ChargeStatus, Customer, ServicePeriod
from invoices.models import Charge, Invoice, InvoiceKind, InvoiceRun, InvoiceStatus, TravelExpense
from invoices.scale_demo import load_scale, quarter_start
from invoices.selectors import invoice_balance
from invoices.services import invoice_run_execute, pending_work_dispatch
from quotes.models import Quote, QuoteStatus, ServiceOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def scaled(catalogue):
    return load_scale(customers=20, seed=7)


def test_scale_customers_get_years_of_history(scaled):
    assert scaled["customers"] == 20
    assert 20 * 60 <= scaled["work logs"] <= 20 * 140
    assert scaled["invoices"] >= 20 * 4
    assert scaled["payments"] > scaled["invoices"] / 2
    assert scaled["quotes"] == 5
    assert scaled["charge requests"] == 2
    assert scaled["credit notes"] >= 1


def test_scale_quotes_are_in_every_state_and_the_accepted_one_is_an_order(scaled):
    quotes = Quote.objects.filter(customer__code__startswith="SCALE-")
    assert set(quotes.values_list("status", flat=True)) == {
        QuoteStatus.ACCEPTED,
        QuoteStatus.DECLINED,
        QuoteStatus.CLOSED,  # sent forty days ago, never answered: expired
        QuoteStatus.SENT,
        QuoteStatus.DRAFT,
    }
    accepted = quotes.get(status=QuoteStatus.ACCEPTED)
    assert ServiceOrder.objects.get(quote=accepted).lines.count() == accepted.lines.count()


def test_scale_charge_requests_are_answered_both_ways(catalogue):
    load_scale(customers=42, seed=3)  # every tenth from the second
    statuses = set(
        ChargeRequest.objects.filter(customer__code__startswith="SCALE-").values_list("status", flat=True)
    )
    assert statuses == {
        ChargeStatus.CONFIRMED,
        ChargeStatus.DECLINED,
        ChargeStatus.REJECTED,
        ChargeStatus.AWAITING_CUSTOMER,
        ChargeStatus.PENDING_APPROVAL,
    }


def test_travel_receipts_are_real_files(scaled):
    expenses = TravelExpense.objects.filter(customer__code__startswith="SCALE-")
    assert expenses.exists()
    for expense in expenses[:3]:
        with expense.receipt.open("rb") as receipt:
            assert receipt.read(5) == b"%PDF-"


def test_quarterly_customers_get_an_invoice_after_each_quarter(catalogue):
    load_scale(customers=5, seed=11, monthly_share=0)
    invoices = Invoice.objects.filter(customer__code__startswith="SCALE-", kind=InvoiceKind.INVOICE)
    assert invoices.exists()
    assert {(d.month, d.day) for d in invoices.values_list("issue_date", flat=True)} <= {
        (1, 1),
        (4, 1),
        (7, 1),
        (10, 1),
    }
    quarterly = invoices.count()
    monthly = load_scale(customers=5, seed=11, monthly_share=1)  # the same history (the same seed)
    assert monthly["invoices"] > 2 * quarterly


def test_loaded_invoices_queue_no_pdf_but_a_recent_one_without_its_pdf_is_sent_again(
    catalogue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # what the services send on commit: PDFs
        load_scale(customers=3, seed=5, today=timezone.localdate() - datetime.timedelta(days=3))
    assert pending_work_dispatch(older_than=datetime.timedelta(0))["pdfs"] == 0
    recent = Invoice.objects.filter(customer__code__startswith="SCALE-", pdf_sha256="").first()
    Invoice.objects.filter(pk=recent.pk).update(issued_at=timezone.now() - datetime.timedelta(hours=1))
    assert pending_work_dispatch(older_than=datetime.timedelta(0))["pdfs"] == 1
    recent.refresh_from_db()
    assert recent.pdf_sha256  # rendered (the tests' tasks run at once)


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
    # customers billed quarterly wait for the end of the quarter
    this_quarter = quarter_start(timezone.localdate())
    assert not Charge.objects.filter(invoice_line__isnull=True, service_date__lt=this_quarter).exists()


def test_periods_of_one_contract_never_overlap(scaled):
    by_contract = defaultdict(list)
    for period in ServicePeriod.objects.order_by("start"):
        by_contract[period.contract_id].append(period)
    for periods in by_contract.values():
        for before, after in itertools.pairwise(periods):
            assert before.end < after.start


def test_an_invoice_run_today_bills_only_this_quarter(scaled):
    today = timezone.localdate()
    billed = set(Charge.objects.filter(invoice_line__isnull=False).values_list("pk", flat=True))
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today))
    new = Charge.objects.filter(invoice_line__isnull=False).exclude(pk__in=billed)
    assert not new.filter(service_date__lt=quarter_start(today)).exists()
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
