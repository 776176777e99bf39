"""Finance's red-letter pages: the credit note's page shows its request and takes each step, the invoice's
page shows its blue fapiao 已红冲, the list of requests by status; who may see and do what."""

import datetime
import io

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.roles import sync_roles
from invoices.models import FapiaoStatus, Invoice, RedLetterRequest, RedLetterStatus
from invoices.red_letter import red_letter_form_record
from tests.factories import user_with
from tests.invoices.test_red_letter import BLUE_NUMBER, RED_NUMBER, blue_fapiao, full_credit, partial_credit

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(django_user_model):
    sync_roles()
    user = django_user_model.objects.create_user(username="fin", password="x", is_staff=True)
    user.groups.set(Group.objects.filter(name="finance"))
    return user


@pytest.fixture
def sales(django_user_model):
    sync_roles()
    user = django_user_model.objects.create_user(username="sales", password="x", is_staff=True)
    user.groups.set(Group.objects.filter(name="sales"))
    return user


@pytest.fixture
def invoice(catalogue):
    from tests.invoices.test_red_letter import issued_invoice

    return issued_invoice(
        ("remote-maintenance", "3", "1060.00", "0.06"), ("custom-development", "1", "1130.00", "0.13")
    )


@pytest.fixture
def note(invoice):
    blue_fapiao(invoice)
    return partial_credit(invoice)


