"""The API ticketing tools call: entitlement checks, quota consumption and its corrections, charge requests,
coverage.

Views are thin: validate the input, call the decision or a service, serialise the answer. Errors are
RFC 9457 problem+json (billing.problems); keys and scopes are checked by billing.apikeys.
"""

import hashlib

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api import problem_responses
from billing.errors import BillingError
from billing.idempotency import MAX_KEY_LENGTH, idempotent
from catalog.models import ServiceItem
from catalog.selectors import service_by_code
from contracts import problems  # noqa: F401  (registers the problem types this API answers)
from contracts import serializers as s
from contracts.entitlements import decide
from contracts.models import ChargeRequest, ConsumptionEntry, Contract, Customer
from contracts.quotas import Quota, person_day_quota, training_quota
from contracts.selectors import consumption_left, customer_coverage
from contracts.services import charge_request_create, consume, consumption_correct

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=True,
    # what billing.idempotency accepts: 1-200 characters, not all blank (the key is stripped)
    type={"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"},
    description=str(
        _("A unique key per operation; a retry with the same key and body returns the first answer.")
    ),
)

# the {code} of the API's /customers/{code}/... paths
CUSTOMER_CODE = OpenApiParameter(
    "code",
    location=OpenApiParameter.PATH,
    description=str(_("Customer code.")),
    examples=[OpenApiExample("A demo customer", value="DEMO-ACTIVE")],
)


# The check's serializers are built once: a serializer deep-copies its fields per instance, which costs
# more than the decision's own queries. run_validation and to_representation keep no state on the
# instance, so one instance serves every request and thread.
CHECK_INPUT = s.CheckInput()
DECISION = s.DecisionSerializer()


def _unknown_customer(code: str) -> str:
    return _("Unknown customer “%(code)s”.") % {"code": code}


def _unknown_service(code: str) -> str:
    return _("Unknown service “%(code)s”.") % {"code": code}


def _customer(code: str) -> Customer:
    try:
        return Customer.objects.get(code=code)
    except Customer.DoesNotExist as error:
        raise serializers.ValidationError({"customer": [_unknown_customer(code)]}) from error


def _service(code: str) -> ServiceItem:
    service = service_by_code(code)
    if service is None:
        raise serializers.ValidationError({"service": [_unknown_service(code)]})
    return service


def _with_unknown_codes(error: serializers.ValidationError, raw) -> serializers.ValidationError:
    """A check refused for one field also names an unknown customer or service, so that a client fixes
    its request in one go (this costs a query only on the way to a refusal)."""
    detail = error.detail
    if not isinstance(detail, dict) or not isinstance(raw, dict):
        return error
    detail = dict(detail)
    customer, service = raw.get("customer"), raw.get("service")
    if (
        "customer" not in detail
        and customer
        and isinstance(customer, str)
        and not Customer.objects.filter(code=customer).exists()
    ):
        detail["customer"] = [_unknown_customer(customer)]
    if "service" not in detail and service and isinstance(service, str) and service_by_code(service) is None:
        detail["service"] = [_unknown_service(service)]
    return serializers.ValidationError(detail)


def _contract(customer: Customer, number: str) -> Contract:
    try:
        return Contract.objects.get(customer=customer, number=number)
    except Contract.DoesNotExist as error:
        raise serializers.ValidationError(
            {"contract": [_("The customer has no contract “%(number)s”.") % {"number": number}]}
        ) from error


