"""The events API: the event list for clients that poll (scope ``events:read``) and the webhook endpoints
with their deliveries (scope ``webhooks:write``).

Views are thin: validate the input, call a selector or a service, serialise the answer. Errors are RFC 9457
problem+json (billing.problems); keys and scopes are checked by billing.apikeys.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api import FlagInput, TextInput, problem_responses
from events.delivery import delivery_resend, events_replay, webhook_secret_rotate
from events.endpoints import webhook_endpoint_create, webhook_endpoint_delete, webhook_endpoint_update
from events.models import Delivery, DeliveryStatus, WebhookEndpoint
from events.selectors import endpoint_deliveries, events_after
from events.types import EVENT_TYPES

EVENTS_PAGE_DEFAULT = 100
EVENTS_PAGE_MAX = 1000
# The largest id the database keeps (a signed 64-bit integer): a larger cursor is refused, not overflowed.
CURSOR_MAX = 2**63 - 1


def refuse_unknown_parameters(request, known) -> None:
    """A misspelt filter (``?typ=``) would filter nothing and look like an answer: it is refused (422),
    as in every list of the API."""
    if unknown := sorted(set(request.query_params) - set(known)):
        raise serializers.ValidationError(
            {
                name: [_("Unknown query parameter; a misspelt filter would filter nothing.")]
                for name in unknown
            }
        )


def _read_body(request) -> None:
    """An operation that takes no body still parses it, so that one too large or nested too deeply is
    refused (413, 400) as by every other operation."""
    request.data  # noqa: B018  (parsing is what refuses it)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class EventFilter(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0,
        max_value=CURSOR_MAX,
        required=False,
        default=0,
        help_text="The cursor: events with a greater id are listed. Start at 0, then pass the previous "
        "page's `next`. An event `evt_123` has the cursor 123.",
    )
    type = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)),
        required=False,
        help_text="Only events of these types; repeat the parameter for several (`?type=a&type=b`).",
    )
    customer = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Only the events of this customer code."
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=EVENTS_PAGE_MAX,
        required=False,
        default=EVENTS_PAGE_DEFAULT,
        help_text=f"Events per page, {EVENTS_PAGE_DEFAULT} unless given, at most {EVENTS_PAGE_MAX}.",
    )


class EventEnvelope(serializers.Serializer):
    """An event as a webhook delivers it (the Standard Webhooks payload) and the list shows it."""

    id = serializers.CharField(help_text="`evt_<cursor>`: the same as the deliveries' `webhook-id` header.")
    type = serializers.ChoiceField(choices=list(EVENT_TYPES))
    version = serializers.IntegerField(help_text="The payload's version for this type.")
    timestamp = serializers.DateTimeField(help_text="When it happened.")
    customer = serializers.CharField(allow_null=True, help_text="The customer code, if the event has one.")
    data = serializers.DictField(
        help_text="`object`: the object as the API shows it; beside it, the event's own facts."
    )


class EventPageOutput(serializers.Serializer):
    events = EventEnvelope(many=True)
    next = serializers.IntegerField(
        help_text="The cursor for the next request (`after`): the last event's, or the same `after` when "
        "the page is empty."
    )
    has_more = serializers.BooleanField(help_text="Whether more events follow at once.")


EVENT_EXAMPLE = {
    "id": "evt_42",
    "type": "invoice.issued",
    "version": 1,
    "timestamp": "2026-11-30T10:00:00+08:00",
    "customer": "DEMO-ACTIVE",
    "data": {"object": {"id": 7, "number": "INV2026-00007", "customer": "DEMO-ACTIVE"}},
}


class EventListView(APIView):
    required_scopes = ["events:read"]

    @extend_schema(
        operation_id="events_list",
        description=(
            "The events in the order they were recorded, after the cursor `after`, for clients that poll "
            "instead of receiving webhooks. Poll with the `next` of the previous answer; `has_more` says "
            "whether to ask again at once. Events are kept for the configured days "
            "(EVENTS_RETENTION_DAYS, 90 unless set), then deleted."
        ),
        parameters=[EventFilter],
        responses={200: EventPageOutput, **problem_responses(401, 403, 422)},
        examples=[
            OpenApiExample(
                "A page",
                value={"events": [EVENT_EXAMPLE], "next": 42, "has_more": False},
                response_only=True,
            )
        ],
        tags=["events"],
    )
    def get(self, request):
        refuse_unknown_parameters(request, EventFilter().fields)
        params = _valid(EventFilter, request.query_params)
        page = events_after(
            after=params["after"],
            types=params.get("type"),
            customer_code=params.get("customer") or None,
            limit=params["limit"],
        )
        return Response(
            {
                "events": [event.envelope() for event in page.events],
                "next": page.next,
                "has_more": page.has_more,
            }
        )


# -- Webhook endpoints ---------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "description": "An event type, as the `type` of an event."},
        "description": "The event types it receives; an empty list means every type, those added later "
        "included.",
    }
)
class EventTypeList(serializers.ListField):
    """Event type names, each one of events.types.EVENT_TYPES. The schema gives its items as text: the types
    are enumerated once, as the `type` of an event (a second name for the same enumeration would make two
    enumerations of it in generated clients)."""

    child = serializers.ChoiceField(choices=list(EVENT_TYPES))


class EndpointInput(serializers.Serializer):
    url = TextInput(
        max_length=500,
        help_text="Where deliveries are POSTed: https, on a public address (http and private addresses only "
        "for the hosts the administrator allows in WEBHOOK_ALLOWED_HOSTS).",
    )
    event_types = EventTypeList(required=False)
    description = TextInput(max_length=200, required=False, allow_blank=True)
    enabled = FlagInput(required=False, help_text="Disabled endpoints receive nothing until enabled again.")


class EndpointOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    event_types = EventTypeList()
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    disabled_reason = serializers.CharField(
        help_text="Why it was disabled (for instance, a delivery that failed every retry); empty when "
        "enabled."
    )
    created_at = serializers.DateTimeField()
    previous_secret_until = serializers.DateTimeField(
        allow_null=True,
        help_text="After a rotation, the previous secret also signs deliveries until then.",
    )


class EndpointCreatedOutput(EndpointOutput):
    secret = serializers.CharField(
        help_text="The signing secret (Standard Webhooks, `whsec_...`). Shown in this answer only: keep it."
    )


class SecretOutput(serializers.Serializer):
    secret = serializers.CharField(help_text="The new signing secret. Shown in this answer only: keep it.")
    previous_secret_until = serializers.DateTimeField(
        help_text="The previous secret also signs deliveries until then, so receivers can switch over."
    )


ENDPOINT_ID = OpenApiParameter("id", int, location=OpenApiParameter.PATH, description="The endpoint's id.")
ENDPOINT_EXAMPLE = {
    "url": "https://tickets.example.com/hooks/billing",
    "event_types": ["service_period.started", "service_period.lapsed", "service_period.renewed"],
    "description": "Ticketing: cover changes",
}


def _endpoint(pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=pk)


class WebhookEndpointListView(APIView):
    required_scopes = ["webhooks:write"]

    @extend_schema(
        operation_id="webhook_endpoints_list",
        description="Every webhook endpoint, without its secret.",
        responses={200: EndpointOutput(many=True), **problem_responses(401, 403)},
        tags=["webhooks"],
    )
    def get(self, request):
        return Response(EndpointOutput(WebhookEndpoint.objects.order_by("id"), many=True).data)

    @extend_schema(
        operation_id="webhook_endpoints_create",
        description=(
            "Adds an endpoint. The answer carries its signing `secret`, the only time it is shown. "
            "Deliveries follow the Standard Webhooks specification: verify each with the secret (README: "
            "Events and webhooks)."
        ),
        request=EndpointInput,
        responses={201: EndpointCreatedOutput, **problem_responses(401, 403, 422)},
        examples=[
            OpenApiExample("Cover changes for a ticketing tool", value=ENDPOINT_EXAMPLE, request_only=True)
        ],
        tags=["webhooks"],
    )
    def post(self, request):
        data = _valid(EndpointInput, request.data)
        endpoint = webhook_endpoint_create(**data)
        return Response(EndpointCreatedOutput(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailView(APIView):
    required_scopes = ["webhooks:write"]

    @extend_schema(
        operation_id="webhook_endpoints_retrieve",
        description="One endpoint, without its secret.",
        parameters=[ENDPOINT_ID],
        responses={200: EndpointOutput, **problem_responses(401, 403, 404)},
        tags=["webhooks"],
    )
    def get(self, request, pk: int):
        return Response(EndpointOutput(_endpoint(pk)).data)

    @extend_schema(
        operation_id="webhook_endpoints_update",
        description=(
            "Changes the fields given. Enabling an endpoint clears `disabled_reason`; its pending deliveries "
            "go out again, and those given up stay so (resend them, or replay their events)."
        ),
        parameters=[ENDPOINT_ID],
        request=EndpointInput(partial=True),
        responses={200: EndpointOutput, **problem_responses(401, 403, 404, 422)},
        examples=[OpenApiExample("Enable it again", value={"enabled": True}, request_only=True)],
        tags=["webhooks"],
    )
    def patch(self, request, pk: int):
        serializer = EndpointInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        endpoint = webhook_endpoint_update(endpoint=_endpoint(pk), **serializer.validated_data)
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(
        operation_id="webhook_endpoints_delete",
        description="Deletes the endpoint with its deliveries; nothing more is sent to it.",
        parameters=[ENDPOINT_ID],
        responses={204: None, **problem_responses(401, 403, 404)},
        tags=["webhooks"],
    )
    def delete(self, request, pk: int):
        webhook_endpoint_delete(endpoint=_endpoint(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretRotateView(APIView):
    required_scopes = ["webhooks:write"]

    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        description=(
            "Gives the endpoint a new signing secret, shown in this answer only. Until "
            "`previous_secret_until` (WEBHOOK_SECRET_OVERLAP_HOURS) deliveries carry a signature by each "
            "secret, so the receiver can switch to the new one without losing any."
        ),
        parameters=[ENDPOINT_ID],
        request=None,
        responses={200: SecretOutput, **problem_responses(401, 403, 404)},
        tags=["webhooks"],
    )
    def post(self, request, pk: int):
        _read_body(request)
        endpoint = _endpoint(pk)
        secret = webhook_secret_rotate(endpoint)
        return Response(
            SecretOutput({"secret": secret, "previous_secret_until": endpoint.previous_secret_until}).data
        )


# -- Deliveries ----------------------------------------------------------------------------------------------


class DeliveryFilter(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False, allow_blank=True)
    limit = serializers.IntegerField(min_value=1, max_value=200, required=False, default=50)
    offset = serializers.IntegerField(min_value=0, max_value=CURSOR_MAX, required=False, default=0)


class AttemptOutput(serializers.Serializer):
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True, help_text="The receiver's HTTP status, if any.")
    succeeded = serializers.BooleanField()
    response_excerpt = serializers.CharField(help_text="The start of the receiver's answer.")
    error = serializers.CharField(help_text="Why no answer came (a timeout, a refused connection), if so.")


class DeliveryEventOutput(serializers.Serializer):
    id = serializers.CharField(source="webhook_id", help_text="The `webhook-id` of every attempt.")
    type = serializers.ChoiceField(choices=list(EVENT_TYPES))
    customer = serializers.CharField(source="customer_code")
    timestamp = serializers.DateTimeField(source="occurred_at")


class DeliveryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    event = DeliveryEventOutput()
    # Text in the schema, not an enumeration: a second enumeration named "status" would rename the
    # existing one in generated clients (drf-spectacular names enumerations by field name).
    status = serializers.CharField(help_text="`pending`, `delivered`, or `failed` (retries exhausted).")
    attempts = serializers.IntegerField(help_text="Attempts since it was last (re)queued.")
    next_attempt_at = serializers.SerializerMethodField(help_text="When it is tried next, while pending.")
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    last_attempt = serializers.SerializerMethodField(help_text="The latest attempt's log, if any.")

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_attempt_at(self, delivery: Delivery):
        if delivery.status != DeliveryStatus.PENDING:
            return None
        return serializers.DateTimeField().to_representation(delivery.next_attempt_at)

    @extend_schema_field(AttemptOutput(allow_null=True))
    def get_last_attempt(self, delivery: Delivery):
        attempts = list(delivery.attempt_log.all())  # prefetched (events.selectors.endpoint_deliveries)
        return AttemptOutput(attempts[-1]).data if attempts else None


class DeliveryPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    deliveries = DeliveryOutput(many=True)


class DeliveryListView(APIView):
    required_scopes = ["webhooks:write"]

    @extend_schema(
        operation_id="webhook_deliveries_list",
        description="The endpoint's deliveries, the latest event first, each with its latest attempt.",
        parameters=[ENDPOINT_ID, DeliveryFilter],
        responses={200: DeliveryPageOutput, **problem_responses(401, 403, 404, 422)},
        tags=["webhooks"],
    )
    def get(self, request, pk: int):
        endpoint = _endpoint(pk)
        refuse_unknown_parameters(request, DeliveryFilter().fields)
        params = _valid(DeliveryFilter, request.query_params)
        deliveries = endpoint_deliveries(endpoint=endpoint, status=params.get("status") or None)
        start = params["offset"]
        page = deliveries[start : start + params["limit"]]
        return Response(
            {"count": deliveries.count(), "deliveries": DeliveryOutput(page, many=True).data},
        )


class DeliveryResendView(APIView):
    required_scopes = ["webhooks:write"]

    @extend_schema(
        operation_id="webhook_deliveries_resend",
        description=(
            "Sends the delivery again, delivered or given up alike, with the same `webhook-id` (a receiver "
            "that already handled it can drop it). It goes out before the later pending deliveries of its "
            "customer, and once the endpoint is enabled if it is not."
        ),
        parameters=[
            ENDPOINT_ID,
            OpenApiParameter(
                "delivery_id", int, location=OpenApiParameter.PATH, description="The delivery's id."
            ),
        ],
        request=None,
        responses={202: DeliveryOutput, **problem_responses(401, 403, 404)},
        tags=["webhooks"],
    )
    def post(self, request, pk: int, delivery_id: int):
        _read_body(request)
        # the endpoint by its own key first: an id past the database's integers is then simply not found
        delivery = get_object_or_404(Delivery, pk=delivery_id, endpoint=_endpoint(pk))
        delivery_resend(delivery)
        delivery = endpoint_deliveries(endpoint=delivery.endpoint).get(pk=delivery.pk)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class ReplayInput(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0, max_value=CURSOR_MAX, help_text="Replay the events after this cursor (`evt_<cursor>`)."
    )
    until = serializers.IntegerField(
        min_value=0,
        max_value=CURSOR_MAX,
        required=False,
        allow_null=True,
        help_text="Up to this cursor, included; to the latest event when not given.",
    )

    def validate(self, attrs):
        if attrs.get("until") is not None and attrs["until"] <= attrs["after"]:
            raise serializers.ValidationError({"until": [_("“until” must be after “after”.")]})
        return attrs


class ReplayOutput(serializers.Serializer):
    events = serializers.IntegerField(help_text="How many events will be sent again.")


class ReplayView(APIView):
    required_scopes = ["webhooks:write"]

    @extend_schema(
        operation_id="webhook_endpoints_replay",
        description=(
            "Sends the endpoint again every event in the range of the types it listens to, each with its own "
            "`webhook-id`, in order: those it received, those given up, and those recorded before it "
            "existed (while they are kept, EVENTS_RETENTION_DAYS)."
        ),
        parameters=[ENDPOINT_ID],
        request=ReplayInput,
        responses={202: ReplayOutput, **problem_responses(401, 403, 404, 422)},
        examples=[OpenApiExample("Since event evt_1200", value={"after": 1200}, request_only=True)],
        tags=["webhooks"],
    )
    def post(self, request, pk: int):
        data = _valid(ReplayInput, request.data)
        count = events_replay(_endpoint(pk), after_id=data["after"], until_id=data.get("until"))
        return Response(ReplayOutput({"events": count}).data, status=status.HTTP_202_ACCEPTED)
