"""API input read as strictly as the schema describes it (what Schemathesis found): JSON types, filters
and pagination parameters, and the schema's own description of the answers."""

import pytest
from rest_framework.test import APIClient

from billing.apikeys import SCOPES, create_api_key

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/entitlements/check"
CHARGES = "/api/v1/charge-requests"


@pytest.fixture
def api(customer) -> APIClient:
    _key, raw = create_api_key(name="Zendesk", scopes=SCOPES)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def check(api, **fields):
    return api.post(CHECK, {"customer": "ACME", "service": "defect-fix", **fields}, format="json")


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        ({"on_site": 1}, "on_site"),
        ({"on_site": "yes"}, "on_site"),
        ({"location": 0}, "location"),
        ({"customer": 12}, "customer"),
    ],
)
def test_values_of_another_json_type_than_the_schema_says_are_refused(api, fields, refused):
    response = check(api, **fields)
    assert response.status_code == 422
    assert refused in response.json()["errors"]


def test_decimals_may_be_numbers_or_strings_and_tickets_whole_numbers(api):
    assert check(api, quantity=2, on_site=False).status_code == 200
    assert check(api, quantity="2.5").status_code == 200
    created = api.post(
        CHARGES,
        {"customer": "ACME", "ticket": 4711, "description": "报表", "estimated_person_days": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="c1",
    )
    assert created.status_code == 201
    assert created.json()["ticket"] == "4711"
    fractional = api.post(
        CHARGES,
        {"customer": "ACME", "ticket": 4711.5, "description": "报表", "estimated_person_days": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="c2",
    )
    assert fractional.status_code == 422


def test_a_blank_idempotency_key_is_refused_and_the_schema_says_so(api, client):
    response = api.post(
        CHARGES,
        {"customer": "ACME", "ticket": "T", "description": "报表", "estimated_person_days": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="   ",
    )
    assert response.status_code == 400
    schema = client.get("/api/schema/?format=json").json()
    header = next(p for p in schema["paths"][CHARGES]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"}


@pytest.mark.parametrize("query", ["offset=abc", "limit=1.5", "custmer=ACME", "limit=10&page=2"])
def test_charge_request_lists_refuse_unknown_or_malformed_parameters(api, query):
    response = api.get(f"{CHARGES}?{query}")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"


def test_an_empty_filter_filters_nothing(api):
    api.post(
        CHARGES,
        {"customer": "ACME", "ticket": "T", "description": "报表", "estimated_person_days": 1},
        format="json",
        HTTP_IDEMPOTENCY_KEY="c1",
    )
    assert api.get(f"{CHARGES}?ticket=&customer=&status=").json()["count"] == 1
    assert api.get(f"{CHARGES}?limit=1&offset=0").json()["count"] == 1


def test_the_schema_names_the_reasons_chinese_text_as_the_answer_does(api, client):
    reason = check(api).json()["reasons"][0]
    schema = client.get("/api/schema/?format=json").json()["components"]["schemas"]["Reason"]
    assert set(schema["properties"]) == set(reason) == {"code", "zh-hans", "en"}
