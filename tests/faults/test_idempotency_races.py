"""Concurrent retries with one Idempotency-Key on PostgreSQL: one effect, the same answer for every retry,
409 for the same key with another body."""

import datetime
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from catalog.services import load_catalog
from contracts.models import ChargeRequest, ConsumptionEntry
from invoices.models import WorkLog
from tests.factories import CustomerFactory, PersonDayBundleFactory, ServicePeriodFactory

pytestmark = [pytest.mark.postgresql]
THREADS = 8

CONSUME = (
    "/api/v1/entitlements/consume",
    {
        "customer": "ACME",
        "service": "custom-development",
        "quantity": 1,
        "ticket": "TK",
        "at": "2026-03-04T10:00",
    },
    ConsumptionEntry,
)
WORK_LOG = (
    "/api/v1/work-logs",
    {"customer": "ACME", "engineer": "张伟", "date": "2026-03-04", "days": "1.5", "ticket": "TK-7"},
    WorkLog,
)
CHARGE_REQUEST = (
    "/api/v1/charge-requests",
    {"customer": "ACME", "ticket": "TK-42", "description": "导出报表定制", "estimated_person_days": "1.5"},
    ChargeRequest,
)


def race(path: str, bodies: list[dict], raw_key: str) -> list[tuple[int, dict]]:
    """Posts every body at once (one thread and connection each) with the same Idempotency-Key."""
    barrier = threading.Barrier(len(bodies), timeout=30)
    answers: list[tuple[int, dict]] = []

    def post(body):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        try:
            barrier.wait()
            response = client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return answers


@pytest.fixture
def raw_key(pg_db):
    load_catalog()
    customer = CustomerFactory(code="ACME")
    period = ServicePeriodFactory(contract__customer=customer, start=datetime.date(2026, 1, 1))
    PersonDayBundleFactory(contract=period.contract, days=10)
    _key, raw = create_api_key(
        name="Zendesk", scopes=["consumption:write", "work:write", "charges:write", "entitlements:read"]
    )
    return raw


@pytest.mark.parametrize(("path", "body", "model"), [CONSUME, WORK_LOG, CHARGE_REQUEST])
def test_concurrent_retries_with_one_key_have_one_effect_and_one_answer(raw_key, path, body, model):
    answers = race(path, [body] * THREADS, raw_key)
    assert [status for status, _body in answers] == [201] * THREADS
    assert all(answer == answers[0][1] for _status, answer in answers)
    assert model.objects.count() == 1


@pytest.mark.parametrize(("path", "body", "model"), [CONSUME, WORK_LOG, CHARGE_REQUEST])
def test_concurrent_requests_with_one_key_and_other_bodies_have_one_effect_and_409_for_the_others(
    raw_key, path, body, model
):
    bodies = [{**body, "ticket": f"TK-{n}"} for n in range(THREADS)]
    answers = race(path, bodies, raw_key)
    statuses = sorted(status for status, _body in answers)
    assert statuses == [201] + [409] * (THREADS - 1)
    assert {answer["code"] for status, answer in answers if status == 409} == {"idempotency_key_reused"}
    assert model.objects.count() == 1
