"""Recording the fapiao the e-invoice platform issued (invoices.fapiao_import): its query export workbook and
its invoice XML files are read with their numbers as text, matched to our invoices and credit notes, and
recorded only when the whole upload is consistent; the same upload twice records nothing twice."""

import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings
from django.utils import translation

from billing.errors import BillingError
from invoices.fapiao_import import (
    FapiaoImportRefused,
    Outcome,
    ParsedFapiao,
    fapiao_import_preview,
    fapiao_import_record,
    fapiao_number,
    read_fapiao_upload,
)
from invoices.models import Fapiao, FapiaoStatus, RedLetterRequest, RedLetterStatus
from invoices.services import credit_note_issue
from tests.factories import ServicePeriodFactory
from tests.invoices.conftest import issued_invoices
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
    zipped,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoices(catalogue):
    return two_invoices()


@pytest.fixture(autouse=True)
def english():
    """The messages read in English (they are translated: the default language is Chinese)."""
    with translation.override("en"):
        yield


def parsed_of(data: bytes, name: str = "export.xlsx") -> ParsedFapiao:
    return read_fapiao_upload(data, name=name)


def record(data: bytes, name: str = "export.xlsx", by=None):
    return fapiao_import_record(parsed=parsed_of(data, name), by=by, source=name)


# Reading


@pytest.mark.parametrize("numbers_as", ["text", "int"])
def test_the_export_is_read_by_header_name_with_numbers_as_text_and_its_totals_row_left_out(numbers_as):
    rows = [
        Issued(LEADING_ZEROS, BUYER_A, Decimal("10600.00"), remark="INV2026-000001"),
        Issued(number(2), BUYER_B, Decimal("5300.00"), issued_on="2026/11/04"),
    ]
    parsed = parsed_of(export_workbook(rows, numbers_as=numbers_as))
    assert not parsed.problems
    assert [(row.row, row.number) for row in parsed.rows] == [(3, LEADING_ZEROS), (4, number(2))]
    first = parsed.rows[0]
    assert (first.seller, first.buyer, first.gross, first.red) == (
        settings.VENDOR["uscc"],
        BUYER_A,
        Decimal("10600.00"),
        False,
    )
    assert (first.issued_on, parsed.rows[1].issued_on) == (D(2026, 11, 3), D(2026, 11, 4))
    assert first.fapiao_type == "special"
    assert first.references == ["INV2026-000001"]


def test_a_number_a_spreadsheet_rounded_to_a_float_is_refused_with_its_row_never_guessed():
    rows = [Issued(number(1), BUYER_A, Decimal("10600.00")), Issued(LEADING_ZEROS, BUYER_B, Decimal("1.00"))]
    parsed = parsed_of(export_workbook(rows, numbers_as="float"))
    assert parsed.rows == []
    assert [problem.row for problem in parsed.problems] == [3, 4]
    assert "rounded" in parsed.problems[0].message


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("00260000000000000123", "00260000000000000123"),
        (260000000000000123, "00260000000000000123"),  # an integer cell: its zeros put back
        (26110000000000000001, "26110000000000000001"),
        (123.0, "00000000000000000123"),  # a float a double holds exactly
    ],
)
def test_fapiao_numbers_are_text_of_20_digits(cell, expected):
    assert fapiao_number(cell) == expected


@pytest.mark.parametrize(
    "cell", [2.611e19, "2611000000000000000", "261100000000000000012", "", None, "26110000000000000O01"]
)
def test_what_is_not_exactly_20_digits_is_refused(cell):
    with pytest.raises(ValueError, match="number"):
        fapiao_number(cell)


