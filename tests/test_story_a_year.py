"""One customer's year, across every feature money passes through: a quote with an ordered and a delivered
line, accepted; work logged in three batches, the last one past the ordered quantity; a training used and
given back; travel over the policy's cap; three invoice runs; a partial credit note; payments in two
currencies. At the end every order line, every invoice, the statement and the ledger agree to the fen."""

import contextlib
import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import ServiceItem
from contracts.models import ChargeRequest, ChargeStatus, ConsumptionEntry, Contact
from contracts.quotas import training_quota
from contracts.services import (
    charge_request_approve,
    charge_request_create,
    charge_request_customer_answer,
    consume,
    consumption_correct,
)
from invoices.models import (
    Charge,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceRun,
    InvoiceStatus,
    TravelExpense,
)
from invoices.selectors import invoice_balance, order_progress, statement_of_account
from invoices.services import (
    LineCredit,
    credit_note_issue,
    invoice_issue,
    invoice_run_execute,
    payment_record,
    travel_expense_approve,
    travel_expense_record,
    work_log_record,
)
from quotes.models import InvoicingPolicy, ServiceOrder
from quotes.services import order_close, quote_add_line, quote_create, quote_customer_answer, quote_send
from tests.factories import CustomerFactory, ServicePeriodFactory, user_with

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
D = datetime.date


def CNY(amount) -> Money:
    return Money(Decimal(str(amount)), "CNY")


@pytest.fixture
def clock(monkeypatch):
    """Moves the project's clock (django.utils.timezone.now, which services and auto_now fields read) to
    10:00 of a day in Shanghai."""

    @contextlib.contextmanager
    def on(day: datetime.date):
        moment = datetime.datetime.combine(day, datetime.time(10), tzinfo=SHANGHAI)
        with monkeypatch.context() as patch:
            patch.setattr(timezone, "now", lambda: moment)
            yield moment

    return on


@pytest.fixture
def people(catalogue, django_user_model):
    return {
        # sales and finance act for every customer (contracts.ownership); the manager for his own
        "sales": user_with(django_user_model, "sales", "add_quote", "change_quote", "act_for_every_customer"),
        "manager": user_with(django_user_model, "manager", "approve_chargerequest", "add_consumptionentry"),
        "finance": user_with(
            django_user_model,
            "finance",
            "act_for_every_customer",
            "finance_approve_chargerequest",
            "change_travelexpense",
            "view_invoice",
        ),
    }


def run(up_to: datetime.date) -> list[Invoice]:
    """An invoice run up to a day; its drafts are issued the day after."""
    finished = invoice_run_execute(run=InvoiceRun.objects.create(up_to=up_to))
    return [
        invoice_issue(invoice=draft, issue_date=up_to + datetime.timedelta(days=1))
        for draft in Invoice.objects.filter(run=finished).order_by("currency")
    ]


def gross(invoice: Invoice) -> Money:
    return sum((line.gross for line in invoice.lines.all()), Money(0, invoice.currency))


