"""Each role starts on the page its work begins on, with the demo data of `make run` in it; the
screenshots of these pages (var/screenshots/home-<role>.png) are what a reviewer looks at."""

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.services import load_catalog
from tests.e2e.helpers import log_in

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
def demo_data():
    """What `make run` loads: the catalogue, the demo customers, one user per role and their work."""
    load_catalog()
    call_command("load_demo", "--known-passwords", stdout=StringIO())


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_lands_on_its_home_page(page, live_server, demo_data, screenshot, role):
    log_in(page, live_server, role, f"{role}-demo", next_url="/staff/")
    path, heading = HOMES[role]
    page.wait_for_url(f"**{path}")
    expect(page.locator("main h1").first).to_contain_text(heading)
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    screenshot(f"home-{role}")