def _saved(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_workbook_without_the_sheet_or_its_header_row_is_refused():
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    with pytest.raises(BillingError) as refused:
        read_fapiao_upload(_saved(book), name="x.xlsx")
    assert refused.value.code == "fapiao_import_sheet"
    book.active.title = "发票基础信息"
    book.active.append(["发票号码", "金额"])
    with pytest.raises(BillingError) as refused:
        read_fapiao_upload(_saved(book), name="x.xlsx")
    assert refused.value.code == "fapiao_import_header"
    with pytest.raises(BillingError) as refused:
        read_fapiao_upload(b"not a zip", name="x.xlsx")
    assert refused.value.code == "import_unreadable"
    with pytest.raises(BillingError):
        read_fapiao_upload(b"a,b", name="x.csv")


def test_invoice_xml_one_many_and_zipped_are_read():
    one = Issued(number(7), BUYER_A, Decimal("10600.00"), remark="INV2026-000001")
    two = Issued(LEADING_ZEROS, BUYER_B, Decimal("5300.00"))
    single = parsed_of(invoice_xml(one), "a.xml")
    assert [(r.number, r.gross, r.issued_on, r.buyer) for r in single.rows] == [
        (number(7), Decimal("10600.00"), D(2026, 11, 3), BUYER_A)
    ]
    assert single.rows[0].references == ["INV2026-000001"]
    archive = parsed_of(
        zipped({"a.xml": invoice_xml(one), "dir/b.xml": invoice_xml(two), "readme.txt": b"x"}), "f.zip"
    )
    assert sorted(row.number for row in archive.rows) == sorted([number(7), LEADING_ZEROS])
    assert not archive.problems
    gbk = parsed_of(invoice_xml(two, encoding="GBK"), "gbk.xml")
    assert gbk.rows[0].number == LEADING_ZEROS


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<EInvoice><TaxSupervisionInfo><InvoiceNumber>&lol4;</InvoiceNumber></TaxSupervisionInfo></EInvoice>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<EInvoice><EInvoiceData><AdditionalInformation><Remark>&secret;</Remark></AdditionalInformation></EInvoiceData>
<TaxSupervisionInfo><InvoiceNumber>26110000000000000001</InvoiceNumber></TaxSupervisionInfo></EInvoice>"""


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_hostile_xml_is_refused_cleanly_and_nothing_is_recorded(invoices, hostile):
    for parsed in (parsed_of(hostile, "evil.xml"), parsed_of(zipped({"evil.xml": hostile}), "evil.zip")):
        assert parsed.rows == []
        assert "DOCTYPE" in parsed.problems[0].message
        with pytest.raises(FapiaoImportRefused):
            fapiao_import_record(parsed=parsed, by=None, source="evil")
    assert not Fapiao.objects.exists()


def test_malformed_xml_is_a_row_problem_not_a_crash():
    parsed = parsed_of(b"<EInvoice><TaxSupervisionInfo>", "broken.xml")
    assert parsed.rows == []
    assert parsed.problems[0].where == "broken.xml:1"


# Matching and recording


def test_fapiao_are_matched_by_our_number_in_the_remark_or_by_buyer_and_amount_and_recorded(invoices):
    first, second = invoices
    rows = [
        Issued(LEADING_ZEROS, BUYER_A, gross(first), remark=f"服务费 {first.number}"),
        Issued(number(2), BUYER_B, gross(second), kind="数电发票（普通发票）"),  # no 流水号: buyer and amount
    ]
    preview = fapiao_import_preview(parsed_of(export_workbook(rows, numbers_as="int")))
    assert preview.consistent
    assert [(item.row.number, item.invoice, item.outcome) for item in preview.matched] == [
        (LEADING_ZEROS, first, Outcome.NEW),
        (number(2), second, Outcome.NEW),
    ]
    imported = record(export_workbook(rows, numbers_as="int"))
    assert imported.new == 2
    recorded = {fapiao.number: fapiao for fapiao in Fapiao.objects.all()}
    assert recorded[LEADING_ZEROS].invoice == first
    assert (recorded[LEADING_ZEROS].fapiao_type, recorded[number(2)].fapiao_type) == ("special", "ordinary")
    assert recorded[LEADING_ZEROS].gross.amount == gross(first)
    assert recorded[LEADING_ZEROS].issued_on == D(2026, 11, 3)
    assert recorded[LEADING_ZEROS].source == "export.xlsx"
    assert recorded[number(2)].invoice == second
    assert not recorded[number(2)].red


def test_the_serial_column_matches_first(invoices):
    first, _second = invoices
    rows = [Issued(number(1), BUYER_A, gross(first), serial=first.number, remark="")]
    preview = fapiao_import_preview(parsed_of(export_workbook(rows, serial_column=True)))
    assert preview.matched[0].invoice == first


def test_an_upload_with_unmatched_or_conflicting_rows_records_nothing_and_says_which_rows(invoices):
    first, second = invoices
    rows = [
        Issued(number(1), BUYER_A, gross(first), remark=first.number),  # fine
        Issued(number(2), BUYER_B, gross(second) + 1, remark=second.number),  # amount differs
        Issued(number(3), BUYER_A, Decimal("1.00")),  # nothing of ours
        Issued(number(4), BUYER_B, gross(second), seller="91440300MA5XXXXXXX"),  # another seller
    ]
    data = export_workbook(rows)
    preview = fapiao_import_preview(parsed_of(data))
    assert not preview.consistent
    assert [item.row.row for item in preview.matched] == [3]
    assert [(item.row.row, item.invoice) for item in preview.conflicts] == [(4, second), (6, None)]
    assert "differs" in preview.conflicts[0].message
    assert "seller" in preview.conflicts[1].message
    assert [item.row.row for item in preview.unmatched] == [5]
    with pytest.raises(FapiaoImportRefused) as refused:
        record(data)
    assert refused.value.preview.conflicts
    assert not Fapiao.objects.exists()


def test_a_number_recorded_on_another_invoice_and_two_fapiao_for_one_invoice_conflict(invoices):
    first, second = invoices
    record(export_workbook([Issued(number(1), BUYER_A, gross(first), remark=first.number)]))
    moved = fapiao_import_preview(
        parsed_of(export_workbook([Issued(number(1), BUYER_B, gross(second), remark=second.number)]))
    )
    assert "another invoice" in moved.conflicts[0].message
    again = fapiao_import_preview(
        parsed_of(export_workbook([Issued(number(5), BUYER_A, gross(first), remark=first.number)]))
    )
    assert number(1) in again.conflicts[0].message  # the invoice has its fapiao already
    twice = fapiao_import_preview(
        parsed_of(
            export_workbook(
                [
                    Issued(number(6), BUYER_B, gross(second), remark=second.number),
                    Issued(number(7), BUYER_B, gross(second)),
                ]
            )
        )
    )
    assert [item.row.row for item in twice.conflicts] == [3, 4]


def test_two_invoices_of_one_buyer_and_amount_are_not_guessed(catalogue, invoices):
    first, _second = invoices
    ServicePeriodFactory(
        contract__customer=first.customer, start=D(2027, 1, 1), end=D(2027, 12, 31), fee=10600
    )
    twin = issued_invoices(first.customer, up_to=D(2027, 1, 31), issue_date=D(2026, 12, 1))["CNY"]
    assert gross(twin) == gross(first)
    preview = fapiao_import_preview(parsed_of(export_workbook([Issued(number(1), BUYER_A, gross(first))])))
    assert "流水号" in preview.unmatched[0].message


def test_importing_the_same_file_again_records_nothing_twice_and_updates_the_platform_status(invoices):
    first, second = invoices
    rows = [
        Issued(number(1), BUYER_A, gross(first), remark=first.number),
        Issued(number(2), BUYER_B, gross(second)),  # matched by buyer and amount the first time
    ]
    assert record(export_workbook(rows)).new == 2
    again = record(export_workbook(rows))
    assert (again.new, again.recorded, again.updated) == (0, 2, 0)
    rows[0].status = "已红冲-全额"
    changed = record(export_workbook(rows))
    assert (changed.new, changed.updated) == (0, 1)
    assert Fapiao.objects.get(number=number(1)).status == FapiaoStatus.REVERSED_FULL
    assert record(invoice_xml(rows[0]), "1.xml").updated == 0  # an XML says no status: it changes none
    assert Fapiao.objects.get(number=number(1)).status == FapiaoStatus.REVERSED_FULL
    assert Fapiao.objects.count() == 2


def test_the_xml_and_the_workbook_row_of_one_fapiao_together_are_one_fapiao(invoices):
    first, _second = invoices
    row = Issued(number(1), BUYER_A, gross(first), remark=first.number)
    parsed = parsed_of(export_workbook([row]))
    parsed.extend(parsed_of(invoice_xml(row), "1.xml"))
    preview = fapiao_import_preview(parsed)
    assert preview.consistent
    assert [item.outcome for item in preview.matched] == [
        Outcome.NEW,
        Outcome.REPEATED,
    ]
    assert fapiao_import_record(parsed=parsed, by=None, source="both").new == 1


def test_a_red_fapiao_is_recorded_on_the_credit_note_and_completes_its_red_letter_request(invoices):
    first, _second = invoices
    record(export_workbook([Issued(number(1), BUYER_A, gross(first), remark=first.number)]))
    blue = Fapiao.objects.get(number=number(1))
    note = credit_note_issue(invoice=first, reason="开票有误")
    request = RedLetterRequest.objects.create(
        credit_note=note,
        blue=blue,
        reason="01",
        status=RedLetterStatus.CONFIRMED,
        form_number="1100000000001",
    )
    red = Issued(
        number(9),
        BUYER_A,
        gross(note),  # negative
        red=True,
        remark=f"被红冲蓝字数电发票号码：{number(1)} 红字发票信息确认单编号：1100000000001",
    )
    blue_row = Issued(number(1), BUYER_A, gross(first), remark=first.number, status="已红冲-全额")
    imported = record(export_workbook([blue_row, red]))
    assert (imported.new, imported.updated, imported.requests) == (1, 1, 1)
    fapiao = Fapiao.objects.get(number=number(9))
    assert (fapiao.invoice, fapiao.red, fapiao.gross.amount) == (note, True, gross(note))
    request.refresh_from_db()
    assert (request.red, request.status) == (fapiao, RedLetterStatus.ISSUED)
    assert Fapiao.objects.get(number=number(1)).status == FapiaoStatus.REVERSED_FULL
    assert record(export_workbook([blue_row, red])).new == 0  # and again: nothing twice


def test_a_red_fapiao_names_its_credit_note_by_number_and_a_red_row_never_matches_an_invoice(invoices):
    first, _second = invoices
    note = credit_note_issue(invoice=first, reason="服务中止")
    red = Issued(number(9), BUYER_A, gross(note), red=True, serial=note.number)
    preview = fapiao_import_preview(parsed_of(export_workbook([red], serial_column=True)))
    assert preview.matched[0].invoice == note
    wrong = Issued(number(8), BUYER_A, -gross(first), red=True, remark=first.number)
    assert "credit notes" in fapiao_import_preview(parsed_of(export_workbook([wrong]))).conflicts[0].message


def test_a_zip_of_xml_files_is_recorded(invoices):
    first, second = invoices
    files = {
        "1.xml": invoice_xml(Issued(number(1), BUYER_A, gross(first), remark=first.number)),
        "2.xml": invoice_xml(Issued(LEADING_ZEROS, BUYER_B, gross(second))),
    }
    assert record(zipped(files), "answer.zip").new == 2
    assert Fapiao.objects.get(number=LEADING_ZEROS).invoice == second


def test_a_zip_is_read_member_by_member(invoices):
    data = zipped({"a.xml": b"<a/>"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["a.xml"]
    parsed = parsed_of(data, "z.zip")
    assert parsed.problems[0].where == "z.zip/a.xml:1"
