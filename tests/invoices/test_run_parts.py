"""An invoice run shared out in parts of customers (invoices.tasks.bill_invoice_run_part): every worker
bills a part, the part that bills the last customer finishes the run, and a part delivered again bills and
counts nothing twice."""

import datetime

import pytest

from invoices import services, tasks
from invoices.models import Charge, Invoice, InvoiceRun, RunStatus
from invoices.services import invoice_run_bill, invoice_run_prepare
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db
UP_TO = datetime.date(2026, 1, 31)


@pytest.fixture
def customers(catalogue):
    made = [CustomerFactory() for _ in range(7)]
    for customer in made:
        ServicePeriodFactory(contract__customer=customer, start=datetime.date(2026, 1, 1), fee=10000)
    return made


def test_the_run_task_bills_every_customer_in_parts_and_finishes_once(customers, monkeypatch):
    monkeypatch.setattr(tasks, "INVOICE_RUN_CHUNK", 3)
    sent = []
    part = tasks.bill_invoice_run_part.apply_async
    monkeypatch.setattr(
        tasks.bill_invoice_run_part,
        "apply_async",
        lambda args, **options: sent.append(args[1]) or part(args=args, **options),
    )
    run = InvoiceRun.objects.create(up_to=UP_TO)
    tasks.execute_invoice_run(run.pk)
    run.refresh_from_db()
    assert [len(ids) for ids in sent] == [3, 3, 1]
    assert (run.status, run.customers_total, run.customers_done, run.invoices_created) == (
        RunStatus.DONE,
        7,
        7,
        7,
    )
    assert sorted(Invoice.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in customers)
    assert not Charge.objects.filter(invoice_line__isnull=True).exists()


def test_a_part_delivered_again_bills_and_counts_nothing_twice(customers):
    run = InvoiceRun.objects.create(up_to=UP_TO)
    ids = invoice_run_prepare(run=run)
    invoice_run_bill(run=run, customer_ids=ids[:4])
    invoice_run_bill(run=run, customer_ids=ids[:4], again=True)
    run.refresh_from_db()
    assert (run.status, run.customers_done, Invoice.objects.count()) == (RunStatus.RUNNING, 4, 4)
    invoice_run_bill(run=run, customer_ids=ids[4:])
    run.refresh_from_db()
    assert (run.status, run.customers_done, Invoice.objects.count()) == (RunStatus.DONE, 7, 7)


def test_a_run_with_nothing_to_bill_is_done_at_once(catalogue):
    run = InvoiceRun.objects.create(up_to=UP_TO)
    assert services.invoice_run_prepare(run=run) == []
    run.refresh_from_db()
    assert run.status == RunStatus.DONE