# The answer to a level-1 outage reported on the hotline on National Day: the hotline's own hours are closed
# until 8 October, the emergency line answers within the hour.
HOLIDAY_HOTLINE_ANSWER = {
    "outcome": "included",
    "reasons": [
        {
            "code": "standard_service",
            "zh-hans": "属于标准服务，包含在收费服务期内，有效至 2027-12-31。",
            "en": "Standard service, included in the paid period until 2027-12-31.",
        },
        {
            "code": "holiday_emergency",
            "zh-hans": "国家法定节假日：紧急服务电话按 7x24 时钟在 1 小时内响应 1 级问题。",
            "en": "A statutory holiday: the emergency phone line answers level 1 within 1 hours on the 7x24 "
            "clock.",
        },
        {
            "code": "channel_closed",
            "zh-hans": "服务热线在 2026-10-08 09:00 之前不在服务时间；在此期间由紧急服务电话响应。",
            "en": "The hotline is outside its hours until 2026-10-08 09:00; meanwhile the emergency line "
            "answers.",
        },
    ],
    "customer": "DEMO-ACTIVE",
    "service": "fault-diagnosis",
    "at": "2026-10-01T10:00:00+08:00",
    "contract": "HT-2025-001",
    "period": {
        "id": 1,
        "contract": "HT-2025-001",
        "kind": "paid",
        "start": "2025-01-01",
        "end": "2027-12-31",
        "tier": "standard",
        "calendar": "5x8",
    },
    "respond_by": "2026-10-01T11:00:00+08:00",
    "arrive_by": None,
    "provisional": False,
    "quota": None,
    "price": None,
    "upgrade": None,
    "travel_at_cost": False,
    "channel": {"code": "hotline", "open": False, "opens_next": "2026-10-08T09:00:00+08:00"},
    "emergency": True,
}


class EntitlementCheckView(APIView):
    required_scopes = ["entitlements:read"]

    @extend_schema(
        request=s.CheckInput,
        responses={200: s.DecisionSerializer, **problem_responses(400, 401, 403, 422)},
        examples=[
            OpenApiExample(
                "A level-2 fault",
                value={"customer": "DEMO-ACTIVE", "service": "defect-fix", "severity": 2},
                request_only=True,
            ),
            OpenApiExample(
                "Custom development on site",
                value={
                    "customer": "DEMO-ACTIVE",
                    "service": "custom-development",
                    "on_site": True,
                    "location": "elsewhere",
                    "quantity": "3",
                    "role": "engineer",
                },
                request_only=True,
            ),
            OpenApiExample(
                "A level-1 outage opened an hour and a half ago",
                value={
                    "customer": "DEMO-ACTIVE",
                    "service": "fault-diagnosis",
                    "severity": 1,
                    "opened_at": "2026-03-04T09:00:00+08:00",
                    "at": "2026-03-04T10:30:00+08:00",
                },
                request_only=True,
            ),
            OpenApiExample(
                "The escalation of a level-1 outage (strategic tier)",
                value={
                    "escalation": {
                        "level": 2,
                        "name": {"zh-hans": "专职维护团队", "en": "Dedicated maintenance team"},
                        "next_level": 3,
                        "next_name": {"zh-hans": "产品和技术专家", "en": "Product and technical experts"},
                        "escalate_by": "2026-03-04T11:00:00+08:00",
                        "provisional": True,
                    },
                    "tier_benefits": [
                        {
                            "code": "expert-resources",
                            "zh-hans": "专家资源",
                            "en": "Expert resources",
                            "vendor_to_confirm": True,
                        }
                    ],
                },
                response_only=True,
            ),
            OpenApiExample(
                "A level-1 outage by phone on National Day",
                value=HOLIDAY_HOTLINE_ANSWER,
                response_only=True,
            ),
        ],
        operation_id="entitlements_check",
    )
    def post(self, request):
        try:
            data = CHECK_INPUT.run_validation(request.data)
            service = _service(data["service"])
        except serializers.ValidationError as error:
            raise _with_unknown_codes(error, request.data) from None
        try:
            # The customer goes by its code: the decision reads it with its periods in one query.
            decision = decide(
                customer=data["customer"],
                service=service,
                at=data.get("at"),
                severity=data.get("severity"),
                product=data.get("product") or None,
                from_version=data.get("from_version") or None,
                to_version=data.get("to_version") or None,
                on_site=data["on_site"],
                location=data.get("location") or None,
                quantity=data["quantity"],
                role=data.get("role"),
                channel=data.get("channel"),
                opened_at=data.get("opened_at"),
            )
        except BillingError as error:
            if error.code == "unknown_customer":  # the same field error as every endpoint
                raise serializers.ValidationError({"customer": [str(error)]}) from error
            raise
        return Response(DECISION.to_representation(decision))


