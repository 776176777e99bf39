"""Bad files for the work-log import (encodings, missing columns, repeated rows, huge files, formulas) and
formula escaping in the finance exports."""

import csv
import datetime
import hashlib
import io
from decimal import Decimal
from io import StringIO

import openpyxl
import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.utils import translation
from django.utils.translation import override
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.errors import BillingError
from billing.spreadsheets import decode_text
from contracts.models import Customer
from invoices.exports import invoices_dataset, issued, lines_dataset
from invoices.models import Invoice, InvoiceLine, InvoiceRun, WorkLog
from invoices.resources import read_work_log_file
from invoices.services import invoice_issue, invoice_run_execute
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date
pytestmark = pytest.mark.django_db

HEADER = "customer,engineer,role,date,days,on_site,ticket,service,description,key\n"
GOOD = "ACME,李雷,engineer,2026-03-04,1,0,TK-1,custom-development,数据迁移,k1\n"


@pytest.fixture
def customer(catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer)
    return customer


def write(tmp_path, data: str | bytes, encoding="utf-8", name="logs.csv") -> str:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return str(path)


def run_import(path: str) -> tuple[str, str]:
    """Runs the command in English; returns (stdout, stderr), or raises its CommandError with stderr."""
    out, err = StringIO(), StringIO()
    with translation.override("en"):
        try:
            call_command("import_work_logs", path, stdout=out, stderr=err)
        except CommandError as error:
            raise CommandError(f"{error}\n{err.getvalue()}") from error
    return out.getvalue(), err.getvalue()


# Encodings: UTF-8 first (with or without BOM), then GB18030 for what Chinese Excel saves as CSV.


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gbk", b""), ("gb18030", b"")],
    ids=["utf-8", "utf-8 with BOM", "gbk", "gb18030"],
)
def test_utf8_with_or_without_bom_and_gbk_files_import_the_same_chinese_text(
    customer, tmp_path, encoding, prefix
):
    run_import(write(tmp_path, prefix + (HEADER + GOOD).encode(encoding)))
    log = WorkLog.objects.get()
    assert (log.engineer, log.description, log.days) == ("李雷", "数据迁移", Decimal(1))


def test_utf8_text_is_never_read_as_gb18030():
    # These UTF-8 bytes are also valid GB18030 (as other characters): the order of the rule matters.
    assert "数据迁移".encode().decode("gb18030") != "数据迁移"
    assert decode_text("数据迁移".encode()) == "数据迁移"


def test_a_file_in_neither_encoding_is_refused_with_what_to_do(customer, tmp_path):
    with pytest.raises(CommandError, match="neither UTF-8 nor GBK/GB18030"):
        run_import(write(tmp_path, HEADER + GOOD, "utf-16"))
    assert not WorkLog.objects.exists()


# Columns, repeated rows


def test_missing_columns_are_named_and_nothing_is_imported(customer, tmp_path):
    with pytest.raises(CommandError, match=r"lacks the column\(s\) ticket, days/hours"):
        run_import(write(tmp_path, "customer,engineer,date\nACME,李雷,2026-03-04\n"))
    assert not WorkLog.objects.exists()


def test_rows_repeated_in_the_file_are_reported_with_both_numbers(customer, tmp_path):
    repeated_key = GOOD + GOOD.replace("TK-1", "TK-2")  # the same key k1 twice
    no_keys = "customer,engineer,date,hours,ticket\n" + "ACME,韩梅梅,2026-03-05,4,TK-9\n" * 2
    with pytest.raises(CommandError, match="Nothing imported") as refused:
        run_import(write(tmp_path, HEADER + repeated_key))
    assert "row 2: key: Repeats row 1" in str(refused.value)
    with pytest.raises(CommandError, match="Nothing imported") as refused:
        run_import(write(tmp_path, no_keys))
    assert "row 2: key: Repeats row 1" in str(refused.value)
    assert not WorkLog.objects.exists()


