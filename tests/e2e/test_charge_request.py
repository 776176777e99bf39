"""A ticketing tool raises an out-of-scope charge request through the API; the customer's account manager
approves it in a browser; the customer confirms it through the mailed link."""

import re

import pytest
from django.core import mail

from billing.apikeys import create_api_key
from billing.roles import sync_roles
from catalog.services import load_catalog
from contracts import demo
from contracts.models import ChargeRequest, ChargeStatus, Customer
from tests.e2e.helpers import log_in, role_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


def test_an_account_manager_approves_a_charge_request_raised_through_the_api(
    page, browser, live_server, django_user_model, screenshot, settings
):
    settings.SITE_URL = live_server.url
    load_catalog()
    demo.load()
    sync_roles()
    manager = role_user(django_user_model, "chen", "account_manager")
    Customer.objects.filter(code="DEMO-ACTIVE").update(account_manager=manager)
    _key, raw = create_api_key(name="Zendesk", scopes=["charges:write"])

    created = page.request.post(
        f"{live_server.url}/api/v1/charge-requests",
        headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "TK-9001-charge"},
        data={
            "customer": "DEMO-ACTIVE",
            "ticket": "TK-9001",
            "description": "为财务部定制月度报表导出",
            "estimated_person_days": "2",
        },
    )
    assert created.status == 201
    request_id = created.json()["id"]

    log_in(page, live_server, "chen", next_url="/staff/")
    page.wait_for_url("**/staff/charge-requests/")
    row = page.locator(f"#charge-{request_id}")
    assert "为财务部定制月度报表导出" in row.inner_text()
    row.locator("input[name=note]").fill("客户已在工单中同意报价")
    row.locator("button[value=approve]").click()
    page.wait_for_url("**/staff/charge-requests/")
    assert page.locator(f"#charge-{request_id}").count() == 0  # no longer waiting for this manager
    assert "待客户确认" in page.locator(".message").first.inner_text()
    charge = ChargeRequest.objects.get(pk=request_id)
    assert charge.status == ChargeStatus.AWAITING_CUSTOMER
    assert charge.approved_by == manager

    link = re.search(r"https?://\S+/c/charge-requests/\S+/", mail.outbox[-1].body).group(0)
    customer = browser.new_context(locale="zh-CN")
    customer_page = customer.new_page()
    customer_page.goto(link)
    customer_page.fill("input[name=name]", "王芳")
    customer_page.click("button[value=accept]")
    customer_page.wait_for_load_state()
    customer.close()
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.CONFIRMED
