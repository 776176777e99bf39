"""Work in progress for the demo users, so each role's pages show something on a new install: a charge
request waiting for the account manager, a quote with a large discount waiting for the sales manager, a
delivered person-day and an invoice run with drafts for finance; the period fees of the DEMO-FEE customers
invoiced when their periods started and never paid, so that the entitlement check shows both policies on
an overdue fee (warn, suspend). Idempotent: a second load adds nothing.
Invoices is the last app of the chain, so this module may use every app's services."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from catalog.models import ServiceItem
from contracts.models import ChargeRequest, Customer, PeriodKind, ServicePeriod
from contracts.services import charge_request_create
from invoices.models import Invoice, InvoiceRun, InvoiceStatus
from invoices.services import invoice_issue, invoice_run_execute, work_log_record
from quotes.models import Quote
from quotes.services import quote_add_line, quote_add_travel, quote_create, quote_submit

DEMO_TICKET = "DEMO-TK-1001"
DEMO_QUOTE_NOTE = "演示报价：年度定制开发与数据迁移"
OVERDUE_FEE_CUSTOMERS = ("DEMO-FEE-SUSPEND", "DEMO-FEE-WARN")


@transaction.atomic
def load_work() -> list[str]:
    """Returns what it created; all or nothing, so a failed load leaves nothing half made."""
    users = get_user_model().objects
    customer = Customer.objects.get(code="DEMO-ACTIVE")
    created = []
    manager = users.filter(username="account_manager").first()
    if manager is not None and customer.account_manager_id is None:
        Customer.objects.filter(code__startswith="DEMO-", account_manager__isnull=True).update(
            account_manager=manager
        )
    if not ChargeRequest.objects.filter(ticket_ref=DEMO_TICKET).exists():
        charge_request_create(
            customer=customer,
            ticket_ref=DEMO_TICKET,
            description="为财务部定制月度报表导出（超出标准服务范围）",
            requested_by="api:demo",
            estimated_person_days=Decimal(2),
            service_code="custom-development",
        )
        created.append("charge request")
    if not Quote.objects.filter(notes=DEMO_QUOTE_NOTE).exists():
        quote = quote_create(
            customer=customer,
            discount=Decimal("0.2"),
            notes=DEMO_QUOTE_NOTE,
            created_by=users.filter(username="sales").first(),
        )
        quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=5)
        quote_add_line(quote=quote, service=ServiceItem.objects.get(code="data-migration"), quantity=250)
        quote_add_travel(quote=quote, description="北京—南昌往返机票及住宿", amount=Decimal(2400))
        quote_submit(quote=quote)
        created.append("quote")
    today = timezone.localdate()
    _log, new = work_log_record(
        customer=customer,
        engineer="张伟",
        work_date=today,
        ticket_ref="DEMO-TK-1002",
        idempotency_key="demo-work-log-1",
        days=Decimal("1.5"),
        on_site=True,
        description="现场排查报表性能问题",
    )
    if new:
        created.append("work log")
    if not InvoiceRun.objects.exists():
        invoice_run_execute(run=InvoiceRun.objects.create(up_to=today))
        created.append("invoice run")
    if _overdue_fees():
        created.append("overdue fee invoices")
    return created


def _overdue_fees() -> bool:
    """Issues each DEMO-FEE customer's paid period fee on the day the period started (billed by the run
    above, or by a run of its own when that run was made before the customer); says whether it did."""
    issued = False
    for code in OVERDUE_FEE_CUSTOMERS:
        customer = Customer.objects.filter(code=code).first()
        if (
            customer is None
            or Invoice.objects.filter(customer=customer, status=InvoiceStatus.ISSUED).exists()
        ):
            continue
        period = ServicePeriod.objects.get(contract__customer=customer, kind=PeriodKind.PAID)
        drafts = Invoice.objects.filter(customer=customer, status=InvoiceStatus.DRAFT)
        if not drafts.exists():
            invoice_run_execute(run=InvoiceRun.objects.create(up_to=period.start, customer=customer))
        for draft in drafts:
            invoice_issue(invoice=draft, issue_date=period.start)
            issued = True
    return issued
