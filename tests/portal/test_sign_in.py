"""Signing in to the portal: one-time links by e-mail, the same answer for every address, rate limits,
sessions that end, and no shared caching."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings

from billing.errors import BillingError
from contracts.models import Contact, PortalRole
from contracts.portal_access import portal_invite, portal_revoke, portal_sign_in_url
from tests.portal.conftest import link_in, sign_in_with

pytestmark = pytest.mark.django_db(transaction=False)


def test_an_invitation_mails_a_link_that_signs_in_once(
    client, two_customers, manager, django_capture_on_commit_callbacks
):
    contact = Contact.objects.create(customer=two_customers["acme"], name="Sun", email="sun@acme.example.com")
    with django_capture_on_commit_callbacks(execute=True):
        portal_invite(contact=contact, roles=[PortalRole.BILLING], by=manager)
    (message,) = mail.outbox
    assert message.to == ["sun@acme.example.com"]
    link = link_in(message)
    assert sign_in_with(client, link).url == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 200
    assert "ACME-2026" in home.text

    other = Client()
    again = sign_in_with(other, link)
    assert again.status_code == 400
    assert other.get("/portal/").status_code == 302


def test_opening_the_link_does_not_use_it(client, two_customers):
    link = link_in(_request_link(client, "wang@acme.example.com"))
    for _ in range(3):  # a mail scanner opening the link
        assert Client().get(link).status_code == 200
    assert sign_in_with(client, link).url == "/portal/"


def test_a_link_expires(client, two_customers):
    link = link_in(_request_link(client, "wang@acme.example.com"))
    with time_machine.travel(datetime.datetime.now() + datetime.timedelta(minutes=16)):
        assert sign_in_with(client, link).status_code == 400


def test_a_link_is_bound_to_its_contact(client, two_customers):
    link = link_in(_request_link(client, "wang@acme.example.com"))
    token = link.split("sesame=", 1)[1]
    forged = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    assert client.post("/portal/enter", {"sesame": forged}).status_code == 400
    assert (
        client.post(
            "/portal/enter", {"sesame": portal_sign_in_url(two_customers["beta_admin"])[-10:]}
        ).status_code
        == 400
    )


def test_the_form_answers_the_same_for_every_address(client, two_customers):
    known = client.post("/portal/sign-in", {"email": "wang@acme.example.com"})
    unknown = client.post("/portal/sign-in", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert _without_csrf(known.text) == _without_csrf(unknown.text)
    assert [m.to for m in mail.outbox] == [["wang@acme.example.com"]]


def _without_csrf(text: str) -> str:
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


@override_settings(PORTAL_SIGN_IN_RATE="3/15m")
def test_the_form_is_rate_limited_per_address_and_per_client(two_customers):
    by_client = Client(REMOTE_ADDR="198.51.100.7")
    answers = [
        by_client.post("/portal/sign-in", {"email": f"x{n}@example.com"}).status_code for n in range(5)
    ]
    assert answers == [200, 200, 200, 429, 429]

    answers = [
        Client(REMOTE_ADDR=f"203.0.113.{n}")
        .post("/portal/sign-in", {"email": "wang@acme.example.com"})
        .status_code
        for n in range(5)
    ]
    assert answers == [200, 200, 200, 429, 429]
    assert len([m for m in mail.outbox if m.to == ["wang@acme.example.com"]]) == 3


def test_revoked_access_ends_the_session(client, two_customers, manager):
    sign_in_with(client, link_in(_request_link(client, "wang@acme.example.com")))
    assert client.get("/portal/").status_code == 200
    portal_revoke(access=two_customers["billing"], by=manager)
    assert client.get("/portal/").status_code == 302
    client.post("/portal/sign-in", {"email": "wang@acme.example.com"})
    assert len(mail.outbox) == 1  # the request before the revocation only


def test_sign_out_everywhere_ends_every_session(two_customers):
    phone, laptop = Client(), Client()
    sign_in_with(phone, link_in(_request_link(phone, "wang@acme.example.com")))
    sign_in_with(laptop, link_in(_request_link(laptop, "wang@acme.example.com")))
    assert laptop.get("/portal/").status_code == 200
    phone.post("/portal/sign-out", {"everywhere": "1"})
    assert phone.get("/portal/").status_code == 302
    assert laptop.get("/portal/").status_code == 302


def test_no_portal_page_is_kept_by_a_shared_cache(client, two_customers):
    for page in (client.get("/portal/sign-in"), client.get("/portal/")):
        assert "private" in page["Cache-Control"]
        assert "no-store" in page["Cache-Control"]
    sign_in_with(client, link_in(_request_link(client, "wang@acme.example.com")))
    home = client.get("/portal/")
    assert "no-store" in home["Cache-Control"]
    assert "private" in home["Cache-Control"]


def test_every_portal_form_needs_its_csrf_token(two_customers):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/portal/sign-in", {"email": "wang@acme.example.com"}).status_code == 403
    assert strict.post("/portal/sign-out").status_code == 403
    assert strict.post("/portal/enter", {"sesame": "x"}).status_code == 403
    assert strict.post("/portal/language", {"language": "en"}).status_code == 403


def test_a_contact_is_no_staff_user(client, two_customers):
    sign_in_with(client, link_in(_request_link(client, "wang@acme.example.com")))
    assert client.get("/staff/customers/").status_code == 404
    assert client.get("/admin/").status_code == 404


def test_the_contacts_language_is_remembered(client, two_customers):
    sign_in_with(client, link_in(_request_link(client, "wang@acme.example.com")))
    client.post("/portal/language", {"language": "en", "next": "/portal/"})
    two_customers["billing"].refresh_from_db()
    assert two_customers["billing"].language == "en"
    other = Client()
    sign_in_with(other, link_in(_request_link(other, "wang@acme.example.com")))
    assert "Service periods" in other.get("/portal/").text
    other.post("/portal/language", {"language": "zh-hans", "next": "/portal/"})
    assert "服务有效期" in other.get("/portal/").text or "服务期" in other.get("/portal/").text


def test_who_may_invite(two_customers, manager, django_user_model):
    contact = Contact.objects.create(
        customer=two_customers["acme"], name="Qian", email="qian@acme.example.com"
    )
    with pytest.raises(BillingError):  # a billing contact is not its customer's portal admin
        portal_invite(contact=contact, roles=[PortalRole.BILLING], by=two_customers["billing"].user)
    with pytest.raises(BillingError):  # BETA's admin is not ACME's
        portal_invite(contact=contact, roles=[PortalRole.BILLING], by=two_customers["beta_admin"].user)
    with pytest.raises(BillingError):  # an address opens one customer's portal only
        portal_invite(
            contact=Contact.objects.create(
                customer=two_customers["beta"], name="W", email="WANG@acme.example.com"
            ),
            roles=[PortalRole.BILLING],
            by=manager,
        )
    assert portal_invite(contact=contact, roles=["technical", "billing"], by=manager).roles == [
        "billing",
        "technical",
    ]


def _request_link(client, email: str):
    before = len(mail.outbox)
    client.post("/portal/sign-in", {"email": email})
    assert len(mail.outbox) == before + 1
    return mail.outbox[-1]


def test_access_given_again_does_not_bring_back_the_old_session(client, two_customers, manager):
    sign_in_with(client, link_in(_request_link(client, "wang@acme.example.com")))
    portal_revoke(access=two_customers["billing"], by=manager)
    portal_invite(
        contact=two_customers["billing"].contact, roles=[PortalRole.BILLING], by=manager, notify=False
    )
    assert client.get("/portal/").status_code == 302


def test_a_contact_reaches_nothing_but_the_portal(client, two_customers):
    sign_in_with(client, link_in(_request_link(client, "wang@acme.example.com")))
    for path in ("/staff/", "/staff/second-factor/enrol", "/staff/customers/", "/catalogue/"):
        assert client.get(path).status_code == 404, path
    assert client.get("/").url == "/portal/"


def test_error_pages_are_the_portals_own_and_never_cached(client, two_customers):
    sign_in_with(client, link_in(_request_link(client, "li@acme.example.com")))  # technical
    forbidden = client.get("/portal/invoices/")
    assert forbidden.status_code == 403
    assert "portal-" not in forbidden.text  # not the staff page naming the user
    missing = client.get("/portal/quotes/999999")
    for page in (forbidden, missing, client.post("/portal/sign-out")):
        assert "no-store" in page["Cache-Control"], page.status_code


def test_one_client_asking_for_many_addresses_does_not_lock_them_out(settings, two_customers):
    """Requests a client's own limit refuses are not counted against the address they name."""
    settings.PORTAL_SIGN_IN_RATE = "3/15m"
    noisy = Client(REMOTE_ADDR="198.51.100.9")
    for n in range(3):
        assert noisy.post("/portal/sign-in", {"email": f"x{n}@example.com"}).status_code == 200
    for _ in range(3):
        assert noisy.post("/portal/sign-in", {"email": "wang@acme.example.com"}).status_code == 429
    genuine = Client(REMOTE_ADDR="203.0.113.50")
    assert genuine.post("/portal/sign-in", {"email": "wang@acme.example.com"}).status_code == 200


def test_a_contact_may_set_a_password_and_sign_in_with_it(client, two_customers):
    sign_in_with(client, link_in(_request_link(client, "wang@acme.example.com")))
    weak = client.post("/portal/password", {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 200  # Django's password rules
    strong = "Kms-portal-2026!"
    assert (
        client.post("/portal/password", {"new_password1": strong, "new_password2": strong}).status_code == 302
    )
    assert client.get("/portal/").status_code == 200  # this session stays
    other = Client()
    wrong = other.post("/portal/sign-in", {"pw-email": "wang@acme.example.com", "pw-password": "nope"})
    unknown = other.post("/portal/sign-in", {"pw-email": "nobody@example.com", "pw-password": strong})
    assert wrong.status_code == unknown.status_code == 400
    assert _without_csrf(wrong.text) == _without_csrf(unknown.text)
    right = other.post("/portal/sign-in", {"pw-email": "wang@acme.example.com", "pw-password": strong})
    assert right.url == "/portal/"
    assert other.get("/portal/").status_code == 200
    client.post("/portal/sign-out", {"everywhere": "1"})  # removes the password too
    assert (
        Client()
        .post("/portal/sign-in", {"pw-email": "wang@acme.example.com", "pw-password": strong})
        .status_code
        == 400
    )
