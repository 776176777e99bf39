"""The API ticketing tools call: check, consume, charge requests, coverage."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from catalog.services import load_catalog
from contracts.models import ChargeRequest, ConsumptionEntry
from tests.factories import (
    CustomerFactory,
    PersonDayBundleFactory,
    ServicePeriodFactory,
)

# Uses dated in 2026 must fall in an open contract year, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]
ALL_SCOPES = ["entitlements:read", "consumption:write", "charges:write"]


def api(*scopes: str) -> APIClient:
    _key, raw = create_api_key(name="Zendesk", scopes=scopes or ALL_SCOPES)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


CHECK = "/api/v1/entitlements/check"
CONSUME = "/api/v1/entitlements/consume"
CHARGES = "/api/v1/charge-requests"


def test_check_answers_the_decision_with_everything_an_agent_needs(customer):
    response = api("entitlements:read").post(
        CHECK,
        {"customer": "ACME", "service": "fault-diagnosis", "at": "2026-02-13T17:00:00+08:00", "severity": 1},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "included"
    assert body["respond_by"] == "2026-02-14T09:00:00+08:00"
    assert body["provisional"] is False
    assert body["period"]["end"] == "2027-12-31"
    assert body["period"]["kind"] == "paid"
    assert body["reasons"][0]["code"] == "standard_service"
    assert set(body["reasons"][0]) == {"code", "zh-hans", "en"}
    assert body["arrive_by"] is None
    assert body["quota"] is None
    assert body["price"] is None


def test_a_check_by_a_known_client_costs_two_queries(customer, django_assert_num_queries):
    """The key is kept by the process, the catalogue comes from the snapshot, the customer comes with its
    periods (one query); the period is paid, so a second asks whether the fee's invoice is overdue
    (contracts.fees). Its periods come from one contract: no read of each product's cover. Whatever the data
    size (the decision's own test pins that)."""
    client = api("entitlements:read")
    body = {"customer": "ACME", "service": "fault-diagnosis", "severity": 1, "on_site": True}
    assert client.post(CHECK, body, format="json").status_code == 200
    with django_assert_num_queries(2):
        response = client.post(CHECK, body, format="json")
    assert response.json()["arrive_by"]
    assert response.json()["products"] == []


def test_an_unknown_customer_is_a_field_error_of_the_check(customer):
    response = api("entitlements:read").post(
        CHECK, {"customer": "NOPE", "service": "fault-diagnosis"}, format="json"
    )
    assert response.status_code == 422
    assert "NOPE" in response.json()["errors"]["customer"][0]


def test_check_prices_billable_work(customer):
    body = (
        api()
        .post(
            CHECK,
            {
                "customer": "ACME",
                "service": "custom-development",
                "quantity": "2.5",
                "at": "2026-03-04T10:00:00+08:00",
            },
            format="json",
        )
        .json()
    )
    assert body["outcome"] == "billable"
    assert body["price"]["rate_card"] == "list:1"
    assert body["price"]["unit_price"] == {"amount": "1800.00", "currency": "CNY"}
    assert body["price"]["estimate"] == {"amount": "4500.00", "currency": "CNY"}
    assert body["price"]["travel_at_cost"] is False


def test_check_shows_the_training_quota(customer):
    body = (
        api()
        .post(
            CHECK,
            {"customer": "ACME", "service": "customer-training", "at": "2026-03-04T10:00:00+08:00"},
            format="json",
        )
        .json()
    )
    assert body["quota"]["kind"] == "training"
    assert (body["quota"]["used"], body["quota"]["left"]) == ("0.00", "2.00")


def test_check_defaults_to_now(customer):
    response = api().post(CHECK, {"customer": "ACME", "service": "hotline"}, format="json")
    assert response.status_code == 200
    assert response.json()["outcome"] in ("included", "not_covered")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer": "NOPE", "service": "hotline"}, "customer"),
        ({"customer": "ACME", "service": "nope"}, "service"),
        ({"customer": "ACME", "service": "hotline", "severity": "7"}, "severity"),
        ({"customer": "ACME", "service": "hotline", "at": "yesterday"}, "at"),
        ({"customer": "ACME", "service": "hotline", "quantity": -1}, "quantity"),
        ({"service": "hotline"}, "customer"),
    ],
)
def test_bad_check_input_is_a_problem_with_field_errors(customer, body, field):
    response = api().post(CHECK, body, format="json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]


def test_a_check_refused_for_one_field_also_names_an_unknown_customer_and_service(customer):
    body = {"customer": "NOPE", "service": "nope", "severity": "7", "quantity": -1}
    response = api().post(CHECK, body, format="json")
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"customer", "service", "severity", "quantity"}
    known = {"customer": "ACME", "service": "hotline", "severity": "7"}
    assert set(api().post(CHECK, known, format="json").json()["errors"]) == {"severity"}
    unknown_service = {"customer": "NOPE", "service": "nope"}
    assert set(api().post(CHECK, unknown_service, format="json").json()["errors"]) == {"customer", "service"}


