"""A Celery worker killed with SIGKILL in the middle of an invoice run, then of PDF rendering: the message,
acknowledged only at the end (acks_late), is delivered again to a new worker, which finishes the work;
every charge is billed once and the invoice numbers have no hole and no repeat.

The task is held mid-way by a row lock the test takes (the run stops at the third customer, the PDF task
before storing its file): observable in the database, no timing guessed. The worker gets a visibility
timeout of two seconds, and looks for abandoned messages every second, so the new worker takes the message
back at once instead of after an hour."""

import contextlib
import datetime
import os
import signal

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog.services import load_catalog
from invoices.models import Charge, Invoice, InvoiceLine, InvoiceRun, InvoiceStatus, RunStatus
from invoices.services import invoice_issue, invoice_run_start
from tests.factories import CustomerFactory, ServicePeriodFactory
from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.postgresql, pytest.mark.celery]
VISIBILITY = {"CELERY_VISIBILITY_TIMEOUT": "2", "CELERY_UNACKED_RESTORE_SECONDS": "1"}


@contextlib.contextmanager
def row_locked(table: str, pk: int):
    """Holds a row lock from a connection of its own until the block ends. NO KEY UPDATE blocks the
    services' SELECT ... FOR UPDATE but not the inserts that only reference the row."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    ) as lock:
        lock.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR NO KEY UPDATE", [pk])
        yield
        lock.rollback()


def a_query_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def kill(worker) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def test_a_worker_killed_mid_run_and_mid_pdf_leaves_every_charge_billed_once_and_no_number_lost(
    pg_db, queue, workers
):
    load_catalog()
    customers = [CustomerFactory() for _ in range(5)]
    for customer in customers:
        ServicePeriodFactory(contract__customer=customer, start=datetime.date(2026, 1, 1), fee=10000)
    today = timezone.localdate()
    broker = settings.CELERY_BROKER_URL
    first = workers.start(broker_url=broker, **VISIBILITY)

    with row_locked("contracts_customer", sorted(c.pk for c in customers)[2]):
        run = invoice_run_start(up_to=today)
        wait_for(
            lambda: (
                InvoiceRun.objects.filter(pk=run.pk, customers_done=2).exists() and a_query_waits_on_a_lock()
            ),
            what="the run to stop at the third customer",
        )
        kill(first)
    assert InvoiceRun.objects.get(pk=run.pk).status == RunStatus.RUNNING
    assert Invoice.objects.count() == 2

    second = workers.start(broker_url=broker, **VISIBILITY)
    wait_for(lambda: InvoiceRun.objects.filter(pk=run.pk, status=RunStatus.DONE).exists(), what="the rerun")
    assert not Charge.objects.filter(invoice_line__isnull=True).exists()
    assert InvoiceLine.objects.count() == Charge.objects.count() == 5
    assert sorted(Invoice.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in customers)

    drafts = list(Invoice.objects.order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():  # one commit, then five PDF tasks
        for pk in drafts:
            invoice_issue(invoice=Invoice.objects.get(pk=pk), issue_date=today)
    with row_locked("invoices_invoice", drafts[0]):  # taken while the first PDF renders (about a second)
        wait_for(a_query_waits_on_a_lock, what="the PDF task to wait before storing its file")
        kill(second)
    assert Invoice.objects.filter(pdf_sha256="").count() == 5

    workers.start(broker_url=broker, **VISIBILITY)
    wait_for(lambda: not Invoice.objects.filter(pdf_sha256="").exists(), what="the PDFs")
    issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED)
    assert sorted(issued.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5]
    assert len(set(issued.values_list("number", flat=True))) == 5
    assert len(set(issued.values_list("pdf_sha256", flat=True))) == 5
