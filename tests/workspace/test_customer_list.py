"""/staff/customers/: each customer's tier, products, the period in force and its end, what is open and its
account manager; the signed-in account manager's own customers first."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from billing.roles import sync_roles
from catalog.models import Product
from tests.factories import CustomerFactory, LicensedProductFactory, ServicePeriodFactory
from tests.workspace.test_finance_lists import issued_invoices

pytestmark = pytest.mark.django_db
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def manager(django_user_model):
    sync_roles()
    user = django_user_model.objects.create_user(username="am", password="x", is_staff=True)
    user.groups.set(Group.objects.filter(name="account_manager"))
    return user


def page(client, **query):
    response = client.get(reverse("invoices:customers"), query, **ENGLISH)
    assert response.status_code == 200
    return response.content.decode()


def covered(code: str, *, product: str = "KMS", **customer):
    holder = CustomerFactory(code=code, legal_name=f"{code} Ltd", **customer)
    today = timezone.localdate()
    period = ServicePeriodFactory(
        contract__customer=holder,
        start=today - datetime.timedelta(days=30),
        end=today + datetime.timedelta(days=60),
    )
    LicensedProductFactory(contract=period.contract, product=Product.objects.get(code=product))
    return holder, period


def test_the_account_managers_own_customers_come_first(client, manager, catalogue):
    CustomerFactory(code="AAA-OTHER")
    CustomerFactory(code="ZZZ-MINE", account_manager=manager)
    client.force_login(manager)
    listed = page(client)
    assert listed.index("ZZZ-MINE") < listed.index("AAA-OTHER")


def test_a_row_shows_tier_products_period_end_open_amount_and_manager(client, manager, catalogue):
    _holder, period = covered("COVERED", account_manager=manager)
    CustomerFactory(code="LAPSED")
    client.force_login(manager)
    listed = page(client, q="COVERED")
    row = listed[listed.index("COVERED Ltd") :]
    row = row[: row.index("</tr>")]
    assert period.end.isoformat() in row
    assert "KMS" in row
    assert "am" in row
    assert period.tier.name in row
    assert "LAPSED" not in listed


def test_open_amount_sums_the_issued_invoices_and_sorts(client, manager, catalogue):
    issued_invoices(2)  # C000 owes ¥1,000.00, C001 ¥1,001.00
    client.force_login(manager)
    listed = page(client, sort="-open_default")
    assert listed.index("C001") < listed.index("C000")
    assert "¥1,001.00" in listed


def test_filters_by_product_cover_and_tier(client, manager, catalogue):
    covered("KMS-ONE", product="KMS")
    covered("EIS-ONE", product="EIS")
    CustomerFactory(code="NO-COVER")
    client.force_login(manager)
    kms = page(client, product=Product.objects.get(code="KMS").pk)
    assert "KMS-ONE" in kms
    assert "EIS-ONE" not in kms
    uncovered = page(client, covered="false")
    assert "NO-COVER" in uncovered
    assert "KMS-ONE" not in uncovered
    standard = page(client, tier=ServicePeriodFactory._meta.model.objects.first().tier.pk)
    assert "KMS-ONE" in standard
    assert "NO-COVER" not in standard


def test_the_page_costs_the_same_queries_for_three_and_thirty_customers(
    client, manager, catalogue, django_assert_max_num_queries
):
    client.force_login(manager)
    for n in range(3):
        covered(f"FEW-{n}")
    with django_assert_max_num_queries(20) as few:
        page(client)
    for n in range(27):
        covered(f"MANY-{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page(client)
