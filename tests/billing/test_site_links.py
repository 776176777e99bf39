"""Links in e-mails and on pages: SITE_URL when it is set (production); without it the address the request
reached (development on any port), carried to the tasks the request sends, and RUNSERVER_URL outside any
request."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from billing import dispatch
from billing.celery import app
from billing.mail import TASK_HEADER, absolute_url, links_to, site_url
from catalog.models import ServiceItem
from contracts.models import Contact
from quotes.models import Quote, QuoteStatus
from quotes.services import customer_link_token, quote_add_line, quote_create, quotes_apply_closing_rule
from tests.factories import CustomerFactory, ServicePeriodFactory, user_with

pytestmark = pytest.mark.django_db
SEEN = []


@app.task(name="tests.site_links.probe")
def probe():
    SEEN.append(site_url())


@pytest.fixture
def development(settings):
    settings.SITE_URL = ""
    settings.RUNSERVER_URL = "http://127.0.0.1:8002"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]


@pytest.fixture
def draft(catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer)
    Contact.objects.create(customer=customer, name="王芳", email="wang@acme.example.com")
    quote = quote_create(customer=customer, valid_until=timezone.localdate() + datetime.timedelta(days=30))
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=1)
    return quote


@pytest.fixture
def seller(django_user_model):
    return user_with(django_user_model, "seller", "view_quote", "add_quote", "change_quote", "view_customer")


def _send_from_the_builder(client, seller, quote, host: str):
    client.force_login(seller)
    client.post(reverse("quotes:step", args=[quote.pk, "send"]), HTTP_HOST=host)
    [message] = mail.outbox
    return message.body


@pytest.mark.django_db(transaction=True)  # the mail is sent when the request's transaction commits
def test_in_development_the_mailed_link_is_the_address_the_server_was_reached_at(
    client, development, draft, seller
):
    body = _send_from_the_builder(client, seller, draft, "127.0.0.1:8001")
    assert f"http://127.0.0.1:8001/q/{customer_link_token(Quote.objects.get(pk=draft.pk))}/" in body
    page = client.get(reverse("quotes:builder", args=[draft.pk]), HTTP_HOST="127.0.0.1:8001").content.decode()
    assert 'href="http://127.0.0.1:8001/q/' in page  # the customer's link shown to staff


@pytest.mark.django_db(transaction=True)
def test_in_production_the_mailed_link_is_site_url_whatever_the_host(client, settings, draft, seller):
    settings.SITE_URL = "https://billing.example.com/"
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    body = _send_from_the_builder(client, seller, draft, "127.0.0.1:8001")
    assert "https://billing.example.com/q/" in body
    assert "127.0.0.1" not in body


def test_outside_a_request_links_go_to_the_runserver_address_or_site_url(
    development, settings, draft, django_capture_on_commit_callbacks
):
    Quote.objects.filter(pk=draft.pk).update(
        status=QuoteStatus.SENT, sent_at=timezone.now() - datetime.timedelta(days=40)
    )
    with django_capture_on_commit_callbacks(execute=True):
        quotes_apply_closing_rule()  # the periodic task's work: it mails the customer
    assert "http://127.0.0.1:8002/q/" in mail.outbox[0].body
    settings.SITE_URL = "https://billing.example.com"
    assert absolute_url("/q/x/") == "https://billing.example.com/q/x/"


def test_a_task_sent_during_a_request_carries_its_address(development, monkeypatch):
    sent = {}
    monkeypatch.setattr(probe, "apply_async", lambda **options: sent.update(options))
    with links_to("http://127.0.0.1:8001"):
        dispatch.send_task(probe)
    assert sent["headers"] == {TASK_HEADER: "http://127.0.0.1:8001"}
    dispatch.send_task(probe)
    assert sent["headers"] is None  # outside a request: nothing to carry


def test_a_task_makes_its_links_to_the_address_it_carries(development):
    SEEN.clear()
    probe.apply_async(headers={TASK_HEADER: "http://10.0.0.5:8003"})
    probe.apply_async()
    assert SEEN == ["http://10.0.0.5:8003", "http://127.0.0.1:8002"]
