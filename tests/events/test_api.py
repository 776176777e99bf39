"""The events API: the event list clients poll, and the webhook endpoints with their deliveries."""

import pytest
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from events.services import event_record

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events"
PROBLEM = "application/problem+json"


def api(*scopes: str) -> APIClient:
    _key, raw = create_api_key(name="Community", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def record(count: int, event_type: str = "quote.sent", customer_code: str = "ACME") -> list:
    return [
        event_record(event_type, customer_code=customer_code, data={"object": {"number": f"Q-{n}"}})
        for n in range(count)
    ]


def test_a_key_without_events_read_is_refused_with_a_problem():
    response = api("webhooks:write").get(EVENTS)
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "/api/problems/forbidden"
    assert "events:read" in response.json()["detail"]


def test_without_a_key_the_list_answers_401():
    response = APIClient().get(EVENTS)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_events_are_listed_as_their_envelope_in_order():
    first, second = record(2)
    body = api("events:read").get(EVENTS).json()
    assert body["events"] == [first.envelope(), second.envelope()]
    assert body["events"][0]["id"] == f"evt_{first.id}"
    assert body["next"] == second.id
    assert body["has_more"] is False


def test_the_cursor_pages_through_250_events_each_once_in_order():
    recorded = [event.webhook_id for event in record(250)]
    client = api("events:read")
    seen, after, pages = [], 0, 0
    while True:
        body = client.get(EVENTS, {"after": after, "limit": 100}).json()
        pages += 1
        seen += [event["id"] for event in body["events"]]
        after = body["next"]
        if not body["has_more"]:
            break
    assert seen == recorded
    assert pages == 3
    # polled again from the last cursor: nothing new, and the cursor stays
    again = client.get(EVENTS, {"after": after}).json()
    assert again == {"events": [], "next": after, "has_more": False}
    # what is recorded later comes on the next poll
    later = record(1)[0]
    assert [e["id"] for e in client.get(EVENTS, {"after": after}).json()["events"]] == [later.webhook_id]


def test_the_page_is_100_events_unless_a_limit_up_to_1000_is_given():
    record(101)
    client = api("events:read")
    default = client.get(EVENTS).json()
    assert len(default["events"]) == 100
    assert default["has_more"] is True
    assert len(client.get(EVENTS, {"limit": 1000}).json()["events"]) == 101


def test_events_filter_by_types_and_customer():
    quote = record(1, "quote.sent")[0]
    invoice = record(1, "invoice.issued")[0]
    record(1, "payment.recorded")
    other = record(1, "invoice.issued", customer_code="OTHER")[0]
    client = api("events:read")

    def ids(params) -> list[str]:
        return [event["id"] for event in client.get(EVENTS, params).json()["events"]]

    assert ids({"type": "invoice.issued"}) == [invoice.webhook_id, other.webhook_id]
    assert ids({"type": ["quote.sent", "invoice.issued"]}) == [
        quote.webhook_id,
        invoice.webhook_id,
        other.webhook_id,
    ]
    assert ids({"type": "invoice.issued", "customer": "OTHER"}) == [other.webhook_id]
    assert ids({"customer": "NOBODY"}) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "evt_x"}, "after"),
        ({"after": "-1"}, "after"),
        ({"after": str(2**64)}, "after"),
        ({"type": "invoice.issuedd"}, "type"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"typ": "invoice.issued"}, "typ"),
    ],
)
def test_bad_parameters_are_refused_with_a_problem_naming_them(params, field):
    response = api("events:read").get(EVENTS, params)
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == "/api/problems/validation-error"
    assert [name.split(".")[0] for name in body["errors"]] == [field]


def test_listing_costs_the_same_queries_for_a_page_of_1000(django_assert_max_num_queries):
    client = api("events:read")
    client.get(EVENTS)  # the key is kept by the process from now on
    record(300)
    with django_assert_max_num_queries(2):
        body = client.get(EVENTS, {"limit": 1000}).json()
    assert len(body["events"]) == 300