def test_a_row_imported_before_is_skipped_when_the_same_and_refused_when_changed(customer, tmp_path):
    run_import(write(tmp_path, HEADER + GOOD))
    out, _err = run_import(write(tmp_path, HEADER + GOOD))
    assert "0 new, 1 unchanged" in out
    changed = GOOD.replace(",1,0,TK-1", ",3,0,TK-1")
    with pytest.raises(CommandError, match="Nothing imported") as refused:
        run_import(write(tmp_path, HEADER + GOOD.replace("k1", "k2") + changed))
    assert "row 2: key: Already imported with other values" in str(refused.value)
    assert list(WorkLog.objects.values_list("idempotency_key", "days")) == [("k1", Decimal(1))]


# Size limits: refused before the file is read


class CountingReader(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(settings):
    settings.IMPORT_MAX_BYTES = 1000
    handle = CountingReader((HEADER + GOOD * 100).encode())
    with override("en"), pytest.raises(BillingError, match="more than the 1000 imported at once") as refused:
        read_work_log_file(handle, name="logs.csv", size=len(handle.getvalue()))
    assert refused.value.code == "import_too_large"
    assert handle.bytes_read == 0


def test_a_file_over_the_row_limit_is_refused(customer, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = "".join(GOOD.replace("k1", f"k{n}") for n in range(4))
    with pytest.raises(CommandError, match="more than 3 rows"):
        run_import(write(tmp_path, HEADER + rows))
    run_import(write(tmp_path, HEADER + rows.rsplit("ACME", 1)[0]))
    assert WorkLog.objects.count() == 3


def test_the_admin_refuses_an_oversized_upload_with_a_clear_message(admin_client, settings, catalogue):
    settings.IMPORT_MAX_BYTES = 100
    upload = io.BytesIO((HEADER + GOOD * 10).encode())
    upload.name = "logs.csv"
    response = admin_client.post(
        "/admin/invoices/worklog/import/",
        {"format": 0, "import_file": upload, "resource": 0},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "at most 100\xa0bytes are imported at once" in response.content.decode()
    assert not WorkLog.objects.exists()


# Formulas


FORMULAS = [
    ("description", "=cmd|' /C calc'!A0"),
    ("engineer", "+1+cmd|' /C calc'!A0"),
    ("ticket", "-2+3"),
    ("description", "@SUM(1+1)*cmd|' /C calc'!A0"),
    ("description", "\t=1+1"),
]


def test_each_formula_cell_is_reported_with_its_row_and_nothing_is_imported(customer, tmp_path):
    lines = []
    for number, (column, value) in enumerate(FORMULAS, 1):
        cells = dict(zip(HEADER.strip().split(","), GOOD.strip().split(","), strict=True))
        cells.update({column: f'"{value}"', "key": f"k{number}"})
        lines.append(",".join(cells.values()))
    with pytest.raises(CommandError, match=f"{len(FORMULAS)} problem") as refused:
        run_import(write(tmp_path, HEADER + "\n".join(lines) + "\n"))
    for number, (column, _value) in enumerate(FORMULAS, 1):
        assert f"row {number}: {column}: Looks like a spreadsheet formula" in str(refused.value)
    assert not WorkLog.objects.exists()


def test_a_negative_number_is_not_a_formula_but_is_still_refused_as_a_number(customer, tmp_path):
    with pytest.raises(CommandError) as refused:
        run_import(write(tmp_path, HEADER + GOOD.replace(",1,0,", ",-1,0,")))
    assert "row 1: days:" in str(refused.value)
    assert "formula" not in str(refused.value)


def xlsx(tmp_path, rows) -> str:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    path = tmp_path / "logs.xlsx"
    book.save(path)
    return str(path)


def test_an_xlsx_imports_dates_and_numbers_and_refuses_a_real_formula_cell(customer, tmp_path):
    header = HEADER.strip().split(",")
    row = ["ACME", "李雷", "engineer", datetime.datetime(2026, 3, 4), 1.5, True, "TK-1", "", "", "x1"]
    with pytest.raises(CommandError, match="Nothing imported") as refused:
        run_import(xlsx(tmp_path, [header, row, [*row[:8], '=HYPERLINK("http://evil")', "x2"]]))
    assert "row 2: description: Looks like a spreadsheet formula" in str(refused.value)
    run_import(xlsx(tmp_path, [header, row]))
    log = WorkLog.objects.get()
    assert (log.work_date, log.days, log.on_site) == (D(2026, 3, 4), Decimal("1.5"), True)


def test_the_admin_import_reads_gbk_and_lists_formula_rows_without_importing(admin_client, customer):
    upload = io.BytesIO((HEADER + GOOD + GOOD.replace("k1", "k2").replace("数据迁移", "=1+2")).encode("gbk"))
    upload.name = "logs.csv"
    response = admin_client.post(
        "/admin/invoices/worklog/import/",
        {"format": 0, "import_file": upload, "resource": 0},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = response.content.decode()
    assert "Looks like a spreadsheet formula" in page
    assert "李雷" in page  # the GBK file was read as Chinese text
    assert not WorkLog.objects.exists()


# Exports


@pytest.fixture
def invoice_with_formulas(catalogue):
    customer = CustomerFactory(code="ACME", legal_name="@SUM(1+1)*cmd|' /C calc'!A0")
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=10000)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 1, 31)))
    InvoiceLine.objects.update(description="-2+3+cmd|' /C calc'!A0", unit="\t=1+1")
    return invoice_issue(invoice=Invoice.objects.get(), issue_date=D(2026, 2, 1))


