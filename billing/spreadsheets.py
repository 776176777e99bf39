"""Spreadsheet files in and out: every import reads its file here, every export escapes its text here.

Reading (``read_spreadsheet``) trusts nothing the file says about itself:
- a file over IMPORT_MAX_BYTES is refused before it is read;
- CSV is UTF-8 (with or without the BOM Excel writes) only when the whole file decodes as UTF-8; GB18030 (the
  superset of GBK that Chinese Excel saves "CSV" in) only when the whole file decodes as GB18030 and is not
  UTF-8 text with a damaged byte: such a file is refused, never misread (王工 must not become 鐜嬪伐);
- XLSX is checked in its zip directory before openpyxl loads it: the bytes it unpacks to, the shared-strings
  table (its size and its count of strings) and the sheets' declared size (zipfile never unpacks more than
  a member declares, so the directory bounds the work); a zip bomb is refused in milliseconds;
- at most IMPORT_MAX_ROWS rows and IMPORT_MAX_COLUMNS columns, no column named twice, no row longer than
  the header.

Writing: a cell a spreadsheet would run as a formula (text starting with =, +, -, @, a tab or a carriage
return that is not a plain number) is refused by imports (``refused_on_import``: a phone number written
+86 ... is kept) and escaped by exports
(``formula_escaped``: an apostrophe first, so it is text).
"""

import csv
import datetime
import io
import re
import zipfile
from decimal import Decimal, InvalidOperation
from typing import BinaryIO
from xml.etree.ElementTree import XMLPullParser

import openpyxl
import tablib
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_REFUSED = _("Looks like a spreadsheet formula; formulas are not imported.")
UTF8_BOM = b"\xef\xbb\xbf"
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?\"")


def looks_like_formula(value: str) -> bool:
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first), unless it is a plain number."""
    if not value.startswith(FORMULA_STARTS):
        return False
    try:
        Decimal(value)
    except InvalidOperation:
        return True
    return False


# An international phone number ("+86 138 0013 8000", "+86-10-8888 8888"): text an import keeps as it is (a
# spreadsheet reads it as arithmetic at worst, never as a function call); exports still escape it.
PHONE_NUMBER = re.compile(r"\+\d[\d \-()]{4,30}")


def refused_on_import(value: str) -> bool:
    """A cell an import refuses as a formula: looks_like_formula, except an international phone number."""
    return looks_like_formula(value) and not PHONE_NUMBER.fullmatch(value)


def formula_escaped(value):
    """The value for an exported cell: text that looks like a formula gets an apostrophe first."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def formula_escaped_dataset(dataset: tablib.Dataset) -> tablib.Dataset:
    escaped = tablib.Dataset(headers=[formula_escaped(header) for header in dataset.headers or []])
    escaped.title = dataset.title
    for row in dataset:
        escaped.append([formula_escaped(cell) for cell in row])
    return escaped


def read_spreadsheet(handle: BinaryIO, *, name: str, size: int) -> tablib.Dataset:
    """The rows of an uploaded or local CSV/XLSX file under its header row, or a BillingError saying why the
    file is refused."""
    max_bytes = settings.IMPORT_MAX_BYTES
    if size > max_bytes:
        raise BillingError(
            _("The file has %(size)s bytes, more than the %(max)s imported at once: split it."),
            code="import_too_large",
            params={"size": size, "max": max_bytes},
        )
    if name.lower().endswith(".xlsx"):
        rows = _xlsx_rows(handle)
    else:
        rows = csv.reader(io.StringIO(decode_text(handle.read(max_bytes + 1)), newline=""))
    return _dataset(rows)


def decode_text(raw: bytes) -> str:
    """The file's text: UTF-8 when all of it is UTF-8 (a BOM dropped), else GB18030 when all of it is that
    and it is not UTF-8 text with a damaged byte; anything else is refused."""
    body = raw.removeprefix(UTF8_BOM)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        if raw.startswith(UTF8_BOM) or _mostly_utf8(body):
            raise BillingError(
                _(
                    "The file is UTF-8 text but line %(line)s holds bytes that are not UTF-8 (a damaged or "
                    "mixed file); nothing was imported. Correct that line or save the file again as "
                    "“CSV UTF-8”."
                ),
                code="import_encoding_damaged",
                params={"line": body[: error.start].count(b"\n") + 1},
            ) from error
        try:
            text = body.decode("gb18030")
        except UnicodeDecodeError:
            text = "\x00"
    if "\x00" in text:  # UTF-16 ("Unicode text"), a binary file, or neither encoding throughout
        raise BillingError(
            _(
                "The file is neither UTF-8 nor GBK/GB18030 text: save it from Excel as “CSV UTF-8” or as "
                "XLSX."
            ),
            code="import_encoding",
        )
    return text


def _mostly_utf8(raw: bytes) -> bool:
    """Whether text that is not all UTF-8 still reads mostly as UTF-8 (at least as many well-formed non-ASCII
    characters as broken sequences): a UTF-8 file with a stray byte, which GB18030 would decode into other
    characters. Real GBK text read as UTF-8 is almost all broken sequences."""
    text = raw.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    well_formed = sum(1 for char in text if char > "\x7f") - broken
    return well_formed > 0 and well_formed >= broken


def _refused_xlsx(message, **params) -> BillingError:
    return BillingError(message, code="import_xlsx_refused", params=params)


