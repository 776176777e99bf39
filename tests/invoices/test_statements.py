"""Statements of account: one per currency, opening, lines, closing and ageing agreeing to the fen."""

import datetime
from decimal import Decimal

import pytest
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.errors import BillingError
from billing.money import round_fen
from invoices.models import Invoice, InvoiceLine
from invoices.selectors import CURRENT, invoice_balance, statement_of_account, statement_period
from invoices.services import credit_note_issue, invoice_issue, payment_record
from tests.factories import CustomerFactory
from tests.invoices.conftest import cny, usd

D = datetime.date
pytestmark = pytest.mark.django_db


def test_a_statement_with_two_currencies_is_one_statement_per_currency(two_currencies):
    customer, *_rest = two_currencies
    statements = statement_of_account(customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31))
    assert [statement.currency for statement in statements] == ["CNY", "USD"]
    for statement in statements:
        amounts = [statement.opening, statement.closing, *(line.amount for line in statement.lines)]
        assert {str(amount.currency) for amount in amounts} == {statement.currency}


def test_the_statement_brings_forward_what_was_open_before_the_period(two_currencies):
    customer, _cny_invoice, _usd_invoice, march, note = two_currencies
    cny_statement, usd_statement = statement_of_account(
        customer=customer, start=D(2026, 2, 1), end=D(2026, 3, 31)
    )
    # before February: the CNY invoice (10,000.00) less the payment of 2026-01-20 (3,000.00)
    assert cny_statement.opening == cny("7000.00")
    assert [(line.kind, line.reference, line.amount, line.balance) for line in cny_statement.lines] == [
        ("credit_note", note.number, cny("-2500.00"), cny("4500.00")),
        ("invoice", march.number, cny("2000.10"), cny("6500.10")),
    ]
    assert cny_statement.closing == cny("6500.10")
    assert usd_statement.opening == usd("1234.56")
    assert [(line.kind, line.amount, line.balance) for line in usd_statement.lines] == [
        ("payment", usd("-234.56"), usd("1000.00"))
    ]
    assert usd_statement.closing == usd("1000.00")


def test_a_credit_note_and_a_payment_each_reduce_the_balance_once(two_currencies):
    customer, cny_invoice, usd_invoice, march, _note = two_currencies
    cny_statement, usd_statement = statement_of_account(
        customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31)
    )
    assert cny_statement.invoiced == cny("12000.10")
    assert cny_statement.credited == cny("-2500.00")
    assert cny_statement.paid == cny("-3000.00")
    assert cny_statement.closing == cny("6500.10")
    assert cny_statement.closing == invoice_balance(cny_invoice) + invoice_balance(march)
    assert usd_statement.closing == invoice_balance(usd_invoice) == usd("1000.00")


def test_the_ageing_at_the_end_of_the_period_adds_up_to_the_closing_balance(two_currencies):
    customer, *_rest = two_currencies
    cny_statement, usd_statement = statement_of_account(
        customer=customer, start=D(2026, 1, 1), end=D(2026, 4, 20)
    )
    # the January invoices were due 2026-02-04 (75 days overdue on 2026-04-20), March's 2026-04-09 (11)
    assert cny_statement.ageing == {
        CURRENT: cny(0),
        "1-30": cny("2000.10"),
        "31-60": cny(0),
        "61-90": cny("4500.00"),
        "90+": cny(0),
    }
    assert usd_statement.ageing["61-90"] == usd("1000.00")
    for statement in (cny_statement, usd_statement):
        total = sum(statement.ageing.values(), statement.unapplied)
        assert total == statement.closing


def test_the_ageing_reads_what_was_open_at_the_end_not_today(two_currencies):
    customer, *_rest = two_currencies
    cny_statement, _usd = statement_of_account(customer=customer, start=D(2026, 1, 1), end=D(2026, 2, 10))
    # on 2026-02-10 the credit note of 2026-02-15 was not issued yet, nor the March invoice
    assert cny_statement.closing == cny("7000.00")
    assert cny_statement.ageing["1-30"] == cny("7000.00")
    assert sum(cny_statement.ageing.values(), cny(0)) == cny("7000.00")


@pytest.mark.today("2026-12-01")  # its 2026 statement reads what is recorded up to today
def test_an_invoice_paid_beyond_its_amount_by_a_credit_note_is_unapplied_not_aged(two_currencies):
    customer, cny_invoice, *_rest = two_currencies
    credit_note_issue(
        invoice=cny_invoice, reason="全部冲红", lines={cny_invoice.lines.get().pk: Decimal("0.75")}
    )
    [cny_statement, _usd] = statement_of_account(customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31))
    assert cny_statement.unapplied == cny("-3000.00")
    assert cny_statement.ageing["90+"] == cny("2000.10")
    assert sum(cny_statement.ageing.values(), cny_statement.unapplied) == cny_statement.closing