def page(client, invoice) -> str:
    response = client.get(reverse("invoices:invoice", args=[invoice.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_credit_note_page_takes_the_request_from_draft_to_the_red_fapiao(client, finance, invoice, note):
    client.force_login(finance)
    shown = page(client, note)
    assert "red-letter-status status-draft" in shown
    assert BLUE_NUMBER in shown
    assert "3040201030000000000" in shown
    assert "1,060.00" in shown.split("red-letter-total")[1][:40]
    url = reverse("invoices:red-letter-reason", args=[note.pk])
    client.post(url, {"reason": "01"})  # a partial credit note: refused, with the service's message
    request = RedLetterRequest.objects.get(credit_note=note)
    assert request.reason == "04"
    client.post(url, {"reason": "03"})
    request.refresh_from_db()
    assert request.reason == "03"

    client.post(reverse("invoices:red-letter-record", args=[note.pk]), {"form_number": "F-1", "status": "02"})
    request.refresh_from_db()
    assert (request.status, request.form_number) == (RedLetterStatus.WAITING, "F-1")
    shown = page(client, note)
    assert "被红冲蓝字数电发票号码：" + BLUE_NUMBER + " 红字发票信息确认单编号：F-1" in shown
    client.post(reverse("invoices:red-letter-record", args=[note.pk]), {"form_number": "F-1", "status": "04"})
    client.post(
        reverse("invoices:red-letter-red", args=[note.pk]), {"number": RED_NUMBER, "issued_on": "2026-03-10"}
    )
    request.refresh_from_db()
    assert request.status == RedLetterStatus.ISSUED
    assert request.red.number == RED_NUMBER
    assert RED_NUMBER in page(client, note)
    with override("zh-hans"):
        shown = page(client, invoice)
    assert "已红冲-部分" in shown


def test_the_invoice_page_shows_a_full_reversal(client, finance, invoice):
    blue_fapiao(invoice)
    note = full_credit(invoice)
    request = red_letter_form_record(
        request=RedLetterRequest.objects.get(credit_note=note), form_number="F", status="01"
    )
    client.force_login(finance)
    client.post(
        reverse("invoices:red-letter-red", args=[request.credit_note_id]),
        {"number": RED_NUMBER, "issued_on": "2026-03-10"},
    )
    assert invoice.fapiaos.get().status == FapiaoStatus.REVERSED_FULL
    shown = page(client, invoice)
    assert "已红冲-全额" in shown
    assert (
        f'<strong class="red-fapiao-number">{RED_NUMBER}</strong>' in shown
    )  # the invoice shows the red one


def test_the_form_data_downloads_as_a_workbook(client, finance, note):
    client.force_login(finance)
    response = client.get(reverse("invoices:red-letter-form", args=[note.pk]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["B1"].value == BLUE_NUMBER
    assert sheet["H9"].value == "-1000.00"


def test_a_void_form_is_replaced_from_the_page(client, finance, note, time_machine):
    time_machine.move_to(timezone.make_aware(datetime.datetime(2026, 3, 10, 9)), tick=False)
    client.force_login(finance)
    client.post(reverse("invoices:red-letter-record", args=[note.pk]), {"form_number": "F-1", "status": "02"})
    time_machine.move_to(timezone.make_aware(datetime.datetime(2026, 3, 13, 10)), tick=False)
    assert "red-letter-status status-void" in page(client, note)  # on read, before the beat task
    list_page = client.get(reverse("invoices:red-letter-requests") + "?tab=void").content.decode()
    assert note.number in list_page
    client.post(reverse("invoices:red-letter-replace", args=[note.pk]))
    old, new = RedLetterRequest.objects.filter(credit_note=note).order_by("pk")
    assert new.replaces == old
    assert new.status == RedLetterStatus.DRAFT
    assert "red-letter-status status-draft" in page(client, note)


def test_a_credit_note_issued_before_the_fapiao_is_started_by_hand(client, finance, invoice):
    note = partial_credit(invoice)
    blue_fapiao(invoice)
    client.force_login(finance)
    assert "red-letter-start" in page(client, note)
    client.post(reverse("invoices:red-letter-start", args=[note.pk]), {"reason": "04"})
    assert RedLetterRequest.objects.get(credit_note=note).reason == "04"


def test_the_list_shows_requests_by_status(client, finance, note):
    client.force_login(finance)
    shown = client.get(reverse("invoices:red-letter-requests")).content.decode()
    assert note.number in shown
    assert BLUE_NUMBER in shown
    issued = client.get(reverse("invoices:red-letter-requests") + "?tab=issued").content.decode()
    assert note.number not in issued
    export = client.get(reverse("invoices:red-letter-requests") + "?export=xlsx")
    assert export.status_code == 200


def test_who_lacks_the_permission_sees_and_changes_nothing(client, sales, django_user_model, note):
    viewer = user_with(django_user_model, "viewer", "view_invoice", "view_redletterrequest")
    client.force_login(sales)
    assert client.get(reverse("invoices:red-letter-requests")).status_code == 403
    assert client.get(reverse("invoices:red-letter-form", args=[note.pk])).status_code == 403
    client.force_login(viewer)  # may look, not act
    assert client.get(reverse("invoices:red-letter-form", args=[note.pk])).status_code == 200
    assert "red-letter-record" not in page(client, note)
    response = client.post(
        reverse("invoices:red-letter-record", args=[note.pk]), {"form_number": "F-1", "status": "01"}
    )
    assert response.status_code == 403
    assert RedLetterRequest.objects.get(credit_note=note).status == RedLetterStatus.DRAFT


def test_an_account_manager_of_another_customer_is_refused(client, django_user_model, note):
    """Customer isolation (contracts.ownership): holding the permission is not enough for another's
    customer."""
    other = django_user_model.objects.create_user(username="am2", password="x", is_staff=True)
    note.customer.account_manager = other
    note.customer.save()
    manager = user_with(
        django_user_model, "am", "view_invoice", "view_redletterrequest", "change_redletterrequest"
    )
    client.force_login(manager)
    assert client.get(reverse("invoices:red-letter-form", args=[note.pk])).status_code == 403
    response = client.post(reverse("invoices:red-letter-reason", args=[note.pk]), {"reason": "03"})
    assert response.status_code == 403
    assert RedLetterRequest.objects.get(credit_note=note).reason == "04"


def test_a_page_step_on_an_invoice_without_a_request_says_so(client, finance, invoice):
    client.force_login(finance)
    response = client.post(
        reverse("invoices:red-letter-record", args=[invoice.pk]), {"form_number": "F", "status": "01"}
    )
    assert response.status_code == 302
    assert not RedLetterRequest.objects.exists()


def test_the_api_credit_note_shows_its_red_letter_status(catalogue, invoice):
    blue_fapiao(invoice)
    _key, secret = create_api_key(name="ERP", scopes=["credits:write"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    response = api.post(
        f"/api/v1/invoices/{invoice.number}/credit-notes",
        {"reason": "开票有误"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert response.status_code == 201, response.content
    assert response.json()["red_letter"] == {
        "status": "draft",
        "reason": "01",
        "form_number": "",
        "red_fapiao": None,
    }
    assert Invoice.objects.get(number=response.json()["number"]).red_letter_requests.count() == 1


def test_the_list_costs_the_same_queries_whatever_the_rows(client, finance, catalogue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.invoices.test_red_letter import issued_invoice

    def add_requests(count, start):
        for number in range(start, start + count):
            invoice = issued_invoice(("remote-maintenance", "2", "530.00", "0.06"))
            blue_fapiao(invoice, number=f"0244000000001234{number:04d}")
            partial_credit(invoice)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("invoices:red-letter-requests") + "?tab=all")
        return len(captured), response.content.decode().count('class="red-letter-request')

    client.force_login(finance)
    add_requests(1, 0)
    client.get(reverse("invoices:red-letter-requests"))
    one, rows = queries()
    assert rows == 1
    add_requests(5, 1)
    assert queries() == (one, 6)
