"""Every error under /api/ is an RFC 9457 problem (application/problem+json)."""

import logging

import pytest

from billing.apikeys import create_api_key
from billing.problems import PROBLEM_TYPES, flatten_errors, register_problem

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]


@pytest.fixture
def charges_key(db):
    return create_api_key(name="Ticketing", scopes=["charges:write"])[1]


def bearer(raw_key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {raw_key}"}


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"/api/problems/{slug}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def test_malformed_json_is_a_400_problem(client, charges_key):
    response = client.post(
        "/api/test/charges", data="{not json", content_type="application/json", headers=bearer(charges_key)
    )
    assert_problem(response, 400, "malformed-request")


def test_a_missing_key_is_a_401_problem_that_names_the_scheme(client):
    response = client.get("/api/v1/me")
    assert_problem(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_missing_scope_is_a_403_problem(client):
    _api_key, raw_key = create_api_key(name="Ticketing", scopes=["entitlements:read"])
    response = client.post(
        "/api/test/charges", data={}, content_type="application/json", headers=bearer(raw_key)
    )
    assert_problem(response, 403, "forbidden")


def test_an_unknown_api_url_is_a_404_problem(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")


def test_a_missing_object_in_an_api_view_is_a_404_problem(client):
    assert_problem(client.get("/api/test/fail/missing-object"), 404, "not-found")


def test_an_unknown_url_outside_the_api_is_still_a_page(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_wrong_method_is_a_405_problem_that_lists_the_allowed_ones(client):
    _api_key, raw_key = create_api_key(name="Ticketing", scopes=[])
    response = client.delete("/api/v1/me", headers=bearer(raw_key))
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response["Allow"]


def test_an_unanswerable_accept_header_is_a_406_problem(client):
    _api_key, raw_key = create_api_key(name="Ticketing", scopes=[])
    response = client.get("/api/v1/me", headers={**bearer(raw_key), "accept": "text/csv"})
    assert_problem(response, 406, "not-acceptable")


def test_a_body_that_is_not_json_is_a_415_problem(client, charges_key):
    response = client.post(
        "/api/test/charges", data="reason=x", content_type="text/plain", headers=bearer(charges_key)
    )
    assert_problem(response, 415, "unsupported-media-type")


def test_invalid_fields_are_a_422_problem_with_errors_by_dotted_field_name(client, charges_key):
    response = client.post(
        "/api/test/charges",
        data={"lines": [{"quantity": 2}, {"quantity": 0}, {}]},
        content_type="application/json",
        headers=bearer(charges_key),
    )
    body = assert_problem(response, 422, "validation-error")
    assert set(body["errors"]) == {"reason", "lines.1.quantity", "lines.2.quantity"}
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())


def test_nested_errors_flatten_to_dotted_names_and_non_field_errors():
    assert flatten_errors({"a": {"b": ["x"], "c": [{}, {"d": ["y", "z"]}]}, "non_field_errors": ["w"]}) == {
        "a.b": ["x"],
        "a.c.1.d": ["y", "z"],
        "non_field_errors": ["w"],
    }
    assert flatten_errors(["refused"]) == {"non_field_errors": ["refused"]}


def test_a_refused_business_rule_is_a_422_problem_typed_by_its_code(client):
    body = assert_problem(client.get("/api/test/fail/business-rule"), 422, "test-rule-refused")
    assert body["code"] == "test_rule_refused"
    assert body["detail"] == "Quota of 5 days used up."


def test_a_business_rule_error_may_choose_its_status(client):
    body = assert_problem(client.get("/api/test/fail/conflict"), 409, "already-invoiced")
    assert body["code"] == "already_invoiced"


def test_a_registered_business_rule_has_its_own_title_and_description(client):
    register_problem("test-rule-refused", status=409, title="Quota used up", description="No days are left.")
    try:
        body = assert_problem(client.get("/api/test/fail/business-rule"), 409, "test-rule-refused")
        assert body["title"] == "Quota used up"
        assert client.get("/api/problems/test-rule-refused").json()["description"] == "No days are left."
    finally:
        del PROBLEM_TYPES["test-rule-refused"]


def test_throttling_is_a_429_problem_with_retry_after(client):
    response = client.get("/api/test/fail/throttled")
    assert_problem(response, 429, "too-many-requests")
    assert response["Retry-After"] == "13"


def test_an_unavailable_database_is_a_503_problem_with_retry_after(client, caplog):
    response = client.get("/api/test/fail/database")
    body = assert_problem(response, 503, "service-unavailable")
    assert response["Retry-After"] == "5"
    assert "10.0.0.5" not in body["detail"]


def test_an_unexpected_error_is_a_logged_500_problem_without_internals(client, caplog):
    with caplog.at_level(logging.ERROR, logger="billing.problems"):
        response = client.get("/api/test/fail/bug")
    body = assert_problem(response, 500, "internal-error")
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert set(body) == {"type", "title", "status", "detail"}
    assert "secret internals" in caplog.text


def test_an_error_in_a_plain_django_view_under_the_api_is_a_500_problem(client):
    client.raise_request_exception = False
    response = client.get("/api/test/plain")
    assert_problem(response, 500, "internal-error")
    assert "secret internals" not in response.content.decode()


def test_an_error_outside_the_api_is_still_a_page(client):
    client.raise_request_exception = False
    response = client.get("/test/plain")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("slug", sorted(PROBLEM_TYPES))
def test_each_problem_type_is_described_at_its_type_uri_without_a_key(client, slug):
    response = client.get(f"/api/problems/{slug}")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == f"/api/problems/{slug}"
    assert body["status"] == PROBLEM_TYPES[slug].status
    assert body["title"]
    assert body["description"]


def test_an_unknown_problem_type_is_a_404_problem(client):
    body = assert_problem(client.get("/api/problems/no-such-problem"), 404, "not-found")
    assert "no-such-problem" in body["detail"]
