"""Where a recorded fapiao shows: the invoice page, its PDF (rendered again once a fapiao is recorded), the
statement (page, PDF and API), the invoice list and its exports, the accounting export, the overdue
reminder; and finance's import page (preview, confirmation, refusals, permissions)."""

import csv
import io

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.roles import sync_roles
from contracts.models import Contact
from invoices.documents import invoice_context
from invoices.exports import invoices_dataset
from invoices.fapiao_import import fapiao_import_record, read_fapiao_upload
from invoices.models import Fapiao, Invoice
from invoices.services import overdue_reminder_send
from invoices.statements import statement_context
from invoices.tasks import render_invoice_pdf
from tests.factories import user_with
from tests.invoices.fapiao_files import (
    BUYER_A,
    BUYER_B,
    LEADING_ZEROS,
    D,
    Issued,
    export_workbook,
    gross,
    invoice_xml,
    number,
    two_invoices,
)

pytestmark = pytest.mark.django_db
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def invoices(catalogue):
    return two_invoices()


@pytest.fixture
def finance(django_user_model):
    sync_roles()
    user = django_user_model.objects.create_user(username="fin", password="x", is_staff=True)
    user.groups.set(Group.objects.filter(name="finance"))
    return user


def record_first(first):
    """The platform's answer for the first invoice, recorded: its number has leading zeros."""
    data = export_workbook([Issued(LEADING_ZEROS, BUYER_A, gross(first), remark=first.number)])
    return fapiao_import_record(parsed=read_fapiao_upload(data, name="a.xlsx"), by=None, source="a.xlsx")


def pdf_text(invoice) -> str:
    invoice.refresh_from_db()
    return "".join(page.extract_text() for page in PdfReader(invoice.pdf.open("rb")).pages)


def test_the_invoice_page_and_its_document_show_the_fapiao_number(client, finance, invoices):
    first, _second = invoices
    record_first(first)
    client.force_login(finance)
    page = client.get(reverse("invoices:invoice", args=[first.pk]), **ENGLISH).content.decode()
    assert f'<strong class="fapiao-number">{LEADING_ZEROS}</strong>' in page
    html = render_to_string("invoices/invoice_pdf.html", invoice_context(first))
    assert f"数电发票号码 / Fapiao number: {LEADING_ZEROS}" in html


def test_a_pdf_rendered_before_the_fapiao_was_recorded_is_rendered_again_with_it(
    invoices, django_capture_on_commit_callbacks
):
    first, second = invoices
    before = render_invoice_pdf(first.pk)
    render_invoice_pdf(second.pk)
    assert LEADING_ZEROS not in pdf_text(first)
    second_hash = Invoice.objects.get(pk=second.pk).pdf_sha256
    with django_capture_on_commit_callbacks(execute=True):
        record_first(first)
    first.refresh_from_db()
    assert first.pdf_sha256
    assert first.pdf_sha256 != before
    assert LEADING_ZEROS in pdf_text(first)
    assert Invoice.objects.get(pk=second.pk).pdf_sha256 == second_hash  # no fapiao: left as it was
    assert (first.number, first.issue_date) == (Invoice.objects.get(pk=first.pk).number, D(2026, 1, 5))


def test_the_statement_page_pdf_context_and_api_show_the_fapiao(client, finance, invoices):
    first, _second = invoices
    record_first(first)
    client.force_login(finance)
    url = reverse("invoices:statement", args=[first.customer.code])
    page = client.get(url, {"from": "2026-01-01", "to": "2026-12-31"}, **ENGLISH).content.decode()
    assert LEADING_ZEROS in page
    context = statement_context(customer=first.customer, start=D(2026, 1, 1), end=D(2026, 12, 31))
    html = render_to_string("invoices/statement_pdf.html", context)
    assert f"数电发票 Fapiao {LEADING_ZEROS}" in html
    _key, raw = create_api_key(name="ERP", scopes=["invoices:read"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = api.get(
        reverse("invoices-api:customer-statement", args=[first.customer.code]),
        {"from": "2026-01-01", "to": "2026-12-31"},
    ).json()
    (line,) = body["statements"][0]["lines"]
    assert line["fapiao"] == [
        {"number": LEADING_ZEROS, "date": "2026-11-03", "type": "special", "red": False}
    ]


def test_the_invoice_list_and_its_exports_carry_the_fapiao_as_text(client, finance, invoices):
    first, second = invoices
    record_first(first)
    client.force_login(finance)
    listed = client.get(reverse("invoices:invoices"), {"tab": "issued"}, **ENGLISH).content.decode()
    assert LEADING_ZEROS in listed
    response = client.get(reverse("invoices:invoices"), {"tab": "issued", "export": "csv"}, **ENGLISH)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    column = rows[0].index("Fapiao")
    assert {row[0]: row[column] for row in rows[1:]} == {first.number: LEADING_ZEROS, second.number: ""}
    response = client.get(reverse("invoices:invoices"), {"tab": "issued", "export": "xlsx"}, **ENGLISH)
    values = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.values)
    assert LEADING_ZEROS in [row[column] for row in values[1:]]  # text, its zeros kept
    accounting = invoices_dataset(Invoice.objects.filter(pk=first.pk))
    assert accounting.dict[0]["fapiao"] == LEADING_ZEROS


def test_the_invoice_list_asks_as_often_for_three_invoices_with_fapiao_as_for_one(client, finance, invoices):
    first, second = invoices
    client.force_login(finance)
    url = reverse("invoices:invoices")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, {"tab": "issued"}).status_code == 200
        return len(captured)

    record_first(first)
    one = queries()
    data = export_workbook([Issued(number(2), BUYER_B, gross(second), remark=second.number)])
    fapiao_import_record(parsed=read_fapiao_upload(data, name="b.xlsx"), by=None, source="b.xlsx")
    assert queries() == one


