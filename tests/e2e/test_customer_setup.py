"""An account manager sets up a new customer in a real browser: the customer, a contact, the purchase contract
with a licensed product and its free period; the customer page then shows the product and the period's end,
and the entitlement lookup says the customer is covered today."""

import datetime

import pytest
from django.utils import timezone

from billing.roles import sync_roles
from catalog.services import load_catalog
from tests.e2e.helpers import log_in, role_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_account_manager_sets_up_a_customer_and_it_is_covered(
    page, live_server, django_user_model, screenshot
):
    load_catalog()
    sync_roles()
    role_user(django_user_model, "am", "account_manager")
    today = timezone.localdate()
    end = today.replace(year=today.year + 1) - datetime.timedelta(days=1)

    log_in(page, live_server, "am", next_url="/staff/entitlements/")
    page.wait_for_url("**/staff/entitlements/")
    page.click("nav a[href='/staff/customers/new']")
    page.wait_for_url("**/staff/customers/new")
    page.fill("#id_customer-code", "E2E-NEW")
    page.fill("#id_customer-legal_name", "浏览器测试有限公司")
    page.fill("#id_customer-uscc", "91110000MA0000001L")
    page.fill("#id_customer-city", "北京")
    page.fill("#id_contact-name", "陈静")
    page.fill("#id_contact-email", "chen@example.com")
    page.check("#id_contact-is_primary")
    page.fill("#id_contract-number", "HT-E2E-NEW")
    page.fill("#id_contract-signed_on", today.isoformat())
    page.select_option("#id_products-0-product", "KMS")
    page.fill("#id_products-0-version", "8.5.2")
    page.fill("#id_period-start", today.isoformat())
    page.fill("#id_period-end", end.isoformat())
    page.select_option("#id_period-tier", "standard")
    screenshot("account-manager-new-customer")
    page.click("form.setup button[type=submit]")

    page.wait_for_url("**/staff/customers/E2E-NEW/")
    main = page.locator("main").inner_text()
    assert "KMS 8.5.2" in main
    assert end.isoformat() in page.locator(".timeline .period").first.inner_text()
    assert "陈静" in main
    screenshot("account-manager-new-customer-page")

    page.goto(f"{live_server.url}/staff/entitlements/")
    page.select_option("#id_customer", "E2E-NEW")
    page.select_option("#id_service", "defect-fix")
    page.fill("#id_product", "KMS")
    page.click("form.lookup button[type=submit]")
    assert page.locator(".decision").get_attribute("data-outcome") == "included"
