"""Travel at cost and the fapiao, end to end: what the batch puts on the fapiao (travel when it is taxable,
settings.TRAVEL_VAT "taxable"; not when it is kept "outside") is what the import matches the platform's
answer against and what the red letter reverses."""

from decimal import Decimal

import pytest

from contracts.models import FapiaoType
from invoices.fapiao_batch import fapiao_batch_create
from invoices.fapiao_import import fapiao_import_preview, fapiao_import_record, read_fapiao_upload
from invoices.models import Fapiao, FapiaoStatus, RedLetterReason, RedLetterRequest
from invoices.red_letter import red_letter_form_record, red_letter_form_rows, red_letter_red_record
from invoices.selectors import invoice_totals
from invoices.services import credit_note_issue
from tests.invoices.fapiao_files import Issued, export_workbook, number
from tests.invoices.fapiao_helpers import customer_with_details, issued, platform_invoices, workbooks

pytestmark = pytest.mark.django_db
SERVICE = {"unit_price": "1060.00"}
TRAVEL = {"cost": "300.00", "service_code": "on-site-service", "description": "住宿", "unit": "晚"}


def exported_and_answered(invoice, gross: str):
    """The invoice's batch row, and the platform's answer for it (流水号 = our number) of ``gross``."""
    _batch, file = fapiao_batch_create(invoices=[invoice], by=None)
    row = platform_invoices(workbooks(file.content)[0])[invoice.number]
    answer = export_workbook(
        [Issued(number(1), row["购买方纳税人识别号"], Decimal(gross), serial=invoice.number)],
        serial_column=True,
    )
    return row, read_fapiao_upload(answer, name="answer.xlsx")


def test_a_fapiao_leaving_out_travel_kept_outside_it_matches_its_invoice(catalogue, settings):
    settings.TRAVEL_VAT = "outside"
    invoice = issued(customer_with_details(FapiaoType.SPECIAL), SERVICE, TRAVEL)
    assert invoice_totals(invoice)["gross"].amount == Decimal("1360.00")
    row, parsed = exported_and_answered(invoice, "1060.00")
    assert [line["金额"] for line in row["lines"]] == ["1060.00"]  # the travel left out
    preview = fapiao_import_preview(parsed)
    assert [item.message for item in preview.conflicts] == []
    assert [item.invoice for item in preview.new] == [invoice]


def test_a_full_credit_of_an_invoice_with_taxable_travel_reverses_its_whole_fapiao(catalogue, settings):
    settings.TRAVEL_VAT = "taxable"
    invoice = issued(customer_with_details(FapiaoType.SPECIAL), SERVICE, TRAVEL)
    row, parsed = exported_and_answered(invoice, "1360.00")
    assert sorted(line["金额"] for line in row["lines"]) == ["1060.00", "300.00"]  # the travel on it
    fapiao_import_record(parsed=parsed, by=None, source="answer.xlsx")
    blue = Fapiao.objects.get(number=number(1))
    assert blue.gross.amount == Decimal("1360.00")

    note = credit_note_issue(invoice=invoice, reason="开票有误，全额冲销")
    request = RedLetterRequest.objects.get(credit_note=note)
    assert request.reason == RedLetterReason.ERROR  # a full reversal
    assert red_letter_form_rows(request).gross == invoice_totals(note)["gross"] == -blue.gross
    request = red_letter_form_record(request=request, form_number="F-1", status="confirmed")
    red_letter_red_record(request=request, number=number(2), issued_on=blue.issued_on)
    blue.refresh_from_db()
    assert blue.status == FapiaoStatus.REVERSED_FULL


def test_a_credit_of_taxable_travel_alone_needs_a_red_letter(catalogue, settings):
    settings.TRAVEL_VAT = "taxable"
    invoice = issued(customer_with_details(FapiaoType.SPECIAL), SERVICE, TRAVEL)
    _row, parsed = exported_and_answered(invoice, "1360.00")
    fapiao_import_record(parsed=parsed, by=None, source="answer.xlsx")
    travel = invoice.lines.get(pass_through=True)
    note = credit_note_issue(invoice=invoice, reason="住宿退回", lines={travel.pk: Decimal(1)})
    request = RedLetterRequest.objects.get(credit_note=note)
    assert (request.reason, red_letter_form_rows(request).gross.amount) == (
        RedLetterReason.ALLOWANCE,
        Decimal("-300.00"),
    )
