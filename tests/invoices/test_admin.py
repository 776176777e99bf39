"""The invoices admin goes through invoices.services, as the finance pages do: an invoice, its lines and
payments, a charged work log and an approved travel expense are read-only there; a draft is issued or
deleted by the services, a work log and a travel expense are recorded by theirs. As the demo roles."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from contracts.models import Customer
from invoices.models import Charge, ChargeSource, Invoice, InvoiceRun, InvoiceStatus, TravelExpense, WorkLog
from invoices.services import (
    invoice_run_execute,
    travel_expense_approve,
    travel_expense_record,
    work_log_record,
)
from tests.demo_roles import load_demo, log_in, management, messages_of

pytestmark = pytest.mark.django_db
PDF_RECEIPT = b"%PDF-1.4\n% receipt\n"


@pytest.fixture
def roles(catalogue, django_user_model):
    return load_demo(django_user_model)


@pytest.fixture
def draft(roles):
    """A draft for two person-days of DEMO-STRATEGIC (no prepaid days), from an invoice run."""
    work_log_record(
        customer=Customer.objects.get(code="DEMO-STRATEGIC"),
        engineer="李娜",
        work_date=timezone.localdate(),
        ticket_ref="TK-77",
        idempotency_key="admin-test-work",
        days=Decimal(2),
    )
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=timezone.localdate()))
    work = Charge.objects.get(customer__code="DEMO-STRATEGIC", source=ChargeSource.WORK_LOG)
    return work.invoice_line.invoice


def invoice_form(invoice: Invoice, **fields) -> dict:
    line = invoice.lines.first()
    return {
        **management("lines"),
        **management("payments"),
        "status": InvoiceStatus.ISSUED,
        "number": "INV-FAKE",
        "lines-0-id": line.pk,
        "lines-0-unit_price_0": "1",
        "lines-0-gross_0": "1",
        **fields,
    }


def snapshot(invoice: Invoice) -> tuple:
    invoice.refresh_from_db()
    return invoice.status, invoice.number, [(line.unit_price, line.gross) for line in invoice.lines.all()]


def test_the_admin_cannot_edit_an_issued_invoices_lines_or_a_drafts_amounts(client, roles, draft):
    log_in(client, roles["finance"])
    change = reverse("admin:invoices_invoice_change", args=[draft.pk])
    before = snapshot(draft)
    client.post(change, invoice_form(draft))
    assert snapshot(draft) == before
    changelist = reverse("admin:invoices_invoice_changelist")
    client.post(changelist, {"action": "issue", "_selected_action": [draft.pk]})
    issued = snapshot(draft)
    assert issued[0] == InvoiceStatus.ISSUED
    assert issued[2] == before[2]
    client.post(change, invoice_form(draft, status=InvoiceStatus.DRAFT))
    assert snapshot(draft) == issued
    assert client.post(reverse("admin:invoices_invoice_delete", args=[draft.pk])).status_code == 403
    again = client.post(changelist, {"action": "issue", "_selected_action": [draft.pk]}, follow=True)
    assert any(message.startswith(f"{draft.number}: ") for message in messages_of(again))
    assert snapshot(draft) == issued


def test_deleting_a_draft_in_the_admin_unbills_its_charges_through_the_service(client, roles, draft):
    log_in(client, roles["finance"])
    charges = Charge.objects.filter(invoice_line__invoice=draft)
    charge_ids = list(charges.values_list("pk", flat=True))
    assert charge_ids
    client.post(reverse("admin:invoices_invoice_delete", args=[draft.pk]), {"post": "yes"})
    assert not Invoice.objects.filter(pk=draft.pk).exists()
    unbilled = Charge.objects.filter(pk__in=charge_ids, invoice_line__isnull=True)
    assert sorted(unbilled.values_list("pk", flat=True)) == sorted(charge_ids)


def test_roles_without_the_delete_permission_cannot_delete_a_draft_in_the_admin(client, roles, draft):
    """Found by the role matrix: the admin let any staff member delete a draft invoice."""
    for role in ("sales", "sales_manager", "account_manager"):
        log_in(client, roles[role])
        delete = reverse("admin:invoices_invoice_delete", args=[draft.pk])
        assert client.get(delete).status_code == 403
        assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Invoice.objects.filter(pk=draft.pk, status=InvoiceStatus.DRAFT).exists()


def work_log_form(**fields) -> dict:
    return {
        "customer": Customer.objects.get(code="DEMO-STRATEGIC").pk,
        "engineer": "李娜",
        "role": "engineer",
        "work_date": timezone.localdate().isoformat(),
        "days": "1.5",
        "ticket_ref": "TK-78",
        "service_code": "custom-development",
        "description": "",
        **fields,
    }


def test_a_work_log_added_in_the_admin_is_recorded_by_the_service(client, roles):
    log_in(client, roles["finance"])
    add = reverse("admin:invoices_worklog_add")
    before = WorkLog.objects.count()
    refused = client.post(add, work_log_form(service_code="training"), follow=True)
    assert "“training” is not a service billed per person-day." in messages_of(refused)
    assert WorkLog.objects.count() == before
    client.post(add, work_log_form())
    recorded = WorkLog.objects.get(ticket_ref="TK-78")
    assert (recorded.days, recorded.idempotency_key[:6]) == (Decimal("1.500"), "admin:")


def test_a_charged_work_log_is_read_only_and_kept_in_the_admin(client, roles, draft):
    log_in(client, roles["finance"])
    charged = WorkLog.objects.get(idempotency_key="admin-test-work")
    assert charged.processed_at is not None
    client.post(reverse("admin:invoices_worklog_change", args=[charged.pk]), work_log_form(days="9"))
    charged.refresh_from_db()
    assert charged.days == Decimal(2)
    log_in(client, roles["administrator"])
    assert client.post(reverse("admin:invoices_worklog_delete", args=[charged.pk])).status_code == 403


def test_an_approved_travel_expense_is_read_only_in_the_admin(client, roles):
    expense = travel_expense_record(
        customer=Customer.objects.get(code="DEMO-STRATEGIC"),
        category="transport",
        spent_on=datetime.date(2026, 3, 5),
        amount=Money(880, "CNY"),
        description="高铁",
        receipt=SimpleUploadedFile(f"{uuid.uuid4()}.pdf", PDF_RECEIPT),
    )
    travel_expense_approve(expense=expense, by=roles["administrator"])
    log_in(client, roles["finance"])
    client.post(
        reverse("admin:invoices_travelexpense_change", args=[expense.pk]),
        {"amount_0": "8800", "amount_1": "CNY", "approved_at": ""},
    )
    expense.refresh_from_db()
    assert (expense.amount, expense.approved_by) == (Money(880, "CNY"), roles["administrator"])
    log_in(client, roles["administrator"])
    assert client.post(reverse("admin:invoices_travelexpense_delete", args=[expense.pk])).status_code == 403
    assert TravelExpense.objects.filter(pk=expense.pk).exists()


def test_an_invoice_run_added_in_the_admin_is_started_by_the_service_and_then_read_only(
    client, roles, django_capture_on_commit_callbacks
):
    """The admin's add page is not a second way to make a run: invoice_run_start records who started it
    and sends its task once committed (a run saved directly would wait for the dispatcher, unbilled)."""
    finance = roles["finance"]
    log_in(client, finance)
    runs = InvoiceRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as sent:
        response = client.post(
            reverse("admin:invoices_invoicerun_add"), {"up_to": timezone.localdate().isoformat()}
        )
    assert response.status_code == 302
    assert InvoiceRun.objects.count() == runs + 1
    run = InvoiceRun.objects.latest("pk")
    assert run.created_by == finance
    assert sent, "the run's task was sent on commit"
    run.refresh_from_db()
    assert run.status == "done"
    before = run.up_to
    client.post(
        reverse("admin:invoices_invoicerun_change", args=[run.pk]),
        {"up_to": (before - datetime.timedelta(days=30)).isoformat()},
    )
    run.refresh_from_db()
    assert run.up_to == before
    assert (
        client.post(reverse("admin:invoices_invoicerun_delete", args=[run.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert InvoiceRun.objects.filter(pk=run.pk).exists()
