"""The invoices API: work logs (delivered person-days from ticketing tools, recorded once per
Idempotency-Key), service orders (each line's ordered, delivered, invoiced and remaining quantities;
closing) and credit notes for issued invoices."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api import DecimalInput, FlagInput, TextInput, TicketInput, problem_responses
from billing.idempotency import idempotent
from catalog.models import Role
from contracts.api import CUSTOMER_CODE, IDEMPOTENCY_KEY, ledger_key
from contracts.models import Customer, PersonDayBundle
from invoices import problems  # noqa: F401  (registers the problem types this API answers)
from invoices.models import Invoice, InvoiceKind, InvoiceStatus
from invoices.selectors import (
    AGEING_LABELS,
    StatementKind,
    invoice_totals,
    order_progress,
    statement_of_account,
    statement_period,
)
from invoices.serializers import CreditNoteOutput
from invoices.services import LineCredit, credit_note_issue, order_cancel, work_log_record
from quotes.models import InvoicingPolicy, ServiceOrder
from quotes.selectors import order_line_named
from quotes.services import order_close


class WorkLogInput(serializers.Serializer):
    customer = TextInput(max_length=40)
    engineer = TextInput(max_length=100)
    role = serializers.ChoiceField(choices=Role.choices, required=False, default=Role.ENGINEER)
    date = serializers.DateField()
    days = DecimalInput(max_digits=6, decimal_places=3, required=False, min_value=Decimal("0.001"))
    hours = DecimalInput(max_digits=6, decimal_places=2, required=False, min_value=Decimal("0.01"))
    on_site = FlagInput(required=False, default=False)
    ticket = TicketInput(max_length=100)
    service = TextInput(max_length=60, required=False, default="custom-development")
    description = TextInput(max_length=300, required=False, allow_blank=True, default="")
    order_line = serializers.IntegerField(
        required=False, min_value=1, help_text=_("The order line the work delivers, by its id.")
    )
    order = TextInput(
        max_length=40,
        required=False,
        help_text=_(
            "The order the work delivers, by its quote's reference; its line is the one of the service."
        ),
    )
    bundle = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_("The prepaid person-day bundle the work draws on, by its id."),
    )

    def validate(self, attrs):
        if ("days" in attrs) == ("hours" in attrs):
            raise serializers.ValidationError({"days": [_("Give the work in days or in hours.")]})
        named = [name for name in ("order_line", "order", "bundle") if name in attrs]
        if len(named) > 1:
            raise serializers.ValidationError(
                {named[1]: [_("Name one of order_line, order or bundle, not several.")]}
            )
        return attrs


class WorkLogOutput(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.CharField(source="customer.code")
    engineer = serializers.CharField()
    role = serializers.CharField()
    date = serializers.DateField(source="work_date")
    days = serializers.DecimalField(max_digits=6, decimal_places=3)
    on_site = FlagInput()
    ticket = serializers.CharField(source="ticket_ref")
    service = serializers.CharField(source="service_code")
    order_line = serializers.IntegerField(source="order_line_id", allow_null=True)
    bundle = serializers.IntegerField(source="bundle_id", allow_null=True)


class WorkLogView(APIView):
    required_scopes = ["work:write"]

    @extend_schema(
        request=WorkLogInput,
        responses={201: WorkLogOutput, **problem_responses(400, 401, 403, 409, 422)},
        examples=[
            OpenApiExample(
                "Half a day on site",
                value={
                    "customer": "DEMO-ACTIVE",
                    "engineer": "王工",
                    "date": "2026-03-02",
                    "hours": "4",
                    "on_site": True,
                    "ticket": "T-3",
                },
                request_only=True,
            )
        ],
        parameters=[IDEMPOTENCY_KEY],
        operation_id="work_logs_create",
    )
    def post(self, request):
        return idempotent(request, scope="work-log", run=lambda: self._record(request))

    def _record(self, request):
        serializer = WorkLogInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = Customer.objects.filter(code=data["customer"]).first()
        if customer is None:
            raise serializers.ValidationError(
                {"customer": [_("Unknown customer “%(code)s”.") % {"code": data["customer"]}]}
            )
        bundle = None
        if "bundle" in data:
            bundle = PersonDayBundle.objects.select_related("contract").filter(pk=data["bundle"]).first()
            if bundle is None:
                raise serializers.ValidationError(
                    {"bundle": [_("There is no prepaid bundle %(bundle)s.") % {"bundle": data["bundle"]}]}
                )
        order_line = order_line_named(
            order_line_id=data.get("order_line"),
            quote_reference=data.get("order", ""),
            service_code=data["service"],
        )
        log, _created = work_log_record(
            customer=customer,
            engineer=data["engineer"],
            role=data["role"],
            work_date=data["date"],
            days=data.get("days"),
            hours=data.get("hours"),
            on_site=data["on_site"],
            ticket_ref=data["ticket"],
            service_code=data["service"],
            description=data["description"],
            order_line=order_line,
            bundle=bundle,
            idempotency_key=ledger_key(request),
        )
        return Response(WorkLogOutput(log).data, status=status.HTTP_201_CREATED)


class CreditLineInput(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, help_text="The line's position on the invoice.")
    quantity = DecimalInput(
        max_digits=12, decimal_places=3, required=False, min_value=Decimal(0), help_text="Quantity to credit."
    )
    amount = DecimalInput(
        max_digits=14,
        decimal_places=2,
        required=False,
        min_value=Decimal(0),
        help_text="An agreed amount to credit, VAT included, in the invoice's currency.",
    )

    def validate(self, attrs):
        if ("quantity" in attrs) == ("amount" in attrs):
            raise serializers.ValidationError({"amount": [_("Give a quantity or an amount, not both.")]})
        return attrs


class CreditNoteInput(serializers.Serializer):
    reason = TextInput(max_length=500)
    lines = CreditLineInput(
        many=True,
        required=False,
        allow_empty=False,
        help_text="The lines to credit; without it, what is left of every line.",
    )

    def validate_lines(self, lines):
        positions = [line["position"] for line in lines]
        if len(set(positions)) != len(positions):
            raise serializers.ValidationError(_("Each line is credited once per credit note."))
        return lines


class CreditNoteView(APIView):
    required_scopes = ["credits:write"]

    @extend_schema(
        request=CreditNoteInput,
        responses={201: CreditNoteOutput, **problem_responses(400, 401, 403, 404, 409, 422)},
        examples=[
            OpenApiExample(
                "An agreed amount of line 1",
                value={"reason": "协商退款", "lines": [{"position": 1, "amount": "150.00"}]},
                request_only=True,
            )
        ],
        parameters=[IDEMPOTENCY_KEY],
        operation_id="credit_notes_create",
        description="Issues a credit note (贷项通知单) for an issued invoice: per line a quantity or an "
        "agreed amount, or without lines what is left of the whole invoice. A credit of 0.00 and more than "
        "is left are refused, and nothing is written.",
    )
    def post(self, request, number: str):
        return idempotent(request, scope="credit-note", run=lambda: self._issue(request, number))

    def _issue(self, request, number: str):
        invoice = get_object_or_404(
            Invoice, number=number, kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED
        )
        serializer = CreditNoteInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lines = None
        if "lines" in data:
            by_position = dict(invoice.lines.values_list("position", "pk"))
            unknown = [line["position"] for line in data["lines"] if line["position"] not in by_position]
            if unknown:
                raise serializers.ValidationError(
                    {"lines": [_("No line at position %(position)s.") % {"position": unknown[0]}]}
                )
            lines = {
                by_position[line["position"]]: LineCredit(line.get("quantity"), line.get("amount"))
                for line in data["lines"]
            }
        note = credit_note_issue(invoice=invoice, reason=data["reason"], lines=lines)
        note.totals = invoice_totals(note)
        return Response(CreditNoteOutput(note).data, status=status.HTTP_201_CREATED)


class QuantityOutput(serializers.Serializer):
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, source="amount.amount")


class OrderLineOutput(serializers.Serializer):
    id = serializers.IntegerField(source="line.pk")
    description = serializers.CharField(source="line.description")
    service = serializers.CharField(source="line.service.code")
    invoicing_policy = serializers.ChoiceField(
        source="line.invoicing_policy", choices=InvoicingPolicy.choices
    )
    unit = serializers.CharField(source="line.unit")
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, source="line.unit_price.amount")
    discount = serializers.DecimalField(max_digits=10, decimal_places=8, source="line.discount")
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=4, source="line.vat_rate")
    tax_inclusive = serializers.BooleanField(source="line.tax_inclusive")
    ordered = QuantityOutput()
    delivered = QuantityOutput()
    beyond = QuantityOutput(
        help_text=_("Logged past the ordered quantity (a charge request, not this line).")
    )
    invoiced = QuantityOutput()
    credited = QuantityOutput()
    remaining = QuantityOutput()
    released = QuantityOutput(help_text=_("Left undelivered when the order was closed."))


class OrderOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(source="quote.reference")
    customer = serializers.CharField(source="customer.code")
    # text, not an enum: a second enum of "status" fields would rename the charge requests' one in the schema
    status = serializers.CharField(
        help_text=_(
            "open; closed (nothing more is delivered or billed); or cancelled (what was billed when ordered "
            "is credited)"
        )
    )
    currency = serializers.CharField(source="quote.currency")
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    lines = serializers.SerializerMethodField()

    @extend_schema_field(OrderLineOutput(many=True))
    def get_lines(self, order):
        return OrderLineOutput(order_progress(order), many=True).data


class OrderCloseInput(serializers.Serializer):
    reason = TextInput(max_length=500, required=False, allow_blank=True, default="")


ORDERS = ServiceOrder.objects.select_related("quote", "customer")


class OrderView(APIView):
    required_scopes = ["orders:read"]

    @extend_schema(
        responses={200: OrderOutput, **problem_responses(401, 403, 404)}, operation_id="orders_retrieve"
    )
    def get(self, request, pk: int):
        return Response(OrderOutput(get_object_or_404(ORDERS, pk=pk)).data)


class OrderCloseView(APIView):
    required_scopes = ["orders:write"]

    @extend_schema(
        request=OrderCloseInput,
        responses={200: OrderOutput, **problem_responses(400, 401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        operation_id="orders_close",
    )
    def post(self, request, pk: int):
        return idempotent(request, scope="order-close", run=lambda: self._close(request, pk))

    def _close(self, request, pk: int):
        serializer = OrderCloseInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_close(
            order=get_object_or_404(ORDERS, pk=pk), reason=serializer.validated_data["reason"]
        )
        return Response(OrderOutput(get_object_or_404(ORDERS, pk=order.pk)).data)


class OrderCancelInput(serializers.Serializer):
    reason = TextInput(max_length=500, help_text=_("Why the order is cancelled."))


class OrderCancelView(APIView):
    """Cancels an open order: what its lines billed when ordered is credited (credit notes), what is not
    billed yet is dropped; work delivered stays billed."""

    required_scopes = ["orders:write"]

    @extend_schema(
        request=OrderCancelInput,
        responses={200: OrderOutput, **problem_responses(400, 401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        operation_id="orders_cancel",
    )
    def post(self, request, pk: int):
        return idempotent(request, scope="order-cancel", run=lambda: self._cancel(request, pk))

    def _cancel(self, request, pk: int):
        serializer = OrderCancelInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = get_object_or_404(ORDERS, pk=pk)
        order_cancel(order=order, reason=serializer.validated_data["reason"])
        return Response(OrderOutput(get_object_or_404(ORDERS, pk=order.pk)).data)


class AmountField(serializers.DecimalField):
    """A Money's amount, as a string with two decimals ("6500.10"); its currency is the statement's."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=2, coerce_to_string=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return super().to_representation(value.amount)


