"""Invoicing at scale: the work-log import against import-export's default path, and an invoice run over
many customers with its queries per invoice."""

import datetime
import os
import time
from pathlib import Path

import tablib

ROWS = 5000


def _dataset(prefix: str) -> tablib.Dataset:
    from invoices.resources import WorkLogResource  # the file's columns, as the import reads them

    rows = [
        ["DEMO-ACTIVE", f"工程师{i % 20}", "engineer", f"2026-03-{1 + i % 28:02d}", "1", "0", f"TK-{i}",
         "custom-development", "迁移", f"{prefix}{i}"]
        for i in range(ROWS)
    ]  # fmt: skip
    return tablib.Dataset(*rows, headers=list(WorkLogResource.Meta.fields))


def import_rates() -> list[str]:
    from import_export import fields, resources
    from import_export.widgets import ForeignKeyWidget

    from contracts.models import Customer
    from invoices.models import WorkLog
    from invoices.resources import WorkLogFileResource, WorkLogResource

    class DefaultPath(resources.ModelResource):
        """import-export's default path: an instance query and full validation per row, saved one by one."""

        customer = fields.Field(
            attribute="customer", column_name="customer", widget=ForeignKeyWidget(Customer, field="code")
        )
        date = fields.Field(attribute="work_date", column_name="date")
        ticket = fields.Field(attribute="ticket_ref", column_name="ticket")
        service = fields.Field(attribute="service_code", column_name="service")
        key = fields.Field(attribute="idempotency_key", column_name="key")

        class Meta:
            model = WorkLog
            fields = WorkLogResource.Meta.fields
            import_id_fields = ("key",)
            clean_model_instances = True

    def rate(resource, dataset) -> float:
        start = time.perf_counter()
        result = resource.import_data(dataset, use_transactions=True, rollback_on_validation_errors=True)
        if result.has_errors() or result.has_validation_errors():
            raise RuntimeError("the benchmark's file did not import cleanly")
        return ROWS / (time.perf_counter() - start)

    baseline = rate(DefaultPath(), _dataset("default-"))
    ours = rate(WorkLogFileResource(), _dataset("ours-"))
    return [
        f"## Work-log import, {ROWS} rows (SQLite)",
        f"- import-export default path: {baseline:.0f} rows/s",
        f"- ours (cached keys and customers, bulk inserts, one transaction): {ours:.0f} rows/s",
        f"- ratio ours/default: {ours / baseline:.2f}",
    ]


def invoice_run(customers: int) -> list[str]:
    from django.db import connection
    from djmoney.money import Money

    from catalog.models import BusinessCalendar, ServiceTier
    from contracts.models import Contract, Customer, ServicePeriod
    from invoices.models import Invoice, InvoiceRun
    from invoices.services import invoice_run_execute

    tier, calendar = ServiceTier.objects.get(code="standard"), BusinessCalendar.objects.get(code="5x8")
    made = Customer.objects.bulk_create(
        Customer(code=f"RUN-{n:06d}", legal_name=f"开票客户{n}") for n in range(customers)
    )
    contracts = Contract.objects.bulk_create(
        Contract(customer=c, number=f"RUN-HT-{c.code}", kind="purchase", signed_on=datetime.date(2026, 1, 1))
        for c in made
    )
    year = (datetime.date(2026, 1, 1), datetime.date(2026, 12, 31))
    ServicePeriod.objects.bulk_create(
        ServicePeriod(
            contract=c,
            kind="paid",
            start=year[0],
            end=year[1],
            tier=tier,
            calendar=calendar,
            fee=Money(12000, "CNY"),
        )
        for c in contracts
    )
    run = InvoiceRun.objects.create(up_to=datetime.date(2026, 1, 31))
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(1)
        return execute(sql, params, many, context)

    start = time.perf_counter()
    with connection.execute_wrapper(count):
        run = invoice_run_execute(run=run)
    seconds = time.perf_counter() - start
    invoices = Invoice.objects.filter(run=run).count()
    return [
        f"## Invoice run: {customers} customers, one process (SQLite)",
        f"- {invoices} draft invoices in {seconds:.1f} s ({invoices / seconds:.0f} invoices/s)",
        f"- {len(queries) / max(invoices, 1):.1f} queries per invoice",
    ]