class ConsumeView(APIView):
    required_scopes = ["consumption:write"]

    @extend_schema(
        request=s.ConsumeInput,
        responses={201: s.ConsumeOutput, **problem_responses(400, 401, 403, 409, 422)},
        examples=[
            OpenApiExample(
                "A training used",
                value={
                    "customer": "DEMO-ACTIVE",
                    "service": "customer-training",
                    "quantity": "1",
                    "ticket": "T-1",
                },
                request_only=True,
            )
        ],
        parameters=[IDEMPOTENCY_KEY],
        operation_id="entitlements_consume",
    )
    def post(self, request):
        return idempotent(request, scope="consume", run=lambda: self._consume(request))

    def _consume(self, request):
        data = _valid(s.ConsumeInput, request.data)
        customer = _customer(data["customer"])
        service = _service(data["service"])
        entries = consume(
            customer=customer,
            service=service,
            quantity=data["quantity"],
            ticket_ref=data["ticket"],
            idempotency_key=ledger_key(request),
            at=data.get("at"),
            recorded_by=request.auth.name,
        )
        body = s.ConsumeOutput({"entries": entries, "quota": _quota_of(entries[0])}).data
        return Response(body, status=status.HTTP_201_CREATED)


def _quota_of(entry: ConsumptionEntry) -> Quota | None:
    """The quota an entry counts against, on the day of its use."""
    if entry.period_id:
        return training_quota(entry.period, entry.used_on)
    return person_day_quota(entry.customer, entry.used_on)


class ConsumptionCorrectionView(APIView):
    required_scopes = ["consumption:write"]

    @extend_schema(
        request=s.CorrectionInput,
        responses={201: s.CorrectionOutput, **problem_responses(400, 401, 403, 404, 409, 422)},
        examples=[
            OpenApiExample(
                "A training recorded by mistake",
                value={"customer": "DEMO-ACTIVE", "quantity": "1", "reason": "Recorded on the wrong ticket"},
                request_only=True,
            )
        ],
        parameters=[
            IDEMPOTENCY_KEY,
            OpenApiParameter(
                "id",
                int,
                location=OpenApiParameter.PATH,
                description=str(_("The use corrected (its entry id).")),
            ),
        ],
        operation_id="consumption_correct",
    )
    def post(self, request, pk: int):
        return idempotent(request, scope="consumption-correction", run=lambda: self._correct(request, pk))

    def _correct(self, request, pk: int):
        data = _valid(s.CorrectionInput, request.data)
        # Another customer's entry is answered as a missing one: a wrong id never corrects someone else.
        entry = get_object_or_404(
            ConsumptionEntry.objects.select_related("customer", "period"),
            pk=pk,
            customer__code=data["customer"],
        )
        correction = consumption_correct(
            entry=entry,
            quantity=data["quantity"],
            reason=data["reason"],
            idempotency_key=f"correction:{ledger_key(request)}",
            by=request.auth,
        )
        body = s.CorrectionOutput(
            {"correction": correction, "left": consumption_left(entry), "quota": _quota_of(entry)}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)


class ChargeRequestPagination(LimitOffsetPagination):
    """DRF's limit and offset, except that a value that is not an integer is refused (422) instead of
    silently read as the default: the schema declares them integers."""

    default_limit = 50
    max_limit = 200

    def get_limit(self, request):
        self._check_integer(request, self.limit_query_param)
        return super().get_limit(request)

    def get_offset(self, request):
        self._check_integer(request, self.offset_query_param)
        return super().get_offset(request)

    @staticmethod
    def _check_integer(request, name: str) -> None:
        for value in request.query_params.getlist(name):
            try:
                int(value)
            except ValueError:
                raise serializers.ValidationError({name: [_("A whole number is required.")]}) from None


