"""An account manager looks up entitlements in a real browser."""

import pytest

from billing.roles import sync_roles
from catalog.services import load_catalog
from contracts import demo
from tests.e2e.helpers import log_in, role_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def account_manager(django_user_model):
    load_catalog()
    demo.load()
    sync_roles()
    return role_user(django_user_model, "am", "account_manager")


def test_the_lookup_shows_not_covered_for_a_lapsed_customer_and_a_deadline_for_an_active_one(
    page, live_server, account_manager, screenshot
):
    log_in(page, live_server, "am", "am-password")
    page.wait_for_url("**/staff/entitlements/")
    page.fill("#id_customer", "DEMO-LAPSED")
    page.select_option("#id_service", "hotline")
    page.click("form.lookup button[type=submit]")
    assert page.locator(".decision").get_attribute("data-outcome") == "not_covered"
    page.fill("#id_customer", "DEMO-ACTIVE")
    page.select_option("#id_service", "defect-fix")
    page.select_option("#id_severity", "1")
    page.click("form.lookup button[type=submit]")
    assert page.locator(".decision").get_attribute("data-outcome") == "included"
    assert page.locator("#respond-by").inner_text().strip()
    screenshot("account-manager-entitlement-lookup")


def test_a_user_without_the_role_is_refused(page, live_server, django_user_model, account_manager):
    django_user_model.objects.create_user(username="visitor", password="visitor-password", is_staff=True)
    log_in(page, live_server, "visitor", "visitor-password")
    response = page.goto(f"{live_server.url}/staff/entitlements/")
    assert response.status == 403
