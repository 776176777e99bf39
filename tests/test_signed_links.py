"""Signed customer links (quotes and charge requests): each opens one document for a configured time,
answers for that document only, and a tampered or foreign token gets a clean 404 page."""

import datetime

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from catalog.models import ServiceItem
from contracts import services as charges
from contracts.models import ChargeRequest, ChargeStatus, Contact
from contracts.services import charge_request_create
from quotes import services as quotes
from quotes.models import Quote, QuoteStatus
from quotes.services import quote_add_line, quote_create, quote_send
from quotes.tasks import render_quote_pdf
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db
EXPIRED = "invalid or has expired"


def sent_quote(customer) -> Quote:
    quote = quote_create(
        customer=customer,
        quote_date=timezone.localdate(),
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
    )
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=1)
    quote = quote_send(quote=quote)
    render_quote_pdf(quote.pk)
    return Quote.objects.get(pk=quote.pk)


@pytest.fixture
def documents(catalogue):
    """Two customers' sent quotes and a charge request waiting for the first customer."""
    acme, other = CustomerFactory(code="ACME"), CustomerFactory(code="OTHER")
    for customer in (acme, other):
        ServicePeriodFactory(contract__customer=customer)
        Contact.objects.create(customer=customer, name="王芳", email=f"wang@{customer.code}.example.com")
    charge = charge_request_create(
        customer=acme,
        ticket_ref="TK-1",
        description="报表定制",
        requested_by="api:zendesk",
        estimated_person_days=1,
    )
    ChargeRequest.objects.filter(pk=charge.pk).update(status=ChargeStatus.AWAITING_CUSTOMER)
    return {"quote": sent_quote(acme), "other_quote": sent_quote(other), "charge": charge}


def quote_page(token: str) -> str:
    return reverse("quotes:answer", args=[token])


def quote_pdf(token: str) -> str:
    return reverse("quotes:pdf", args=[token])


def charge_page(token: str) -> str:
    return reverse("contracts:charge-request-answer", args=[token])


def made_days_ago(monkeypatch, days: float, make):
    """A token made `days` ago: the signer's timestamp is the moment it signs, so that moment is moved."""
    then = int((timezone.now() - datetime.timedelta(days=days)).timestamp())
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp", lambda signer: signing.b62_encode(then))
        return make()


# Expiry


@pytest.mark.parametrize(
    ("setting", "link", "page"),
    [
        ("QUOTE_LINK_MAX_AGE_DAYS", lambda d: quotes.customer_link_token(d["quote"]), quote_page),
        ("QUOTE_LINK_MAX_AGE_DAYS", lambda d: quotes.customer_link_token(d["quote"]), quote_pdf),
        ("CHARGE_REQUEST_LINK_MAX_AGE_DAYS", lambda d: charges.customer_link_token(d["charge"]), charge_page),
    ],
    ids=["quote", "quote pdf", "charge request"],
)
def test_a_link_opens_until_its_configured_age_and_not_after(
    client, documents, monkeypatch, settings, setting, link, page
):
    max_age = getattr(settings, setting)
    assert max_age >= 60  # long enough for the closing rule's month to answer and month to reopen
    young = made_days_ago(monkeypatch, max_age - 1, lambda: link(documents))
    old = made_days_ago(monkeypatch, max_age + 1, lambda: link(documents))
    assert client.get(page(young)).status_code == 200
    assert client.get(page(old)).status_code == 404
    setattr(settings, setting, 3)
    assert client.get(page(made_days_ago(monkeypatch, 2, lambda: link(documents)))).status_code == 200
    assert client.get(page(young)).status_code == 404


