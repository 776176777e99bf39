"""Invoices, credit notes and payments as the outside sees them: what the credit notes API answers and the
``object`` of the invoice, credit note and payment events (events.services.event_record). Money as the API
shows it (contracts.serializers.MoneySerializer)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.serializers import MoneySerializer
from invoices.models import Invoice, Payment
from invoices.red_letter import current_request, red_letter_status
from invoices.selectors import BALANCE_PREFETCH, invoice_balance, invoice_totals

# What InvoiceOutput reads (invoice_totals and invoice_balance's prefetch): an invoice fetched with these is
# shown in a fixed number of queries.
INVOICE_RELATED = ("customer", "credits")
INVOICE_PREFETCH = BALANCE_PREFETCH


class CreditNoteLineOutput(serializers.Serializer):
    position = serializers.IntegerField()
    credits_position = serializers.IntegerField(source="credits_line.position")
    description = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    unit = serializers.CharField()
    unit_price = MoneySerializer()
    net = MoneySerializer()
    vat = MoneySerializer()
    gross = MoneySerializer()
    credited_quantity = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="How much of the credited line's quantity this takes back; null for an agreed amount.",
    )


class RedLetterOutput(serializers.Serializer):
    status = serializers.SerializerMethodField()
    reason = serializers.CharField()
    form_number = serializers.CharField()
    red_fapiao = serializers.CharField(source="red.number", allow_null=True, default=None)

    def get_status(self, request) -> str:
        return red_letter_status(request)


class CreditNoteOutput(serializers.Serializer):
    number = serializers.CharField()
    credits = serializers.CharField(source="credits.number", help_text="The invoice it corrects.")
    customer = serializers.CharField(source="customer.code")
    issue_date = serializers.DateField()
    currency = serializers.CharField()
    reason = serializers.CharField(source="note")
    net = MoneySerializer(source="totals.net")
    vat = MoneySerializer(source="totals.vat")
    gross = MoneySerializer(source="totals.gross")
    lines = CreditNoteLineOutput(many=True, source="lines.all")
    red_letter = serializers.SerializerMethodField(
        help_text="The red-letter request (红字) when the invoice has a fapiao: its status (draft, waiting, "
        "confirmed, void, issued), reason code, confirmation form number and red fapiao number; else null."
    )

    @extend_schema_field(RedLetterOutput(allow_null=True))
    def get_red_letter(self, note):
        request = current_request(note)
        return None if request is None else RedLetterOutput(request).data


class InvoiceLineOutput(serializers.Serializer):
    position = serializers.IntegerField()
    description = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    unit = serializers.CharField()
    unit_price = MoneySerializer()
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    net = MoneySerializer()
    vat = MoneySerializer()
    gross = MoneySerializer()


class InvoiceOutput(serializers.Serializer):
    """An invoice (or a credit note, ``credits`` naming the invoice it reverses); its ``totals``
    (invoice_totals) and ``balance`` (invoice_balance) set by ``invoice_object``."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    customer = serializers.CharField(source="customer.code")
    issue_date = serializers.DateField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    currency = serializers.CharField()
    net = MoneySerializer(source="totals.net")
    vat = MoneySerializer(source="totals.vat")
    travel = MoneySerializer(source="totals.travel", help_text="Travel at cost, outside our VAT.")
    gross = MoneySerializer(source="totals.gross")
    balance = MoneySerializer(help_text="What is still open: the gross less credit notes and payments.")
    credits = serializers.CharField(
        source="credits.number",
        allow_null=True,
        default=None,
        help_text="The invoice a credit note reverses.",
    )
    lines = InvoiceLineOutput(many=True, source="lines.all")


def invoice_object(invoice: Invoice) -> dict:
    """``invoice`` as the events show it; fetched with INVOICE_RELATED and INVOICE_PREFETCH, no query."""
    invoice.totals, invoice.balance = invoice_totals(invoice), invoice_balance(invoice)
    return InvoiceOutput(invoice).data


class AllocationOutput(serializers.Serializer):
    invoice = serializers.CharField(source="invoice.number")
    amount = MoneySerializer()


class PaymentOutput(serializers.Serializer):
    """A payment received; ``allocations`` says what it pays (one invoice: payments are recorded against
    an invoice)."""

    id = serializers.IntegerField()
    customer = serializers.CharField(source="invoice.customer.code")
    date = serializers.DateField(source="received_on")
    amount = MoneySerializer()
    currency = serializers.CharField(source="amount.currency")
    reference = serializers.CharField(help_text="The bank reference.")
    allocations = serializers.SerializerMethodField()

    @extend_schema_field(AllocationOutput(many=True))
    def get_allocations(self, payment: Payment) -> list:
        return AllocationOutput([payment], many=True).data
