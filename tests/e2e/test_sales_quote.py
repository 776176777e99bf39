"""Sales builds a quote with a large discount, the sales manager approves and sends it, the customer
accepts it through the signed link and downloads the PDF, which holds the total in Chinese capitals."""

import subprocess

import pytest

from billing.money import rmb_capitals
from billing.roles import sync_roles
from catalog.services import load_catalog
from contracts import demo
from quotes.models import Quote, QuoteStatus
from quotes.services import quote_totals
from tests.e2e.helpers import log_in, role_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


def test_a_quote_is_built_approved_accepted_and_its_pdf_holds_the_total_in_capitals(
    page, browser, live_server, django_user_model, screenshot, tmp_path, settings
):
    settings.SITE_URL = live_server.url  # the link mailed to the customer
    load_catalog()
    demo.load()
    sync_roles()
    role_user(django_user_model, "li", "sales")
    role_user(django_user_model, "zhao", "sales_manager")

    log_in(page, live_server, "li", "li-password", next_url="/staff/")
    page.wait_for_url("**/staff/quotes/")
    page.click("a.button[href$='/staff/quotes/new']")
    page.fill("#id_customer", "DEMO-ACTIVE")
    page.fill("#id_discount", "20")
    page.click("form.quote-new button[type=submit]")
    page.wait_for_url("**/staff/quotes/*/")

    def add_line(service: str, quantity: str, delivery: str = "remote") -> None:
        form = page.locator("form.add-line")
        form.locator("#id_service").select_option(service)
        form.locator("#id_quantity").fill(quantity)
        form.locator("#id_delivery_mode").select_option(delivery)
        form.locator("button[type=submit]").click()
        page.wait_for_load_state()

    add_line("on-site-service", "3", "on_site")
    add_line("data-migration", "250")
    travel = page.locator("form.add-travel")
    travel.locator("#id_description").fill("北京—南昌往返机票及两晚住宿")
    travel.locator("#id_amount").fill("2400")
    travel.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("table.quote-lines tr.line").count() == 3
    page.click("button[name=submit-quote]")
    assert page.locator("h1 .badge").inner_text() == "待折扣审批"
    screenshot("sales-quote-waiting-for-approval")

    page.context.clear_cookies()
    log_in(page, live_server, "zhao", "zhao-password", next_url="/staff/quotes/")
    page.wait_for_url("**/staff/quotes/")
    page.locator("tr.waiting a").first.click()
    page.fill("#id_reason", "战略客户,年度框架内的折扣")
    page.click("form.approve button[type=submit]")
    assert page.locator("h1 .badge").inner_text() == "已审批，待发送"
    page.click("button[name=send-quote]")
    assert page.locator("h1 .badge").inner_text() == "已发送"
    link = page.locator("a.customer-link").get_attribute("href")
    quote = Quote.objects.get()
    capitals = rmb_capitals(quote_totals(quote)["gross"].amount)
    assert page.locator(".capitals").inner_text() == capitals

    customer = browser.new_context(locale="zh-CN")  # the customer has no login
    customer_page = customer.new_page()
    customer_page.goto(link)
    customer_page.fill("input[name=name]", "王芳")
    customer_page.click("button[value=accept]")
    assert customer_page.locator("p.muted").first.inner_text().endswith("已接受")
    with customer_page.expect_download() as download:
        customer_page.click("text=下载 PDF")
    pdf = tmp_path / "quote.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert capitals in text.stdout.replace(" ", "")
    customer.close()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert quote.answer_name == "王芳"
