"""Customers' fapiao details (发票抬头 etc.): kept by finance through contracts.fapiao_details_save, from the
customer's staff page or the admin, with history; account managers read those of their customers."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from billing.errors import BillingError
from billing.roles import sync_roles
from contracts.fapiao_details import FapiaoDetailsInvalid, fapiao_details_of, fapiao_details_save
from contracts.models import FapiaoDetails, FapiaoType
from contracts.ownership import NotYourCustomer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

VALID_USCC = "91310000MA00000025"
DETAILS = {
    "title": "华夏软件有限公司",
    "address": "上海市浦东新区示范路 1 号",
    "phone": "021-5555 0000",
    "bank": "招商银行上海分行",
    "bank_account": "1219 0000 0000 0001",
    "email": "fapiao@huaxia.example.com",
    "fapiao_type": FapiaoType.SPECIAL,
}


@pytest.fixture
def users(django_user_model):
    sync_roles()
    users = {}
    for role in ("account_manager", "finance", "sales", "administrator"):
        user = django_user_model.objects.create_user(username=role, is_staff=True)
        user.groups.set(Group.objects.filter(name=role))
        users[role] = django_user_model.objects.get(pk=user.pk)
    return users


@pytest.fixture
def customer(users):
    return CustomerFactory(
        code="HUAXIA",
        legal_name="华夏软件有限公司",
        uscc=VALID_USCC,
        account_manager=users["account_manager"],
    )


def page(customer) -> str:
    return reverse("contracts:fapiao-details", kwargs={"code": customer.code})


def test_details_start_from_the_customers_legal_name(customer):
    details = fapiao_details_of(customer)
    assert details.pk is None
    assert (details.title, details.fapiao_type) == ("华夏软件有限公司", FapiaoType.SPECIAL)
    no_uscc = CustomerFactory(code="SMALL", uscc="")
    assert fapiao_details_of(no_uscc).fapiao_type == FapiaoType.ORDINARY


def test_finance_saves_them_with_history_naming_the_user(customer, users):
    details = fapiao_details_save(customer=customer, data={**DETAILS, "title": " 华夏 "}, by=users["finance"])
    assert details.title == "华夏"
    fapiao_details_save(customer=customer, data={"email": "ap@huaxia.example.com"}, by=users["finance"])
    details.refresh_from_db()
    assert (details.email, details.bank) == ("ap@huaxia.example.com", DETAILS["bank"])
    assert [h.history_user for h in details.history.all()] == [users["finance"]] * 2
    assert FapiaoDetails.objects.count() == 1


def test_a_special_invoice_needs_the_customers_uscc_and_nothing_is_written(users):
    no_uscc = CustomerFactory(code="SMALL", uscc="", legal_name="小店")
    with pytest.raises(FapiaoDetailsInvalid) as refused:
        fapiao_details_save(customer=no_uscc, data={**DETAILS, "email": "not an e-mail"}, by=users["finance"])
    assert set(refused.value.errors) == {"fapiao_type", "email"}  # every problem at once
    assert not FapiaoDetails.objects.exists()
    fapiao_details_save(customer=no_uscc, data={"fapiao_type": FapiaoType.ORDINARY}, by=users["finance"])
    assert FapiaoDetails.objects.get().title == "小店"


def test_only_finance_changes_them_and_only_for_customers_it_acts_for(customer, users, django_user_model):
    for role in ("account_manager", "sales"):
        with pytest.raises(BillingError):
            fapiao_details_save(customer=customer, data=DETAILS, by=users[role])
    other = CustomerFactory(code="OTHER", account_manager=django_user_model.objects.create_user("am-2"))
    users["account_manager"].user_permissions.add(
        *Permission.objects.filter(codename__in=["add_fapiaodetails", "change_fapiaodetails"])
    )
    manager = django_user_model.objects.get(pk=users["account_manager"].pk)
    with pytest.raises(NotYourCustomer):
        fapiao_details_save(customer=other, data={"fapiao_type": FapiaoType.ORDINARY}, by=manager)


def test_finance_keeps_them_on_the_customers_page(client, customer, users):
    client.force_login(users["finance"])
    customer_page = client.get(reverse("invoices:customer", kwargs={"code": customer.code})).content.decode()
    assert page(customer) in customer_page
    form = client.get(page(customer)).content.decode()
    assert 'value="华夏软件有限公司"' in form  # the title starts from the legal name
    assert VALID_USCC in form  # the taxpayer number is the customer's USCC
    response = client.post(page(customer), {**DETAILS, "bank": ""})
    assert response.status_code == 302
    details = FapiaoDetails.objects.get(customer=customer)
    assert (details.bank, details.history.get().history_user) == ("", users["finance"])
    customer_page = client.get(reverse("invoices:customer", kwargs={"code": customer.code})).content.decode()
    assert DETAILS["email"] in customer_page  # the summary


def test_a_refusal_comes_back_on_the_form(client, users):
    client.force_login(users["finance"])
    no_uscc = CustomerFactory(code="SMALL", uscc="")
    response = client.post(page(no_uscc), {**DETAILS, "fapiao_type": FapiaoType.SPECIAL})
    assert response.status_code == 200
    assert "warning" in response.content.decode()
    assert not FapiaoDetails.objects.exists()


def test_account_managers_read_them_for_their_customers_only(client, customer, users, django_user_model):
    fapiao_details_save(customer=customer, data=DETAILS, by=users["finance"])
    client.force_login(users["account_manager"])
    summary = client.get(page(customer))
    assert summary.status_code == 200
    assert DETAILS["bank"] in summary.content.decode()
    assert "lookup setup fapiao-details" not in summary.content.decode()  # no form to change them
    assert client.post(page(customer), DETAILS).status_code == 403
    other = CustomerFactory(code="OTHER", account_manager=django_user_model.objects.create_user("am-2"))
    assert client.get(page(other)).status_code == 403
    client.force_login(users["sales"])
    assert client.get(page(customer)).status_code == 403


def test_the_admin_saves_them_through_the_service_and_refuses_a_special_invoice_without_uscc(
    admin_client, customer
):
    no_uscc = CustomerFactory(code="SMALL", uscc="")
    url = reverse("admin:contracts_fapiaodetails_add")
    refused = admin_client.post(url, {**DETAILS, "customer": no_uscc.pk})
    assert refused.status_code == 200
    assert "fapiao_type" in refused.context["adminform"].form.errors
    assert not FapiaoDetails.objects.exists()
    assert admin_client.post(url, {**DETAILS, "customer": customer.pk}).status_code == 302
    details = FapiaoDetails.objects.get()
    assert details.history.get().history_user.is_superuser
    change = admin_client.get(reverse("admin:contracts_fapiaodetails_change", args=[details.pk]))
    assert VALID_USCC in change.content.decode()
    history = admin_client.get(reverse("admin:contracts_fapiaodetails_history", args=[details.pk]))
    assert history.status_code == 200
