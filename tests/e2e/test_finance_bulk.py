"""Finance finds last year's invoice of one customer through the invoices list's search and filters, opens
it, then selects twenty drafts and issues them at once, and reads the report, in a real browser."""

import datetime

import pytest
from playwright.sync_api import expect

from billing.roles import sync_roles
from catalog.services import load_catalog
from invoices.models import Invoice, InvoiceRun, InvoiceStatus
from invoices.services import invoice_issue, invoice_run_execute
from tests.e2e.helpers import log_in, role_user
from tests.factories import ContractFactory, CustomerFactory, ServicePeriodFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
D = datetime.date


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


def issued_for(customer, year: int) -> Invoice:
    """The customer's invoice of January ``year``'s period fee, issued on February 1st."""
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(year, 1, 31), customer=customer))
    draft = Invoice.objects.get(customer=customer, status=InvoiceStatus.DRAFT)
    return invoice_issue(invoice=draft, issue_date=D(year, 2, 1))


def test_finance_finds_last_years_invoice_and_issues_twenty_drafts_at_once(
    page, live_server, django_user_model, screenshot
):
    load_catalog()
    sync_roles()
    role_user(django_user_model, "qian", "finance")
    acme = CustomerFactory(code="ACME", legal_name="示例科技有限公司")
    contract = ContractFactory(customer=acme)
    ServicePeriodFactory(contract=contract, start=D(2025, 1, 1), end=D(2025, 12, 31), fee=8000)
    ServicePeriodFactory(contract=contract, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=9000)
    last_year = issued_for(acme, 2025)
    issued_for(acme, 2026)
    for number in range(3):  # other customers' invoices of last year, which the filters leave out
        other = CustomerFactory(code=f"OLD{number}")
        ServicePeriodFactory(contract__customer=other, start=D(2025, 1, 1), end=D(2025, 12, 31), fee=1000)
        issued_for(other, 2025)
    for number in range(20):
        customer = CustomerFactory(code=f"NEW{number:02d}")
        ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=1000)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 1, 31)))
    drafts = list(Invoice.objects.filter(status=InvoiceStatus.DRAFT))
    assert len(drafts) == 20

    log_in(page, live_server, "qian", next_url="/staff/")
    page.wait_for_url("**/staff/invoice-runs/")
    page.click("nav.subnav >> text=发票")
    page.click("nav.tabs a[href='?tab=issued']")
    filters = page.locator("form.filters")
    filters.locator("input[name=q]").fill("ACME")
    filters.locator("input[name=issued_after]").fill("2025-01-01")
    filters.locator("input[name=issued_before]").fill("2025-12-31")
    filters.locator("button[type=submit]").click()
    rows = page.locator("main .table-container tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(last_year.number)
    assert "q=ACME" in page.url  # the filtered view is an address to bookmark or share
    rows.first.locator(f"a:text-is('{last_year.number}')").click()
    expect(page.locator("h1")).to_contain_text(last_year.number)

    page.click("nav.subnav >> text=发票")
    page.click("nav.tabs a[href='?tab=drafts']")
    boxes = page.locator("form.bulk tbody input[name=selected]")
    expect(boxes).to_have_count(20)
    for index in range(20):
        boxes.nth(index).check()
    screenshot("finance-bulk-selected")
    page.set_default_timeout(120_000)  # each issued invoice's PDF is rendered in-process (no broker)
    page.click("form.bulk button[value=issue]")
    page.wait_for_url("**/staff/invoices/bulk/issue")
    report = page.locator("table.bulk-report")
    expect(report.locator("tr.done")).to_have_count(20)
    expect(report.locator("tr.refused")).to_have_count(0)
    screenshot("finance-bulk-report")

    numbers = sorted(Invoice.objects.filter(pk__in=[d.pk for d in drafts]).values_list("sequence", flat=True))
    assert numbers == list(range(2, 22))  # after ACME's INV2026-000001, gapless
    for sequence in (2, 21):
        expect(report).to_contain_text(f"INV2026-{sequence:06d}")
    page.click("a.back")  # back to the list it came from
    current_tab = page.locator("nav.tabs a[aria-current=page]")
    expect(current_tab).to_have_attribute("href", "?tab=drafts")
    expect(current_tab).to_contain_text("(0)")  # no draft is left to issue
    expect(page.locator("input[name=selected]")).to_have_count(0)