class FapiaoOutput(serializers.Serializer):
    number = serializers.CharField(
        help_text="The 20-digit fully digital e-invoice (数电发票) number, as text."
    )
    date = serializers.DateField(source="issued_on")
    # text, not an enum: a second enum of "type" fields would rename another's in the schema
    type = serializers.CharField(source="fapiao_type", help_text="special (专票) or ordinary (普票).")
    red = serializers.BooleanField(help_text="A red-letter fapiao (on a credit note).")


class StatementLineOutput(serializers.Serializer):
    date = serializers.DateField()
    kind = serializers.ChoiceField(choices=StatementKind.choices)
    reference = serializers.CharField(help_text="The document's number, or the payment's bank reference.")
    invoice = serializers.CharField(
        source="invoice.number", help_text="The invoice or credit note itself, or the invoice a payment pays."
    )
    due_date = serializers.DateField(allow_null=True)
    amount = AmountField(help_text="Positive for an invoice, negative for a credit note or a payment.")
    balance = AmountField()
    fapiao = FapiaoOutput(many=True, help_text="The invoice's or credit note's fapiao; none for a payment.")


# what is open at the end by days overdue: current (not yet due), 1-30, 31-60, 61-90, 90+
AgeingOutput = type(
    "AgeingOutput", (serializers.Serializer,), {label: AmountField() for label in AGEING_LABELS}
)


