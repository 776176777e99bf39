import datetime
import re

import pytest
from django.core import mail

from contracts.models import Contact, PortalRole
from contracts.portal_access import portal_invite
from tests.factories import CustomerFactory, ServicePeriodFactory, user_with

LINK = re.compile(r"https?://[^\s]+/portal/enter\?sesame=[^\s]+")


def link_in(message) -> str:
    """The sign-in link of a mailed message, as a path the test client can open."""
    url = LINK.search(message.body).group(0)
    return url[url.index("/portal/") :]


def sign_in_with(client, link: str):
    """Opens the link (a confirmation page) and confirms it, as the contact would."""
    page = client.get(link)
    assert page.status_code == 200
    token = link.split("sesame=", 1)[1].split("&", 1)[0]
    return client.post("/portal/enter", {"sesame": token, "next": "/portal/"})


@pytest.fixture
def manager(django_user_model):
    return user_with(django_user_model, "am", "change_contact", "view_customer")


@pytest.fixture
def two_customers(catalogue, manager, django_capture_on_commit_callbacks):
    """ACME (a billing contact and a technical contact with access) and its competitor BETA."""
    acme = CustomerFactory(code="ACME", legal_name="Acme Ltd", account_manager=manager)
    beta = CustomerFactory(code="BETA", legal_name="Beta Ltd", account_manager=manager)
    today = datetime.date.today()
    ServicePeriodFactory(
        contract__customer=acme,
        contract__number="ACME-2026",
        start=today - datetime.timedelta(days=100),
        end=today + datetime.timedelta(days=40),
    )
    ServicePeriodFactory(
        contract__customer=beta,
        contract__number="BETA-2026",
        start=today - datetime.timedelta(days=10),
        end=today + datetime.timedelta(days=300),
    )
    billing = Contact.objects.create(customer=acme, name="王芳", email="wang@acme.example.com")
    technical = Contact.objects.create(customer=acme, name="Li Lei", email="li@acme.example.com")
    beta_contact = Contact.objects.create(customer=beta, name="Zhao", email="zhao@beta.example.com")
    with django_capture_on_commit_callbacks(execute=True):
        accesses = {
            "billing": portal_invite(contact=billing, roles=[PortalRole.BILLING], by=manager),
            "technical": portal_invite(contact=technical, roles=[PortalRole.TECHNICAL], by=manager),
            "beta_admin": portal_invite(contact=beta_contact, roles=[PortalRole.ADMIN], by=manager),
        }
    mail.outbox.clear()
    return {"acme": acme, "beta": beta, **accesses}