def test_an_expired_link_says_so_and_cannot_answer(client, documents, monkeypatch, settings):
    old = made_days_ago(
        monkeypatch,
        settings.QUOTE_LINK_MAX_AGE_DAYS + 1,
        lambda: quotes.customer_link_token(documents["quote"]),
    )
    response = client.post(quote_page(old), {"answer": "accept", "name": "王芳"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert EXPIRED in response.content.decode()
    assert Quote.objects.get(pk=documents["quote"].pk).status == QuoteStatus.SENT


# One document, one purpose


def test_a_quote_link_shows_and_answers_its_own_quote_only(client, documents):
    quote, other = documents["quote"], documents["other_quote"]
    token = quotes.customer_link_token(quote)
    page = client.get(quote_page(token)).content.decode()
    assert quote.reference in page
    assert other.reference not in page
    # a field naming another quote changes nothing: the token alone says which quote is answered
    response = client.post(
        quote_page(token), {"answer": "decline", "name": "王芳", "quote": other.pk, "pk": other.pk}
    )
    assert response.status_code == 200
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DECLINED
    assert Quote.objects.get(pk=other.pk).status == QuoteStatus.SENT
    again = client.post(quote_page(token), {"answer": "accept", "name": "王芳"})
    assert again.status_code == 400
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DECLINED
    pdf = client.get(quote_pdf(token))
    assert b"".join(pdf.streaming_content) == Quote.objects.get(pk=quote.pk).pdf.read()


def test_tokens_are_salted_per_purpose(client, documents):
    quote, charge = documents["quote"], documents["charge"]
    charge_token = charges.customer_link_token(charge)
    quote_token = quotes.customer_link_token(quote)
    # payloads shaped for the other kind of link, signed with the wrong salt or none, open nothing
    foreign = [
        (quote_page, charge_token),
        (quote_pdf, charge_token),
        (charge_page, quote_token),
        (quote_page, signing.dumps({"quote": quote.pk})),  # unsalted
        (quote_page, signing.dumps({"quote": quote.pk}, salt=charges.CUSTOMER_LINK_SALT)),
        (charge_page, signing.dumps({"charge_request": quote.pk}, salt=quotes.CUSTOMER_LINK_SALT)),
        (
            quote_page,
            signing.Signer(salt=quotes.CUSTOMER_LINK_SALT).sign_object({"quote": quote.pk}),
        ),  # no time
    ]
    for page, token in foreign:
        response = client.get(page(token))
        assert response.status_code == 404, (page.__name__, token)
    assert quotes.CUSTOMER_LINK_SALT != charges.CUSTOMER_LINK_SALT


def tampered(token: str) -> list[str]:
    payload, timestamp, signature = token.rsplit(":", 2)
    other = signing.dumps({"quote": 999999}, salt=quotes.CUSTOMER_LINK_SALT).rsplit(":", 2)[0]
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    return [
        f"{payload}:{timestamp}:{flipped}",  # signature changed
        f"{other}:{timestamp}:{signature}",  # payload swapped
        f"{payload}:{signing.b62_encode(int(timezone.now().timestamp()) + 3600 * 24 * 365)}:{signature}",
        token[:-5],  # truncated
        token + "x",
        "x",
        "::",
        "a:b:c:d",
        "报价单:签名:时间",
        "%00",
        "A" * 5000,
        token.replace(":", "."),
    ]


def test_tampered_tokens_get_a_clean_404_page(client, documents):
    quote_token = quotes.customer_link_token(documents["quote"])
    charge_token = charges.customer_link_token(documents["charge"])
    for page, token in (
        [(quote_page, bad) for bad in tampered(quote_token)]
        + [(quote_pdf, bad) for bad in tampered(quote_token)]
        + [(charge_page, bad) for bad in tampered(charge_token)]
    ):
        response = client.get(page(token), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 404, (page.__name__, token)
        assert response["Content-Type"].startswith("text/html")
        if page is not quote_pdf:
            assert EXPIRED in response.content.decode()
    post = client.post(quote_page(tampered(quote_token)[0]), {"answer": "accept", "name": "x"})
    assert post.status_code == 404
    assert Quote.objects.get(pk=documents["quote"].pk).status == QuoteStatus.SENT
