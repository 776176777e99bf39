"""The OpenAPI schema and its Swagger UI: public, valid, and served without any CDN."""

import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_openapi_3_and_needs_no_key(client):
    response = client.get("/api/schema/", {"format": "json"}, headers={"authorization": "Bearer stale"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)
    assert {"/api/v1/me", "/api/problems/{slug}"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["apiKey"]["description"],
    }


def test_the_schema_describes_error_answers_as_problem_json(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    unauthenticated = schema["paths"]["/api/v1/me"]["get"]["responses"]["401"]
    assert unauthenticated["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    assert {"type", "title", "status", "detail"} <= set(
        schema["components"]["schemas"]["Problem"]["required"]
    )


def test_the_docs_page_loads_only_local_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "swagger-ui" in html
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references
    for reference in references:
        assert not urlsplit(reference).netloc, reference
        assert reference.startswith(settings.STATIC_URL), reference
        assert finders.find(reference.removeprefix(settings.STATIC_URL)), reference
    assert not re.search(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", html), "the page names another host"


def test_the_schema_documents_the_event_list_and_the_webhook_endpoints_api(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    operations = {
        "/api/v1/events": {"get"},
        "/api/v1/webhook-endpoints": {"get", "post"},
        "/api/v1/webhook-endpoints/{id}": {"get", "patch", "delete"},
        "/api/v1/webhook-endpoints/{id}/rotate-secret": {"post"},
        "/api/v1/webhook-endpoints/{id}/deliveries": {"get"},
        "/api/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/resend": {"post"},
        "/api/v1/webhook-endpoints/{id}/replay": {"post"},
    }
    for path, methods in operations.items():
        assert methods <= set(paths[path]), path
        for method in methods:
            operation = paths[path][method]
            assert operation["security"] == [{"apiKey": []}], (path, method)
            assert {"401", "403"} <= set(operation["responses"]), (path, method)
    events = paths["/api/v1/events"]["get"]
    assert {p["name"] for p in events["parameters"]} == {"after", "type", "customer", "limit"}
    assert "422" in events["responses"]
    page = schema["components"]["schemas"][
        events["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    ]
    assert set(page["properties"]) == {"events", "next", "has_more"}
    created = paths["/api/v1/webhook-endpoints"]["post"]["responses"]["201"]["content"]["application/json"]
    listed = paths["/api/v1/webhook-endpoints"]["get"]["responses"]["200"]["content"]["application/json"]
    components = schema["components"]["schemas"]
    assert "secret" in components[created["schema"]["$ref"].split("/")[-1]]["properties"]
    assert "secret" not in components[listed["schema"]["items"]["$ref"].split("/")[-1]]["properties"]
