"""The work-log API: delivered person-days from ticketing tools, recorded once per Idempotency-Key."""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api import DecimalInput, FlagInput, TextInput, TicketInput, problem_responses
from billing.idempotency import idempotent
from catalog.models import Role
from contracts.api import CUSTOMER_CODE, IDEMPOTENCY_KEY, ledger_key
from contracts.models import Customer
from invoices import problems  # noqa: F401  (registers the problem types this API answers)
from invoices.selectors import AGEING_LABELS, StatementKind, statement_of_account, statement_period
from invoices.services import work_log_record


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

    def validate(self, attrs):
        if ("days" in attrs) == ("hours" in attrs):
            raise serializers.ValidationError({"days": [_("Give the work in days or in hours.")]})
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
            idempotency_key=ledger_key(request),
        )
        return Response(WorkLogOutput(log).data, status=status.HTTP_201_CREATED)


class AmountField(serializers.DecimalField):
    """A Money's amount, as a string with two decimals ("6500.10"); its currency is the statement's."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=2, coerce_to_string=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return super().to_representation(value.amount)


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
