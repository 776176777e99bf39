"""Quotes and service orders as the outside sees them: the ``object`` of the quote and order events
(events.services.event_record). Money as the API shows it (contracts.serializers.MoneySerializer)."""

from rest_framework import serializers

from contracts.serializers import MoneySerializer
from quotes.models import InvoicingPolicy

# What the outputs read: a quote or an order fetched with these is shown in a fixed number of queries.
QUOTE_RELATED = ("customer",)
QUOTE_PREFETCH = ("lines__service",)
ORDER_RELATED = ("customer", "quote")
ORDER_PREFETCH = ("lines__service",)


class QuoteLineOutput(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.CharField()
    service = serializers.CharField(source="service.code", allow_null=True, default=None)
    description = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    unit = serializers.CharField()
    unit_price = MoneySerializer()
    list_amount = MoneySerializer(help_text="Quantity x unit price before any discount.")
    discount = serializers.DecimalField(
        max_digits=10, decimal_places=8, help_text="The line's own discount (a fraction)."
    )
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    tax_inclusive = serializers.BooleanField()
    net = MoneySerializer()
    vat = MoneySerializer()
    gross = MoneySerializer()


class QuoteOutput(serializers.Serializer):
    """A quote; its ``totals`` (quotes.services.quote_totals) set by the caller."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    revision = serializers.IntegerField()
    reference = serializers.CharField(help_text="The number with its revision, as printed.")
    kind = serializers.CharField()
    customer = serializers.CharField(source="customer.code")
    status = serializers.CharField()
    currency = serializers.CharField()
    quote_date = serializers.DateField()
    valid_until = serializers.DateField()
    discount = serializers.DecimalField(
        max_digits=10, decimal_places=8, help_text="The quote's discount on top of the lines' own."
    )
    net = MoneySerializer(source="totals.net")
    vat = MoneySerializer(source="totals.vat")
    travel = MoneySerializer(source="totals.travel", help_text="Travel at cost, outside our VAT.")
    gross = MoneySerializer(source="totals.gross")
    sent_at = serializers.DateTimeField(allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    lines = QuoteLineOutput(many=True, source="lines.all")


class OrderLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    description = serializers.CharField()
    service = serializers.CharField(source="service.code")
    invoicing_policy = serializers.ChoiceField(choices=InvoicingPolicy.choices)
    unit = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, source="unit_price.amount")
    discount = serializers.DecimalField(max_digits=10, decimal_places=8)
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    tax_inclusive = serializers.BooleanField()
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, help_text="Ordered.")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, source="amount.amount")


class ServiceOrderOutput(serializers.Serializer):
    """The order as the orders API shows it (invoices.api.OrderOutput), its lines as ordered: what was
    delivered and invoiced is the invoices' to tell (GET /api/v1/orders/{id})."""

    id = serializers.IntegerField()
    reference = serializers.CharField(source="quote.reference")
    customer = serializers.CharField(source="customer.code")
    status = serializers.CharField()
    currency = serializers.CharField(source="quote.currency")
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()
    lines = OrderLineOutput(many=True, source="lines.all")
