"""Charges, invoice runs, gapless numbers, credit notes and payments."""

import datetime
import random
import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import ServiceItem
from catalog.services import load_catalog
from contracts.models import ChargeRequest, ChargeStatus
from contracts.services import charge_request_create
from invoices import services as invoicing
from invoices.models import Charge, ChargeSource, Invoice, InvoiceRun, InvoiceStatus, RunStatus
from invoices.selectors import invoice_balance, invoice_totals, overdue_by_age
from invoices.services import (
    charges_collect,
    credit_note_issue,
    invoice_delete_draft,
    invoice_issue,
    invoice_run_execute,
    invoice_run_start,
    payment_record,
)
from quotes.services import quote_add_line, quote_create, quote_customer_answer, quote_send
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def billable(catalogue):
    """A customer with a paid period fee, an accepted quote (two lines billed when ordered) and a confirmed
    charge request."""
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=50000)
    quote = quote_create(customer=customer, valid_until=timezone.localdate() + datetime.timedelta(days=30))
    quote_add_line(
        quote=quote,
        service=ServiceItem.objects.get(code="custom-development"),
        quantity=3,
        invoicing_policy="ordered",  # three days at a fixed price, billed when ordered
    )
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="health-check"), quantity=1)
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    request = charge_request_create(
        customer=customer,
        ticket_ref="TK-9",
        description="报表",
        requested_by="api:x",
        estimated_amount=Money(3000, "CNY"),
    )
    ChargeRequest.objects.filter(pk=request.pk).update(
        status=ChargeStatus.CONFIRMED, customer_answered_at=timezone.now()
    )
    return customer


def today():
    return timezone.localdate()


def test_every_billable_thing_is_charged_once(billable):
    assert charges_collect(up_to=today()) == 4
    assert charges_collect(up_to=today()) == 0
    assert sorted(Charge.objects.values_list("source", flat=True)) == sorted(
        [
            ChargeSource.PERIOD_FEE,
            ChargeSource.QUOTE_LINE,
            ChargeSource.QUOTE_LINE,
            ChargeSource.CHARGE_REQUEST,
        ]
    )


def test_an_invoice_run_makes_one_draft_per_customer_and_a_second_run_bills_nothing(billable):
    run = invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    assert (run.status, run.customers_total, run.customers_done, run.invoices_created) == (
        RunStatus.DONE,
        1,
        1,
        1,
    )
    invoice = Invoice.objects.get()
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice_totals(invoice)["gross"] == Money(50000 + 5400 + 25000 + 3000, "CNY")
    again = invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    assert (again.customers_total, again.invoices_created) == (0, 0)
    assert Invoice.objects.count() == 1
    assert not Charge.objects.filter(invoice_line__isnull=True).exists()


def test_lines_carry_vat_per_line_and_totals_are_sums(billable):
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    invoice = Invoice.objects.get()
    totals = invoice_totals(invoice)
    assert totals["net"] + totals["vat"] == totals["gross"]
    assert totals["gross"] == sum((line.gross for line in invoice.lines.all()), Money(0, "CNY"))
    fee = invoice.lines.get(description__contains="HT-")
    assert (fee.net, fee.vat) == (Money(Decimal("47169.81"), "CNY"), Money(Decimal("2830.19"), "CNY"))


def test_a_run_that_dies_half_way_is_retried_and_bills_every_charge_once(catalogue, monkeypatch):
    customers = [CustomerFactory() for _ in range(4)]
    for customer in customers:
        ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=1000)
    real = invoicing._bill_customer
    calls = {"n": 0}

    def dies_on_the_third(run, customer_id, **options):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        return real(run, customer_id, **options)

    monkeypatch.setattr(invoicing, "_bill_customer", dies_on_the_third)
    run = InvoiceRun.objects.create(up_to=today())
    with pytest.raises(RuntimeError):
        invoice_run_execute(run=run)
    assert Invoice.objects.count() == 2
    monkeypatch.setattr(invoicing, "_bill_customer", real)
    run = invoice_run_execute(run=run)
    assert run.status == RunStatus.DONE
    assert Invoice.objects.count() == 4
    assert sorted(Invoice.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in customers)
    assert all(line.charge for invoice in Invoice.objects.all() for line in invoice.lines.all())
    assert Charge.objects.filter(invoice_line__isnull=True).count() == 0


def test_a_run_started_from_the_service_runs_its_task(billable, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = invoice_run_start(up_to=today())
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
    assert Invoice.objects.count() == 1


def test_issuing_numbers_invoices_in_a_gapless_series_per_year(catalogue):
    invoices = []
    for _ in range(3):
        customer = CustomerFactory()
        ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=100)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    for invoice in Invoice.objects.order_by("pk"):
        invoices.append(invoice_issue(invoice=invoice, issue_date=D(2026, 11, 25)).number)
    assert invoices == ["INV2026-000001", "INV2026-000002", "INV2026-000003"]
    with pytest.raises(BillingError):
        invoice_issue(invoice=Invoice.objects.first())


