"""Each role starts on the page its work begins on, with demo data in it; the screenshots of these pages
(var/screenshots/home-<role>.png) are what a reviewer looks at."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.roles import sync_roles
from catalog.models import ServiceItem
from catalog.services import load_catalog
from contracts import demo
from contracts.models import Customer
from invoices.models import Invoice, InvoiceRun
from invoices.services import invoice_issue, invoice_run_execute
from quotes.services import quote_add_line, quote_create, quote_submit
from tests.e2e.helpers import log_in, role_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HOMES = {
    "sales": ("/staff/quotes/", "报价"),
    "sales_manager": ("/staff/quotes/", "报价"),
    "account_manager": ("/staff/charge-requests/", "收费申请"),
    "finance": ("/staff/invoice-runs/", "批量开票"),
    "administrator": ("/staff/invoice-runs/", "批量开票"),
}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def demo_data(django_user_model):
    load_catalog()
    demo.load()
    sync_roles()
    author = role_user(django_user_model, "author", "sales")
    quote = quote_create(
        customer=Customer.objects.get(code="DEMO-ACTIVE"), discount=Decimal("0.2"), created_by=author
    )
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=4)
    quote_submit(quote=quote)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=timezone.localdate()))
    for invoice in Invoice.objects.all()[:2]:
        invoice_issue(invoice=invoice)


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_lands_on_its_home_page(page, live_server, django_user_model, demo_data, screenshot, role):
    role_user(django_user_model, role, role)
    log_in(page, live_server, role, next_url="/staff/")
    path, heading = HOMES[role]
    page.wait_for_url(f"**{path}")
    expect(page.locator("main h1").first).to_contain_text(heading)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    screenshot(f"home-{role}")
