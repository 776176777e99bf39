"""Currencies: a quote is in its rate card's currency, and no total, chart or export adds two currencies."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.pdf import render_pdf
from catalog.models import DeliveryMode, PersonDayRate, RateCard, Role, ServiceItem
from invoices.exports import invoices_dataset, issued, lines_dataset
from invoices.selectors import overdue_by_age, revenue_by_group, revenue_by_month
from invoices.services import charges_collect
from quotes.documents import quote_context
from quotes.selectors import renewal_pipeline
from quotes.services import quote_add_line, quote_create, quote_totals
from tests.factories import CustomerFactory, ServicePeriodFactory
from tests.invoices.conftest import cny, usd
from tests.quotes.test_pdf import pdf_text

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def usd_rate_card(catalogue):
    """A version of the list rate card in US dollars from 2027, with one person-day rate."""
    latest = RateCard.objects.filter(code="list").order_by("-version").first()
    card = RateCard.objects.create(
        code="list", version=latest.version + 1, effective_from=D(2027, 1, 1), currency="USD"
    )
    PersonDayRate.objects.create(
        rate_card=card, role=Role.ENGINEER, delivery_mode=DeliveryMode.REMOTE, price=usd("350.00")
    )
    return card


def test_a_quote_takes_its_currency_from_the_usd_rate_card_in_force(usd_rate_card, two_currencies):
    customer, *_rest = two_currencies
    quote = quote_create(customer=customer, quote_date=D(2027, 2, 1))
    assert quote.rate_card == usd_rate_card
    assert quote.currency == "USD"
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=2)
    assert quote_totals(quote)["gross"] == usd("700.00")


def test_a_usd_quotes_pdf_gives_its_total_in_dollars_without_yuan_capitals(usd_rate_card, two_currencies):
    customer, *_rest = two_currencies
    quote = quote_create(customer=customer, quote_date=D(2027, 2, 1))
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=2)
    text = pdf_text(render_pdf("quotes/quote_pdf.html", quote_context(quote)))
    assert "USD700.00" in text
    assert "人民币大写" not in text
    assert "¥" not in text


def test_a_quote_before_the_usd_card_stays_in_yuan(usd_rate_card, two_currencies):
    customer, *_rest = two_currencies
    assert quote_create(customer=customer, quote_date=D(2026, 12, 31)).currency == "CNY"


def test_revenue_charts_keep_currencies_apart(two_currencies):
    _customer, _cny_invoice, _usd_invoice, _march, _note = two_currencies
    by_month = revenue_by_month(months=3, today=D(2026, 3, 31))
    assert sorted(by_month) == ["CNY", "USD"]
    january, february, march = by_month["CNY"]
    assert (january["period_fee"], february["credited"], march["period_fee"]) == (10000.0, -2500.0, 2000.1)
    assert [row["period_fee"] for row in by_month["USD"]] == [1234.56, 0, 0]
    groups, _labels = revenue_by_group(months=3, today=D(2026, 3, 31))
    assert sum(sum(v for k, v in row.items() if k != "month") for row in groups["USD"]) == 1234.56
    assert sum(sum(v for k, v in row.items() if k != "month") for row in groups["CNY"]) == pytest.approx(
        9500.1
    )


@pytest.mark.today("2026-12-01")  # its documents are dated 2026-2027 and the page reads the clock
def test_the_charts_page_draws_one_chart_per_currency(admin_client, two_currencies):
    data = admin_client.get(reverse("invoices:charts")).context["chart_data"]
    assert sorted(data["revenue"]) == sorted(data["groups"]) == ["CNY", "USD"]
    assert sorted(data["ageing"]) == ["CNY", "USD"]
    overdue = overdue_by_age(today=datetime.date.today())
    usd_open = sum(
        float(amount.amount) for rows in overdue.values() for i, amount, _d in rows if i.currency == "USD"
    )
    assert sum(data["ageing"]["USD"].values()) == pytest.approx(usd_open)
    page = admin_client.get(reverse("invoices:charts")).content.decode()
    assert 'id="revenue-USD"' in page
    assert 'id="ageing-CNY"' in page


def test_the_overdue_page_sums_each_currency_apart(admin_client, two_currencies):
    page = admin_client.get(reverse("invoices:overdue"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # every bucket of 2026's invoices is 90+ days overdue by the end of November 2026 or later
    assert "CN¥6,500.10 · $1,000.00" in page


def test_renewal_fees_are_summed_per_currency(two_currencies):
    months = renewal_pipeline(today=D(2026, 12, 1), months_back=0, months_ahead=0)
    assert months[0]["fees"] == {"CNY": cny("10000.00"), "USD": usd("1234.56")}


def test_exports_give_every_row_its_currency(two_currencies):
    rows = invoices_dataset(issued(D(2026, 1, 1), D(2026, 12, 31))).dict
    assert sorted((row["currency"], row["gross"]) for row in rows if row["kind"] == "invoice") == [
        ("CNY", "10000.00"),
        ("CNY", "2000.10"),
        ("USD", "1234.56"),
    ]
    lines = lines_dataset(issued(D(2026, 1, 1), D(2026, 12, 31))).dict
    assert {(line["currency"], line["gross"]) for line in lines} >= {("USD", "1234.56"), ("CNY", "-2500.00")}


def test_a_period_fee_in_dollars_is_invoiced_in_dollars(two_currencies):
    _customer, _cny_invoice, usd_invoice, *_rest = two_currencies
    assert usd_invoice.currency == "USD"
    assert {str(line.gross.currency) for line in usd_invoice.lines.all()} == {"USD"}
    assert sum((line.gross for line in usd_invoice.lines.all()), usd(0)) == usd("1234.56")


def test_the_unbilled_charges_total_is_per_currency(admin_client, catalogue):
    customer = CustomerFactory(code="UNBILLED")
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), fee=Decimal("100.00"))
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), fee=usd("50.00"))
    charges_collect(up_to=D(2026, 1, 31))
    response = admin_client.get(reverse("invoices:charges"), HTTP_ACCEPT_LANGUAGE="en")
    # the list's rows each keep their currency; the total adds each currency apart
    assert sorted(str(charge.gross) for charge in response.context["table"].data) == ["$50.00", "CN¥100.00"]
    assert response.context["total"] == "CN¥100.00 · $50.00"
