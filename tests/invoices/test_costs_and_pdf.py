"""Travel at cost, data volumes, and the invoice PDF."""

import datetime
import re
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from djmoney.money import Money

from billing.errors import BillingError
from billing.pdf import sha256
from invoices.models import Charge, ChargeSource, DataVolumeUsage, Invoice, InvoiceRun
from invoices.selectors import invoice_totals
from invoices.services import (
    charges_collect,
    invoice_issue,
    invoice_run_execute,
    travel_expense_approve,
    travel_expense_record,
)
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date
pytestmark = pytest.mark.django_db
PDF_RECEIPT = b"%PDF-1.4\n% receipt\n"


@pytest.fixture
def customer(catalogue):
    customer = CustomerFactory(code="ACME", legal_name="示例科技有限公司", uscc="91110000802100433B")
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=50000)
    return customer


def expense(customer, content=PDF_RECEIPT, name="receipt.pdf", amount=1234.5):
    return travel_expense_record(
        customer=customer,
        category="transport",
        spent_on=D(2026, 3, 5),
        amount=Money(amount, "CNY"),
        description="南昌 高铁",
        receipt=SimpleUploadedFile(name, content),
    )


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"MZ\x90\x00 not a receipt", "receipt.pdf"),
        (b"<html>", "receipt.png"),
        (b"%PDF-" + b"0" * (11 * 2**20), "big.pdf"),
    ],
)
def test_receipts_are_checked_by_content_and_size(customer, content, name):
    with pytest.raises(BillingError):
        expense(customer, content, name)


def test_approved_travel_kept_outside_our_vat_is_invoiced_at_cost_without_vat_and_apart(customer, settings):
    settings.TRAVEL_VAT = "outside"
    pending = expense(customer)
    charges_collect(up_to=D(2026, 3, 31))
    assert not Charge.objects.filter(source=ChargeSource.TRAVEL).exists()  # not approved yet
    travel_expense_approve(expense=pending, by=None)
    for image in (b"\xff\xd8\xff\xe0jpeg", b"\x89PNG\r\n\x1a\npng"):
        travel_expense_approve(expense=expense(customer, image, "r.jpg", amount=100), by=None)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 3, 31)))
    invoice = Invoice.objects.get()
    travel = invoice.lines.filter(pass_through=True)
    assert next((line.net, line.vat, line.gross) for line in travel) == (
        Money("1234.50", "CNY"),
        Money(0, "CNY"),
        Money("1234.50", "CNY"),
    )
    assert invoice_totals(invoice)["travel"] == Money("1434.50", "CNY")


def test_data_volume_usage_is_billed_on_the_tiers_of_its_date(customer):
    DataVolumeUsage.objects.create(customer=customer, quantity=250, measured_on=D(2026, 3, 5))
    charges_collect(up_to=D(2026, 3, 31))
    assert Charge.objects.get(source=ChargeSource.DATA_VOLUME).amount == Money(42500, "CNY")


def test_an_issued_invoice_has_a_bilingual_pdf_with_capitals_bank_and_uscc(
    customer, django_capture_on_commit_callbacks
):
    travel_expense_approve(expense=expense(customer), by=None)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 3, 31)))
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_issue(invoice=Invoice.objects.get(), issue_date=D(2026, 3, 31))
    invoice.refresh_from_db()
    data = invoice.pdf.read()
    assert invoice.pdf_sha256 == sha256(data)
    text = re.sub(
        r"\s+",
        "",
        subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode(),
    )
    assert f"发票Invoice{invoice.number}" in text
    assert "伍万壹仟贰佰叁拾肆元伍角" in text  # 50,000 + 1,234.50 at cost
    assert "91110000802100433B" in text
    assert "开户行Bank" in text
    assert "差旅及住宿，按实际发生额" in text  # part of the taxable sale (settings.TRAVEL_VAT), VAT included


def test_travel_expenses_are_entered_and_approved_in_the_admin(admin_client, customer):
    from django.urls import reverse

    from invoices.models import TravelExpense

    url = reverse("admin:invoices_travelexpense_add")
    data = {"customer": customer.pk, "category": "transport", "spent_on": "2026-03-05", "amount_0": "880.00",
            "amount_1": "CNY", "quantity": 1, "description": "高铁", "ticket_ref": "TK-1"}  # fmt: skip
    refused = admin_client.post(url, {**data, "receipt": SimpleUploadedFile("r.pdf", b"GIF89a")})
    assert refused.status_code == 200
    assert not TravelExpense.objects.exists()
    admin_client.post(url, {**data, "receipt": SimpleUploadedFile("r.pdf", PDF_RECEIPT)})
    expense_ = TravelExpense.objects.get()
    admin_client.post(
        reverse("admin:invoices_travelexpense_changelist"),
        {"action": "approve", "_selected_action": [expense_.pk]},
    )
    expense_.refresh_from_db()
    assert expense_.approved_at is not None
