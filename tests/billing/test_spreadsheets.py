"""Files every import reads (billing.spreadsheets): zip bombs and oversized workbooks refused before they are
loaded, encodings chosen only when the whole file decodes, repeated columns refused, formulas escaped."""

import io
import tracemalloc

import pytest
from django.utils.translation import override

from billing.errors import BillingError
from billing.spreadsheets import decode_text, formula_escaped, read_spreadsheet
from tests.spreadsheet_files import handmade_xlsx, repeated_strings

HEADER = ["customer", "engineer", "date", "ticket", "days"]


def read(data: bytes, name: str):
    return read_spreadsheet(io.BytesIO(data), name=name, size=len(data))


def test_a_zip_bomb_xlsx_is_refused_before_it_is_loaded():
    bomb = handmade_xlsx([HEADER], shared_strings=repeated_strings(3_000_000, "王工" * 10))
    assert len(bomb) < 1024 * 1024  # about 200 MB of shared strings in a small file
    tracemalloc.start()
    try:
        with override("en"), pytest.raises(BillingError, match="unpacks to") as refused:
            read(bomb, "logs.xlsx")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.code == "import_xlsx_refused"
    assert peak < 50 * 1024 * 1024


def test_a_workbook_of_more_texts_than_the_limit_is_refused_before_it_is_loaded(settings):
    settings.IMPORT_XLSX_MAX_SHARED_STRINGS = 50_000
    many = handmade_xlsx([HEADER], shared_strings=repeated_strings(60_000, ""))
    with override("en"), pytest.raises(BillingError, match="more than 50000 different texts"):
        read(many, "logs.xlsx")


def test_a_sheet_declaring_a_million_rows_or_columns_is_refused_before_it_is_loaded():
    row = ["ACME", "李雷", "2026-03-04", "TK-1", "1"]
    for dimension in ("A1:E1048576", "A1:XFD2"):
        with override("en"), pytest.raises(BillingError, match="spans") as refused:
            read(handmade_xlsx([HEADER, row], dimension=dimension), "logs.xlsx")
        assert refused.value.code == "import_xlsx_refused"


def test_a_valid_workbook_is_read_under_the_limits():
    dataset = read(handmade_xlsx([HEADER, ["ACME", "李雷", "2026-03-04", "TK-1", "1.5"]]), "logs.xlsx")
    assert dataset.dict == [
        {"customer": "ACME", "engineer": "李雷", "date": "2026-03-04", "ticket": "TK-1", "days": "1.5"}
    ]


def test_every_import_has_a_size_and_a_row_limit(settings):
    settings.IMPORT_MAX_ROWS = 2
    csv = ("date,kind,name_zh,name_en\n" + "2027-01-01,holiday,元旦,New Year\n" * 3).encode()
    with override("en"), pytest.raises(BillingError, match="more than 2 rows"):
        read(csv, "schedule.csv")
    settings.IMPORT_MAX_BYTES = 50
    with override("en"), pytest.raises(BillingError, match="more than the 50 imported"):
        read(csv, "schedule.csv")


# Encodings

UTF8_ROW = "customer,engineer,ticket\nACME,王工,TK-1\n".encode()


def test_utf8_with_a_stray_byte_is_refused_not_misread():
    damaged = UTF8_ROW.replace(b"TK-1", b"\x81TK-1")  # GB18030 would decode it whole, as 鐜嬪伐
    assert "鐜嬪伐" in damaged.decode("gb18030")
    with (
        override("en"),
        pytest.raises(BillingError, match="line 2 holds bytes that are not UTF-8") as refused,
    ):
        decode_text(damaged)
    assert refused.value.code == "import_encoding_damaged"
    with override("en"), pytest.raises(BillingError, match="not UTF-8"):
        decode_text(b"\xef\xbb\xbf" + damaged)
    one_character = "customer,engineer\nACME,王".encode() + b"\x81,TK-1\n"  # as many good as bad
    assert one_character.decode("gb18030")
    with override("en"), pytest.raises(BillingError, match="not UTF-8"):
        decode_text(one_character)


def test_an_encoding_is_chosen_only_when_the_whole_file_decodes():
    assert decode_text(UTF8_ROW) == decode_text(b"\xef\xbb\xbf" + UTF8_ROW) == UTF8_ROW.decode()
    gbk = "customer,engineer,ticket\nACME,王工,数据迁移\n".encode("gbk")
    assert decode_text(gbk) == "customer,engineer,ticket\nACME,王工,数据迁移\n"
    with pytest.raises(BillingError) as refused:
        decode_text(gbk + b"\xff")  # neither encoding throughout
    assert refused.value.code == "import_encoding"
    with pytest.raises(BillingError):
        decode_text("customer\nACME\n".encode("utf-16"))


def test_duplicate_column_headers_are_refused():
    with override("en"), pytest.raises(BillingError, match="days are named twice") as refused:
        read(b"customer,days,engineer,Days\nACME,1,x,5\n", "logs.csv")
    assert refused.value.code == "import_repeated_columns"


# Exports


@pytest.mark.parametrize(
    ("text", "exported"),
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.50", "-12.50"),
        ("数据迁移", "数据迁移"),
        (3, 3),
    ],
)
def test_export_cells_that_look_like_formulas_get_an_apostrophe_and_numbers_do_not(text, exported):
    assert formula_escaped(text) == exported


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("+86 138 0013 8000", False),
        ("+86-10-8888 8888", False),
        ("+1 (415) 555-0100", False),
        ("+cmd|' /C calc'!A0", True),
        ("+86+SUM(A1)", True),
        ("=1+1", True),
        ("-86 138", True),
    ],
)
def test_an_import_keeps_international_phone_numbers_and_refuses_formulas(text, refused):
    from billing.spreadsheets import formula_escaped, refused_on_import

    assert refused_on_import(text) is refused
    assert formula_escaped(text) == "'" + text  # an export escapes them all the same
