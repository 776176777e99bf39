"""An account manager reads a customer's page, in Chinese."""

import pytest

from billing.roles import sync_roles
from catalog.services import load_catalog
from contracts import demo
from tests.e2e.helpers import log_in, role_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


def test_the_customer_page_shows_the_timeline_of_service_periods(
    page, live_server, django_user_model, screenshot
):
    load_catalog()
    demo.load()
    sync_roles()
    role_user(django_user_model, "am", "account_manager")
    log_in(page, live_server, "am", "am-password", next_url="/staff/customers/DEMO-ACTIVE/")
    page.wait_for_url("**/staff/customers/DEMO-ACTIVE/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator(".timeline .period").count() == 2
    assert "服务有效期" in page.locator("main").inner_text()
    screenshot("account-manager-customer-page")