def test_a_year_of_one_customer_reconciles_to_the_fen(people, clock):
    customer = CustomerFactory(code="ACME", account_manager=people["manager"])
    Contact.objects.create(customer=customer, name="王芳", email="wang@acme.example.com", is_primary=True)
    period = ServicePeriodFactory(
        contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=50000, trainings_per_year=2
    )

    # January: a quote with a fixed-price health check (billed when ordered) and five person-days of
    # custom development (billed as delivered), 10% off, accepted by the customer.
    with clock(D(2026, 1, 10)):
        quote = quote_create(customer=customer, discount=Decimal("0.1"), created_by=people["sales"])
        check = quote_add_line(quote=quote, service=ServiceItem.objects.get(code="health-check"), quantity=1)
        days = quote_add_line(
            quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=5
        )
        assert (check.invoicing_policy, days.invoicing_policy) == (
            InvoicingPolicy.ORDERED,
            InvoicingPolicy.DELIVERED,
        )
        assert (check.list_amount, check.discount_amount, check.gross) == (CNY(25000), CNY(2500), CNY(22500))
        assert (days.list_amount, days.discount_amount, days.gross) == (CNY(9000), CNY(900), CNY(8100))
        quote = quote_send(quote=quote)
    with clock(D(2026, 1, 12)):
        quote_customer_answer(quote=quote, accept=True, name="王芳", ip=None)
    order = ServiceOrder.objects.get(quote=quote)
    development = order.lines.get(invoicing_policy=InvoicingPolicy.DELIVERED)

    def log(day, amount, key):
        with clock(day):
            return work_log_record(
                customer=customer,
                engineer="李工",
                work_date=day,
                ticket_ref=quote.reference,
                idempotency_key=key,
                days=Decimal(amount),
                order_line=development,
            )[0]

    # February: two days delivered, then the first run: the period fee, the health check, two days at the
    # order's price (1,620.00 a day, not the rate card's 1,800.00).
    log(D(2026, 2, 20), 2, "wl-1")
    (first,) = run(D(2026, 2, 28))
    assert sorted(line.gross for line in first.lines.all()) == [CNY(3240), CNY(22500), CNY(50000)]
    assert gross(first) == CNY("75740.00")

    # March: a training used by mistake and given back; two more days.
    with clock(D(2026, 3, 10)):
        (use,) = consume(
            customer=customer,
            service=ServiceItem.objects.get(code="customer-training"),
            quantity=1,
            ticket_ref="TK-TRAIN",
            idempotency_key="train-1",
        )
        assert training_quota(period, D(2026, 3, 10)).used == 1
    with clock(D(2026, 3, 11)):
        consumption_correct(
            entry=use, quantity=Decimal(1), reason="录错了", idempotency_key="fix-1", by=people["manager"]
        )
        with pytest.raises(BillingError):  # no more than was used is ever given back
            consumption_correct(
                entry=use, quantity=Decimal(1), reason="again", idempotency_key="fix-2", by=people["manager"]
            )
    assert training_quota(period, D(2026, 3, 12)).used == 0
    assert ConsumptionEntry.objects.filter(customer=customer).aggregate(total=Sum("quantity"))["total"] == 0
    log(D(2026, 3, 20), 2, "wl-2")

    # April: two more days, one past the five ordered; lodging of two nights at 650.00 over the 500.00 cap.
    log(D(2026, 4, 15), 2, "wl-3")
    with clock(D(2026, 4, 16)):
        expense = travel_expense_record(
            customer=customer,
            category="lodging",
            spent_on=D(2026, 4, 15),
            amount=CNY(1300),
            quantity=2,
            description="上海 两晚",
            receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4 receipt"),
            by=people["manager"],
        )
        with pytest.raises(BillingError):  # four eyes: the recorder does not approve an expense over the cap
            travel_expense_approve(expense=expense, by=people["manager"])
        travel_expense_approve(expense=expense, by=people["finance"])
    expense = TravelExpense.objects.get(pk=expense.pk)
    assert (expense.cap, expense.excess, expense.billed_amount) == (CNY(1000), CNY(300), CNY(1000))

    (second,) = run(D(2026, 4, 30))
    # March's two days, April's one day left of the five, the lodging up to its cap
    assert sorted(line.gross for line in second.lines.all()) == [CNY(1000), CNY(1620), CNY(3240)]
    assert gross(second) == CNY(5860)
    overrun = ChargeRequest.objects.get(customer=customer, status=ChargeStatus.PENDING_APPROVAL)
    assert overrun.estimated_person_days == 1 or overrun.estimated_amount == CNY(1620)

    # May: an agreed amount of the delivered days credited back; payments.
    delivered_line = second.lines.get(gross=CNY(3240))
    with clock(D(2026, 5, 10)):
        note = credit_note_issue(
            invoice=second, reason="协商减免", lines={delivered_line.pk: LineCredit(amount=Decimal("486.00"))}
        )
    assert note.kind == InvoiceKind.CREDIT_NOTE
    assert note.due_date is None
    assert gross(note) == CNY(-486)
    for line in note.lines.all():
        assert line.quantity * line.unit_price.amount == line.gross.amount
    payment_record(invoice=first, amount=CNY("75740.00"), received_on=D(2026, 3, 20), reference="B-1")
    payment_record(invoice=second, amount=CNY(3000), received_on=D(2026, 5, 20), reference="B-2")
    assert invoice_balance(second) == CNY("2374.00")

    # June: an out-of-scope charge agreed in US dollars: approved twice, confirmed, billed on its own invoice.
    with clock(D(2026, 6, 1)):
        request = charge_request_create(
            customer=customer,
            ticket_ref="TK-USD",
            description="海外节点部署",
            requested_by="api:zendesk",
            estimated_amount=Money(1000, "USD"),
        )
        request = charge_request_approve(request=request, by=people["manager"])
        request = charge_request_approve(request=request, by=people["finance"])
    with clock(D(2026, 6, 3)):
        charge_request_customer_answer(request=request, accept=True, name="王芳", ip=None)
    (dollars,) = run(D(2026, 6, 30))
    assert dollars.currency == "USD"
    assert gross(dollars) == Money(1000, "USD")
    payment_record(invoice=dollars, amount=Money(1000, "USD"), received_on=D(2026, 7, 10), reference="B-3")

    # December: the order is closed.
    with clock(D(2026, 12, 1)):
        order_close(order=order, reason="项目验收")

    # Every order line: ordered = delivered + remaining + released; invoiced - credited = the ledger.
    progress = {item.line.invoicing_policy: item for item in order_progress(order)}
    work = progress[InvoicingPolicy.DELIVERED]
    assert (work.ordered.quantity, work.delivered.quantity, work.beyond.quantity) == (5, 5, 1)
    assert (work.remaining.quantity, work.released.quantity) == (0, 0)
    assert (work.ordered.amount, work.invoiced.amount, work.credited.amount) == (
        CNY(8100),
        CNY(8100),
        CNY(486),
    )
    health = progress[InvoicingPolicy.ORDERED]
    assert (health.ordered.quantity, health.delivered.quantity, health.remaining.quantity) == (1, 1, 0)
    assert health.invoiced.amount == CNY(22500)
    for item in progress.values():
        assert (
            item.ordered.quantity
            == item.delivered.quantity + item.remaining.quantity + item.released.quantity
        )
        billed = sum(
            (
                c.invoice_line.gross
                for c in Charge.objects.filter(order_line=item.line, invoice_line__isnull=False)
            ),
            CNY(0),
        )
        assert item.invoiced.amount == billed

    # Every invoice is the sum of its lines, and the ledger's charges are what the invoices bill.
    for invoice in Invoice.objects.filter(customer=customer, kind=InvoiceKind.INVOICE):
        charges = Charge.objects.filter(invoice_line__invoice=invoice)
        assert charges.count() == invoice.lines.count()
        assert sum((c.invoice_line.gross for c in charges), Money(0, invoice.currency)) == gross(invoice)
    assert (
        not Charge.objects.filter(customer=customer, invoice_line__isnull=True)
        .exclude(service_date__gt=D(2026, 6, 30))
        .exists()
    )
    assert (
        InvoiceLine.objects.filter(invoice__status=InvoiceStatus.ISSUED).count() == 8
    )  # 3 + 3 + 1, and the credit note's 1

    # The statement of the year, one per currency, agrees with all of it.
    cny, usd = statement_of_account(customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31))
    assert (cny.currency, usd.currency) == ("CNY", "USD")
    assert (cny.opening, cny.invoiced, cny.credited, cny.paid) == (
        CNY(0),
        CNY("81600.00"),
        CNY(-486),
        CNY("-78740.00"),
    )
    assert cny.closing == CNY("2374.00") == invoice_balance(first) + invoice_balance(second)
    assert sum(cny.ageing.values(), CNY(0)) + cny.unapplied == cny.closing
    assert (usd.invoiced, usd.paid, usd.closing) == (Money(1000, "USD"), Money(-1000, "USD"), Money(0, "USD"))


