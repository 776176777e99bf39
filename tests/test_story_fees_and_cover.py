"""One customer's renewal, from the quote to cover: the renewal quote is accepted, the invoice run bills the
new period's fee, the invoice is issued, time passes without payment, the check suspends cover past the
grace days (standard tier: suspend), a part payment leaves it suspended, the rest brings cover back. The
quote, the charge, the invoice, the check's open amount and the balance agree to the fen."""

import contextlib
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from djmoney.money import Money

from contracts.entitlements import decide
from contracts.models import Contact, ServicePeriod
from invoices.models import Charge, ChargeSource, Invoice, InvoiceRun
from invoices.selectors import invoice_balance
from invoices.services import invoice_issue, invoice_run_execute, payment_record
from quotes.services import quote_customer_answer, quote_send, quote_totals, quotes_draft_renewals
from tests.contracts.conftest import SHANGHAI
from tests.contracts.test_api import CHECK, api
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def CNY(amount) -> Money:
    return Money(Decimal(str(amount)), "CNY")


@pytest.fixture
def clock(monkeypatch):
    """Moves the project's clock (timezone.now, which services read) to 10:00 of a day in Shanghai."""

    @contextlib.contextmanager
    def on(day: datetime.date):
        moment = datetime.datetime.combine(day, datetime.time(10), tzinfo=SHANGHAI)
        with monkeypatch.context() as patch:
            patch.setattr(timezone, "now", lambda: moment)
            yield moment

    return on


def run_and_issue(up_to: datetime.date) -> Invoice:
    """The invoice run up to a day; its one draft issued the day after."""
    run = invoice_run_execute(run=InvoiceRun.objects.create(up_to=up_to))
    return invoice_issue(invoice=Invoice.objects.get(run=run), issue_date=up_to + datetime.timedelta(days=1))


def check(day: datetime.date):
    moment = datetime.datetime.combine(day, datetime.time(10), tzinfo=SHANGHAI)
    return decide(customer="ACME", service="defect-fix", at=moment)


def test_a_renewal_fee_left_unpaid_suspends_cover_until_it_is_paid(catalogue, clock, django_user_model):
    manager = django_user_model.objects.create_user(username="am", email="am@vendor.example.com")
    customer = CustomerFactory(code="ACME", account_manager=manager)
    Contact.objects.create(customer=customer, name="王芳", email="wang@acme.example.com", is_primary=True)
    first = ServicePeriodFactory(
        contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=88000
    )
    assert first.tier.fee_overdue_policy == "suspend"  # the seeded standard tier

    # 2026's fee is billed and paid on time: no effect.
    with clock(D(2026, 1, 2)):
        paid_2026 = run_and_issue(D(2026, 1, 1))
        payment_record(invoice=paid_2026, amount=CNY(88000), received_on=D(2026, 1, 20), reference="B-2026")
    assert (check(D(2026, 6, 1)).outcome, check(D(2026, 6, 1)).fee_overdue) == ("included", None)

    # October: the renewal quote is drafted, sent and accepted; the new paid period covers 2027.
    with clock(D(2026, 10, 2)):
        (quote,) = quotes_draft_renewals(today=D(2026, 10, 2))
        quote_send(quote=quote)
    with clock(D(2026, 10, 10)):
        quote_customer_answer(quote=quote, accept=True, name="王芳", ip="192.0.2.1")
    renewal = ServicePeriod.objects.get(contract__customer=customer, start=D(2027, 1, 1))
    quoted = quote_totals(quote)["gross"]
    assert (renewal.kind, renewal.end, renewal.fee, quoted) == (
        "paid",
        D(2027, 12, 31),
        CNY(88000),
        CNY(88000),
    )
    assert check(D(2027, 1, 1)).period == renewal

    # January 2027: the invoice run bills the fee; the invoice is issued on the 2nd, due 1 February.
    with clock(D(2027, 1, 2)):
        invoice = run_and_issue(D(2027, 1, 1))
    charge = Charge.objects.get(source=ChargeSource.PERIOD_FEE, source_id=renewal.pk)
    assert charge.invoice_line.invoice == invoice
    assert (charge.gross, invoice_balance(invoice), invoice.due_date) == (quoted, quoted, D(2027, 2, 1))

    # Time passes: due, then 30 days of grace, then suspended.
    for day in (D(2027, 2, 1), D(2027, 2, 20), D(2027, 3, 3)):
        assert (check(day).outcome, check(day).fee_overdue) == ("included", None), day
    suspended = check(D(2027, 3, 4))
    assert suspended.outcome == "needs_approval"
    assert "fee_overdue" in [reason.code for reason in suspended.reasons]
    assert (suspended.fee_overdue.invoice, suspended.fee_overdue.days_overdue) == (invoice.number, 31)
    assert suspended.fee_overdue.open_amount == invoice_balance(invoice, on=D(2027, 3, 4)) == CNY(88000)
    body = {"customer": "ACME", "service": "defect-fix", "at": "2027-03-04T10:00:00+08:00", "severity": 2}
    answer = api("entitlements:read").post(CHECK, body, format="json").json()
    assert answer["outcome"] == "needs_approval"
    assert answer["fee_overdue"]["open_amount"] == {"amount": "88000.00", "currency": "CNY"}

    # A part payment: still suspended, the rest open to the fen.
    with clock(D(2027, 3, 5)):
        payment_record(invoice=invoice, amount=CNY("50000.01"), received_on=D(2027, 3, 5), reference="B-1")
    partly = check(D(2027, 3, 6))
    assert partly.outcome == "needs_approval"
    assert partly.fee_overdue.open_amount == invoice_balance(invoice) == CNY("37999.99")
    assert "CN¥37,999.99" in next(r for r in partly.reasons if r.code == "fee_overdue").text("en")

    # The rest is received: cover is back from that day.
    with clock(D(2027, 3, 8)):
        payment_record(invoice=invoice, amount=CNY("37999.99"), received_on=D(2027, 3, 8), reference="B-2")
    assert invoice_balance(invoice) == CNY(0)
    back = check(D(2027, 3, 8))
    assert (back.outcome, back.fee_overdue, [r.code for r in back.reasons]) == (
        "included",
        None,
        ["standard_service"],
    )
    assert check(D(2027, 3, 7)).outcome == "needs_approval"  # as it stood before the money came
