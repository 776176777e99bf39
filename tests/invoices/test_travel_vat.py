"""Travel charged to customers follows settings.TRAVEL_VAT: part of our taxable sale ("taxable", the
default: at cost, VAT included at the travel service's rate) or kept outside our fapiao ("outside": no VAT
of ours), on invoices and quotes alike."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from djmoney.money import Money

from catalog.pricing import price_at_cost
from catalog.selectors import travel_vat_rate
from invoices.models import Charge, ChargeSource, Invoice, InvoiceRun, SetAside
from invoices.selectors import invoice_totals
from invoices.services import (
    charges_collect,
    charges_set_aside,
    invoice_line_of_charge,
    invoice_run_execute,
    travel_expense_approve,
    travel_expense_record,
)
from quotes.services import quote_add_travel, quote_create, quote_totals
from tests.factories import CustomerFactory

D = datetime.date
pytestmark = pytest.mark.django_db


def cny(amount) -> Money:
    return Money(Decimal(amount), "CNY")


@pytest.fixture
def customer(catalogue):
    return CustomerFactory(code="ACME", uscc="91110000802100433B")


SPENT_ON = D(2026, 3, 5)


def approved_travel(customer, amount="1060.00", spent_on=SPENT_ON):
    expense = travel_expense_record(
        customer=customer,
        category="transport",
        spent_on=spent_on,
        amount=cny(amount),
        description="南昌 高铁",
        receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4\n% receipt\n"),
    )
    return travel_expense_approve(expense=expense, by=None)


def billed_travel(customer):
    approved_travel(customer)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 3, 31)))
    invoice = Invoice.objects.get(customer=customer)
    return invoice, invoice.lines.get(pass_through=True)


def test_at_cost_vat_is_included_in_the_cost_to_the_fen():
    priced = price_at_cost(amount=cny("1060.00"), vat_rate=Decimal("0.06"))
    assert (priced.net, priced.vat, priced.gross) == (cny("1000.00"), cny("60.00"), cny("1060.00"))
    assert (priced.amount, priced.discount_amount) == (cny("1060.00"), cny(0))
    odd = price_at_cost(amount=cny("1000.01"), vat_rate=Decimal("0.06"))
    assert odd.net + odd.vat == odd.gross == cny("1000.01")
    assert price_at_cost(amount=cny("99.99")).vat == cny(0)  # no rate: no VAT of ours


def test_taxable_travel_is_billed_at_cost_with_the_travel_services_vat(customer):
    invoice, line = billed_travel(customer)
    assert (line.net, line.vat, line.gross) == (cny("1000.00"), cny("60.00"), cny("1060.00"))
    assert line.vat_rate == Decimal("0.06")
    charge = Charge.objects.get(source=ChargeSource.TRAVEL)
    assert (charge.vat_rate, charge.gross, charge.pass_through) == (Decimal("0.06"), cny("1060.00"), True)
    # part of the taxable sale: in the net and the VAT, nothing apart
    assert invoice_totals(invoice) == {
        "net": cny("1000.00"),
        "vat": cny("60.00"),
        "travel": cny(0),
        "gross": cny("1060.00"),
    }


def test_travel_kept_outside_carries_no_vat_of_ours_and_stays_apart(customer, settings):
    settings.TRAVEL_VAT = "outside"
    invoice, line = billed_travel(customer)
    assert (line.net, line.vat, line.gross) == (cny("1060.00"), cny(0), cny("1060.00"))
    assert line.vat_rate == 0
    assert invoice_totals(invoice) == {
        "net": cny(0),
        "vat": cny(0),
        "travel": cny("1060.00"),
        "gross": cny("1060.00"),
    }


def test_a_small_scale_vendor_includes_its_own_rate(customer, settings):
    settings.VENDOR_TAXPAYER_KIND = "small_scale"
    assert travel_vat_rate(on=D(2026, 3, 5)) == Decimal("0.01")
    _invoice, line = billed_travel(customer)
    assert (line.net, line.vat) == (cny("1049.50"), cny("10.50"))


def test_an_invoice_line_keeps_the_vat_its_charge_was_collected_with(customer, settings):
    settings.TRAVEL_VAT = "outside"
    approved_travel(customer)
    charges_collect(up_to=D(2026, 3, 31))
    settings.TRAVEL_VAT = "taxable"  # changed after the charge was collected
    line = invoice_line_of_charge(Charge.objects.get(source=ChargeSource.TRAVEL))
    assert (line.vat_rate, line.vat, line.gross) == (0, cny(0), cny("1060.00"))


def test_travel_sold_under_an_unknown_service_is_set_aside_with_the_reason(customer, settings):
    settings.TRAVEL_SERVICE_CODE = "no-such-service"
    approved_travel(customer)
    set_aside = []
    assert charges_collect(up_to=D(2026, 3, 31), set_aside=set_aside) == 0
    assert [row.code for row in set_aside] == ["unknown_travel_service"]
    charges_set_aside(run=InvoiceRun.objects.create(up_to=D(2026, 3, 31)), set_aside=set_aside)
    assert SetAside.objects.get().source == ChargeSource.TRAVEL


@pytest.mark.parametrize(
    ("treatment", "net", "vat", "travel"),
    [("taxable", "1000.00", "60.00", "0"), ("outside", "0", "0", "1060.00")],
)
def test_a_quotes_travel_estimate_follows_the_same_rule(customer, settings, treatment, net, vat, travel):
    settings.TRAVEL_VAT = treatment
    quote = quote_create(customer=customer, quote_date=D(2026, 3, 4), valid_until=D(2026, 4, 30))
    line = quote_add_travel(quote=quote, description="往返机票", amount=Decimal("1060.00"))
    assert line.gross == cny("1060.00")
    assert line.vat == cny(vat)
    totals = quote_totals(quote)
    assert (totals["net"], totals["vat"], totals["travel"], totals["gross"]) == (
        cny(net),
        cny(vat),
        cny(travel),
        cny("1060.00"),
    )


def test_the_invoice_page_shows_the_vat_rate_of_taxable_travel(customer, admin_client):
    invoice, _line = billed_travel(customer)
    page = admin_client.get(reverse("invoices:invoice", args=[invoice.pk])).content.decode()
    assert "6%" in page or "6.00%" in page
    assert "60.00" in page
