"""Finance starts an invoice run in a real browser and sees its progress."""

import datetime

import pytest
from django.utils import timezone

from billing.roles import sync_roles
from catalog.services import load_catalog
from contracts import demo
from invoices.models import Invoice, InvoiceRun
from invoices.services import invoice_issue, invoice_run_execute
from tests.e2e.helpers import log_in, role_user
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_finance_runs_invoicing_and_watches_the_progress(page, live_server, django_user_model, screenshot):
    load_catalog()
    sync_roles()
    for _ in range(3):
        ServicePeriodFactory(contract__customer=CustomerFactory(), start=datetime.date(2026, 1, 1), fee=1000)
    role_user(django_user_model, "fin", "finance")
    log_in(page, live_server, "fin", "fin-password", next_url="/staff/invoice-runs/")
    page.wait_for_url("**/staff/invoice-runs/")
    page.fill("input[name=up_to]", "2026-01-31")
    page.click("form.run-form button[type=submit]")
    page.wait_for_url("**/staff/invoice-runs/")
    row = page.locator("tr.run").first
    assert row.locator(".count").inner_text() == "3 / 3"
    assert row.locator(".invoices").inner_text() == "3"
    assert row.get_attribute("data-status") == "done"
    screenshot("finance-invoice-runs")
    page.goto(f"{live_server.url}/staff/entitlements/")
    assert page.locator(".lookup").count() == 1  # finance may look up entitlements too


def test_finance_sees_the_charts_drawn_from_local_files(page, live_server, django_user_model, screenshot):
    load_catalog()
    demo.load()
    sync_roles()
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=timezone.localdate()))
    for invoice in Invoice.objects.all():
        invoice_issue(invoice=invoice, issue_date=timezone.localdate() - datetime.timedelta(days=45))
    role_user(django_user_model, "fin2", "finance")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    log_in(page, live_server, "fin2", "fin2-password", next_url="/staff/charts/")
    page.wait_for_url("**/staff/charts/")
    page.wait_for_function("document.getElementById('revenue-CNY').chart !== undefined")
    assert page.evaluate("document.getElementById('ageing-CNY').chart.data.labels.length") == 4
    assert page.evaluate("document.getElementById('revenue-groups-CNY').chart.data.datasets.length") >= 9
    assert all(url.startswith(live_server.url) for url in requests)
    screenshot("finance-charts")
