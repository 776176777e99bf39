"""An invoice run shared by two real Celery workers: its parts go to both, and every customer is billed
once, the run done when the last part is."""

import datetime

import pytest
from django.conf import settings

from catalog.services import load_catalog
from invoices.models import Charge, Invoice, InvoiceRun, RunStatus
from invoices.services import invoice_run_start
from tests.factories import CustomerFactory, ServicePeriodFactory
from tests.faults.conftest import wait_for

pytestmark = [pytest.mark.postgresql, pytest.mark.celery]


def test_two_workers_bill_a_run_of_many_customers_once_each(pg_db, queue, workers):
    load_catalog()
    customers = [CustomerFactory() for _ in range(60)]  # three parts of INVOICE_RUN_CHUNK
    for customer in customers:
        ServicePeriodFactory(contract__customer=customer, start=datetime.date(2026, 1, 1), fee=10000)
    workers.start(broker_url=settings.CELERY_BROKER_URL)
    workers.start(broker_url=settings.CELERY_BROKER_URL)
    run = invoice_run_start(up_to=datetime.date(2026, 1, 31))
    wait_for(lambda: InvoiceRun.objects.filter(pk=run.pk, status=RunStatus.DONE).exists(), what="the run")
    run.refresh_from_db()
    assert (run.customers_total, run.customers_done, run.invoices_created) == (60, 60, 60)
    assert sorted(Invoice.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in customers)
    assert not Charge.objects.filter(invoice_line__isnull=True).exists()