def test_exports_prefix_every_formula_start_with_a_quote_and_leave_numbers_alone(invoice_with_formulas):
    invoices = invoices_dataset(issued(D(2026, 1, 1), D(2026, 12, 31))).dict
    assert invoices[0]["customer_name"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert invoices[0]["gross"] == "10000.00"
    lines = lines_dataset(issued(D(2026, 1, 1), D(2026, 12, 31))).dict
    assert lines[0]["description"] == "'-2+3+cmd|' /C calc'!A0"
    assert lines[0]["unit"] == "'\t=1+1"
    assert Customer.objects.get().legal_name.startswith("@")  # the stored name is unchanged


def test_the_xlsx_export_holds_text_cells_where_the_data_had_formulas(invoice_with_formulas, tmp_path):
    call_command(
        "export_invoices", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "xlsx",
        "--out", str(tmp_path), stdout=StringIO(),
    )  # fmt: skip
    sheet = openpyxl.load_workbook(tmp_path / "invoice-lines.xlsx").active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert any(cell.value == "'-2+3+cmd|' /C calc'!A0" for cell in cells)


def test_the_admin_imports_a_valid_gbk_file_after_its_preview(admin_client, customer):
    upload = io.BytesIO((HEADER + GOOD).encode("gbk"))
    upload.name = "logs.csv"
    preview = admin_client.post(
        "/admin/invoices/worklog/import/", {"format": 0, "import_file": upload, "resource": 0}
    )
    confirm = preview.context["confirm_form"]
    assert not WorkLog.objects.exists()
    response = admin_client.post("/admin/invoices/worklog/process_import/", confirm.initial)
    assert response.status_code == 302
    log = WorkLog.objects.get()
    assert (log.engineer, log.description, log.idempotency_key) == ("李雷", "数据迁移", "k1")


# Trust: a file is read as it says


def rows_with(**cells) -> str:
    """GOOD with some cells replaced (and the key column left empty unless given)."""
    row = dict(zip(HEADER.strip().split(","), GOOD.strip().split(","), strict=True))
    row.update(cells)
    return ",".join(row.values()) + "\n"


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        *[("yes", True), (" YES ", True), ("是", True), ("True", True), ("1", True)],
        *[("no", False), ("否", False), ("FALSE", False), ("0", False), ("", False)],
    ],
)
def test_on_site_flags_accept_the_usual_spellings(customer, tmp_path, written, stored):
    run_import(write(tmp_path, HEADER + rows_with(on_site=written)))
    assert WorkLog.objects.get().on_site is stored


def test_an_on_site_flag_of_another_word_refuses_the_row(customer, tmp_path):
    lines = rows_with(key="k1") + rows_with(key="k2", on_site="maybe", ticket="TK-2")
    with pytest.raises(CommandError) as refused:
        run_import(write(tmp_path, HEADER + lines))
    assert "row 2: on_site: Write yes or no" in str(refused.value)
    assert not WorkLog.objects.exists()


