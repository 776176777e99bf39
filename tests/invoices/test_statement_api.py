"""GET /api/v1/customers/{code}/statement: both currencies, the fen exact; problem+json for bad dates, an
unknown customer and a key without the scope."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from billing.apikeys import create_api_key

pytestmark = pytest.mark.django_db
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}


def api(*scopes: str) -> APIClient:
    _key, raw = create_api_key(name="ERP", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def url(code: str) -> str:
    return reverse("invoices-api:customer-statement", args=[code])


def test_the_statement_api_answers_one_statement_per_currency(two_currencies):
    customer, _cny_invoice, usd_invoice, march, note = two_currencies
    response = api("invoices:read").get(url(customer.code), {"from": "2026-02-01", "to": "2026-04-20"})
    assert response.status_code == 200
    body = response.json()
    assert (body["customer"], body["from"], body["to"]) == ("TWO", "2026-02-01", "2026-04-20")
    cny, usd = body["statements"]
    assert (cny["currency"], cny["opening"], cny["closing"]) == ("CNY", "7000.00", "6500.10")
    assert (cny["invoiced"], cny["credited"], cny["paid"]) == ("2000.10", "-2500.00", "0.00")
    assert [(line["kind"], line["reference"], line["amount"], line["balance"]) for line in cny["lines"]] == [
        ("credit_note", note.number, "-2500.00", "4500.00"),
        ("invoice", march.number, "2000.10", "6500.10"),
    ]
    assert cny["ageing"] == {
        "current": "0.00",
        "1-30": "2000.10",
        "31-60": "0.00",
        "61-90": "4500.00",
        "90+": "0.00",
    }
    assert (usd["currency"], usd["opening"], usd["paid"], usd["closing"]) == (
        "USD",
        "1234.56",
        "-234.56",
        "1000.00",
    )
    assert usd["lines"] == [
        {
            "date": "2026-02-20",
            "kind": "payment",
            "reference": "U1",
            "invoice": usd_invoice.number,
            "due_date": None,
            "amount": "-234.56",
            "balance": "1000.00",
            "fapiao": [],
        }
    ]
    assert usd["ageing"]["61-90"] == "1000.00"


def test_the_statement_api_answers_404_for_an_unknown_customer(two_currencies):
    response = api("invoices:read").get(url("NOPE"), YEAR)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-12-31", "to": "2026-01-01"},
        {"from": "2026-02-30", "to": "2026-12-31"},
        {"from": "yesterday", "to": "2026-12-31"},
        {"to": "2026-12-31"},
        {},
    ],
)
def test_the_statement_api_answers_400_problem_for_bad_dates(two_currencies, query):
    customer, *_rest = two_currencies
    response = api("invoices:read").get(url(customer.code), query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "/api/problems/invalid-statement-period"
    assert problem["code"] == "invalid_statement_period"


def test_the_statement_api_needs_a_key_with_the_invoices_read_scope(two_currencies):
    customer, *_rest = two_currencies
    assert APIClient().get(url(customer.code), YEAR).status_code == 401
    refused = api("entitlements:read").get(url(customer.code), YEAR)
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert "invoices:read" in refused.json()["detail"]
