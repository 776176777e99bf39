"""Finance runs invoicing for the month, issues the draft, downloads its PDF, records a payment and
credits part of the invoice, in a real browser."""

import datetime
import subprocess

import pytest
from playwright.sync_api import expect

from billing.money import rmb_capitals
from billing.roles import sync_roles
from catalog.services import load_catalog
from invoices.models import Invoice, InvoiceKind, Payment
from invoices.selectors import invoice_balance
from tests.e2e.helpers import log_in, role_user
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


def test_finance_issues_the_invoice_downloads_it_records_a_payment_and_credits_part(
    page, live_server, django_user_model, screenshot, tmp_path
):
    load_catalog()
    sync_roles()
    customer = CustomerFactory(code="ACME", legal_name="示例科技有限公司")
    ServicePeriodFactory(contract__customer=customer, start=datetime.date(2026, 1, 1), fee="12345.60")
    role_user(django_user_model, "qian", "finance")

    log_in(page, live_server, "qian", next_url="/staff/")
    page.wait_for_url("**/staff/invoice-runs/")
    page.fill("input[name=up_to]", "2026-01-31")
    page.click("form.run-form button[type=submit]")
    page.wait_for_url("**/staff/invoice-runs/")
    assert page.locator("tr.run .count").first.inner_text() == "1 / 1"

    page.click("nav.subnav >> text=发票")
    page.locator("table.invoices tr.invoice a").first.click()
    page.click("button[name=issue]")
    expect(page.locator("h1 .badge")).to_have_text("已开具")
    invoice = Invoice.objects.get(kind=InvoiceKind.INVOICE)
    expect(page.locator("h1")).to_contain_text(f"发票 {invoice.number}")
    capitals = rmb_capitals(invoice_balance(invoice).amount)
    assert page.locator(".capitals").inner_text() == capitals == "壹万贰仟叁佰肆拾伍元陆角"  # no 整 after 角

    with page.expect_download() as download:
        page.click("a.pdf")
    pdf = tmp_path / "invoice.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert invoice.number in text.stdout
    assert capitals in text.stdout.replace(" ", "")

    payment = page.locator("form.payment")
    payment.locator("#id_amount").fill("5000")
    payment.locator("#id_reference").fill("ICBC-20260215-001")
    payment.locator("button[type=submit]").click()
    expect(page.locator(".balance")).to_have_text("¥7,345.60")
    assert Payment.objects.get().reference == "ICBC-20260215-001"

    credit = page.locator("form.credit")
    credit.locator("#id_reason").fill("服务期调整,冲减半年服务费")
    line = invoice.lines.get()
    credit.locator(f"#id_line_{line.pk}").fill("0.5")
    credit.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("贷项通知单")
    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    expect(page.locator("h1")).to_contain_text(note.number)
    expect(page.locator(".invoice-total")).to_have_text("-¥6,172.80")
    screenshot("finance-credit-note")
    page.click(f"text={invoice.number}")
    expect(page.locator(".balance")).to_have_text("¥1,172.80")