def test_duplicate_column_headers_are_refused(customer, tmp_path):
    with pytest.raises(CommandError, match="days are named twice"):
        run_import(write(tmp_path, HEADER.replace("key", "days") + GOOD.replace(",k1", ",15")))
    assert not WorkLog.objects.exists()


def test_one_and_one_point_zero_days_of_the_same_work_are_the_same_row(customer, tmp_path):
    run_import(write(tmp_path, HEADER + rows_with(key="", days="1")))
    for same in (
        rows_with(key="", days="1.0"),
        rows_with(key="", days="1.000"),
        rows_with(key="", date="2026-3-4"),
    ):
        out, _err = run_import(write(tmp_path, HEADER + same))
        assert "0 new, 1 unchanged" in out
    hours = HEADER.replace("days", "hours") + rows_with(key="", days="8")
    assert "0 new, 1 unchanged" in run_import(write(tmp_path, hours))[0]
    with pytest.raises(CommandError, match="row 2: key: Repeats row 1"):
        run_import(write(tmp_path, HEADER + rows_with(key="", days="2") + rows_with(key="", days="2.0")))
    assert WorkLog.objects.get().days == 1


def test_a_row_keyed_before_numbers_were_compared_as_numbers_is_still_recognised(customer, tmp_path):
    said = "|".join(["ACME", "李雷", "2026-03-04", "1.0", "TK-1", "engineer"])
    WorkLog.objects.create(
        customer=customer, engineer="李雷", role="engineer", work_date=D(2026, 3, 4), days=1,
        ticket_ref="TK-1", service_code="custom-development", description="数据迁移",
        idempotency_key="import:" + hashlib.sha256(said.encode()).hexdigest(),
    )  # fmt: skip
    out, _err = run_import(write(tmp_path, HEADER + rows_with(key="", days="1.0")))
    assert "0 new, 1 unchanged" in out
    assert WorkLog.objects.count() == 1


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
def test_work_dates_outside_the_import_window_are_refused(customer, tmp_path, date):
    with pytest.raises(CommandError) as refused:
        run_import(write(tmp_path, HEADER + rows_with(date=date)))
    assert "row 1: work_date:" in str(refused.value)
    assert "outside the dates an import accepts" in str(refused.value)
    assert not WorkLog.objects.exists()


def test_work_log_text_sent_through_the_api_comes_out_escaped_in_the_admin_export(admin_client, customer):
    _key, raw = create_api_key(name="Zendesk", scopes=["work:write"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"customer": "ACME", "engineer": "@SUM(1+1)", "date": "2026-03-04", "days": "1", "ticket": "TK-1"}
    body["description"] = '=HYPERLINK("http://evil","x")'
    assert api.post("/api/v1/work-logs", body, format="json", HTTP_IDEMPOTENCY_KEY="w1").status_code == 201
    page = admin_client.get("/admin/invoices/worklog/export/")
    form = page.context["form"]
    selected = {
        name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)
    }
    formats = [fmt.__name__ for fmt in admin.site._registry[WorkLog].get_export_formats()]
    for kind in ("CSV", "XLSX"):
        index = next(number for number, name in enumerate(formats) if name.upper().endswith(kind))
        response = admin_client.post(
            "/admin/invoices/worklog/export/", {"format": index, "resource": 0, **selected}
        )
        assert response.status_code == 200
        if kind == "CSV":
            rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
            assert not [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
            values = list(sheet.iter_rows(values_only=True))
            rows = [dict(zip(values[0], row, strict=True)) for row in values[1:]]
        assert rows[0]["description"] == '\'=HYPERLINK("http://evil","x")'
        assert rows[0]["engineer"] == "'@SUM(1+1)"


def test_the_admins_work_log_formats_read_with_the_work_log_reader():
    """The admin's CSV and XLSX formats of work logs ask for the work-log columns, as the command does."""
    from invoices.resources import WorkLogCSV

    with pytest.raises(BillingError) as refused:
        WorkLogCSV().create_dataset(b"customer,engineer\nDEMO-ACTIVE,Wang\n")
    assert refused.value.code == "import_columns"
