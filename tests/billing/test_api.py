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
