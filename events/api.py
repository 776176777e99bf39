"""The events API: the event list for clients that poll (scope ``events:read``) and the webhook endpoints
with their deliveries (scope ``webhooks:write``).

Views are thin: validate the input, call a selector or a service, serialise the answer. Errors are RFC 9457
problem+json (billing.problems); keys and scopes are checked by billing.apikeys.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.api import problem_responses
from events.selectors import events_after
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
        max_length=32, required=False, allow_blank=True, help_text="Only the events of this customer code."
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
