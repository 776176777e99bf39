"""Roles: every staff page checked with every role; repeated failed logins are throttled."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.roles import ROLES, sync_roles
from contracts import demo

pytestmark = pytest.mark.django_db

ALL = set(ROLES)
# page -> roles that get in (any other staff user is refused; a non-staff user is sent to the login)
PAGES = {
    "admin:index": ALL,
    "catalog:catalogue": ALL,
    "contracts:entitlement-lookup": ALL,
    "quotes:pipeline": ALL,
    "contracts:charge-requests": ALL,
    "invoices:quotes": ALL,
    "invoices:charts": ALL,
    "invoices:runs": {"finance", "administrator"},
    "invoices:charges": {"finance", "administrator"},
    "invoices:invoices": {"finance", "administrator"},
    "invoices:payments": {"finance", "administrator"},
    "invoices:travel": {"finance", "administrator"},
    "invoices:overdue": {"finance", "administrator"},
    "invoices:exports": {"finance", "administrator"},
    "quotes:new": {"sales", "sales_manager", "account_manager", "administrator"},
    "admin:catalog_serviceitem_changelist": ALL,
    "admin:catalog_ratecard_changelist": ALL,
    "admin:catalog_holidayscheduleday_changelist": {"administrator"},
    "admin:contracts_customer_changelist": ALL,
    "admin:contracts_chargerequest_changelist": ALL,
    "admin:quotes_quote_changelist": ALL,
    "admin:quotes_quote_add": {"sales", "sales_manager", "account_manager", "administrator"},
    "admin:invoices_invoice_changelist": {"finance", "administrator"},
    "admin:invoices_invoicerun_add": {"finance", "administrator"},
    "admin:invoices_worklog_changelist": {"finance", "administrator"},
    "admin:invoices_travelexpense_changelist": {"finance", "administrator"},
    "admin:billing_apikey_changelist": {"administrator"},
    "admin:auth_user_changelist": {"administrator"},
    "contracts:customer-new": {"account_manager", "administrator"},
    "contracts:customer-import": {"account_manager", "administrator"},
}


@pytest.fixture
def staff(catalogue, django_user_model):
    demo.load()
    sync_roles()
    users = {}
    for role in ROLES:
        user = django_user_model.objects.create_user(username=role, password="x", is_staff=True)
        user.groups.set(Group.objects.filter(name=role))
        users[role] = user
    users["outsider"] = django_user_model.objects.create_user(username="outsider", password="x")
    return users


# pages of one customer (DEMO-ACTIVE, which has no account manager) -> roles that get in
CUSTOMER_PAGES = {
    "invoices:customer": ALL,
    "invoices:statement": {"finance", "administrator"},
    "invoices:statement-pdf": {"finance", "administrator"},
}


@pytest.mark.parametrize("page", [*PAGES, *CUSTOMER_PAGES])
def test_every_staff_page_lets_in_exactly_its_roles(client, staff, page):
    url = reverse(page, kwargs={"code": "DEMO-ACTIVE"}) if page in CUSTOMER_PAGES else reverse(page)
    allowed_roles = PAGES.get(page) or CUSTOMER_PAGES[page]
    for role, user in staff.items():
        client.force_login(user)
        response = client.get(url)
        if role in allowed_roles:
            assert response.status_code == 200, (page, role)
        else:  # the admin sends a user without access to its login; our pages answer 403
            assert response.status_code in (302, 403), (page, role, response.status_code)


def test_an_anonymous_visitor_is_sent_to_the_login(client, staff):
    for page in PAGES:
        response = client.get(reverse(page))
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_repeated_failed_logins_are_throttled(client, staff):
    login = reverse("admin:login")
    for _attempt in range(5):
        client.post(login, {"username": "finance", "password": "wrong"}, REMOTE_ADDR="198.51.100.7")
    locked = client.post(login, {"username": "finance", "password": "x"}, REMOTE_ADDR="198.51.100.7")
    assert locked.status_code == 429
    other_ip = client.post(login, {"username": "finance", "password": "x"}, REMOTE_ADDR="198.51.100.8")
    assert other_ip.status_code == 302


PROXY = "10.0.0.2"


def login_through_the_proxy(client, *, username: str, password: str, client_address: str):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=client_address,
    )


def test_five_wrong_passwords_behind_the_proxy_lock_only_that_client(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _attempt in range(5):
        login_through_the_proxy(client, username="finance", password="wrong", client_address="198.51.100.7")
    locked = login_through_the_proxy(client, username="finance", password="x", client_address="198.51.100.7")
    assert locked.status_code == 429
    elsewhere = login_through_the_proxy(
        client, username="finance", password="x", client_address="203.0.113.5"
    )
    assert elsewhere.status_code == 302


def test_password_spraying_over_30_user_names_is_throttled(client, staff, settings, django_user_model):
    settings.TRUSTED_PROXY_COUNT = 1
    answers = [
        login_through_the_proxy(
            client, username=f"user{n}", password="Spring2026!", client_address="198.51.100.7"
        ).status_code
        for n in range(30)
    ]
    assert answers == [200] * 4 + [429] * 26  # the login form again, until the fifth failure locks it out
    # Its count is not cleared by logging in with an account it holds.
    assert (
        login_through_the_proxy(
            client, username="sales", password="x", client_address="198.51.100.7"
        ).status_code
        == 429
    )
    assert (
        login_through_the_proxy(
            client, username="sales", password="x", client_address="203.0.113.5"
        ).status_code
        == 302
    )


def test_an_administrator_unlocks_a_locked_account(client, staff, settings):
    from axes.models import AccessAttempt

    settings.TRUSTED_PROXY_COUNT = 1
    for _attempt in range(5):
        login_through_the_proxy(client, username="finance", password="wrong", client_address="198.51.100.7")
    assert (
        login_through_the_proxy(
            client, username="finance", password="x", client_address="198.51.100.7"
        ).status_code
        == 429
    )

    client.force_login(staff["administrator"])
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert "198.51.100.7" in client.get(changelist).content.decode()
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    confirm = client.post(changelist, {"action": "delete_selected", "_selected_action": attempts})
    assert confirm.status_code == 200
    done = client.post(changelist, {"action": "delete_selected", "_selected_action": attempts, "post": "yes"})
    assert done.status_code == 302
    client.logout()

    unlocked = login_through_the_proxy(
        client, username="finance", password="x", client_address="198.51.100.7"
    )
    assert unlocked.status_code == 302


def test_only_the_administrator_sees_and_unlocks_locked_accounts(client, staff):
    changelist = reverse("admin:axes_accessattempt_changelist")
    for role in ("finance", "account_manager", "sales", "sales_manager"):
        client.force_login(staff[role])
        assert client.get(changelist).status_code == 403, role


@pytest.mark.parametrize(
    ("role", "start"),
    [
        ("finance", "invoices:runs"),
        ("account_manager", "contracts:charge-requests"),
        ("sales", "invoices:quotes"),
        ("sales_manager", "invoices:quotes"),
        ("administrator", "invoices:runs"),
    ],
)
def test_each_role_starts_on_its_own_page(client, staff, role, start):
    client.force_login(staff[role])
    response = client.get(reverse("staff-home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(start)


def test_a_user_without_a_role_has_no_workspace(client, staff):
    client.force_login(staff["outsider"])
    assert client.get(reverse("staff-home")).status_code == 403


def test_object_pages_let_in_exactly_their_roles(client, staff):
    from contracts.models import Customer
    from invoices.models import Invoice
    from quotes.services import quote_create

    customer = Customer.objects.get(code="DEMO-ACTIVE")
    quote = quote_create(customer=customer, created_by=staff["sales"])
    invoice = Invoice.objects.create(customer=customer)
    pages = {
        reverse("quotes:builder", args=[quote.pk]): ALL,
        reverse("invoices:invoice", args=[invoice.pk]): {"finance", "administrator"},
    }
    for url, allowed_roles in pages.items():
        for role, user in staff.items():
            client.force_login(user)
            expected = 200 if role in allowed_roles else 403
            assert client.get(url).status_code == expected, (url, role)
