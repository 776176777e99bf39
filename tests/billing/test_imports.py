"""Imports in the admin (billing.imports) as an attacker would try them, through the admin's HTTP views:
crafted temporary file names, confirmations made for someone else, spreadsheet bombs, damaged encodings,
files over the limits, and a confirmation that finds a bad row."""

import datetime
import io
import tempfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

from catalog.models import HolidayScheduleDay, PersonDayRate
from invoices.models import WorkLog
from invoices.services import work_log_record
from tests.factories import CustomerFactory, ServicePeriodFactory
from tests.spreadsheet_files import handmade_xlsx, repeated_strings

pytestmark = pytest.mark.django_db

HEADER = "customer,engineer,role,date,days,on_site,ticket,service,description,key\n"
GOOD = "ACME,李雷,engineer,2026-03-04,1,0,TK-1,custom-development,数据迁移,k1\n"
WORK_LOGS = "/admin/invoices/worklog/"
SCHEDULE = "/admin/catalog/holidayscheduleday/"


@pytest.fixture
def customer(catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer)
    return customer


def upload(data: bytes, name: str = "logs.csv") -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def format_index(model, kind: str) -> int:
    """The position of the CSV or XLSX format in the model admin's import form."""
    formats = admin.site._registry[model].get_import_formats()
    return next(number for number, fmt in enumerate(formats) if fmt.__name__.upper().endswith(kind))