def check_xlsx(archive: zipfile.ZipFile) -> None:
    """Refuses a workbook whose zip directory or parts say it is bigger than an import may be, before
    openpyxl reads any of it."""
    members = archive.infolist()
    unpacked = sum(member.file_size for member in members)
    limit = settings.IMPORT_XLSX_MAX_UNPACKED_BYTES
    if len(members) > 1000 or unpacked > limit:
        raise _refused_xlsx(
            _("The workbook unpacks to %(size)s bytes, more than the %(max)s an import reads: split it."),
            size=unpacked,
            max=limit,
        )
    parts = _content_types(archive)
    for part in (name for name, kind in parts.items() if kind == SHARED_STRINGS_TYPE):
        count, most = _shared_string_count(archive, part), settings.IMPORT_XLSX_MAX_SHARED_STRINGS
        if count > most:
            raise _refused_xlsx(
                _("The workbook holds more than %(max)s different texts; an import reads at most that many."),
                max=most,
            )
    for part in (name for name, kind in parts.items() if kind == WORKSHEET_TYPE):
        rows, columns = _declared_size(archive, part)
        if rows > settings.IMPORT_MAX_ROWS + 1 or columns > settings.IMPORT_MAX_COLUMNS:
            raise _refused_xlsx(
                _(
                    "A sheet of the workbook spans %(rows)s rows and %(columns)s columns; an import reads at "
                    "most %(max_rows)s rows and %(max_columns)s columns."
                ),
                rows=rows,
                columns=columns,
                max_rows=settings.IMPORT_MAX_ROWS,
                max_columns=settings.IMPORT_MAX_COLUMNS,
            )


def _content_types(archive: zipfile.ZipFile) -> dict[str, str]:
    """The workbook's parts by their content type, as openpyxl finds them ([Content_Types].xml)."""
    parser = XMLPullParser(events=("start",))
    with archive.open("[Content_Types].xml") as source:
        parser.feed(source.read())
    return {
        element.get("PartName", "").lstrip("/"): element.get("ContentType", "")
        for _event, element in parser.read_events()
        if element.tag.endswith("}Override")
    }


def _shared_string_count(archive: zipfile.ZipFile, part: str) -> int:
    """The strings the table holds, counted while it streams by (its count attribute may lie)."""
    parser, count = XMLPullParser(events=("end",)), 0
    with archive.open(part) as source:
        while chunk := source.read(64 * 1024):
            parser.feed(chunk)
            for _event, element in parser.read_events():
                if element.tag.endswith("}si"):
                    count += 1
                    element.clear()
            if count > settings.IMPORT_XLSX_MAX_SHARED_STRINGS:
                break
    return count


def _declared_size(archive: zipfile.ZipFile, part: str) -> tuple[int, int]:
    """The rows and columns a sheet's <dimension> declares (openpyxl pads every row to it), or (0, 0)."""
    with archive.open(part) as source:
        head = source.read(16 * 1024)
    found = DIMENSION.search(head)
    if not found:
        return 0, 0
    last_column, last_row = found.group(3) or found.group(1), found.group(4) or found.group(2)
    return int(last_row), _column_number(last_column.decode())


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _xlsx_rows(handle: BinaryIO):
    """The first sheet's rows, read lazily after ``check_xlsx``; formulas are read as their text (=...), not
    their results, so that they are refused."""
    try:
        check_xlsx(zipfile.ZipFile(handle))
        handle.seek(0)
        book = openpyxl.load_workbook(handle, read_only=True, data_only=False)
        sheet = book.worksheets[0]
    except BillingError:
        raise
    except Exception as error:  # zipfile, XML and KeyError alike for a broken file
        raise BillingError(
            _("The file is not a readable XLSX workbook."), code="import_unreadable"
        ) from error
    for row in sheet.iter_rows(values_only=True, max_col=settings.IMPORT_MAX_COLUMNS + 1):
        yield [_cell_text(value) for value in row]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _dataset(rows) -> tablib.Dataset:
    max_rows, max_columns = settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS
    rows = iter(rows)
    headers = [str(header).strip().lower() for header in next(rows, [])]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > max_columns:
        raise BillingError(
            _("The file has %(count)s columns; an import reads at most %(max)s."),
            code="import_too_many_columns",
            params={"count": len(headers), "max": max_columns},
        )
    refuse_repeated_columns(headers)
    body, ragged = [], []
    for number, row in enumerate(rows, 1):
        if number > max_rows:
            raise BillingError(
                _("The file has more than %(max)s rows; split it into smaller files."),
                code="import_too_many_rows",
                params={"max": max_rows},
            )
        cells = [str(cell) for cell in row]
        while len(cells) > len(headers) and not cells[-1].strip():
            cells.pop()
        if len(cells) > len(headers):
            ragged.append(number)
        body.append(cells + [""] * (len(headers) - len(cells)))
    while body and not any(cell.strip() for cell in body[-1]):
        body.pop()  # the empty lines a spreadsheet leaves at the end
    if ragged:
        raise BillingError(
            _("Row(s) %(rows)s have more cells than the header has columns; nothing was imported."),
            code="import_ragged_rows",
            params={"rows": ", ".join(map(str, ragged[:20]))},
        )
    return tablib.Dataset(*body, headers=headers)


def refuse_repeated_columns(headers) -> None:
    """A column named twice would have one of its values silently dropped: the file is refused."""
    seen, repeated = set(), []
    for header in headers or []:
        name = str(header).strip().lower()
        if name and name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise BillingError(
            _("The column(s) %(columns)s are named twice; name each column once. Nothing was imported."),
            code="import_repeated_columns",
            params={"columns": ", ".join(repeated)},
        )
