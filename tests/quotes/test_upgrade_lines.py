"""The upgrade contract is quotable like any value-added service: a line names the product and the target
major, is priced by catalog.pricing.price_upgrade, and prices the same upgrade as the decision and the
invoice do."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import UPGRADE_CONTRACT, Product, ServiceItem, TaxCategory, UpgradePrice
from contracts.entitlements import decide
from contracts.models import Contract, ContractKind
from invoices.models import Invoice, InvoiceRun
from invoices.services import invoice_run_execute
from quotes.models import InvoicingPolicy, LineKind, Quote
from quotes.services import quote_add_line, quote_create, quote_customer_answer, quote_send
from quotes.tasks import render_quote_pdf
from tests.contracts.conftest import at
from tests.contracts.test_api import CHECK, api
from tests.factories import user_with
from tests.quotes.test_admin import inline_management
from tests.quotes.test_pdf import pdf_text

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 4)


def upgrade_quote(customer, *, discount=Decimal(0), line_discount=Decimal(0)) -> Quote:
    quote = quote_create(
        customer=customer,
        quote_date=DAY,
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
        discount=discount,
    )
    quote_add_line(
        quote=quote,
        service=ServiceItem.objects.get(code=UPGRADE_CONTRACT),
        quantity=1,
        product="KMS",
        target_major=9,
        discount=line_discount,
    )
    return quote


def test_an_upgrade_contract_line_is_one_fixed_price_contract_billed_when_ordered(customer):
    line = upgrade_quote(customer).lines.get()
    assert (line.kind, line.invoicing_policy) == (LineKind.FIXED, InvoicingPolicy.ORDERED)
    assert (line.product.code, line.target_major, line.quantity) == ("KMS", 9, 1)
    assert line.unit_price == line.gross == Money(120000, "CNY")
    assert line.vat_rate == Decimal("0.13")


def test_an_upgrade_contract_line_needs_the_product_and_the_target_major(customer):
    quote = quote_create(customer=customer, quote_date=DAY)
    with pytest.raises(BillingError) as error:
        quote_add_line(quote=quote, service=ServiceItem.objects.get(code=UPGRADE_CONTRACT), quantity=1)
    assert error.value.code == "upgrade_needs_versions"
    assert not quote.lines.exists()


def test_an_upgrade_to_a_major_the_rate_card_does_not_price_is_refused(customer):
    quote = quote_create(customer=customer, quote_date=DAY)
    with pytest.raises(BillingError) as error:
        quote_add_line(
            quote=quote,
            service=ServiceItem.objects.get(code=UPGRADE_CONTRACT),
            quantity=1,
            product="KMS",
            target_major=10,
        )
    assert error.value.code == "no_price"


AMOUNTS = ("unit_price", "net", "vat", "gross")


@pytest.mark.parametrize(
    ("price", "tax_inclusive", "category"),
    [
        (Decimal(120000), True, TaxCategory.SOFTWARE),
        (Decimal("99999.99"), False, TaxCategory.SOFTWARE),
        (Decimal("33333.33"), True, TaxCategory.SERVICES),
        (Decimal("0.07"), False, TaxCategory.SERVICES),
    ],
)
def test_the_decision_the_quote_line_and_the_invoice_line_price_an_upgrade_alike(
    customer, price, tax_inclusive, category
):
    UpgradePrice.objects.filter(product__code="KMS", major=9).update(
        price=price,
        tax_inclusive=tax_inclusive,
        tax_category=TaxCategory.objects.get(code=category),
    )
    decided = decide(
        customer=customer, service="upgrade", product="KMS", to_version="9.0.0", at=at(2026, 3, 4, 10)
    ).price
    quote = upgrade_quote(customer)
    quoted = quote.lines.get()
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=timezone.localdate()))
    invoiced = Invoice.objects.get(customer=customer).lines.get(description__startswith=quoted.description)
    assert decided.quantity == quoted.quantity == invoiced.quantity == 1
    assert decided.vat_rate == quoted.vat_rate == invoiced.vat_rate
    assert decided.tax_inclusive == quoted.tax_inclusive == invoiced.tax_inclusive == tax_inclusive
    for amount in AMOUNTS:
        assert getattr(decided, amount) == getattr(quoted, amount) == getattr(invoiced, amount), amount


def test_a_quote_discount_on_an_upgrade_is_shown_apart_from_its_list_price(customer):
    line = upgrade_quote(customer, discount=Decimal("0.05"), line_discount=Decimal("0.1")).lines.get()
    assert line.list_amount == Money(120000, "CNY")
    assert line.gross == Money(102600, "CNY")  # 120000 x 0.9 x 0.95


def test_sales_adds_an_upgrade_contract_on_the_builder_page(client, customer, django_user_model):
    client.force_login(user_with(django_user_model, "seller", "view_quote", "add_quote", "change_quote"))
    client.post(reverse("quotes:new"), {"customer": "ACME"})
    quote = Quote.objects.get()
    client.post(
        reverse("quotes:add-line", args=[quote.pk]),
        {
            "service": UPGRADE_CONTRACT,
            "quantity": "1",
            "product": "KMS",
            "target_major": "9",
            "role": "engineer",
            "delivery_mode": "remote",
        },
    )
    line = quote.lines.get()
    assert (line.product.code, line.target_major, line.gross) == ("KMS", 9, Money(120000, "CNY"))
    page = client.get(reverse("quotes:builder", args=[quote.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'class="muted upgrade"' in page
    assert "KMS 9.x" in page


def test_the_quote_pdf_names_the_upgrade_contract_in_both_languages(customer):
    quote = quote_send(quote=upgrade_quote(customer))
    render_quote_pdf(quote.pk)
    quote.refresh_from_db()
    text = pdf_text(quote.pdf.read())
    assert "大版本升级服务合同Majorupgradecontract:KMS9.x" in text
    assert "120,000.00" in text or "120000.00" in text


def test_accepting_an_upgrade_quote_records_the_upgrade_contract_continuing_the_customers_contract(customer):
    quote = quote_send(quote=upgrade_quote(customer))
    quote_customer_answer(quote=quote, accept=True, name="王芳", ip=None)
    upgrade = Contract.objects.get(kind=ContractKind.UPGRADE)
    licensing = Contract.objects.get(customer=customer, kind=ContractKind.PURCHASE)
    assert (upgrade.customer, upgrade.continues) == (customer, licensing)
    assert upgrade.number == f"{quote.number}-KMS9"
    assert [(lic.product.code, lic.version) for lic in upgrade.products.all()] == [("KMS", "9.0.0")]


def test_once_the_upgrade_quote_is_accepted_the_same_major_upgrade_is_included(customer):
    question = {"service": "upgrade", "product": "KMS", "from_version": "8.5.2", "to_version": "9.0.0"}
    assert decide(customer=customer, at=at(2026, 3, 4, 10), **question).outcome == "billable"
    quote_customer_answer(quote=quote_send(quote=upgrade_quote(customer)), accept=True, name="王芳", ip=None)
    decision = decide(customer=customer, at=at(2026, 3, 5, 10), **question)
    assert (decision.outcome, [reason.code for reason in decision.reasons]) == (
        "included",
        ["upgrade_contract"],
    )
    assert decision.price is None
    body = (
        api("entitlements:read")
        .post(CHECK, {"customer": "ACME", **question, "at": "2026-03-05T10:00:00+08:00"}, format="json")
        .json()
    )
    assert (body["outcome"], body["price"]) == ("included", None)


def test_a_declined_upgrade_quote_records_no_upgrade_contract(customer):
    quote_customer_answer(quote=quote_send(quote=upgrade_quote(customer)), accept=False, name="王芳", ip=None)
    assert not Contract.objects.filter(kind=ContractKind.UPGRADE).exists()
    decision = decide(
        customer=customer, service="upgrade", product="KMS", to_version="9.0.0", at=at(2026, 3, 5, 10)
    )
    assert decision.outcome == "billable"


def test_staff_add_an_upgrade_contract_line_in_the_admin(admin_client, customer):
    admin_client.post(
        reverse("admin:quotes_quote_add"),
        {
            "customer": customer.pk,
            "discount": "0",
            **inline_management("lines", 0),
            **inline_management("lines-2", 1),
            "lines-2-0-service": ServiceItem.objects.get(code=UPGRADE_CONTRACT).pk,
            "lines-2-0-quantity": "1",
            "lines-2-0-discount": "0",
            "lines-2-0-product": Product.objects.get(code="KMS").pk,
            "lines-2-0-target_major": "9",
        },
    )
    line = Quote.objects.get().lines.get()
    assert (line.product.code, line.target_major, line.gross) == ("KMS", 9, Money(120000, "CNY"))
