"""One pricing path: for any rate card and quantity, the entitlement decision, the quote and the invoice give
the same amount for the same service, customer and date."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.errors import BillingError
from catalog import snapshot
from catalog.models import DataVolumePrice, DataVolumeTier, PersonDayRate, ServiceItem, UnitPrice, VolumeModel
from catalog.pricing import Tier, price_agreed, price_service, tier_slices, tiered_amount
from contracts.entitlements import decide
from invoices.models import Charge, ChargeSource, DataVolumeUsage, InvoiceLine, InvoiceRun, WorkLog
from invoices.services import invoice_run_execute, work_log_record
from quotes.services import quote_add_line, quote_create, quote_customer_answer, quote_send
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 10)
AT = datetime.datetime(2026, 3, 10, 10, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)


@pytest.fixture
def customer(catalogue):
    customer = CustomerFactory(code="PRICED")
    ServicePeriodFactory(
        contract__customer=customer, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31)
    )
    return customer


def _rolled_back(check):
    """Runs ``check`` in a savepoint that is rolled back, so each example starts from the same rows."""
    with transaction.atomic():
        snapshot.clear()
        check()
        transaction.set_rollback(True)
    snapshot.clear()


def _accepted_quote_line(customer, service, quantity, **line):
    quote = quote_create(customer=customer, quote_date=DAY, valid_until=datetime.date(2099, 1, 1))
    quote_line = quote_add_line(quote=quote, service=service, quantity=quantity, **line)
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    return quote_line


def _invoice_line(source: str, source_id: int) -> InvoiceLine:
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=datetime.date(2099, 1, 1)))
    return Charge.objects.get(source=source, source_id=source_id).invoice_line


@SETTINGS
@given(price=prices, tax_inclusive=st.booleans(), quantity=quantities)
def test_person_days_cost_the_same_in_the_decision_the_quote_and_the_invoice(
    customer, price, tax_inclusive, quantity
):
    def check():
        PersonDayRate.objects.filter(role="engineer", delivery_mode="remote").update(
            price=price, tax_inclusive=tax_inclusive
        )
        service = ServiceItem.objects.get(code="custom-development")
        decision = decide(customer=customer, service=service, at=AT, quantity=quantity)
        quote = quote_create(customer=customer, quote_date=DAY)
        quote_line = quote_add_line(quote=quote, service=service, quantity=quantity)
        log, _new = work_log_record(
            customer=customer,
            engineer="李工",
            work_date=DAY,
            ticket_ref="TK-1",
            idempotency_key="k",
            days=quantity,
        )
        invoice_line = _invoice_line(ChargeSource.WORK_LOG, WorkLog.objects.get(pk=log.pk).pk)
        assert decision.price.gross == quote_line.gross == invoice_line.gross
        assert decision.price.net == quote_line.net == invoice_line.net
        assert (
            quote_line.list_amount
            == invoice_line.list_amount
            == Money((price * quantity).quantize(Decimal("0.01")), "CNY")
        )

    _rolled_back(check)


@SETTINGS
@given(price=prices, tax_inclusive=st.booleans(), quantity=st.integers(min_value=1, max_value=500))
def test_a_unit_price_costs_the_same_in_the_decision_the_quote_and_the_invoice(
    customer, price, tax_inclusive, quantity
):
    def check():
        service = ServiceItem.objects.get(code="kms-certification")
        UnitPrice.objects.filter(service=service).update(price=price, tax_inclusive=tax_inclusive)
        decision = decide(customer=customer, service=service, at=AT, quantity=quantity)
        quote_line = _accepted_quote_line(customer, service, quantity)
        invoice_line = _invoice_line(ChargeSource.QUOTE_LINE, quote_line.pk)
        assert decision.price.gross == quote_line.gross == invoice_line.gross
        assert decision.price.vat == quote_line.vat == invoice_line.vat

    _rolled_back(check)


@SETTINGS
@given(
    tiers=st.lists(st.tuples(st.integers(1, 400), prices), min_size=1, max_size=4),
    model=st.sampled_from([VolumeModel.GRADUATED, VolumeModel.VOLUME]),
    quantity=quantities,
)
def test_a_data_volume_costs_the_same_in_the_decision_the_quote_and_the_invoice(
    customer, tiers, model, quantity
):
    def check():
        service = ServiceItem.objects.get(code="data-migration")
        pricing = DataVolumePrice.objects.get(service=service)
        pricing.model = model
        pricing.save()
        pricing.tiers.all().delete()
        up_to = 0
        for index, (width, unit_price) in enumerate(tiers):
            up_to += width
            last = index == len(tiers) - 1
            DataVolumeTier.objects.create(
                pricing=pricing, up_to=None if last else up_to, unit_price=unit_price
            )
        decision = decide(customer=customer, service=service, at=AT, quantity=quantity)
        quote = quote_create(customer=customer, quote_date=DAY)
        quote_line = quote_add_line(quote=quote, service=service, quantity=quantity)
        usage = DataVolumeUsage.objects.create(customer=customer, quantity=quantity, measured_on=DAY)
        invoice_line = _invoice_line(ChargeSource.DATA_VOLUME, usage.pk)
        assert decision.price.estimate == quote_line.list_amount == invoice_line.list_amount
        assert decision.price.gross == quote_line.gross == invoice_line.gross

    _rolled_back(check)


@SETTINGS
@given(price=prices, quantity=quantities, discount=st.decimals(min_value=0, max_value=1, places=4))
def test_a_printed_line_adds_up(price, quantity, discount):
    """quantity x unit price = list amount; list amount - discount = amount; net + VAT = gross."""
    for tax_inclusive in (True, False):
        priced = price_agreed(
            unit_price=Money(price, "CNY"),
            quantity=quantity,
            vat_rate=Decimal("0.06"),
            tax_inclusive=tax_inclusive,
            discount=discount,
        )
        assert priced.list_amount.amount == (priced.quantity * priced.unit_price.amount).quantize(
            Decimal("0.01")
        )
        assert priced.list_amount - priced.discount_amount == priced.amount
        assert priced.net + priced.vat == priced.gross
        assert priced.amount == (priced.gross if tax_inclusive else priced.net)


def test_a_discounted_quote_line_bills_its_discounted_amount(customer):
    service = ServiceItem.objects.get(code="health-check")
    quote_line = _accepted_quote_line(customer, service, 1, discount=Decimal("0.1"))
    invoice_line = _invoice_line(ChargeSource.QUOTE_LINE, quote_line.pk)
    assert quote_line.list_amount == invoice_line.list_amount == Money(25000, "CNY")
    assert quote_line.discount_amount == invoice_line.discount_amount == Money(2500, "CNY")
    assert quote_line.gross == invoice_line.gross == Money(22500, "CNY")


def test_a_service_without_a_price_is_refused_by_the_pricing_path(customer):
    service = ServiceItem.objects.get(code="health-check")
    UnitPrice.objects.filter(service=service).delete()
    with pytest.raises(BillingError) as error:
        price_service(service=service, quantity=1, on=DAY)
    assert error.value.code == "no_price"


@SETTINGS
@given(
    tiers=st.lists(st.tuples(st.integers(1, 400), prices, prices), min_size=1, max_size=4),
    model=st.sampled_from([VolumeModel.GRADUATED, VolumeModel.VOLUME, VolumeModel.PACKAGE]),
    quantity=quantities,
)
def test_a_tiered_amount_is_the_sum_of_its_printed_slices(tiers, model, quantity):
    up_to, priced_tiers = 0, []
    for index, (width, unit_price, flat_fee) in enumerate(tiers):
        up_to += width
        priced_tiers.append(Tier(None if index == len(tiers) - 1 else Decimal(up_to), unit_price, flat_fee))
    slices = tier_slices(model=model, tiers=priced_tiers, quantity=quantity, package_size=Decimal(50))
    for part in slices:
        assert part.amount == (part.quantity * part.unit_price).quantize(Decimal("0.01"))
    assert sum(part.amount for part in slices) == tiered_amount(
        model=model, tiers=priced_tiers, quantity=quantity, package_size=Decimal(50)
    )
    if model == VolumeModel.GRADUATED:
        assert sum(part.quantity for part in slices if not part.flat_fee) == quantity


@SETTINGS
@given(
    price=prices,
    discount=st.decimals(min_value=0, max_value=1, places=4),
    pieces=st.lists(
        st.decimals(min_value=Decimal("0.001"), max_value=Decimal(5), places=3), min_size=1, max_size=12
    ),
    tax_inclusive=st.booleans(),
)
def test_an_agreed_line_priced_in_pieces_adds_up_to_the_whole_line(price, discount, pieces, tax_inclusive):
    terms = {"unit_price": Money(price, "CNY"), "vat_rate": Decimal("0.06"), "tax_inclusive": tax_inclusive}
    terms["discount"] = discount
    whole = price_agreed(quantity=sum(pieces), **terms)
    before, parts = Decimal(0), []
    for piece in pieces:
        parts.append(price_agreed(quantity=piece, before=before, **terms))
        before += piece
    for name in ("list_amount", "amount", "net", "vat", "gross"):
        assert sum((getattr(part, name) for part in parts), Money(0, "CNY")) == getattr(whole, name)
    for part in parts:
        assert part.net + part.vat == part.gross
        assert part.list_amount - part.discount_amount == part.amount
