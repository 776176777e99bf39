"""The fapiao's round trip in a real browser: finance selects issued invoices at /staff/fapiao/ and downloads
the platform's batch workbook; the platform's answer is built from that workbook's own 发票流水号 (read back
with openpyxl: what went out is what comes back); finance uploads it at /staff/fapiao/import, confirms, and
sees each fapiao number on its invoice's page and in the invoice's PDF."""

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from billing.roles import sync_roles
from catalog.services import load_catalog
from contracts.models import FapiaoType
from invoices.models import Fapiao, FapiaoBatch
from invoices.selectors import invoice_totals
from tests.e2e.helpers import log_in, role_user
from tests.invoices.fapiao_files import Issued, export_workbook, number
from tests.invoices.fapiao_helpers import customer_with_details, issued, platform_invoices, workbooks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "accept_downloads": True}


def test_finance_exports_a_batch_imports_the_platforms_answer_and_sees_the_fapiao_on_invoice_and_pdf(
    page, live_server, django_user_model, screenshot, tmp_path
):
    load_catalog()
    sync_roles()
    finance = role_user(django_user_model, "qian", "finance")
    day = datetime.date.today() - datetime.timedelta(days=3)
    special = issued(
        customer_with_details(FapiaoType.SPECIAL),
        {"unit_price": "1800.00", "quantity": 3, "discount": "0.1"},
        {"cost": "456.78", "service_code": "on-site-service", "description": "住宿", "unit": "晚"},
        issue_date=day,
    )
    ordinary = issued(customer_with_details(FapiaoType.ORDINARY), {"unit_price": "2399.99"}, issue_date=day)

    # Finance selects both invoices and downloads the batch workbook.
    log_in(page, live_server, "qian", next_url="/staff/fapiao/")
    page.wait_for_url("**/staff/fapiao/")
    for invoice in (special, ordinary):
        page.locator(f"form.bulk tr:has-text('{invoice.number}') input[name=selected]").check()
    screenshot("fapiao-flow-selected")
    with page.expect_download() as download:
        page.click("form.bulk button[value=export]")
    batch = FapiaoBatch.objects.get()
    assert (batch.created_by, set(batch.invoices.all())) == (finance, {special, ordinary})
    exported = platform_invoices(workbooks(Path(download.value.path()).read_bytes())[0])
    assert set(exported) == {special.number, ordinary.number}

    # The platform issues a fapiao per 流水号; its query export carries the 流水号, the buyer and the total.
    numbers = {serial: number(place) for place, serial in enumerate(sorted(exported), start=1)}
    numbers[special.number] = "00" + numbers[special.number][2:]  # leading zeros kept as text
    answer = []
    for serial, row in exported.items():
        total = sum(
            (Decimal(line["金额"]) - Decimal(line.get("折扣金额", "0")) for line in row["lines"]), Decimal(0)
        )
        answer.append(
            Issued(
                numbers[serial],
                row["购买方纳税人识别号"],
                total,
                issued_on=datetime.date.today().isoformat(),
                serial=row["发票流水号"],
                buyer_name=row["购买方名称"],
                kind="数电发票（增值税专用发票）"
                if row["发票类型"] == "增值税专用发票"
                else "数电发票（普通发票）",
            )
        )
    assert {item.serial: item.gross for item in answer} == {
        invoice.number: invoice_totals(invoice)["gross"].amount for invoice in (special, ordinary)
    }
    workbook = tmp_path / "全量发票查询导出结果.xlsx"
    workbook.write_bytes(export_workbook(answer, serial_column=True))

    # Finance uploads it, sees both matched in the preview, and confirms.
    page.goto(f"{live_server.url}/staff/fapiao/import")
    page.set_input_files("input[name=files]", str(workbook))
    page.click("form.upload-import button[type=submit]")
    expect(page.locator("table.fapiao-matched tr.matched")).to_have_count(2)
    expect(page.locator("table.fapiao-matched")).to_contain_text(numbers[special.number])
    screenshot("fapiao-flow-preview")
    assert not Fapiao.objects.exists()
    page.click("form.confirm-import button[name=confirm]")
    expect(page.locator("li.message.success")).to_be_visible()
    assert {f.invoice_id: (f.number, f.fapiao_type) for f in Fapiao.objects.all()} == {
        special.pk: (numbers[special.number], FapiaoType.SPECIAL),
        ordinary.pk: (numbers[ordinary.number], FapiaoType.ORDINARY),
    }

    # The number on the invoice's page and in its PDF (rendered again once the fapiao was recorded).
    for invoice in (special, ordinary):
        page.goto(f"{live_server.url}/staff/invoices/{invoice.pk}/")
        expect(page.locator(".fapiao-number")).to_have_text(numbers[invoice.number])
        with page.expect_download() as pdf:
            page.click("a.pdf")
        reader = PdfReader(io.BytesIO(Path(pdf.value.path()).read_bytes()))
        text = "".join(sheet.extract_text() for sheet in reader.pages)
        assert numbers[invoice.number] in text
        assert invoice.number in text
    screenshot("fapiao-flow-invoice")
