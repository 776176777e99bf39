"""A contact sees its own customer's documents only: for every portal view and every object kind, another
customer's object answers 404, the same page as an object that does not exist (no enumeration)."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from contracts.models import ChargeRequest, ChargeStatus
from contracts.services import charge_request_create
from invoices.models import Invoice
from tests.invoices.conftest import issued_invoices
from tests.portal.conftest import link_in, sign_in_with
from tests.test_signed_links import sent_quote

pytestmark = pytest.mark.django_db


def waiting_charge(customer, ticket: str) -> ChargeRequest:
    charge = charge_request_create(
        customer=customer,
        ticket_ref=ticket,
        description="报表定制",
        requested_by="api:zendesk",
        estimated_amount=Money(3000, "CNY"),
    )
    ChargeRequest.objects.filter(pk=charge.pk).update(status=ChargeStatus.AWAITING_CUSTOMER)
    return charge


@pytest.fixture
def objects(two_customers):
    """Each customer's quote, charge request and invoice."""
    today = datetime.date.today()
    made = {}
    for name in ("acme", "beta"):
        customer = two_customers[name]
        invoices = issued_invoices(customer, up_to=today, issue_date=today)
        made[name] = {
            "quote": sent_quote(customer),
            "charge": waiting_charge(customer, f"TK-{name}"),
            "invoice": next(iter(invoices.values())),
        }
    return made


def admin_of_acme(two_customers):
    """An ACME contact holding every role, signed in."""
    from contracts.models import Contact, PortalRole
    from contracts.portal_access import portal_invite

    contact = Contact.objects.create(
        customer=two_customers["acme"], name="Admin", email="admin@acme.example.com"
    )
    access = portal_invite(
        contact=contact, roles=[PortalRole.ADMIN], by=two_customers["acme"].account_manager
    )
    client = Client()
    from contracts.portal_access import portal_sign_in_url

    url = portal_sign_in_url(access)
    sign_in_with(client, url[url.index("/portal/") :])
    return client


def urls_of(objects: dict) -> list[str]:
    return [
        f"/portal/quotes/{objects['quote'].pk}",
        f"/portal/charge-requests/{objects['charge'].pk}",
        f"/portal/invoices/{objects['invoice'].number}.pdf",
    ]


def test_every_view_answers_404_for_another_customers_object(two_customers, objects):
    client = admin_of_acme(two_customers)
    for url in urls_of(objects["acme"]):
        assert client.get(url).status_code == 200, url
    missing = ["/portal/quotes/999999", "/portal/charge-requests/999999", "/portal/invoices/NOPE-1.pdf"]
    for theirs, none in zip(urls_of(objects["beta"]), missing, strict=True):
        foreign, absent = client.get(theirs), client.get(none)
        assert foreign.status_code == absent.status_code == 404, theirs
        assert foreign.content == absent.content
        assert client.post(theirs, {"answer": "accept", "name": "X"}).status_code in (404, 405)
    # nothing of BETA's on ACME's lists
    pages = (
        "/portal/",
        "/portal/quotes/",
        "/portal/charge-requests/",
        "/portal/invoices/",
        "/portal/statement",
    )
    for page in (*pages, "/portal/coverage", "/portal/quotas", "/portal/contacts", "/portal/billing-details"):
        text = client.get(page).text
        assert objects["beta"]["quote"].reference not in text
        assert "TK-beta" not in text
        assert objects["beta"]["invoice"].number not in text
        assert "BETA-2026" not in text


def test_a_foreign_object_costs_what_a_missing_one_costs(two_customers, objects):
    """No enumeration by timing: a foreign object and a missing one are looked up by the same single query
    (the customer is part of it), so their 404s do the same work: the same queries, the same page. (Speed
    is never asserted in tests; this is the cause a timing difference would need.)"""
    client = admin_of_acme(two_customers)
    missing = ["/portal/quotes/999999", "/portal/charge-requests/999999", "/portal/invoices/NOPE-1.pdf"]
    for theirs, none in zip(urls_of(objects["beta"]), missing, strict=True):
        with CaptureQueriesContext(connection) as foreign:
            client.get(theirs)
        with CaptureQueriesContext(connection) as absent:
            client.get(none)
        assert len(foreign) == len(absent), theirs


def test_roles_limit_the_pages(client, two_customers, objects):
    sign_in_with(client, link_in(_link(client, "wang@acme.example.com")))  # billing
    assert client.get("/portal/invoices/").status_code == 200
    assert client.get("/portal/charge-requests/").status_code == 403
    technical = Client()
    sign_in_with(technical, link_in(_link(technical, "li@acme.example.com")))
    assert technical.get("/portal/charge-requests/").status_code == 200
    assert technical.get("/portal/invoices/").status_code == 403
    assert technical.get(f"/portal/invoices/{objects['acme']['invoice'].number}.pdf").status_code == 403


def test_a_contact_accepts_a_quote_and_confirms_a_charge_in_the_portal(two_customers, objects):
    client = admin_of_acme(two_customers)
    quote = objects["acme"]["quote"]
    page = client.post(f"/portal/quotes/{quote.pk}", {"answer": "accept", "name": "王芳"})
    assert page.status_code == 200
    quote.refresh_from_db()
    assert (quote.status, quote.answer_name) == ("accepted", "王芳")
    assert "Customer portal" in page.text or "客户门户" in page.text  # the portal's page, not the signed one
    charge = objects["acme"]["charge"]
    client.post(f"/portal/charge-requests/{charge.pk}", {"answer": "decline", "name": "王芳"})
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.DECLINED


def test_the_invoice_list_shows_the_open_amount(two_customers, objects):
    client = admin_of_acme(two_customers)
    invoice: Invoice = objects["acme"]["invoice"]
    text = client.get("/portal/invoices/").text
    assert invoice.number in text
    from invoices.selectors import invoice_balance

    assert f"{invoice_balance(invoice).amount:.2f}" in text


def _link(client, email):
    from django.core import mail

    client.post("/portal/sign-in", {"email": email})
    return mail.outbox[-1]


def test_the_statement_shows_the_customers_own_invoices_and_downloads(two_customers, objects):
    client = admin_of_acme(two_customers)
    page = client.get("/portal/statement")
    assert page.status_code == 200
    assert objects["acme"]["invoice"].number in page.text
    pdf = client.get("/portal/statement.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert client.get("/portal/statement?from=2026-13-01&to=x").status_code == 400


def test_a_technical_contact_reads_a_quote_but_a_billing_contact_answers_it(client, two_customers, objects):
    from django.core import mail

    quote = objects["acme"]["quote"]
    client.post("/portal/sign-in", {"email": "li@acme.example.com"})
    sign_in_with(client, link_in(mail.outbox[-1]))
    page = client.get(f"/portal/quotes/{quote.pk}")
    assert page.status_code == 200
    assert 'value="accept"' not in page.text
    client.post(f"/portal/quotes/{quote.pk}", {"answer": "accept", "name": "Li Lei"})
    quote.refresh_from_db()
    assert quote.status == "sent"
    pdf = client.get(f"/portal/quotes/{quote.pk}.pdf")
    assert pdf.status_code == 200
    assert client.get(f"/portal/quotes/{objects['beta']['quote'].pk}.pdf").status_code == 404