def test_a_bad_version_is_a_business_rule_problem(customer):
    response = api().post(
        CHECK,
        {"customer": "ACME", "service": "upgrade", "product": "KMS", "to_version": "nine"},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_version"


def test_the_api_needs_a_key_and_the_right_scope(customer):
    assert (
        APIClient().post(CHECK, {"customer": "ACME", "service": "hotline"}, format="json").status_code == 401
    )
    wrong_scope = api("charges:write").post(CHECK, {"customer": "ACME", "service": "hotline"}, format="json")
    assert wrong_scope.status_code == 403
    assert api("entitlements:read").post(CONSUME, {}, format="json").status_code == 403


def test_malformed_json_is_a_400_problem(customer):
    response = api().post(CHECK, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


# --- consume -------------------------------------------------------------------------------------------

TRAINING = {
    "customer": "ACME",
    "service": "customer-training",
    "quantity": 1,
    "ticket": "TK-7",
    "at": "2026-03-04T10:00:00+08:00",
}


def test_consume_records_a_use_once_per_idempotency_key(customer):
    client = api("consumption:write")
    first = client.post(CONSUME, TRAINING, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == 201
    assert first.json()["quota"]["left"] == "1.00"
    again = client.post(CONSUME, TRAINING, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ConsumptionEntry.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(customer):
    client = api("consumption:write")
    client.post(CONSUME, TRAINING, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    response = client.post(CONSUME, {**TRAINING, "ticket": "TK-8"}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert ConsumptionEntry.objects.count() == 1


def test_consume_needs_an_idempotency_key(customer):
    response = api("consumption:write").post(CONSUME, TRAINING, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"


def test_consuming_past_the_quota_is_a_conflict_and_a_retry_may_succeed_later(customer):
    client = api("consumption:write")
    assert (
        client.post(CONSUME, {**TRAINING, "quantity": 2}, format="json", HTTP_IDEMPOTENCY_KEY="a").status_code
        == 201
    )
    refused = client.post(CONSUME, TRAINING, format="json", HTTP_IDEMPOTENCY_KEY="b")
    assert refused.status_code == 409
    assert refused.json()["code"] == "quota_exhausted"
    assert ConsumptionEntry.objects.count() == 1


def test_keys_of_different_clients_do_not_collide(customer):
    api("consumption:write").post(CONSUME, TRAINING, format="json", HTTP_IDEMPOTENCY_KEY="same")
    other = api("consumption:write").post(CONSUME, TRAINING, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert other.status_code == 201
    assert ConsumptionEntry.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_record_one_use():
    load_catalog()
    customer = CustomerFactory(code="ACME")
    PersonDayBundleFactory(contract=ServicePeriodFactory(contract__customer=customer).contract, days=10)
    _key, raw = create_api_key(name="Zendesk", scopes=["consumption:write"])
    body = {
        "customer": "ACME",
        "service": "custom-development",
        "quantity": 1,
        "ticket": "TK",
        "at": "2026-03-04T10:00:00+08:00",
    }
    statuses = []

    def retry():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        statuses.append(client.post(CONSUME, body, format="json", HTTP_IDEMPOTENCY_KEY="one").status_code)
        connection.close()

    threads = [threading.Thread(target=retry) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 5
    assert ConsumptionEntry.objects.count() == 1


# --- charge requests -----------------------------------------------------------------------------------

CHARGE = {
    "customer": "ACME",
    "ticket": "TK-42",
    "description": "导出报表定制",
    "estimated_person_days": "1.5",
}


def test_a_charge_request_from_a_ticket_is_recorded_and_listed_with_its_history(customer):
    client = api("charges:write")
    created = client.post(CHARGES, CHARGE, format="json", HTTP_IDEMPOTENCY_KEY="cr-1")
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "pending_approval"
    assert body["requested_by"] == "api:Zendesk"
    assert body["events"][0]["status"] == "pending_approval"
    assert client.post(CHARGES, CHARGE, format="json", HTTP_IDEMPOTENCY_KEY="cr-1").json()["id"] == body["id"]
    assert ChargeRequest.objects.count() == 1
    listed = client.get(CHARGES, {"customer": "ACME"}).json()
    assert listed["count"] == 1
    assert client.get(f"{CHARGES}/{body['id']}").json()["ticket"] == "TK-42"
    assert client.get(f"{CHARGES}/999999").status_code == 404


def test_a_charge_request_needs_an_estimate(customer):
    response = api("charges:write").post(
        CHARGES, {**CHARGE, "estimated_person_days": None}, format="json", HTTP_IDEMPOTENCY_KEY="x"
    )
    assert response.status_code == 422
    assert "estimated_person_days" in response.json()["errors"]


def test_a_charge_request_for_another_customers_contract_is_refused(customer):
    other = ServicePeriodFactory().contract
    response = api("charges:write").post(
        CHARGES, {**CHARGE, "contract": other.number}, format="json", HTTP_IDEMPOTENCY_KEY="x"
    )
    assert response.status_code == 422
    assert "contract" in response.json()["errors"]


# --- coverage -------------------------------------------------------------------------------------------


def test_coverage_lists_periods_products_and_quotas(customer):
    body = api("entitlements:read").get("/api/v1/customers/ACME/coverage").json()
    assert body["customer"] == "ACME"
    assert body["periods"][0]["end"] == "2027-12-31"
    assert body["products"] == [
        {"product": "KMS", "version": "8.5.2", "contract": customer.contracts.first().number}
    ]
    assert {q["kind"] for q in body["quotas"]} == {"training"}


def test_coverage_of_an_unknown_customer_is_404(customer):
    response = api("entitlements:read").get("/api/v1/customers/NOPE/coverage")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_the_schema_documents_every_endpoint(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/entitlements/check", "/api/v1/entitlements/consume", "/api/v1/charge-requests",
                 "/api/v1/charge-requests/{id}", "/api/v1/customers/{code}/coverage"):  # fmt: skip
        assert path in schema["paths"]


def test_the_check_answers_an_upgrade_to_an_unreleased_version_not_covered_naming_the_version(customer):
    client = api("entitlements:read")
    question = {"customer": "ACME", "service": "upgrade", "product": "KMS", "at": "2026-03-04T10:00:00+08:00"}
    unreleased = client.post(CHECK, {**question, "to_version": "8.99.0"}, format="json").json()
    assert unreleased["outcome"] == "not_covered"
    assert unreleased["reasons"][0]["code"] == "unreleased_version"
    assert "8.99.0" in unreleased["reasons"][0]["en"]
    assert "8.99.0" in unreleased["reasons"][0]["zh-hans"]
    released = client.post(CHECK, {**question, "to_version": "8.6.0"}, format="json").json()
    assert (released["outcome"], released["reasons"][0]["code"]) == ("included", "medium_upgrade")