def test_the_overdue_reminder_quotes_the_fapiao_number(invoices):
    first, _second = invoices
    record_first(first)
    Contact.objects.create(customer=first.customer, name="王会计", email="wang@acme.example.com")
    overdue_reminder_send(invoice=first, today=D(2026, 3, 1), by=None)
    assert LEADING_ZEROS in mail.outbox[0].body


# The page


def upload(name: str, data: bytes):
    file = io.BytesIO(data)
    file.name = name
    return file


def test_finance_previews_an_upload_of_several_files_and_records_it_on_confirmation(
    client, finance, invoices
):
    first, second = invoices
    client.force_login(finance)
    url = reverse("invoices:fapiao-import")
    workbook = export_workbook([Issued(LEADING_ZEROS, BUYER_A, gross(first), remark=first.number)])
    xml = invoice_xml(Issued(number(2), BUYER_B, gross(second)))
    preview = client.post(url, {"files": [upload("a.xlsx", workbook), upload("b.xml", xml)]}, **ENGLISH)
    page = preview.content.decode()
    assert "2 matched rows" in page
    assert LEADING_ZEROS in page
    assert "a.xlsx:3" in page
    assert "b.xml:1" in page
    assert not Fapiao.objects.exists()  # a preview records nothing
    token = preview.context["token"]
    done = client.post(url, {"token": token}, follow=True, **ENGLISH)
    assert "Recorded: 2 fapiao" in done.content.decode()
    assert {f.number: f.invoice for f in Fapiao.objects.all()} == {LEADING_ZEROS: first, number(2): second}
    assert Fapiao.objects.get(number=LEADING_ZEROS).recorded_by == finance
    again = client.post(url, {"token": token}, follow=True, **ENGLISH)  # confirmed twice: refused
    assert "not one you previewed" in again.content.decode()
    assert Fapiao.objects.count() == 2


def test_an_inconsistent_upload_gets_no_confirmation_and_records_nothing(client, finance, invoices):
    first, _second = invoices
    client.force_login(finance)
    workbook = export_workbook([Issued(number(1), BUYER_A, gross(first) + 1, remark=first.number)])
    response = client.post(
        reverse("invoices:fapiao-import"), {"files": [upload("a.xlsx", workbook)]}, **ENGLISH
    )
    page = response.content.decode()
    assert "1 conflicting row" in page
    assert "differs" in page
    assert "token" not in response.context
    assert "Nothing was recorded" in page
    forged = client.post(reverse("invoices:fapiao-import"), {"token": "forged"}, follow=True, **ENGLISH)
    assert "not one you previewed" in forged.content.decode()
    assert not Fapiao.objects.exists()


def test_another_kind_of_file_is_refused_on_the_form(client, finance, invoices):
    client.force_login(finance)
    response = client.post(reverse("invoices:fapiao-import"), {"files": [upload("a.csv", b"a,b")]}, **ENGLISH)
    assert "upload .xlsx, .xml or .zip files" in response.content.decode()


def test_only_who_records_fapiao_opens_the_page(client, django_user_model, invoices):
    url = reverse("invoices:fapiao-import")
    client.force_login(user_with(django_user_model, "viewer", "view_invoice"))
    assert client.get(url).status_code == 403
    client.force_login(user_with(django_user_model, "recorder", "add_fapiao", "change_fapiao"))
    assert client.get(url).status_code == 200
