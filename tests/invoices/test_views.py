import datetime

import pytest
from django.urls import reverse

from contracts import demo
from invoices.models import Invoice, InvoiceRun, RunStatus
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db


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