def preview(client, url: str, data: bytes, name: str = "logs.csv", model=WorkLog):
    kind = "XLSX" if name.endswith(".xlsx") else "CSV"
    return client.post(
        url + "import/",
        {"format": format_index(model, kind), "import_file": upload(data, name), "resource": 0},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def uploads_waiting() -> set[str]:
    folder = Path(settings.IMPORT_TMP_DIR)
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


# The confirmation reads only the file previewed


def test_an_import_never_reads_a_file_outside_the_import_folder(admin_client, customer, tmp_path):
    content = (HEADER + GOOD).encode()  # a valid file: read, it would be imported
    in_tmp = Path(tempfile.gettempdir()) / f"victim-{uuid.uuid4().hex}.csv"
    in_tmp.write_bytes(content)
    elsewhere = tmp_path / "secret.csv"
    elsewhere.write_bytes(content)
    crafted = [
        in_tmp.name,
        str(in_tmp),
        "../../" + in_tmp.name,
        str(elsewhere),
        "../" * 10 + str(elsewhere).lstrip("/"),
        uuid.uuid4().hex,
    ]
    try:
        for name in crafted:
            response = admin_client.post(
                WORK_LOGS + "process_import/",
                {"import_file_name": name, "original_file_name": "logs.csv", "format": "0", "resource": "0"},
                HTTP_ACCEPT_LANGUAGE="en",
            )
            assert response.status_code == 400, name
            assert "not one you previewed" in response.content.decode()
        assert in_tmp.read_bytes() == content
        assert elsewhere.read_bytes() == content
        assert not WorkLog.objects.exists()
    finally:
        in_tmp.unlink(missing_ok=True)


def test_a_confirmation_made_for_another_user_or_another_model_is_refused(admin_client, customer):
    confirm = preview(admin_client, WORK_LOGS, (HEADER + GOOD).encode()).context["confirm_form"]
    other = Client()
    other.force_login(get_user_model().objects.create_superuser("other", "other@example.com", "x"))
    assert other.post(WORK_LOGS + "process_import/", confirm.initial).status_code == 400
    assert admin_client.post(SCHEDULE + "process_import/", confirm.initial).status_code == 400
    tampered = {**confirm.initial, "import_file_name": confirm.initial["import_file_name"] + "x"}
    assert admin_client.post(WORK_LOGS + "process_import/", tampered).status_code == 400
    assert not WorkLog.objects.exists()
    assert admin_client.post(WORK_LOGS + "process_import/", confirm.initial).status_code == 302
    assert WorkLog.objects.count() == 1


def test_a_previewed_upload_is_removed_once_confirmed_or_refused(admin_client, customer):
    before = uploads_waiting()
    refused = preview(admin_client, WORK_LOGS, (HEADER + GOOD.replace("数据迁移", "=1+2")).encode())
    assert "confirm_form" not in refused.context
    assert uploads_waiting() == before
    confirm = preview(admin_client, WORK_LOGS, (HEADER + GOOD).encode()).context["confirm_form"]
    assert len(uploads_waiting() - before) == 1
    assert admin_client.post(WORK_LOGS + "process_import/", confirm.initial).status_code == 302
    assert uploads_waiting() == before
    again = admin_client.post(WORK_LOGS + "process_import/", confirm.initial, HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 400  # the upload is gone: a replayed confirmation imports nothing
    assert WorkLog.objects.count() == 1


def test_a_confirmation_that_finds_a_bad_row_writes_nothing(admin_client, customer):
    second = GOOD.replace("k1", "k2").replace("TK-1", "TK-2")
    confirm = preview(admin_client, WORK_LOGS, (HEADER + GOOD + second).encode()).context["confirm_form"]
    # between the preview and the confirmation, key k2 is recorded with other values
    work_log_record(
        customer=customer,
        engineer="韩梅梅",
        work_date=datetime.date(2026, 3, 4),
        days=1,
        ticket_ref="TK-9",
        idempotency_key="k2",
    )
    response = admin_client.post(WORK_LOGS + "process_import/", confirm.initial, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Already imported with other values" in response.content.decode()
    assert list(WorkLog.objects.values_list("idempotency_key", flat=True)) == ["k2"]


# Files the admin refuses before reading them


def test_a_zip_bomb_xlsx_is_refused_before_it_is_loaded_by_the_admin(admin_client, catalogue):
    bomb = handmade_xlsx(
        [["date", "kind", "name_zh", "name_en"]], shared_strings=repeated_strings(3_000_000, "x" * 30)
    )
    for url, model in ((SCHEDULE, HolidayScheduleDay), (WORK_LOGS, WorkLog)):
        response = preview(admin_client, url, bomb, "bomb.xlsx", model=model)
        assert "The workbook unpacks to" in response.content.decode()
        assert "confirm_form" not in response.context


def test_the_holiday_and_rate_imports_have_a_size_and_a_row_limit(admin_client, catalogue, settings):
    settings.IMPORT_MAX_ROWS = 2
    days = "".join(f"2027-01-0{n},holiday,元旦,New Year\n" for n in range(1, 4))
    schedule = ("date,kind,name_zh,name_en\n" + days).encode()
    response = preview(admin_client, SCHEDULE, schedule, "2027.csv", model=HolidayScheduleDay)
    assert "more than 2 rows" in response.content.decode()
    settings.IMPORT_MAX_BYTES = 100
    rates = (
        "rate_card,role,delivery_mode,price,price_currency,tax_inclusive\n"
        + "list:1,engineer,remote,1.00,CNY,1\n" * 4
    )
    response = preview(
        admin_client, "/admin/catalog/persondayrate/", rates.encode(), "rates.csv", model=PersonDayRate
    )
    assert "at most 100\xa0bytes are imported at once" in response.content.decode()
    assert not HolidayScheduleDay.objects.filter(date__year=2027).exists()
    assert not PersonDayRate.objects.filter(price=1).exists()


def test_utf8_with_a_stray_byte_is_refused_not_misread_by_the_admin(admin_client, customer):
    damaged = (HEADER + GOOD.replace("李雷", "王工")).encode().replace(b"TK-1", b"\x81TK-1")
    response = preview(admin_client, WORK_LOGS, damaged)
    page = response.content.decode()
    assert "line 2 holds bytes that are not UTF-8" in page
    assert "鐜嬪伐" not in page
    assert "confirm_form" not in response.context
    assert not WorkLog.objects.exists()