def test_a_currency_first_used_after_the_period_has_no_statement(two_currencies):
    customer, *_rest = two_currencies
    assert statement_of_account(customer=customer, start=D(2025, 1, 1), end=D(2025, 12, 31)) == []


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-13-01", "2026-12-31"),
        ("20260101", "2026-12-31"),
        ("", "2026-12-31"),
        ("2026-01-01", None),
        ("2026-02-01", "2026-01-31"),
    ],
)
def test_a_statement_period_with_a_bad_date_or_from_after_to_is_refused(start, end):
    with pytest.raises(BillingError) as refused:
        statement_period(start, end)
    assert refused.value.code == "invalid_statement_period"


def test_the_statement_costs_a_fixed_number_of_queries(two_currencies, django_assert_max_num_queries):
    customer, *_rest = two_currencies
    with django_assert_max_num_queries(6):
        statement_of_account(customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31))


DAYS_2026 = st.integers(min_value=0, max_value=364).map(lambda n: D(2026, 1, 1) + datetime.timedelta(days=n))
DOCUMENT = st.fixed_dictionaries(
    {
        "currency": st.sampled_from(["CNY", "USD"]),
        "gross": st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2),
        "issued": DAYS_2026,
        "credit_share": st.sampled_from([None, Decimal("0.25"), Decimal("1")]),
        "credit_after": st.integers(min_value=0, max_value=60),
        "paid_share": st.sampled_from([None, Decimal("0.5"), Decimal("1")]),
        "paid_after": st.integers(min_value=0, max_value=90),
    }
)


def issue_document(customer, document: dict) -> None:
    """An invoice of one line, maybe partly credited and maybe partly paid, at the given days."""
    currency, gross = document["currency"], Money(document["gross"], document["currency"])
    invoice = Invoice.objects.create(customer=customer, currency=currency)
    InvoiceLine.objects.create(
        invoice=invoice,
        description="服务费",
        quantity=1,
        unit_price=gross,
        vat_rate=Decimal(0),
        net=gross,
        vat=Money(0, currency),
        gross=gross,
    )
    invoice = invoice_issue(invoice=invoice, issue_date=document["issued"])
    if document["credit_share"] is not None:
        note = credit_note_issue(
            invoice=invoice, reason="调整", lines={invoice.lines.get().pk: document["credit_share"]}
        )
        credited_on = document["issued"] + datetime.timedelta(days=document["credit_after"])
        Invoice.objects.filter(pk=note.pk).update(issue_date=credited_on)
    open_amount = invoice_balance(invoice)
    if document["paid_share"] is not None and open_amount.amount > 0:
        payment_record(
            invoice=invoice,
            amount=Money(round_fen(open_amount.amount * document["paid_share"]) or Decimal("0.01"), currency),
            received_on=document["issued"] + datetime.timedelta(days=document["paid_after"]),
            reference=f"B{invoice.pk}",
        )


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(documents=st.lists(DOCUMENT, min_size=1, max_size=5), split=DAYS_2026)
def test_any_statement_reconciles_and_a_split_period_carries_its_balance_over(catalogue, documents, split):
    customer = CustomerFactory()  # a new customer per example: examples share the test's transaction
    for document in documents:
        issue_document(customer, document)
    end = D(2027, 6, 30)
    whole = {s.currency: s for s in statement_of_account(customer=customer, start=D(2026, 1, 1), end=end)}
    first = {s.currency: s for s in statement_of_account(customer=customer, start=D(2026, 1, 1), end=split)}
    second = {
        s.currency: s
        for s in statement_of_account(customer=customer, start=split + datetime.timedelta(days=1), end=end)
    }
    assert set(whole) == {document["currency"] for document in documents}
    for currency, statement in whole.items():
        assert statement.opening == Money(0, currency)
        assert statement.closing == sum((line.amount for line in statement.lines), statement.opening)
        assert statement.closing == statement.invoiced + statement.credited + statement.paid
        assert statement.closing == sum(statement.ageing.values(), statement.unapplied)
        open_at_end = [
            invoice_balance(invoice, on=end)
            for invoice in Invoice.objects.filter(customer=customer, currency=currency, kind="invoice")
        ]
        assert statement.closing == sum(open_at_end, Money(0, currency))
        before = first[currency].closing if currency in first else Money(0, currency)
        assert second[currency].opening == before
        assert second[currency].closing == statement.closing