class StatementOutput(serializers.Serializer):
    currency = serializers.CharField()
    opening = AmountField(help_text="The balance brought forward from before “from”.")
    invoiced = AmountField()
    credited = AmountField()
    paid = AmountField()
    closing = AmountField(help_text="opening + invoiced + credited + paid.")
    ageing = AgeingOutput()
    unapplied = AmountField(
        help_text="Invoices paid or credited beyond their amount; closing = sum of ageing + unapplied."
    )
    lines = StatementLineOutput(many=True)


# "from" and "to" are Python keywords, hence the class built by type()
StatementsOutput = type(
    "StatementsOutput",
    (serializers.Serializer,),
    {
        "customer": serializers.CharField(source="customer.code"),
        "legal_name": serializers.CharField(source="customer.legal_name"),
        "from": serializers.DateField(source="start"),
        "to": serializers.DateField(source="end"),
        "statements": StatementOutput(
            many=True, help_text="One per currency; two currencies are never added."
        ),
    },
)


class StatementView(APIView):
    required_scopes = ["invoices:read"]

    @extend_schema(
        operation_id="customers_statement",
        description=(
            "The customer's statement of account between two dates, one per currency: the opening "
            "balance, the invoices, credit notes and payments of the period with a running balance, the "
            "closing balance and what is open at “to” by age."
        ),
        parameters=[
            CUSTOMER_CODE,
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First day, YYYY-MM-DD."),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last day, YYYY-MM-DD."),
        ],
        responses={200: StatementsOutput, **problem_responses(400, 401, 403, 404)},
    )
    def get(self, request, code: str):
        customer = get_object_or_404(Customer, code=code)
        start, end = statement_period(request.query_params.get("from"), request.query_params.get("to"))
        statements = statement_of_account(customer=customer, start=start, end=end)
        body = {"customer": customer, "start": start, "end": end, "statements": statements}
        return Response(StatementsOutput(body).data)
