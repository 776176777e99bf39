"""PostgreSQL unreachable: a live gunicorn (production settings, persistent connections) answers 503 without
a traceback, then serves again by itself once the database is back."""

import pytest
from django.contrib.auth import get_user_model

from billing.apikeys import create_api_key
from catalog.services import load_catalog
from tests.factories import CustomerFactory, ServicePeriodFactory, user_with
from tests.faults.conftest import database_url
from tests.faults.live import StaffBrowser, api_post

pytestmark = [pytest.mark.postgresql]

CHECK = "/api/v1/entitlements/check"
RUNS_PAGE = "/staff/invoice-runs/"
QUESTION = {
    "customer": "ACME",
    "service": "fault-diagnosis",
    "at": "2026-02-13T17:00:00+08:00",
    "severity": 1,
}
LEAKS = ("Traceback", "psycopg", "OperationalError", "connection refused", "127.0.0.1")


def assert_no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak.lower() not in text.lower()


def test_api_and_staff_pages_answer_503_while_postgresql_is_unreachable_and_recover_by_themselves(
    pg_proxy, start_server
):
    load_catalog()
    ServicePeriodFactory(contract__customer=CustomerFactory(code="ACME"))
    _key, raw = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    finance = user_with(get_user_model(), "finance", "view_invoicerun")
    server = start_server(DATABASE_URL=database_url(pg_proxy.host, pg_proxy.port), CONN_MAX_AGE="600")
    staff = StaffBrowser(server, finance)

    # Several requests, so each server thread holds a persistent connection through the proxy.
    for _ in range(6):
        assert api_post(server, CHECK, QUESTION, key=raw).json()["outcome"] == "included"
        assert staff.get(RUNS_PAGE).status == 200

    pg_proxy.cut()
    for _ in range(6):
        answer = api_post(server, CHECK, QUESTION, key=raw)
        assert answer.status == 503
        assert answer.content_type == "application/problem+json"
        assert answer.headers["Retry-After"] == "5"
        problem = answer.json()
        assert (problem["type"], problem["status"]) == ("/api/problems/service-unavailable", 503)
        assert_no_leak(answer.text)
        page = staff.get(RUNS_PAGE)
        assert page.status == 503
        assert page.content_type.startswith("text/html")
        assert page.headers["Retry-After"] == "5"
        assert "Service unavailable" in page.text
        assert_no_leak(page.text)

    pg_proxy.restore()
    for _ in range(6):  # every thread replaces its dead connection on its own: no retry needed
        answer = api_post(server, CHECK, QUESTION, key=raw)
        assert answer.status == 200, answer.text
        assert answer.json()["outcome"] == "included"
        assert staff.get(RUNS_PAGE).status == 200
