"""Bodies sent to hurt the server: too large (413) or nested too deeply (400), answered as problems by
every operation that reads a body, and logged; never a 500."""

import logging
import re

import pytest
from django.test import Client
from django.urls import reverse

from billing.apikeys import SCOPES, create_api_key
from billing.parsers import json_depth

pytestmark = pytest.mark.django_db

TWENTY_MB_BODY = b'{"customer": "' + b"x" * (20 * 1024 * 1024) + b'"}'
NESTED_4_KB_BODY = b"[" * 2048 + b"]" * 2048


def write_operations(client) -> list[tuple[str, str]]:
    """(method, url) of every operation of the published schema that reads a body, ids filled with 1."""
    schema = client.get("/api/schema/?format=json").json()
    return [
        (method, re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("post", "put", "patch")
    ]


@pytest.fixture
def send(client, catalogue):
    _key, raw = create_api_key(name="Attacker", scopes=SCOPES)

    def send(method: str, url: str, body: bytes):
        return getattr(client, method)(
            url,
            data=body,
            content_type="application/json",
            headers={"authorization": f"Bearer {raw}", "idempotency-key": f"{method}-{url}-{len(body)}"},
        )

    return send


def assert_problem(response, status: int, slug: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["type"], body["status"]) == (f"/api/problems/{slug}", status)
    assert body["title"]
    assert body["detail"]


def test_there_are_write_operations_to_attack(client):
    assert len(write_operations(client)) >= 8


def test_a_20_mb_body_answers_413_problem_json(client, send, caplog):
    for method, url in write_operations(client):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="billing.problems"):
            assert_problem(send(method, url, TWENTY_MB_BODY), 413, "request-too-large")
        [logged] = [r for r in caplog.records if r.name == "billing.problems"]
        assert (logged.levelname, url in logged.getMessage()) == ("WARNING", True)
        assert str(len(TWENTY_MB_BODY)) in logged.getMessage()


def test_deeply_nested_json_answers_400(client, send, caplog):
    for method, url in write_operations(client):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="billing.problems"):
            assert_problem(send(method, url, NESTED_4_KB_BODY), 400, "nested-too-deep")
        [logged] = [r for r in caplog.records if r.name == "billing.problems"]
        assert (logged.levelname, url in logged.getMessage()) == ("WARNING", True)


def test_json_nested_within_the_recursion_limit_but_past_the_depth_limit_answers_400(client, send, settings):
    settings.API_JSON_MAX_DEPTH = 5
    body = b'{"customer": [[[[[["DEMO-ACTIVE"]]]]]]}'
    assert_problem(send("post", reverse("contracts-api:entitlements-check"), body), 400, "nested-too-deep")


def test_a_body_at_the_configured_size_is_read(send, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = b'{"customer": "' + b"x" * 80 + b'"}'
    response = send("post", reverse("contracts-api:entitlements-check"), body)
    assert response.status_code not in (400, 413, 500)
    assert_problem(
        send("post", reverse("contracts-api:entitlements-check"), body + b" " * 20), 413, "request-too-large"
    )


def test_the_new_problem_types_are_described(client):
    for slug, status in (("request-too-large", 413), ("nested-too-deep", 400)):
        response = client.get(f"/api/problems/{slug}")
        assert response.status_code == 200
        assert response.json()["status"] == status


def test_the_schema_documents_413_for_every_operation_that_reads_a_body(client):
    schema = client.get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert {"400", "413"} <= set(operation["responses"]), (method, path)


@pytest.mark.parametrize("enforce_csrf_checks", [True, False])
def test_a_huge_form_post_to_a_page_answers_413(enforce_csrf_checks, caplog):
    """With CSRF checks Django reads the form in the CSRF middleware, before the view; else in the view."""
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.get(reverse("admin:login"))  # the CSRF cookie
    with caplog.at_level(logging.WARNING, logger="billing.problems"):
        response = client.post(reverse("admin:login"), {"username": "finance", "password": "x" * 3_000_000})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert any("/admin/login/" in r.getMessage() for r in caplog.records if r.name == "billing.problems")


def test_json_depth_counts_arrays_and_objects():
    assert [json_depth(v) for v in (1, "x", [], {"a": [1, {"b": []}]}, [[[[]]]])] == [0, 0, 1, 4, 4]


def test_a_query_string_of_too_many_fields_answers_400_problem_json(client, catalogue, caplog):
    _key, raw = create_api_key(name="Attacker", scopes=SCOPES)
    query = "&".join(f"status={n}" for n in range(1500))
    with caplog.at_level(logging.WARNING, logger="billing.problems"):
        response = client.get(
            f"{reverse('contracts-api:charge-requests')}?{query}", headers={"authorization": f"Bearer {raw}"}
        )
    assert_problem(response, 400, "malformed-request")
    assert any(r.name == "billing.problems" for r in caplog.records)
