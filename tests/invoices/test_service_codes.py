"""Every charge knows the catalogue service it sells (its tax classification code is the fapiao line's):
each kind of charge, the invoice line that bills it, the credit note's line, and the data migration that
fills older charges the same way."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from djmoney.money import Money

from catalog.models import ServiceItem
from contracts.models import ChargeRequest, ChargeStatus
from contracts.services import charge_request_create
from invoices.models import Charge, ChargeSource, DataVolumeUsage, Invoice, InvoiceLine, InvoiceRun
from invoices.service_codes import charge_service_code
from invoices.services import (
    credit_note_issue,
    invoice_issue,
    invoice_run_execute,
    travel_expense_approve,
    travel_expense_record,
    work_log_record,
)
from quotes.models import ServiceOrder
from quotes.services import quote_add_line, quote_create, quote_customer_answer, quote_send
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]
backfill_migration = importlib.import_module("invoices.migrations.0015_service_code_backfill")


def _confirmed_request(customer, ticket: str, service_code: str = "") -> ChargeRequest:
    request = charge_request_create(
        customer=customer,
        ticket_ref=ticket,
        description="报表",
        requested_by="api:x",
        estimated_amount=Money(3000, "CNY"),
        service_code=service_code,
    )
    ChargeRequest.objects.filter(pk=request.pk).update(
        status=ChargeStatus.CONFIRMED, customer_answered_at=timezone.now()
    )
    return request


@pytest.fixture
def everything(catalogue):
    """A customer with one charge of every kind: a period fee, an ordered quote line, work delivered against
    an order line and loose, two confirmed charge requests (one naming no service), a data volume and
    approved travel; billed on one invoice."""
    customer = CustomerFactory(code="ACME", uscc="91110000802100433B")
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=50000)
    quote = quote_create(customer=customer, quote_date=D(2026, 3, 4), valid_until=D(2026, 12, 31))
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="requirements-analysis"), quantity=3)
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="health-check"), quantity=1)
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    delivered = ServiceOrder.objects.get(quote=quote).lines.get(service__code="requirements-analysis")
    for key, order_line, service in (("w1", delivered, "custom-development"), ("w2", None, "system-rollout")):
        work_log_record(
            customer=customer,
            engineer="李雷",
            work_date=D(2026, 3, 10),
            ticket_ref="TK-LOOSE" if order_line is None else quote.reference,
            idempotency_key=key,
            days=Decimal(1),
            order_line=order_line,
            service_code=service,
        )
    _confirmed_request(customer, "TK-8")
    _confirmed_request(customer, "TK-9", "architecture-optimisation")
    DataVolumeUsage.objects.create(customer=customer, quantity=250, measured_on=D(2026, 3, 5))
    travel_expense_approve(
        expense=travel_expense_record(
            customer=customer,
            category="transport",
            spent_on=D(2026, 3, 5),
            amount=Money("1060.00", "CNY"),
            description="南昌 高铁",
            receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4\n% receipt\n"),
        ),
        by=None,
    )
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=timezone.localdate()))
    return customer


EXPECTED = [
    (ChargeSource.PERIOD_FEE, "remote-maintenance"),  # settings.PERIOD_FEE_SERVICE_CODE
    (ChargeSource.QUOTE_LINE, "health-check"),  # billed when ordered
    (ChargeSource.WORK_LOG, "requirements-analysis"),  # delivered against the order line: its service
    (ChargeSource.WORK_LOG, "system-rollout"),  # a log without an order line: its own
    (ChargeSource.CHARGE_REQUEST, "custom-development"),  # a request naming no service
    (ChargeSource.CHARGE_REQUEST, "architecture-optimisation"),
    (ChargeSource.DATA_VOLUME, "data-migration"),
    (ChargeSource.TRAVEL, "on-site-service"),  # settings.TRAVEL_SERVICE_CODE
]


def _codes():
    return sorted(Charge.objects.values_list("source", "service_code"))


def test_every_kind_of_charge_and_its_invoice_line_sell_a_catalogue_service(everything):
    assert _codes() == sorted(EXPECTED)
    services = set(ServiceItem.objects.values_list("code", flat=True))
    for charge in Charge.objects.select_related("invoice_line"):
        assert charge.service_code in services
        assert charge.invoice_line.service_code == charge.service_code, charge.source


def test_a_credit_note_line_sells_the_service_of_the_line_it_credits(everything):
    invoice = invoice_issue(invoice=Invoice.objects.get(customer=everything), issue_date=D(2026, 3, 31))
    note = credit_note_issue(invoice=invoice, reason="全额冲红")
    lines = list(note.lines.select_related("credits_line"))
    assert len(lines) == len(EXPECTED)
    for line in lines:
        assert line.service_code == line.credits_line.service_code != ""


def test_the_backfill_gives_older_charges_and_lines_the_services_the_builders_give(everything):
    invoice = invoice_issue(invoice=Invoice.objects.get(customer=everything), issue_date=D(2026, 3, 31))
    credit_note_issue(invoice=invoice, reason="部分冲红", lines={invoice.lines.first().pk: Decimal(1)})
    built = _codes()
    lines = sorted(InvoiceLine.objects.values_list("pk", "service_code"))
    Charge.objects.update(service_code="")
    InvoiceLine.objects.update(service_code="")
    backfill_migration.backfill(apps, None)
    assert _codes() == built
    assert sorted(InvoiceLine.objects.values_list("pk", "service_code")) == lines


@pytest.mark.parametrize("source", list(ChargeSource))
@pytest.mark.parametrize("named", ["", "custom-development", "kms-course"])
def test_the_migration_keeps_a_copy_of_the_builders_rule(source, named, settings):
    settings.TRAVEL_SERVICE_CODE, settings.PERIOD_FEE_SERVICE_CODE = "travel-x", "period-y"
    assert backfill_migration.service_code(source.value, named) == charge_service_code(source, named)
    assert backfill_migration.CHARGE_REQUEST_SERVICE_CODE == "custom-development"
