"""The customer's answer through a signed link has one home (billing.signed_answer), which quotes and
charge requests both use: the same link rules, the same "answerable", the same record of the answer."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.closing import CLOSING_DELAY
from billing.errors import BillingError
from contracts import services as charges
from contracts.models import ChargeStatus
from quotes import services as quotes
from quotes.models import QuoteStatus
from tests.test_signed_links import documents  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

KINDS = {
    "quote": (quotes.CUSTOMER_ANSWER, lambda doc, **kw: quotes.quote_customer_answer(quote=doc, **kw)),
    "charge": (
        charges.CUSTOMER_ANSWER,
        lambda doc, **answer: charges.charge_request_customer_answer(request=doc, **answer),
    ),
}


@pytest.mark.parametrize("kind", KINDS)
def test_an_answer_records_the_name_the_time_and_the_ip_address(documents, kind):  # noqa: F811
    link, answer = KINDS[kind]
    document = link.document(link.token(documents[kind]))
    answered = answer(document, accept=True, name="  王芳  ", ip="203.0.113.7")
    answered.refresh_from_db()
    assert answered.status == link.accepted
    assert getattr(answered, link.name_field) == "王芳"
    assert getattr(answered, link.ip_field) == "203.0.113.7"
    assert getattr(answered, link.at_field) is not None


@pytest.mark.parametrize("kind", KINDS)
def test_an_answer_without_a_name_or_to_a_document_not_waiting_is_refused_and_changes_nothing(
    documents,  # noqa: F811
    kind,
):
    link, answer = KINDS[kind]
    document = documents[kind]
    with pytest.raises(BillingError) as refused:
        answer(document, accept=True, name=" ", ip=None)
    assert refused.value.code == "name_required"
    answer(document, accept=False, name="王芳", ip=None)
    with pytest.raises(BillingError) as again:
        answer(document, accept=True, name="王芳", ip=None)
    assert again.value.code in ("quote_status", "charge_status")
    document.refresh_from_db()
    assert document.status == link.declined


@pytest.mark.parametrize("kind", KINDS)
def test_a_closed_document_is_answerable_for_a_month_then_no_more(documents, kind):  # noqa: F811
    link, _answer = KINDS[kind]
    document = documents[kind]
    now = timezone.now()
    type(document).objects.filter(pk=document.pk).update(status=link.closed, closed_at=now)
    document.refresh_from_db()
    assert link.answerable(document, now=now + CLOSING_DELAY - datetime.timedelta(minutes=1))
    assert not link.answerable(document, now=now + CLOSING_DELAY)


def test_the_links_of_one_kind_never_open_the_other(documents):  # noqa: F811
    quote_link, charge_link = quotes.CUSTOMER_ANSWER, charges.CUSTOMER_ANSWER
    with pytest.raises(BillingError):
        charge_link.document(quote_link.token(documents["quote"]))
    with pytest.raises(BillingError):
        quote_link.document(charge_link.token(documents["charge"]))
    assert quote_link.document(quote_link.token(documents["quote"])) == documents["quote"]
    assert charge_link.document(charge_link.token(documents["charge"])) == documents["charge"]


def test_a_quote_past_its_validity_is_not_answerable_while_a_waiting_charge_request_is(documents):  # noqa: F811
    later = timezone.now() + datetime.timedelta(days=40)
    assert documents["quote"].status == QuoteStatus.SENT
    assert not quotes.quote_answerable(documents["quote"], now=later)
    documents["charge"].refresh_from_db()
    assert documents["charge"].status == ChargeStatus.AWAITING_CUSTOMER
    assert charges.charge_request_answerable(documents["charge"], now=later)


ANSWER_PAGES = {"quote": "quotes:answer", "charge": "contracts:charge-request-answer"}


@pytest.mark.parametrize("kind", KINDS)
def test_the_customer_answer_records_the_client_address_behind_the_proxy(
    client,
    documents,  # noqa: F811
    kind,
    settings,
):
    settings.TRUSTED_PROXY_COUNT = 1
    link, _answer = KINDS[kind]
    url = reverse(ANSWER_PAGES[kind], args=[link.token(documents[kind])])
    response = client.post(
        url,
        {"name": "王芳", "answer": "accept"},
        REMOTE_ADDR="10.0.0.2",  # the proxy
        HTTP_X_FORWARDED_FOR="192.0.2.66, 203.0.113.7",  # what the client claimed, then what the proxy saw
    )
    assert response.status_code == 200
    answered = documents[kind]
    answered.refresh_from_db()
    assert getattr(answered, link.ip_field) == "203.0.113.7"
