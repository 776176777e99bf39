"""Finance exports the invoices needing a fapiao as the platform's batch workbook, in a real browser: a
selection with an invoice the platform cannot take shows every problem and exports nothing; the good
selection downloads the workbook, the invoices show "fapiao requested", and the batch downloads again."""

import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from billing.roles import sync_roles
from catalog.services import load_catalog
from contracts.models import FapiaoType
from invoices.models import FapiaoBatch
from tests.e2e.helpers import log_in, role_user
from tests.factories import CustomerFactory
from tests.invoices.fapiao_helpers import customer_with_details, issued, platform_invoices, workbooks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "accept_downloads": True}


def test_finance_exports_a_fapiao_batch(page, live_server, django_user_model, screenshot):
    load_catalog()
    sync_roles()
    finance = role_user(django_user_model, "qian", "finance")
    day = datetime.date.today() - datetime.timedelta(days=3)
    special = issued(customer_with_details(FapiaoType.SPECIAL), issue_date=day)
    ordinary = issued(customer_with_details(FapiaoType.ORDINARY), {"discount": "0.1"}, issue_date=day)
    bare = issued(CustomerFactory(code="ZZ-BARE"), issue_date=day)  # no fapiao details: refused

    log_in(page, live_server, "qian", next_url="/staff/fapiao/")
    page.wait_for_url("**/staff/fapiao/")
    boxes = page.locator("form.bulk tbody input[name=selected]")
    expect(boxes).to_have_count(3)
    for index in range(3):
        boxes.nth(index).check()
    page.click("form.bulk button[value=export]")
    problems = page.locator("table.fapiao-problems tr.problem")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text(bare.number)
    screenshot("fapiao-batch-refused")
    assert not FapiaoBatch.objects.exists()

    page.click("a.back")
    page.wait_for_url("**/staff/fapiao/")
    page.locator(f"form.bulk tr:has-text('{special.number}') input[name=selected]").check()
    page.locator(f"form.bulk tr:has-text('{ordinary.number}') input[name=selected]").check()
    with page.expect_download() as download:
        page.click("form.bulk button[value=export]")
    batch = FapiaoBatch.objects.get()
    assert download.value.suggested_filename == f"batch-{batch.pk}.xlsx"
    content = Path(download.value.path()).read_bytes()
    exported = platform_invoices(workbooks(content)[0])
    assert list(exported) == [special.number, ordinary.number]
    assert exported[ordinary.number]["lines"][0]["折扣金额"] == "100.00"
    assert batch.created_by == finance

    page.reload()
    expect(page.locator(f"tr:has-text('{special.number}')")).to_contain_text("已申请数电发票")
    page.click("nav.subnav a[href='/staff/fapiao/batches/']")
    row = page.locator("table tbody tr").first
    expect(row).to_contain_text(f"#{batch.pk}")
    screenshot("fapiao-batches")
    with page.expect_download() as again:
        row.locator("a[download]").click()
    assert again.value.suggested_filename == f"batch-{batch.pk}.xlsx"
