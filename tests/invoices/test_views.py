import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing.roles import sync_roles
from catalog.models import ServiceItem
from contracts import demo
from contracts.models import Customer
from invoices.models import Invoice, InvoiceRun, RunStatus
from invoices.services import invoice_issue, invoice_run_execute
from quotes.services import quote_add_line, quote_create, quote_set_discount, quote_submit
from tests.factories import CustomerFactory, ServicePeriodFactory

# The factories' periods and bundles run 2025-2027: read them as of a day inside, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]


def test_finance_starts_a_run_and_follows_its_progress(
    admin_client, catalogue, django_capture_on_commit_callbacks
):
    ServicePeriodFactory(contract__customer=CustomerFactory(), start=datetime.date(2026, 1, 1), fee=1000)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("invoices:start-run"), {"up_to": "2026-01-31"})
    assert response.status_code == 302
    run = InvoiceRun.objects.get()
    assert run.created_by.username == "admin"
    progress = admin_client.get(reverse("invoices:run-progress", args=[run.pk])).json()
    assert progress == {
        "status": RunStatus.DONE,
        "customers_total": 1,
        "customers_done": 1,
        "invoices_created": 1,
        "error": "",
        "set_aside": [],
    }
    page = admin_client.get(reverse("invoices:runs")).content.decode()
    assert "<progress" in page
    assert "run-progress.js" in page
    assert Invoice.objects.count() == 1


def test_the_renewal_pipeline_page_lists_the_free_period_ending_in_four_months(admin_client, catalogue):
    demo.load()
    page = admin_client.get(reverse("quotes:pipeline")).content.decode()
    assert "DEMO-FREE" in page
    assert "status-active" in page


def test_the_customer_page_shows_periods_contracts_quotas_quotes_and_invoices(admin_client, catalogue):
    demo.load()
    page = admin_client.get(reverse("invoices:customer", args=["DEMO-ACTIVE"])).content.decode()
    assert "示例科技有限公司" in page
    assert "period status-renewed" in page
    assert "period status-active" in page
    assert "HT-2025-017" in page
    assert "KMS 8.5.2" in page
    assert "定制审批流模块" in page
    assert admin_client.get(reverse("invoices:customer", args=["NOPE"])).status_code == 404


def test_sales_see_quotes_by_state_with_the_ones_waiting_for_approval_first(admin_client, catalogue):
    demo.load()
    quote = quote_create(customer=Customer.objects.get(code="DEMO-ACTIVE"))
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=2)
    quote_set_discount(quote=quote, discount="0.3")
    quote_submit(quote=quote)
    page = admin_client.get(reverse("invoices:quotes")).content.decode()
    assert 'class="waiting"' in page
    assert quote.reference in page
    assert "30%" in page


def test_charts_show_renewals_to_all_and_revenue_and_ageing_to_finance(
    client, admin_client, catalogue, django_user_model
):
    demo.load()
    ServicePeriodFactory(contract__customer=CustomerFactory(), start=datetime.date(2026, 1, 1), fee=1000)
    invoice_run = InvoiceRun.objects.create(up_to=timezone.localdate())
    invoice_run_execute(run=invoice_run)
    for invoice in Invoice.objects.all():
        invoice_issue(invoice=invoice)
    page = admin_client.get(reverse("invoices:charts"))
    data = page.context["chart_data"]
    assert sum(row["period_fee"] for row in data["revenue"]["CNY"]) > 0
    assert set(data["ageing"]["CNY"]) == {"1-30", "31-60", "61-90", "90+"}
    assert "vendor/chartjs/chart.umd.min.js" in page.content.decode()
    sync_roles()
    sales = django_user_model.objects.create_user(username="s", password="x", is_staff=True)
    sales.groups.set(Group.objects.filter(name="sales"))
    client.force_login(sales)
    sales_data = client.get(reverse("invoices:charts")).context["chart_data"]
    assert "revenue" not in sales_data
    assert sales_data["renewals"]


def test_the_customer_page_counts_a_credit_note_once(admin_client, two_currencies):
    customer, cny_invoice, usd_invoice, march, note = two_currencies
    page = admin_client.get(reverse("invoices:customer", args=[customer.code]))
    open_amounts = {invoice.number: open_amount for invoice, _total, open_amount in page.context["invoices"]}
    # the credit note's 2,500.00 is in its invoice's balance (10,000 - 2,500 - 3,000), not open again
    assert open_amounts[note.number] is None
    assert open_amounts[cny_invoice.number] == Money(Decimal("4500.00"), "CNY")
    assert open_amounts[march.number] == Money(Decimal("2000.10"), "CNY")
    assert open_amounts[usd_invoice.number] == Money(Decimal("1000.00"), "USD")