def _customers_with_a_fee(customers: int, prefix: str) -> None:
    """``customers`` customers, each with a paid 2026 period: one fee charge each to bill in January."""
    from djmoney.money import Money

    from catalog.models import BusinessCalendar, ServiceTier
    from contracts.models import Contract, Customer, ServicePeriod

    tier, calendar = ServiceTier.objects.get(code="standard"), BusinessCalendar.objects.get(code="5x8")
    made = Customer.objects.bulk_create(
        Customer(code=f"{prefix}{n:06d}", legal_name=f"开票客户{prefix}{n}") for n in range(customers)
    )
    contracts = Contract.objects.bulk_create(
        Contract(customer=c, number=f"HT-{c.code}", kind="purchase", signed_on=datetime.date(2026, 1, 1))
        for c in made
    )
    ServicePeriod.objects.bulk_create(
        ServicePeriod(
            contract=c,
            kind="paid",
            start=datetime.date(2026, 1, 1),
            end=datetime.date(2026, 12, 31),
            tier=tier,
            calendar=calendar,
            fee=Money(12000, "CNY"),
        )
        for c in contracts
    )


BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")


def invoice_run_workers(customers: int, database_url: str, counts: tuple[int, ...] = (1, 2)) -> list[str]:
    """The invoice run of ``customers`` customers as production runs it: the run's task on a Redis broker
    (db 14), shared out in parts (invoices.tasks.bill_invoice_run_part) to 1 and then 2 real Celery worker
    processes (solo pool), in the same run; each round bills customers of its own. Timed from the run's
    start to its DONE, as the run page shows it."""
    import uuid

    from billing.celery import app
    from invoices.models import Invoice, InvoiceRun, RunStatus
    from invoices.services import INVOICE_RUN_CHUNK, invoice_run_start

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    app.conf.broker_url, app.conf.task_always_eager, app.conf.task_default_queue = BROKER, False, queue
    engine = database_url.split(":", 1)[0]
    lines = [
        f"## Invoice run shared by Celery workers: {customers:,} customers, parts of {INVOICE_RUN_CHUNK} "
        f"({engine}, Redis broker)",
    ]
    if engine == "sqlite":
        lines.append(
            "- SQLite takes its write lock for each customer's whole transaction (IMMEDIATE): the workers "
            "bill one customer at a time between them; PostgreSQL (BENCH_DATABASE_URL) lets them overlap."
        )
    timings = {}
    try:
        for round_, count in enumerate(counts, start=1):
            _customers_with_a_fee(customers, prefix=f"W{round_}-")
            workers = [_start_worker(queue, f"{queue}-{round_}-{n}", database_url) for n in range(count)]
            try:
                run = invoice_run_start(up_to=datetime.date(2026, 1, 31))
                start = time.perf_counter()
                while not InvoiceRun.objects.filter(
                    pk=run.pk, status__in=(RunStatus.DONE, RunStatus.FAILED)
                ).exists():
                    time.sleep(0.2)
                timings[count] = time.perf_counter() - start
                run.refresh_from_db()
            finally:
                for worker in workers:
                    worker.terminate()
                for worker in workers:
                    worker.wait(timeout=60)
            invoices = Invoice.objects.filter(run=run).count()
            lines.append(
                f"- {count} worker{'s' if count > 1 else ''}: {invoices:,} draft invoices in "
                f"{timings[count]:.1f} s ({invoices / timings[count]:.0f} invoices/s), run {run.status}"
                + (f": {run.error}" if run.error else "")
            )
    finally:
        app.control.purge()
        app.conf.task_always_eager = True
    if len(timings) == 2:
        one, two = (timings[c] for c in counts)
        lines.append(f"- speed-up with {counts[1]} workers: {one / two:.2f}x")
    return lines


def _start_worker(queue: str, node: str, database_url: str):
    """A Celery worker process of this project (solo pool) on ``queue``, ready when this returns."""
    import subprocess
    import sys

    from billing.celery import app

    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "billing", "worker", "--pool=solo", "-Q", queue, "-n",
         f"{node}@localhost", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _attempt in range(120):
        if worker.poll() is not None:
            raise RuntimeError(f"the Celery worker {node} exited ({worker.returncode})")
        if app.control.ping(destination=[f"{node}@localhost"], timeout=1):
            return worker
    worker.terminate()
    raise RuntimeError(f"the Celery worker {node} did not answer")
