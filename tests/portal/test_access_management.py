"""Who gives portal access: the customer's account manager from the staff pages, and the customer's own
portal admin from the portal; every step on the staff's timeline."""

import pytest
from django.core import mail
from django.test import Client

from contracts.models import Contact, PortalAccess, PortalActivity
from tests.portal.conftest import link_in, sign_in_with

pytestmark = pytest.mark.django_db


def test_an_account_manager_invites_a_contact_from_the_customer_page(
    client, two_customers, manager, django_capture_on_commit_callbacks
):
    contact = Contact.objects.create(customer=two_customers["acme"], name="Sun", email="sun@acme.example.com")
    client.force_login(manager)
    page = client.get("/staff/customers/ACME/portal")
    assert page.status_code == 200
    assert "Sun" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            "/staff/customers/ACME/portal",
            {"action": "invite", "contact": contact.pk, "roles": ["technical"]},
        )
    assert answer.status_code == 302
    assert PortalAccess.objects.get(contact=contact).roles == ["technical"]
    assert mail.outbox[-1].to == ["sun@acme.example.com"]
    client.post(
        "/staff/customers/ACME/portal", {"action": "roles", "contact": contact.pk, "roles": ["billing"]}
    )
    assert PortalAccess.objects.get(contact=contact).roles == ["billing"]
    client.post("/staff/customers/ACME/portal", {"action": "revoke", "contact": contact.pk})
    assert not PortalAccess.objects.get(contact=contact).is_active
    actions = list(PortalActivity.objects.filter(contact=contact).values_list("action", "by"))
    assert actions == [("revoked", "am"), ("roles_changed", "am"), ("invited", "am")]
    timeline = client.get("/staff/customers/ACME/").text
    assert "Sun" in timeline


def test_another_account_managers_customer_is_refused(client, two_customers, django_user_model):
    from tests.factories import user_with

    other = user_with(django_user_model, "other-am", "change_contact", "view_customer")
    contact = Contact.objects.create(customer=two_customers["acme"], name="Sun", email="sun@acme.example.com")
    client.force_login(other)
    client.post(
        "/staff/customers/ACME/portal", {"action": "invite", "contact": contact.pk, "roles": ["billing"]}
    )
    assert not PortalAccess.objects.filter(contact=contact).exists()


def test_the_customers_portal_admin_manages_its_own_contacts_only(
    two_customers, manager, django_capture_on_commit_callbacks
):
    beta_admin = Client()
    beta_admin.post("/portal/sign-in", {"email": "zhao@beta.example.com"})
    sign_in_with(beta_admin, link_in(mail.outbox[-1]))
    colleague = Contact.objects.create(
        customer=two_customers["beta"], name="Qian", email="qian@beta.example.com"
    )
    with django_capture_on_commit_callbacks(execute=True):
        beta_admin.post(
            "/portal/contacts", {"action": "invite", "contact": colleague.pk, "roles": ["billing"]}
        )
    assert PortalAccess.objects.get(contact=colleague).roles == ["billing"]
    assert PortalActivity.objects.filter(contact=colleague).get().by == "Zhao"
    acme_contact = Contact.objects.get(email="li@acme.example.com")
    answer = beta_admin.post("/portal/contacts", {"action": "revoke", "contact": acme_contact.pk})
    assert answer.status_code == 404
    assert PortalAccess.objects.get(contact=acme_contact).is_active
    billing = Client()
    billing.post("/portal/sign-in", {"email": "wang@acme.example.com"})
    sign_in_with(billing, link_in(mail.outbox[-1]))
    assert billing.get("/portal/contacts").status_code == 403
