"""The work-log API: delivered person-days from ticketing tools, recorded once per Idempotency-Key."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api import DecimalInput, FlagInput, TextInput, TicketInput, problem_responses
from billing.idempotency import idempotent
from catalog.models import Role
from contracts.api import IDEMPOTENCY_KEY, ledger_key
from contracts.models import Customer
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
