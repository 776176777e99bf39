"""Invoicing at scale: the work-log import against import-export's default path, and an invoice run over
many customers with its queries per invoice."""

import datetime
import time

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