def test_an_issued_invoice_is_never_deleted_but_a_draft_is_and_its_charges_return(billable):
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    draft = Invoice.objects.get()
    invoice_delete_draft(invoice=draft)
    assert Charge.objects.filter(invoice_line__isnull=True).count() == 4
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    issued = invoice_issue(invoice=Invoice.objects.get())
    with pytest.raises(BillingError):
        invoice_delete_draft(invoice=issued)


def test_a_credit_note_reverses_part_of_an_invoice_in_its_own_series(billable):
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    invoice = invoice_issue(invoice=Invoice.objects.get())
    days = invoice.lines.get(quantity=3)
    note = credit_note_issue(invoice=invoice, reason="少做一天", lines={days.pk: Decimal(1)})
    assert note.number.startswith(f"CN{note.year}-")
    assert invoice_totals(note)["gross"] == Money(-1800, "CNY")
    assert invoice_balance(invoice) == Money(83400 - 1800, "CNY")
    with pytest.raises(BillingError) as error:
        credit_note_issue(invoice=invoice, reason="again", lines={days.pk: Decimal(3)})
    assert error.value.code == "credit_too_much"
    whole_rest = credit_note_issue(invoice=invoice, reason="取消", lines={days.pk: Decimal(2)})
    assert invoice_totals(whole_rest)["gross"] == Money(-3600, "CNY")


def test_a_whole_invoice_can_be_credited(billable):
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    invoice = invoice_issue(invoice=Invoice.objects.get())
    credit_note_issue(invoice=invoice, reason="合同取消")
    assert invoice_balance(invoice) == Money(0, "CNY")


def test_payments_partial_or_whole_are_recorded_once_per_bank_reference(billable):
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    invoice = invoice_issue(invoice=Invoice.objects.get())
    payment_record(invoice=invoice, amount=Money(40000, "CNY"), received_on=today(), reference="BANK-1")
    payment_record(invoice=invoice, amount=Money(40000, "CNY"), received_on=today(), reference="BANK-1")
    assert invoice_balance(invoice) == Money(43400, "CNY")
    with pytest.raises(BillingError):
        payment_record(invoice=invoice, amount=Money(50000, "CNY"), received_on=today(), reference="BANK-2")
    payment_record(invoice=invoice, amount=Money(43400, "CNY"), received_on=today(), reference="BANK-2")
    assert invoice_balance(invoice) == Money(0, "CNY")


def test_overdue_invoices_are_listed_by_age(billable):
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    invoice = invoice_issue(invoice=Invoice.objects.get(), issue_date=D(2026, 8, 1))
    buckets = overdue_by_age(today=D(2026, 10, 15))  # due 2026-08-31: 45 days overdue
    assert [i for i, _open, _days in buckets["31-60"]] == [invoice]
    assert buckets["1-30"] == buckets["61-90"] == buckets["90+"] == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_with_random_rollbacks_leaves_no_gap_and_no_duplicate():
    load_catalog()
    for _ in range(12):
        ServicePeriodFactory(
            contract__customer=CustomerFactory(), start=D(2026, 1, 1), end=D(2026, 12, 31), fee=100
        )
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 11, 25)))
    drafts = list(Invoice.objects.values_list("pk", flat=True))
    rng = random.Random(5)
    rollback = {pk: rng.random() < 0.3 for pk in drafts}

    class Rollback(Exception):
        pass

    def issue(pk):
        try:
            with transaction.atomic():
                invoice_issue(invoice=Invoice.objects.get(pk=pk), issue_date=D(2026, 11, 25))
                if rollback[pk]:
                    raise Rollback
        except Rollback:
            pass
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(pk,)) for pk in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    numbers = sorted(Invoice.objects.filter(status=InvoiceStatus.ISSUED).values_list("sequence", flat=True))
    assert len(numbers) == sum(1 for pk in drafts if not rollback[pk])
    assert numbers == list(range(1, len(numbers) + 1))


def test_invoice_admin_pages_open_and_drafts_are_issued_there(admin_client, billable):
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    draft = Invoice.objects.get()
    for name in ("invoice", "charge", "invoicerun"):
        assert admin_client.get(reverse(f"admin:invoices_{name}_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:invoices_invoice_change", args=[draft.pk])).status_code == 200
    admin_client.post(
        reverse("admin:invoices_invoice_changelist"), {"action": "issue", "_selected_action": [draft.pk]}
    )
    assert Invoice.objects.get().status == InvoiceStatus.ISSUED


def test_a_line_taken_off_a_draft_goes_on_the_next_run_and_issued_lines_never_change(billable):
    from invoices.models import IssuedInvoiceError
    from invoices.services import invoice_draft_remove_line

    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    draft = Invoice.objects.get()
    invoice_draft_remove_line(line=draft.lines.first())
    assert Charge.objects.filter(invoice_line__isnull=True).count() == 1
    issued = invoice_issue(invoice=draft)
    with pytest.raises(IssuedInvoiceError):
        issued.lines.first().save()
    with pytest.raises(BillingError):
        invoice_draft_remove_line(line=issued.lines.first())
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today()))
    assert Invoice.objects.count() == 2
