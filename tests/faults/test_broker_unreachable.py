"""Redis unreachable: entitlement checks still answer, and work started meanwhile (an invoice run, an issued
invoice's PDF, a sent quote's PDF) is recorded and done once the broker is back, billed once."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from billing.apikeys import create_api_key
from catalog.models import ServiceItem
from catalog.services import load_catalog
from invoices.models import Charge, Invoice, InvoiceLine, InvoiceRun, InvoiceStatus, RunStatus
from invoices.services import invoice_run_execute
from invoices.tasks import dispatch_pending_work
from quotes.models import Quote, QuoteStatus
from quotes.services import quote_add_line, quote_create
from quotes.tasks import dispatch_pending_pdfs
from tests.factories import CustomerFactory, ServicePeriodFactory
from tests.faults.conftest import direct_database_url, redis_url, wait_for
from tests.faults.live import StaffBrowser, api_post

pytestmark = [pytest.mark.postgresql, pytest.mark.celery]

CHECK = "/api/v1/entitlements/check"
QUESTION = {
    "customer": "ACME",
    "service": "fault-diagnosis",
    "at": "2026-02-13T17:00:00+08:00",
    "severity": 1,
}


def test_work_started_while_the_broker_is_unreachable_is_done_once_when_it_returns(
    pg_db, redis_proxy, queue, start_server, workers
):
    load_catalog()
    today = timezone.localdate()
    acme = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=acme, start=datetime.date(2026, 1, 1), fee=50000)
    other = CustomerFactory(code="OTHER")
    ServicePeriodFactory(contract__customer=other, start=datetime.date(2026, 1, 1), fee=30000)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=today, customer=acme))
    draft = Invoice.objects.get(customer=acme)
    quote = quote_create(customer=acme, valid_until=today + datetime.timedelta(days=30))
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=2)
    _key, raw = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    admin = get_user_model().objects.create_superuser("admin", password="x")

    broker = redis_url(redis_proxy)
    server = start_server(DATABASE_URL=direct_database_url(), CELERY_BROKER_URL=broker, CELERY_QUEUE=queue)
    workers.start(broker_url=broker)
    staff = StaffBrowser(server, admin)

    redis_proxy.cut()
    answer = api_post(server, CHECK, QUESTION, key=raw)
    assert answer.status == 200
    assert answer.json()["outcome"] == "included"
    issued = staff.post(
        "/admin/invoices/invoice/", [("action", "issue"), ("index", "0"), ("_selected_action", draft.pk)]
    )
    sent = staff.post(
        "/admin/quotes/quote/", [("action", "send"), ("index", "0"), ("_selected_action", quote.pk)]
    )
    started = staff.post("/staff/invoice-runs/start", {"up_to": today.isoformat()})
    assert (issued.status, sent.status, started.status) == (302, 302, 302)  # recorded, not a 500
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.pdf_sha256) == (
        InvoiceStatus.ISSUED,
        f"INV{today.year}-000001",
        "",
    )
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
    run = InvoiceRun.objects.exclude(customer=acme).get()
    assert run.status == RunStatus.PENDING

    redis_proxy.restore()
    # What beat does every ten minutes, sent at once; the worker takes it when it has reconnected.
    assert dispatch_pending_work.delay(older_than_seconds=0).get(timeout=60, disable_sync_subtasks=False) == {
        "runs": 1,
        "pdfs": 1,
    }
    assert dispatch_pending_pdfs.delay(older_than_seconds=0).get(timeout=60, disable_sync_subtasks=False) == 1
    wait_for(
        lambda: (
            InvoiceRun.objects.filter(pk=run.pk, status=RunStatus.DONE).exists()
            and not Invoice.objects.filter(status=InvoiceStatus.ISSUED, pdf_sha256="").exists()
            and not Quote.objects.filter(pk=quote.pk, pdf_sha256="").exists()
        ),
        what="the run and the PDFs",
    )

    assert not Charge.objects.filter(invoice_line__isnull=True).exists()
    assert InvoiceLine.objects.count() == Charge.objects.count() == 2  # two period fees, each billed once
    assert sorted(Invoice.objects.values_list("customer__code", flat=True)) == ["ACME", "OTHER"]
    assert list(Invoice.objects.exclude(number="").values_list("number", flat=True)) == [
        f"INV{today.year}-000001"
    ]
    assert dispatch_pending_work.delay(older_than_seconds=0).get(timeout=60, disable_sync_subtasks=False) == {
        "runs": 0,
        "pdfs": 0,
    }
