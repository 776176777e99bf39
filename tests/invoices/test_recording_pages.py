"""Finance records without the admin: a travel expense with its receipt, data-volume usage, a work log,
and a work-log file previewed (every bad row with its number, nothing written) then imported."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.errors import BillingError
from billing.roles import sync_roles
from invoices.models import DataVolumeUsage, TravelExpense, WorkLog
from invoices.services import data_volume_usage_record
from tests.factories import CustomerFactory, ServicePeriodFactory

pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]
PDF = b"%PDF-1.4\n% receipt\n"
HEADER = "customer,engineer,role,date,days,on_site,ticket,service,description,key\n"


def role_user(django_user_model, role: str):
    sync_roles()
    user = django_user_model.objects.create_user(username=role, password="x", is_staff=True)
    user.groups.set(Group.objects.filter(name=role))
    return user


@pytest.fixture
def finance(django_user_model):
    return role_user(django_user_model, "finance")


@pytest.fixture
def sales(django_user_model):
    return role_user(django_user_model, "sales")


@pytest.fixture
def customer(catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer)
    return customer


def csv_file(text: str, name: str = "logs.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


TRAVEL = {
    "customer": "acme",
    "category": "transport",
    "spent_on": "2026-11-20",
    "amount": "880",
    "currency": "CNY",
    "quantity": "1",
    "description": "高铁",
    "ticket_ref": "TK-1",
}


def test_finance_records_a_travel_expense_with_its_receipt(client, finance, customer):
    client.force_login(finance)
    assert reverse("invoices:travel-new") in client.get(reverse("invoices:travel")).content.decode()
    response = client.post(
        reverse("invoices:travel-new"), {**TRAVEL, "receipt": SimpleUploadedFile("r.pdf", PDF)}
    )
    assert response["Location"] == reverse("invoices:travel")
    expense = TravelExpense.objects.get()
    assert (expense.customer, expense.amount.amount, expense.recorded_by) == (customer, Decimal(880), finance)
    assert expense.receipt.read() == PDF
    assert expense.approved_at is None


def test_a_receipt_that_is_not_a_pdf_or_image_is_refused_and_nothing_recorded(client, finance, customer):
    client.force_login(finance)
    response = client.post(
        reverse("invoices:travel-new"),
        {**TRAVEL, "receipt": SimpleUploadedFile("r.pdf", b"<html>")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "PDF, JPEG or PNG" in response.content.decode()
    assert not TravelExpense.objects.exists()


def test_finance_records_data_volume_usage_through_its_service(client, finance, customer):
    client.force_login(finance)
    response = client.post(
        reverse("invoices:usage-new"),
        {"customer": "ACME", "service": "data-migration", "quantity": "250", "measured_on": "2026-11-20"},
    )
    assert response.status_code == 302
    usage = DataVolumeUsage.objects.get()
    assert (usage.customer, usage.service_code, usage.quantity) == (customer, "data-migration", Decimal(250))


def test_usage_of_a_service_not_priced_by_data_volume_is_refused(customer):
    with pytest.raises(BillingError) as refused:
        data_volume_usage_record(
            customer=customer,
            service_code="custom-development",
            quantity=Decimal(3),
            measured_on=datetime.date(2026, 11, 20),
        )
    assert refused.value.code == "invalid_basis"
    assert not DataVolumeUsage.objects.exists()


def test_an_unknown_customer_code_is_a_form_error(client, finance, customer):
    client.force_login(finance)
    response = client.post(
        reverse("invoices:usage-new"),
        {"customer": "NOPE", "service": "data-migration", "quantity": "250", "measured_on": "2026-11-20"},
    )
    assert response.status_code == 200
    assert "NOPE" in response.content.decode()
    assert not DataVolumeUsage.objects.exists()


def test_a_work_log_sent_twice_from_its_form_is_recorded_once(client, finance, customer):
    client.force_login(finance)
    page = client.get(reverse("invoices:work-log-new"))
    key = page.context["form"]["key"].value()
    log = {
        "customer": "ACME",
        "engineer": "李雷",
        "role": "engineer",
        "work_date": "2026-11-20",
        "hours": "12",
        "ticket_ref": "TK-7",
        "service": "custom-development",
        "key": key,
    }
    assert client.post(reverse("invoices:work-log-new"), log).status_code == 302
    assert client.post(reverse("invoices:work-log-new"), log).status_code == 302
    recorded = WorkLog.objects.get()
    assert (recorded.days, recorded.engineer, recorded.idempotency_key) == (Decimal("1.5"), "李雷", key)


def test_a_work_log_needs_days_or_hours(client, finance, customer):
    client.force_login(finance)
    response = client.post(
        reverse("invoices:work-log-new"),
        {
            "customer": "ACME",
            "engineer": "李雷",
            "role": "engineer",
            "work_date": "2026-11-20",
            "ticket_ref": "TK-7",
            "service": "custom-development",
            "key": "staff:x",
        },
    )
    assert response.status_code == 200
    assert not WorkLog.objects.exists()


def test_the_import_preview_lists_every_bad_row_and_writes_nothing(
    client, finance, customer, settings, tmp_path
):
    settings.IMPORT_TMP_DIR = tmp_path
    client.force_login(finance)
    bad = (
        HEADER
        + "ACME,李雷,engineer,2026-03-04,1,0,TK-1,custom-development,ok,k1\n"
        + "NOPE,韩梅梅,engineer,2026-03-05,1,0,TK-2,custom-development,unknown customer,k2\n"
        + "ACME,韩梅梅,wizard,2026-03-06,1,0,TK-3,custom-development,bad role,k3\n"
    )
    response = client.post(reverse("invoices:work-log-import"), {"file": csv_file(bad)})
    assert response.status_code == 200
    numbers = {number for number, _problem in response.context["imported"].problems}
    assert numbers == {2, 3}
    assert "token" not in response.context  # nothing to confirm
    assert 'name="confirm"' not in response.content.decode()
    assert not WorkLog.objects.exists()
    assert list(tmp_path.iterdir()) == []  # the upload is not kept


def test_a_good_file_is_previewed_then_imported_on_confirmation(
    client, finance, customer, settings, tmp_path
):
    settings.IMPORT_TMP_DIR = tmp_path
    client.force_login(finance)
    good = HEADER + "ACME,李雷,senior_engineer,2026-03-04,2,1,TK-1,custom-development,迁移,k1\n"
    preview = client.post(reverse("invoices:work-log-import"), {"file": csv_file(good)})
    assert "李雷" in preview.content.decode()
    assert not WorkLog.objects.exists()
    token = preview.context["token"]
    done = client.post(reverse("invoices:work-log-import"), {"token": token})
    assert done.status_code == 302
    log = WorkLog.objects.get()
    assert (log.engineer, log.days, log.on_site) == ("李雷", Decimal(2), True)
    again = client.post(reverse("invoices:work-log-import"), {"token": token}, follow=True)
    assert [m.level_tag for m in again.context["messages"]][-1] == "error"  # a confirmation holds once
    assert WorkLog.objects.count() == 1


def test_a_confirmation_token_of_another_user_or_made_up_is_refused(
    client, finance, customer, settings, tmp_path, django_user_model
):
    settings.IMPORT_TMP_DIR = tmp_path
    client.force_login(finance)
    good = HEADER + "ACME,李雷,engineer,2026-03-04,1,0,TK-1,custom-development,ok,k1\n"
    token = client.post(reverse("invoices:work-log-import"), {"file": csv_file(good)}).context["token"]
    other = role_user(django_user_model, "administrator")
    client.force_login(other)
    client.post(reverse("invoices:work-log-import"), {"token": token})
    client.post(reverse("invoices:work-log-import"), {"token": "../../etc/passwd"})
    assert not WorkLog.objects.exists()


def test_a_role_without_the_permissions_gets_403_on_every_recording_page(client, sales, customer):
    client.force_login(sales)
    for name in (
        "invoices:travel-new",
        "invoices:usage-new",
        "invoices:work-log-new",
        "invoices:work-log-import",
    ):
        assert client.get(reverse(name)).status_code == 403, name
        assert client.post(reverse(name)).status_code == 403, name
