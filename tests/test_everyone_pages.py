"""What every staff page and every customer link shows: who is signed in and a way out; a 403 page that
says what is missing and leads home; a customer page linking its documents; customer links without the
staff menu that confirm what the customer just did."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from billing.forbidden import permission_text, permissions_of_view, roles_holding
from billing.roles import sync_roles
from catalog.models import ServiceItem
from contracts.models import ChargeRequest, ChargeStatus
from contracts.services import charge_request_create
from contracts.services import customer_link_token as charge_link_token
from invoices.models import Invoice, InvoiceRun
from invoices.services import invoice_run_execute
from quotes.services import customer_link_token as quote_link_token
from quotes.services import quote_add_line, quote_create, quote_send
from tests.factories import CustomerFactory, ServicePeriodFactory
from workspace import record_views

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def role_user(django_user_model, role: str, **fields):
    sync_roles()
    user = django_user_model.objects.create_user(username=role, password="x", is_staff=True, **fields)
    user.groups.set(Group.objects.filter(name=role))
    return user


@pytest.fixture
def sales(django_user_model):
    return role_user(django_user_model, "sales", first_name="芳", last_name="王")


@pytest.fixture
def finance(django_user_model):
    return role_user(django_user_model, "finance")


def test_every_staff_page_shows_who_is_signed_in_and_signs_out(client, sales, catalogue):
    client.force_login(sales)
    page = client.get(reverse("quotes:pipeline"), **EN).content.decode()
    assert "Signed in as 芳 王" in page or "Signed in as 王芳" in page
    assert f'action="{reverse("admin:logout")}"' in page
    response = client.post(reverse("admin:logout"), {"next": reverse("home")})
    assert response["Location"] == reverse("home")
    assert client.get(reverse("quotes:pipeline")).status_code == 302  # to the login


def test_the_403_page_names_what_is_missing_the_roles_that_hold_it_and_links_home(client, sales):
    client.force_login(sales)
    response = client.get(reverse("invoices:travel-new"), **EN)
    assert response.status_code == 403
    page = response.content.decode()
    assert "add travel expenses" in page
    assert "Finance, Administrator" in page
    assert "sales" in page or "王" in page  # who is signed in
    assert reverse("staff-home") in page
    chinese = client.get(reverse("invoices:travel-new"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "财务" in chinese


def test_the_permissions_of_a_view_are_read_from_its_decorators():
    assert permissions_of_view(record_views.work_log_import) == (
        "invoices.add_worklog",
        "invoices.change_worklog",
    )
    with translation.override("en"):
        assert roles_holding(("invoices.add_worklog", "invoices.change_worklog")) == [
            "Finance",
            "Administrator",
        ]
        assert permission_text("quotes.approve_discount") == "Can approve large discounts (sales manager)"
        assert permission_text("invoices.view_invoice") == "see invoices"
    assert permission_text("nothing.like_this") == "nothing.like_this"


def test_a_403_from_the_api_stays_a_problem(client):
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory

    from billing.forbidden import permission_denied

    response = permission_denied(RequestFactory().get("/api/v1/me"), PermissionDenied())
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.fixture
def customer_with_documents(catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer, start=datetime.date(2026, 1, 1), fee=1000)
    return customer


def _add_documents(customer, n: int):
    for index in range(n):
        quote = quote_create(customer=customer)
        quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=1)
        charge_request_create(
            customer=customer,
            ticket_ref=f"TK-{index}-{customer.quotes.count()}",
            description="报表",
            requested_by="api:zendesk",
            estimated_person_days=1,
        )


def test_the_customer_page_links_its_quotes_invoices_and_charge_requests_in_constant_queries(
    client, finance, customer_with_documents
):
    customer = customer_with_documents
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=datetime.date(2026, 1, 31)))
    _add_documents(customer, 1)
    client.force_login(finance)
    url = reverse("invoices:customer", args=[customer.code])
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).content.decode()
    for quote in customer.quotes.all():
        assert reverse("quotes:builder", args=[quote.pk]) in page
    for invoice in Invoice.objects.filter(customer=customer):
        assert reverse("invoices:invoice", args=[invoice.pk]) in page
    for charge in customer.charge_requests.all():
        assert reverse("contracts:charge-request", args=[charge.pk]) in page
    _add_documents(customer, 5)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


@pytest.fixture
def sent_quote(catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer)
    quote = quote_create(customer=customer, valid_until=timezone.localdate() + datetime.timedelta(days=30))
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=1)
    return quote_send(quote=quote)


def test_a_customer_link_shows_no_staff_menu_even_to_a_signed_in_user(client, sales, sent_quote):
    url = reverse("quotes:answer", args=[quote_link_token(sent_quote)])
    for signed_in in (False, True):
        if signed_in:
            client.force_login(sales)
        page = client.get(url).content.decode()
        assert reverse("quotes:pipeline") not in page
        assert reverse("admin:index") not in page
        assert reverse("admin:logout") not in page


def test_the_customer_who_accepts_a_quote_is_told_what_he_did(client, sent_quote):
    url = reverse("quotes:answer", args=[quote_link_token(sent_quote)])
    page = client.post(url, {"answer": "accept", "name": "李四"}, **EN).content.decode()
    assert f"Quote {sent_quote.reference} was accepted on" in page
    assert "by 李四" in page
    again = client.get(url, **EN).content.decode()  # and when he opens the link again
    assert f"Quote {sent_quote.reference} was accepted on" in again


def test_the_customer_who_declines_a_quote_is_told_so(client, sent_quote):
    url = reverse("quotes:answer", args=[quote_link_token(sent_quote)])
    page = client.post(url, {"answer": "decline", "name": "李四"}, **EN).content.decode()
    assert f"Quote {sent_quote.reference} was declined on" in page


def test_the_customer_who_confirms_a_charge_request_is_told_what_he_did(client, catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer)
    charge = charge_request_create(
        customer=customer,
        ticket_ref="TK-9",
        description="报表",
        requested_by="api:zendesk",
        estimated_person_days=1,
    )
    ChargeRequest.objects.filter(pk=charge.pk).update(status=ChargeStatus.AWAITING_CUSTOMER)
    url = reverse("contracts:charge-request-answer", args=[charge_link_token(charge)])
    before = client.get(url, **EN).content.decode()
    assert "was confirmed" not in before
    page = client.post(url, {"answer": "accept", "name": "李四"}, **EN).content.decode()
    assert "The charge for ticket TK-9 was confirmed on" in page
    assert "by 李四" in page
    assert reverse("contracts:charge-requests") not in page


def test_a_charge_request_has_its_page_with_its_history(
    client, finance, customer_with_documents, django_user_model
):
    charge = charge_request_create(
        customer=customer_with_documents,
        ticket_ref="TK-77",
        description="月度报表",
        requested_by="api:zendesk",
        estimated_person_days=2,
    )
    client.force_login(finance)
    page = client.get(reverse("contracts:charge-request", args=[charge.pk])).content.decode()
    assert "TK-77" in page
    assert "月度报表" in page
    assert reverse("invoices:customer", args=["ACME"]) in page
    nobody = django_user_model.objects.create_user(username="nobody", password="x", is_staff=True)
    client.force_login(nobody)
    assert client.get(reverse("contracts:charge-request", args=[charge.pk])).status_code == 403
