"""The renewal walked from the portal, every portal form refused without its CSRF token, the charge
requests' closing-rule dates, and the payments beside the invoices."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from contracts.models import ChargeRequest, ChargeStatus, ServicePeriod
from quotes.services import quote_draft_renewal, quote_send
from tests.invoices.conftest import issued_invoices
from tests.portal.conftest import link_in, sign_in_with
from tests.portal.test_isolation import waiting_charge

pytestmark = pytest.mark.django_db


def signed_in(email: str) -> Client:
    client = Client()
    client.post("/portal/sign-in", {"email": email})
    sign_in_with(client, link_in(mail.outbox[-1]))
    return client


def test_a_billing_contact_renews_from_the_portal(two_customers):
    period = ServicePeriod.objects.get(contract__customer=two_customers["acme"])
    quote = quote_send(quote=quote_draft_renewal(period=period))
    client = signed_in("wang@acme.example.com")
    home = client.get("/portal/")
    assert f"/portal/quotes/{quote.pk}" in home.text
    answer = client.post(f"/portal/quotes/{quote.pk}", {"answer": "accept", "name": "王芳"})
    assert answer.status_code == 200
    renewed = ServicePeriod.objects.filter(contract__customer=two_customers["acme"]).order_by("start")
    assert renewed.count() == 2
    assert renewed.last().start == period.end + datetime.timedelta(days=1)
    assert f"/portal/quotes/{quote.pk}" not in client.get("/portal/").text  # the offer is answered


def test_every_portal_form_is_refused_without_its_csrf_token(two_customers, manager):
    from contracts.models import Contact, PortalRole
    from contracts.portal_access import portal_invite

    admin = Contact.objects.create(
        customer=two_customers["acme"], name="Admin", email="admin@acme.example.com"
    )
    portal_invite(contact=admin, roles=[PortalRole.ADMIN], by=manager, notify=False)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = signed_in("admin@acme.example.com").cookies  # may do all of it, but no CSRF token
    assert strict.get("/portal/").status_code == 200
    charge = waiting_charge(two_customers["acme"], "TK-CSRF")
    forms = [
        ("/portal/billing-details", {"title": "x"}),
        ("/portal/quotes/request", {"quantity": "1"}),
        ("/portal/contacts", {"action": "invite"}),
        (f"/portal/charge-requests/{charge.pk}", {"answer": "accept", "name": "x"}),
        ("/portal/language", {"language": "en"}),
        ("/portal/sign-out", {}),
        ("/portal/sign-in", {"email": "wang@acme.example.com"}),
        ("/portal/enter", {"sesame": "x"}),
    ]
    for url, data in forms:
        assert strict.post(url, data).status_code == 403, url
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.AWAITING_CUSTOMER


def test_charge_requests_show_the_closing_rules_dates(two_customers):
    charge = waiting_charge(two_customers["acme"], "TK-DATES")
    sent = timezone.now() - datetime.timedelta(days=3)
    ChargeRequest.objects.filter(pk=charge.pk).update(sent_to_customer_at=sent)
    client = signed_in("li@acme.example.com")
    closes = (timezone.localtime(sent) + datetime.timedelta(days=31)).date()
    page = client.get("/portal/charge-requests/").text
    assert "TK-DATES" in page
    assert any(
        (closes - datetime.timedelta(days=days)).isoformat() in page for days in range(4)
    )  # a month after it was sent


def test_the_invoices_page_lists_the_payments_and_the_overdue_total(two_customers):
    from djmoney.money import Money

    from invoices.services import payment_record

    today = datetime.date.today()
    invoice = next(
        iter(
            issued_invoices(
                two_customers["acme"], up_to=today, issue_date=today - datetime.timedelta(days=60)
            ).values()
        )
    )
    payment_record(
        invoice=invoice, amount=Money(100, invoice.currency), received_on=today, reference="B-PORTAL-1"
    )
    page = signed_in("wang@acme.example.com").get("/portal/invoices/").text
    assert "B-PORTAL-1" in page
    assert "overdue-total" in page


def test_a_signed_link_leads_into_the_portal_at_its_document(two_customers):
    from catalog.models import ServiceItem
    from quotes.services import customer_link_token as quote_link_token
    from quotes.services import quote_add_line, quote_create

    quote = quote_create(customer=two_customers["acme"])
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=1)
    quote = quote_send(quote=quote)
    client = Client()
    signed_page = client.get(f"/q/{quote_link_token(quote)}/").text
    target = f"/portal/quotes/{quote.pk}"
    assert f"/portal/sign-in?next={target}" in signed_page
    client.post("/portal/sign-in", {"email": "wang@acme.example.com", "next": target})
    link = link_in(mail.outbox[-1])
    assert "next=" in link
    client.get(link)
    token = link.split("sesame=", 1)[1].split("&", 1)[0]
    assert client.post("/portal/enter", {"sesame": token, "next": target}).url == target