def test_the_double_billing_of_an_accepted_quote_and_its_logged_days_is_gone_through_the_pages(
    people, client, clock, django_user_model, django_capture_on_commit_callbacks
):
    """Finance's own path: the quote's person-days, accepted and logged against the quote's reference,
    come once on the invoice the run page makes, at the quote's price."""
    customer = CustomerFactory(code="PAGES", account_manager=people["manager"])
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=0)
    with clock(D(2026, 2, 1)):
        quote = quote_create(customer=customer, created_by=people["sales"])
        quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=3)
        quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
        for day in (2, 3, 4):
            work_log_record(
                customer=customer,
                engineer="李工",
                work_date=D(2026, 2, day),
                ticket_ref=quote.reference,
                idempotency_key=f"pages-{day}",
                days=Decimal(1),
            )
    finance = user_with(
        django_user_model, "finance-pages", "view_charge", "add_invoicerun", "view_invoicerun", "view_invoice"
    )
    client.force_login(finance)
    client.post(reverse("invoices:collect-charges"))  # the list only reads: collecting is the button's
    page = client.get(reverse("invoices:charges")).content.decode()
    assert "5,400.00" in page  # three days at the quote's 1,800.00, once
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("invoices:start-run"), {"up_to": "2026-02-28"})
    assert response.status_code == 302
    (invoice,) = Invoice.objects.filter(customer=customer)
    assert gross(invoice) == CNY(5400)
    assert [line.gross for line in invoice.lines.all()] == [CNY(1800)] * 3  # a line a day logged, none more
    assert not Charge.objects.filter(customer=customer, order_line__isnull=True).exists()
    assert client.get(reverse("invoices:invoice", args=[invoice.pk])).status_code == 200