class ChargeRequestListCreateView(ListAPIView):
    required_scopes = ["charges:write"]
    serializer_class = s.ChargeRequestSerializer
    pagination_class = ChargeRequestPagination

    def get_queryset(self):
        queryset = ChargeRequest.objects.select_related("customer", "contract").prefetch_related("events")
        params = _valid(s.ChargeRequestFilter, self.request.query_params)
        if params.get("customer"):
            queryset = queryset.filter(customer__code=params["customer"])
        if params.get("status"):
            queryset = queryset.filter(status=params["status"])
        if params.get("ticket"):
            queryset = queryset.filter(ticket_ref=params["ticket"])
        return queryset

    @extend_schema(
        parameters=[s.ChargeRequestFilter],
        responses={200: s.ChargeRequestSerializer(many=True), **problem_responses(401, 403, 422)},
        operation_id="charge_requests_list",
    )
    def get(self, request, *args, **kwargs):
        pagination = ChargeRequestPagination
        known = {*s.ChargeRequestFilter().fields, pagination.limit_query_param, pagination.offset_query_param}
        if unknown := sorted(set(request.query_params) - known):
            raise serializers.ValidationError(
                {
                    name: [_("Unknown query parameter; a misspelt filter would filter nothing.")]
                    for name in unknown
                }
            )
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.ChargeRequestInput,
        responses={201: s.ChargeRequestSerializer, **problem_responses(400, 401, 403, 409, 422)},
        examples=[
            OpenApiExample(
                "A report the customer asked for",
                value={
                    "customer": "DEMO-ACTIVE",
                    "ticket": "T-2",
                    "description": "A new monthly report",
                    "estimated_person_days": "2",
                    "service": "custom-development",
                },
                request_only=True,
            )
        ],
        parameters=[IDEMPOTENCY_KEY],
        operation_id="charge_requests_create",
    )
    def post(self, request):
        return idempotent(request, scope="charge-request", run=lambda: self._create(request))

    def _create(self, request):
        data = _valid(s.ChargeRequestInput, request.data)
        customer = _customer(data["customer"])
        contract = None
        if data.get("contract"):
            contract = _contract(customer, data["contract"])
        if data.get("service"):
            _service(data["service"])
        amount = data.get("estimated_amount")
        created = charge_request_create(
            customer=customer,
            contract=contract,
            ticket_ref=data["ticket"],
            description=data["description"],
            service_code=data.get("service") or "",
            estimated_person_days=data.get("estimated_person_days"),
            estimated_amount=Money(amount, data["currency"]) if amount is not None else None,
            requested_by=f"api:{request.auth.name}",
        )
        created = (
            ChargeRequest.objects.prefetch_related("events")
            .select_related("customer", "contract")
            .get(pk=created.pk)
        )
        return Response(s.ChargeRequestSerializer(created).data, status=status.HTTP_201_CREATED)


class ChargeRequestDetailView(RetrieveAPIView):
    required_scopes = ["charges:write"]
    serializer_class = s.ChargeRequestSerializer
    queryset = ChargeRequest.objects.select_related("customer", "contract").prefetch_related("events")

    @extend_schema(
        responses={200: s.ChargeRequestSerializer, **problem_responses(401, 403, 404)},
        operation_id="charge_requests_retrieve",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CoverageView(APIView):
    required_scopes = ["entitlements:read"]

    @extend_schema(
        responses={200: s.CoverageSerializer, **problem_responses(401, 403, 404)},
        parameters=[CUSTOMER_CODE],
        operation_id="customers_coverage",
    )
    def get(self, request, code: str):
        customer = get_object_or_404(Customer, code=code)
        return Response(
            s.CoverageSerializer(customer_coverage(customer=customer, today=timezone.localdate())).data
        )


def ledger_key(request) -> str:
    """The ledger's key for an API write: the client's key hashed, so any length fits and clients never
    collide."""
    digest = hashlib.sha256(request.headers["Idempotency-Key"].strip().encode()).hexdigest()
    return f"api:{request.auth.pk}:{digest}"


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
