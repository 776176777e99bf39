"""Finance imports the e-invoice platform's answer (its query export and an invoice's XML), previews it,
records it, and sees the fapiao number on the invoice and in its PDF, rendered again, in a real browser."""

import subprocess

import pytest
from playwright.sync_api import expect

from billing.roles import sync_roles
from catalog.services import load_catalog
from invoices.models import Fapiao, Invoice
from tests.e2e.helpers import log_in, role_user
from tests.invoices.fapiao_files import (
    BUYER_B,
    LEADING_ZEROS,
    Issued,
    export_workbook,
    gross,
    invoice_xml,
    number,
    two_invoices,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


def test_finance_imports_the_platforms_answer_and_sees_the_fapiao_on_the_invoice_and_its_pdf(
    page, live_server, django_user_model, screenshot, tmp_path
):
    load_catalog()
    sync_roles()
    first, second = two_invoices()  # issued: their PDFs are rendered (the tests' tasks run at once)
    assert Invoice.objects.get(pk=first.pk).pdf_sha256
    role_user(django_user_model, "qian", "finance")
    workbook = tmp_path / "全量发票查询.xlsx"
    workbook.write_bytes(
        export_workbook([Issued(LEADING_ZEROS, first.customer.uscc, gross(first), remark=first.number)])
    )
    xml = tmp_path / f"{number(2)}.xml"
    xml.write_bytes(invoice_xml(Issued(number(2), BUYER_B, gross(second))))

    log_in(page, live_server, "qian", next_url="/staff/fapiao/import")
    page.wait_for_url("**/staff/fapiao/import")
    page.set_input_files("input[name=files]", [str(workbook), str(xml)])
    page.click("form.upload-import button[type=submit]")
    expect(page.locator("table.fapiao-matched tr.matched")).to_have_count(2)
    expect(page.locator("table.fapiao-matched")).to_contain_text(LEADING_ZEROS)
    assert not Fapiao.objects.exists()
    screenshot("fapiao-import-preview")
    page.click("form.confirm-import button[name=confirm]")
    expect(page.locator("li.message.success")).to_contain_text("已记录")
    assert Fapiao.objects.count() == 2

    page.goto(f"{live_server.url}/staff/invoices/{first.pk}/")
    expect(page.locator(".fapiao-number")).to_have_text(LEADING_ZEROS)
    with page.expect_download() as download:
        page.click("a.pdf")
    pdf = tmp_path / "invoice.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert LEADING_ZEROS in text.stdout
    assert first.number in text.stdout
