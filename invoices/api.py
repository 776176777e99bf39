"""The work-log API (delivered person-days from ticketing tools, recorded once per Idempotency-Key) and
service orders (each line's ordered, delivered, invoiced and remaining quantities; closing)."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api import DecimalInput, FlagInput, TextInput, TicketInput, problem_responses
from billing.idempotency import idempotent
from catalog.models import Role
from contracts.api import IDEMPOTENCY_KEY, ledger_key
from contracts.models import Customer, PersonDayBundle
from invoices import problems  # noqa: F401  (registers the problem types this API answers)
from invoices.selectors import order_progress
from invoices.services import work_log_record
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
    status = serializers.CharField(help_text=_("open, or closed (nothing more is delivered or billed)"))
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
