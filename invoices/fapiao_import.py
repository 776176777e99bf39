"""Recording the fapiao the e-invoice platform issued (数电发票, ../shared/einvoice "Reading issued invoices
back"): its query export workbook (sheet 发票基础信息) and its invoice XML files, one, many or zipped, are
read into ``FapiaoRow``s; each is matched to our invoice (``fapiao_import_preview``) and, when the whole
upload is consistent, recorded (``fapiao_import_record``).

Reading trusts nothing the files say about themselves:
- a 20-digit number is text. A numeric cell is taken only when its value is exact: an integer as the file
  writes it (its lost leading zeros are put back: every 数电 number has 20 digits), or a float a double holds
  exactly; a float a spreadsheet rounded (2.6E+19) is refused, never guessed;
- the workbook is checked in its zip directory first (billing.spreadsheets.check_xlsx), read with openpyxl
  read-only; the header row is found by its names, the totals row (合计) ends the rows;
- XML is parsed by expat with any DOCTYPE refused before a declaration is read (no entity is ever
  defined, so neither "billion laughs" nor an external entity can be expanded), nothing is fetched;
- a zip is read member by member within the import limits, XML members only.

Matching, per row: by 发票流水号 (our invoice or credit note number; the batch export writes it) or a number
of ours in 备注; failing that, a blue fapiao by the buyer's taxpayer number (the customer's USCC) and 价税合计
equal to an issued invoice's gross, among invoices without a blue fapiao, when exactly one fits; a red
fapiao by the blue fapiao's number in 备注 (被红冲蓝字数电发票号码：…) through the red-letter request waiting
for it (or the blue invoice's only credit note of that amount). Conflicts: another seller's taxpayer number,
an amount or a buyer that differs from the invoice's, a number recorded on another invoice, two fapiao for
one invoice, a blue fapiao for a credit note or a red one for an invoice. Rows that match nothing are
reported and block the import too: the upload is recorded whole or not at all, so finance filters the
platform's export (or adds the 流水号) rather than leaving fapiao silently unrecorded. A fapiao recorded
already on the same invoice is "already recorded" (its platform status is brought up to date), so the same
file imported twice records nothing twice.
"""

import datetime
import io
import re
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pyexpat import ExpatError, ParserCreate
from xml.etree.ElementTree import Element, TreeBuilder

import openpyxl
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing.dispatch import send_task_on_commit
from billing.errors import BillingError
from billing.history import CHANGED, CREATED, history_record
from billing.money import round_fen
from billing.spreadsheets import check_xlsx
from contracts.models import FapiaoType
from invoices.fapiao_batch import on_fapiao
from invoices.models import (
    FAPIAO_NUMBER_DIGITS,
    Fapiao,
    FapiaoStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    RedLetterRequest,
    RedLetterStatus,
)
from invoices.selectors import invoice_gross_sql

SHEET = "发票基础信息"
COLUMNS = {
    "number": "数电发票号码",
    "old_number": "发票号码",
    "seller": "销方识别号",
    "buyer": "购方识别号",
    "buyer_name": "购买方名称",
    "issued_on": "开票日期",
    "gross": "价税合计",
    "type": "发票票种",
    "status": "发票状态",
    "positive": "是否正数发票",
    "remark": "备注",
    "serial": "发票流水号",
}
REQUIRED = ("number", "seller", "buyer", "issued_on", "gross")
TOTALS = "合计"
HEADER_SEARCH_ROWS = 10
NUMBER = re.compile(rf"[0-9]{{{FAPIAO_NUMBER_DIGITS}}}")
# Our invoice and credit-note numbers (invoices.services.invoice_issue: series, year, -, sequence).
OUR_NUMBER = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,10}[0-9]{4}-[0-9]{6,}(?![0-9])")
BLUE_IN_REMARK = re.compile(rf"被红冲蓝字数电发票号码[:：]\s*([0-9]{{{FAPIAO_NUMBER_DIGITS}}})")
EXACT_FLOAT = 2**53  # integers up to this a double holds exactly
PLATFORM_STATUS = {
    "正常": FapiaoStatus.NORMAL,
    "已红冲-全额": FapiaoStatus.REVERSED_FULL,
    "已红冲－全额": FapiaoStatus.REVERSED_FULL,
    "全额红冲": FapiaoStatus.REVERSED_FULL,
    "已红冲-部分": FapiaoStatus.REVERSED_PART,
    "已红冲－部分": FapiaoStatus.REVERSED_PART,
    "部分红冲": FapiaoStatus.REVERSED_PART,
    "作废": FapiaoStatus.VOID,
    "已作废": FapiaoStatus.VOID,
}
XML_MAX_BYTES = 1024 * 1024  # one invoice's XML is a few kilobytes
ZIP_MAX_MEMBERS = 20000


@dataclass(frozen=True)
class FapiaoRow:
    """One issued fapiao as the platform's file says it. ``row``: its row in the workbook, or its place
    among the XML files; ``source``: the file (and member) it was read from."""

    source: str
    row: int
    number: str
    seller: str
    buyer: str
    issued_on: datetime.date
    gross: Decimal
    red: bool
    fapiao_type: str
    platform_status: str
    serial: str = ""
    remark: str = ""
    buyer_name: str = ""

    @property
    def where(self) -> str:
        return f"{self.source}:{self.row}"

    @property
    def references(self) -> list[str]:
        """Numbers of ours the row names: its 流水号, then those in its 备注."""
        found = [self.serial.strip()] if self.serial.strip() else []
        return found + [ref for ref in OUR_NUMBER.findall(self.remark) if ref not in found]

    @property
    def blue_number(self) -> str:
        """A red fapiao's blue fapiao, as its 备注 names it."""
        found = BLUE_IN_REMARK.search(self.remark)
        return found.group(1) if found else ""


@dataclass(frozen=True)
class RowProblem:
    source: str
    row: int
    message: str

    @property
    def where(self) -> str:
        return f"{self.source}:{self.row}"


@dataclass
class ParsedFapiao:
    """What an upload holds: the rows read and the rows that could not be read, each with its place."""

    rows: list[FapiaoRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def extend(self, other: "ParsedFapiao") -> None:
        self.rows += other.rows
        self.problems += other.problems


class Outcome:
    NEW = "new"
    RECORDED = "recorded"  # the same number on the same invoice already
    REPEATED = "repeated"  # the same fapiao twice in the upload (its XML and its workbook row)
    UNMATCHED = "unmatched"
    CONFLICT = "conflict"


@dataclass
class PreviewRow:
    row: FapiaoRow
    outcome: str
    invoice: Invoice | None = None
    message: str = ""
    request: RedLetterRequest | None = None
    status_changes: bool = False


@dataclass
class FapiaoPreview:
    rows: list[PreviewRow]
    problems: list[RowProblem]

    def _with(self, *outcomes: str) -> list[PreviewRow]:
        return [item for item in self.rows if item.outcome in outcomes]

    @property
    def matched(self) -> list[PreviewRow]:
        return self._with(Outcome.NEW, Outcome.RECORDED, Outcome.REPEATED)

    @property
    def new(self) -> list[PreviewRow]:
        return self._with(Outcome.NEW)

    @property
    def recorded(self) -> list[PreviewRow]:
        return self._with(Outcome.RECORDED)

    @property
    def unmatched(self) -> list[PreviewRow]:
        return self._with(Outcome.UNMATCHED)

    @property
    def conflicts(self) -> list[PreviewRow]:
        return self._with(Outcome.CONFLICT)

    @property
    def consistent(self) -> bool:
        return not (self.problems or self.unmatched or self.conflicts)


class FapiaoImportRefused(BillingError):
    """The upload is not consistent: nothing was recorded. ``preview`` says why, row by row."""

    status = 409

    def __init__(self, preview: FapiaoPreview):
        self.preview = preview
        super().__init__(
            _(
                "Nothing was recorded: %(problems)s unreadable, %(unmatched)s unmatched and %(conflicts)s "
                "conflicting rows."
            ),
            code="fapiao_import_inconsistent",
            params={
                "problems": len(preview.problems),
                "unmatched": len(preview.unmatched),
                "conflicts": len(preview.conflicts),
            },
        )


# Reading


def read_fapiao_upload(data: bytes, *, name: str) -> ParsedFapiao:
    """The rows of one uploaded file: the platform's export workbook (.xlsx), an invoice's XML (.xml) or a
    zip of XML files; a BillingError when the file itself is refused."""
    lower = name.lower()
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise BillingError(
            _("The file has %(size)s bytes, more than the %(max)s imported at once: split it."),
            code="import_too_large",
            params={"size": len(data), "max": settings.IMPORT_MAX_BYTES},
        )
    if lower.endswith(".xlsx"):
        return read_export_workbook(io.BytesIO(data), source=name)
    if lower.endswith(".xml"):
        return read_invoice_xml(data, source=name)
    if lower.endswith(".zip"):
        return read_xml_zip(io.BytesIO(data), source=name)
    raise BillingError(
        _("%(name)s: upload the platform's export (.xlsx), invoice XML files (.xml) or a .zip of them."),
        code="fapiao_import_format",
        params={"name": name},
    )


def read_export_workbook(handle, *, source: str) -> ParsedFapiao:
    """The rows of the platform's query export (sheet 发票基础信息), each with its row number."""
    try:
        check_xlsx(zipfile.ZipFile(handle))
        handle.seek(0)
        book = openpyxl.load_workbook(handle, read_only=True, data_only=False)
    except BillingError:
        raise
    except Exception as error:  # zipfile, XML and KeyError alike for a broken file
        raise BillingError(
            _("%(name)s is not a readable XLSX workbook."), code="import_unreadable", params={"name": source}
        ) from error
    try:
        if SHEET not in book.sheetnames:
            raise BillingError(
                _("%(name)s has no sheet “%(sheet)s”: export the platform's invoice query (全量发票查询)."),
                code="fapiao_import_sheet",
                params={"name": source, "sheet": SHEET},
            )
        return _workbook_rows(book[SHEET], source)
    finally:
        book.close()


def _workbook_rows(sheet, source: str) -> ParsedFapiao:
    parsed = ParsedFapiao()
    rows = sheet.iter_rows(values_only=True, max_col=settings.IMPORT_MAX_COLUMNS)
    columns, number = None, 0
    for number, cells in enumerate(rows, 1):
        if columns is None:
            names = [str(cell).strip() if cell is not None else "" for cell in cells]
            if COLUMNS["number"] in names:
                columns = _column_places(names, source)
            elif number >= HEADER_SEARCH_ROWS:
                break
            continue
        if number > settings.IMPORT_MAX_ROWS + HEADER_SEARCH_ROWS:
            raise BillingError(
                _("The file has more than %(max)s rows; split it into smaller files."),
                code="import_too_many_rows",
                params={"max": settings.IMPORT_MAX_ROWS},
            )
        values = {key: cells[place] if place < len(cells) else None for key, place in columns.items()}
        if all(value is None or str(value).strip() == "" for value in cells):
            continue
        if any(isinstance(value, str) and value.strip() == TOTALS for value in cells[:3]):
            break  # the totals row closes the list
        try:
            parsed.rows.append(_row(values, source=source, row=number))
        except ValueError as error:
            parsed.problems.append(RowProblem(source, number, str(error)))
    if columns is None:
        raise BillingError(
            _("%(name)s: no header row with “%(column)s” in its first %(rows)s rows."),
            code="fapiao_import_header",
            params={"name": source, "column": COLUMNS["number"], "rows": HEADER_SEARCH_ROWS},
        )
    return parsed


def _column_places(names: list[str], source: str) -> dict[str, int]:
    repeated = [name for name, count in Counter(n for n in names if n).items() if count > 1]
    if repeated:
        raise BillingError(
            _("The column(s) %(columns)s are named twice; name each column once. Nothing was imported."),
            code="import_repeated_columns",
            params={"columns": ", ".join(repeated)},
        )
    places = {key: names.index(title) for key, title in COLUMNS.items() if title in names}
    missing = [COLUMNS[key] for key in REQUIRED if key not in places]
    if missing:
        raise BillingError(
            _("%(name)s lacks the column(s) %(columns)s."),
            code="fapiao_import_columns",
            params={"name": source, "columns": ", ".join(missing)},
        )
    return places


def _row(values: dict, *, source: str, row: int) -> FapiaoRow:
    """A FapiaoRow of a workbook's or an XML's values (cells as openpyxl gives them, or text); a
    ValueError with a translated message for a value that cannot be taken as it is."""
    number_cell = values.get("number")
    if _blank(number_cell) and _is_twenty_digits(values.get("old_number")):
        number_cell = values.get("old_number")  # some exports put the 数电 number in 发票号码
    number = fapiao_number(number_cell)
    gross = _amount(values.get("gross"), COLUMNS["gross"])
    positive = _text(values.get("positive"))
    if positive not in ("", "是", "否", "Y", "N"):
        raise ValueError(gettext("是否正数发票 must read 是 or 否, not “%(value)s”.") % {"value": positive})
    red = positive in ("否", "N") or gross < 0
    if positive in ("是", "Y") and gross < 0:
        raise ValueError(
            gettext("A positive (blue) fapiao with a negative amount %(gross)s.") % {"gross": gross}
        )
    platform_status = _text(values.get("status"))
    return FapiaoRow(
        source=source,
        row=row,
        number=number,
        seller=_text(values.get("seller")).upper(),
        buyer=_text(values.get("buyer")).upper(),
        issued_on=_date(values.get("issued_on")),
        gross=-abs(gross) if red else gross,
        red=red,
        fapiao_type=_fapiao_type(_text(values.get("type"))),
        platform_status=platform_status,
        serial=_text(values.get("serial")),
        remark=_text(values.get("remark")),
        buyer_name=_text(values.get("buyer_name")),
    )


def _blank(value) -> bool:
    return value is None or str(value).strip() == ""


def _is_twenty_digits(value) -> bool:
    try:
        fapiao_number(value)
    except ValueError:
        return False
    return True


def fapiao_number(value) -> str:
    """The 20-digit number of a cell, as text. An integer cell is exact as the file writes it (openpyxl
    reads "00260000000000000123" stored as a number as 260000000000000123: the zeros are put back); a
    float is exact only below 2**53, above it a spreadsheet has rounded it and it is refused."""
    if isinstance(value, bool) or value is None:
        text = ""
    elif isinstance(value, int):
        text = str(value).zfill(FAPIAO_NUMBER_DIGITS) if value >= 0 else str(value)
    elif isinstance(value, float):
        if not value.is_integer() or not 0 <= value < EXACT_FLOAT:
            raise ValueError(
                gettext(
                    "The fapiao number is stored as a number a spreadsheet rounded (%(value)s): export it "
                    "again with the column as text."
                )
                % {"value": repr(value)}
            )
        text = str(int(value)).zfill(FAPIAO_NUMBER_DIGITS)
    else:
        text = str(value).strip().lstrip("'")
    if not NUMBER.fullmatch(text):
        raise ValueError(
            gettext("“%(value)s” is not a fapiao number (20 digits).") % {"value": text[:40]}
            if text
            else gettext("No fapiao number (数电发票号码).")
        )
    return text


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_FLOAT:
        value = int(value)
    return str(value).strip()


def _amount(value, column: str) -> Decimal:
    if isinstance(value, bool) or _blank(value):
        raise ValueError(gettext("No amount in %(column)s.") % {"column": column})
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("¥", "").replace("￥", ""))
    except InvalidOperation:
        raise ValueError(
            gettext("%(column)s: “%(value)s” is not an amount.")
            % {"column": column, "value": str(value)[:40]}
        ) from None
    if not amount.is_finite() or round_fen(amount) != amount:
        raise ValueError(
            gettext("%(column)s: “%(value)s” is not an amount to the fen.")
            % {"column": column, "value": value}
        )
    return round_fen(amount)


DATE_TEXT = re.compile(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")


def _date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    found = DATE_TEXT.fullmatch(text)
    if found:
        try:
            return datetime.date(*map(int, found.groups()))
        except ValueError:
            pass
    raise ValueError(gettext("开票日期: “%(value)s” is not a date.") % {"value": text[:40]})


def _fapiao_type(text: str) -> str:
    if "专" in text or text in ("01", "81"):
        return FapiaoType.SPECIAL
    return FapiaoType.ORDINARY  # 普通发票 (02, 82), and a type the file does not say


# XML


class _RefusedXml(Exception):
    pass


def _refuse_doctype(*_args) -> None:
    raise _RefusedXml


def safe_xml(data: bytes) -> Element:
    """The XML's root element; a ValueError for XML that declares a DOCTYPE (entities, external or not),
    is malformed or larger than one invoice's XML can be."""
    if len(data) > XML_MAX_BYTES:
        raise ValueError(gettext("The XML file is larger than an invoice's XML can be."))
    encoding = None
    declared = re.match(rb"\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9_-]+)", data)
    if declared and declared.group(1).lower() in (b"gbk", b"gb2312", b"gb18030"):
        data, encoding = data.decode("gb18030", errors="strict").encode("utf-8"), "utf-8"
    builder = TreeBuilder()
    parser = ParserCreate(encoding)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_doctype
    parser.ExternalEntityRefHandler = _refuse_doctype
    parser.StartElementHandler = lambda tag, attributes: builder.start(_local(tag), attributes)
    parser.EndElementHandler = lambda tag: builder.end(_local(tag))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
        return builder.close()
    except _RefusedXml:
        raise ValueError(gettext("The XML declares a DOCTYPE or entities; such XML is refused.")) from None
    except (ExpatError, UnicodeDecodeError, AssertionError, IndexError) as error:
        raise ValueError(gettext("The file is not well-formed XML (%(error)s).") % {"error": error}) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _find(root: Element, *names: str) -> str:
    for name in names:
        found = root.find(f".//{name}")
        if found is not None and (found.text or "").strip():
            return found.text.strip()
    return ""


def read_invoice_xml(data: bytes, *, source: str, row: int = 1) -> ParsedFapiao:
    """One 数电 invoice's XML: TaxSupervisionInfo/InvoiceNumber and IssueTime, the seller and buyer, the
    total with VAT, the 备注 and a 流水号 when present."""
    parsed = ParsedFapiao()
    try:
        root = safe_xml(data)
        supervision = root.find(".//TaxSupervisionInfo")
        number = _find(supervision, "InvoiceNumber") if supervision is not None else ""
        issued = _find(supervision, "IssueTime") if supervision is not None else ""
        gross = _find(root, "TotalTax-includedAmount", "TotalTaxIncludedAmount", "TotalAmWithTax")
        if not gross:
            without, tax = _find(root, "TotalAmWithoutTax"), _find(root, "TotalTaxAm")
            gross = str(Decimal(without) + Decimal(tax)) if without and tax else ""
        values = {
            "number": number,
            "seller": _find(root, "SellerIdNum", "SellerTaxID", "SellerTaxNo"),
            "buyer": _find(root, "BuyerIdNum", "BuyerTaxID", "BuyerTaxNo"),
            "buyer_name": _find(root, "BuyerName"),
            "issued_on": issued or _find(root, "IssueTime", "RequestTime"),
            "gross": gross,
            "type": _find(root, "EInvoiceType/LabelName", "EInvoiceType/LabelCode", "InvoiceType"),
            "remark": _find(root, "Remark"),
            "serial": _find(root, "InvoiceSerialNumber", "SerialNumber", "SerialNo"),
            "status": "",
        }
        parsed.rows.append(_row(values, source=source, row=row))
    except (ValueError, InvalidOperation) as error:
        parsed.problems.append(RowProblem(source, row, str(error)))
    return parsed


def read_xml_zip(handle, *, source: str) -> ParsedFapiao:
    """The XML files of a zip, each read by ``read_invoice_xml``; other members are left aside."""
    try:
        archive = zipfile.ZipFile(handle)
        members = [m for m in archive.infolist() if not m.is_dir()]
    except zipfile.BadZipFile as error:
        raise BillingError(
            _("%(name)s is not a readable zip file."), code="import_unreadable", params={"name": source}
        ) from error
    unpacked = sum(member.file_size for member in members)
    if len(members) > ZIP_MAX_MEMBERS or unpacked > settings.IMPORT_XLSX_MAX_UNPACKED_BYTES:
        raise BillingError(
            _("%(name)s unpacks to more than an import reads: split it."),
            code="import_too_large",
            params={"name": source},
        )
    parsed = ParsedFapiao()
    xml_members = [
        m for m in members if m.filename.lower().endswith(".xml") and not m.filename.startswith("__MACOSX/")
    ]
    if not xml_members:
        raise BillingError(
            _("%(name)s holds no XML file."), code="fapiao_import_format", params={"name": source}
        )
    for member in sorted(xml_members, key=lambda m: m.filename):
        name = f"{source}/{member.filename}"
        if member.file_size > XML_MAX_BYTES:
            parsed.problems.append(
                RowProblem(name, 1, gettext("The XML file is larger than an invoice's XML can be."))
            )
            continue
        with archive.open(member) as opened:
            parsed.extend(read_invoice_xml(opened.read(XML_MAX_BYTES + 1), source=name))
    return parsed


# Matching


def _chunks(values: list, size: int = 500):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _invoices_numbered(numbers: set[str], *, lock: bool) -> dict[str, Invoice]:
    found = {}
    for part in _chunks(sorted(numbers)):
        invoices = Invoice.objects.filter(number__in=part, status=InvoiceStatus.ISSUED)
        if lock:
            invoices = invoices.select_for_update(of=("self",))
        for invoice in invoices.select_related("customer").annotate(
            gross_total=invoice_gross_sql(only=on_fapiao())
        ):
            found[invoice.number] = invoice
    return found


def _invoices_by_pk(pks: set[int], *, lock: bool) -> dict[int, Invoice]:
    found = {}
    for part in _chunks(sorted(pks)):
        invoices = Invoice.objects.filter(pk__in=part)
        if lock:
            invoices = invoices.select_for_update(of=("self",))
        for invoice in invoices.select_related("customer").annotate(
            gross_total=invoice_gross_sql(only=on_fapiao())
        ):
            found[invoice.pk] = invoice
    return found


def _recorded(numbers: set[str]) -> dict[str, Fapiao]:
    found = {}
    for part in _chunks(sorted(numbers)):
        found |= {fapiao.number: fapiao for fapiao in Fapiao.objects.filter(number__in=part)}
    return found


def _gross(invoice: Invoice) -> Money:
    return Money(invoice.gross_total, invoice.currency)


def fapiao_import_preview(parsed: ParsedFapiao, *, lock: bool = False) -> FapiaoPreview:
    """What recording ``parsed`` would do, row by row: matched (new, or already recorded), unmatched and
    conflicting rows. A fixed number of queries per 500 rows; ``lock`` locks the invoices it reads (the
    recording's own preview)."""
    rows = parsed.rows
    vendor = settings.VENDOR["uscc"].strip().upper()
    references = {ref for row in rows for ref in row.references}
    ours = _invoices_numbered(references, lock=lock)
    recorded = _recorded({row.number for row in rows} | {row.blue_number for row in rows if row.blue_number})
    known = _invoices_by_pk({fapiao.invoice_id for fapiao in recorded.values()}, lock=lock)
    blue_of = _blue_fapiao_by_invoice({invoice.pk for invoice in ours.values()})
    unnamed = [row for row in rows if not any(ref in ours for ref in row.references)]
    by_buyer = _unfapiaoed_by_buyer(
        {row.buyer for row in unnamed if not row.red and row.buyer and row.number not in recorded}, lock=lock
    )
    requests, credit_notes = _red_targets(
        [recorded[n] for n in {row.blue_number for row in rows} if n in recorded]
    )

    requests_of_note = _waiting_requests(
        {invoice.pk for invoice in ours.values() if invoice.kind == InvoiceKind.CREDIT_NOTE}
    )
    found = _Found(vendor, ours, known, recorded, blue_of, by_buyer, requests, credit_notes, requests_of_note)
    preview, first_of_number = [], {}
    for row in rows:
        if row.number in first_of_number:
            first = first_of_number[row.number]
            same = (first.row.gross, first.row.red, first.row.buyer) == (row.gross, row.red, row.buyer)
            preview.append(
                PreviewRow(
                    row,
                    Outcome.REPEATED,
                    first.invoice,
                    gettext("The same fapiao as %(where)s.") % {"where": first.row.where},
                )
                if same
                else PreviewRow(
                    row,
                    Outcome.CONFLICT,
                    first.invoice,
                    gettext(
                        "Fapiao %(number)s is in the upload twice, with another amount or buyer (%(where)s)."
                    )
                    % {"number": row.number, "where": first.row.where},
                )
            )
            continue
        item = _match(row, found)
        first_of_number[row.number] = item
        preview.append(item)
    _two_for_one(preview)
    return FapiaoPreview(preview, list(parsed.problems))


def _blue_fapiao_by_invoice(invoice_ids: set[int]) -> dict[int, list[Fapiao]]:
    found = defaultdict(list)
    for part in _chunks(sorted(invoice_ids)):
        for fapiao in Fapiao.objects.filter(invoice_id__in=part, red=False):
            found[fapiao.invoice_id].append(fapiao)
    return found


def _unfapiaoed_by_buyer(buyers: set[str], *, lock: bool) -> dict[tuple[str, Decimal], list[Invoice]]:
    """Issued invoices without a blue fapiao of the customers with these taxpayer numbers, by (taxpayer
    number, gross)."""
    found = defaultdict(list)
    blue = Fapiao.objects.filter(invoice=OuterRef("pk"), red=False)
    for part in _chunks(sorted(buyers)):
        invoices = Invoice.objects.filter(
            customer__uscc__in=part, kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED
        ).filter(~Exists(blue))
        if lock:
            invoices = invoices.select_for_update(of=("self",))
        for invoice in invoices.select_related("customer").annotate(
            gross_total=invoice_gross_sql(only=on_fapiao())
        ):
            found[(invoice.customer.uscc.upper(), invoice.gross_total)].append(invoice)
    return found


WAITING = (RedLetterStatus.WAITING, RedLetterStatus.CONFIRMED)


def _waiting_requests(credit_note_ids: set[int]) -> dict[int, list[RedLetterRequest]]:
    """The red-letter requests of these credit notes that wait for their red fapiao."""
    found = defaultdict(list)
    for part in _chunks(sorted(credit_note_ids)):
        for request in RedLetterRequest.objects.filter(
            credit_note_id__in=part, red__isnull=True, status__in=WAITING
        ):
            found[request.credit_note_id].append(request)
    return found


def _red_targets(blues: list[Fapiao]) -> tuple[dict[int, list[RedLetterRequest]], dict[int, list[Invoice]]]:
    """For blue fapiao named by red rows: the red-letter requests waiting for their red fapiao, and the
    credit notes of their invoices without a red fapiao."""
    requests, notes = defaultdict(list), defaultdict(list)
    for part in _chunks([blue.pk for blue in blues]):
        for request in RedLetterRequest.objects.filter(
            blue_id__in=part, red__isnull=True, status__in=WAITING
        ).select_related("credit_note"):
            requests[request.blue_id].append(request)
    by_invoice = {blue.invoice_id: blue.pk for blue in blues}
    red = Fapiao.objects.filter(invoice=OuterRef("pk"), red=True)
    for part in _chunks(sorted(by_invoice)):
        for note in (
            Invoice.objects.filter(
                credits_id__in=part, kind=InvoiceKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
            )
            .filter(~Exists(red))
            .select_related("customer")
            .annotate(gross_total=invoice_gross_sql(only=on_fapiao()))
        ):
            notes[by_invoice[note.credits_id]].append(note)
    notes_of_requests = _invoices_by_pk(
        {r.credit_note_id for rs in requests.values() for r in rs}, lock=False
    )
    for request_list in requests.values():  # their credit notes, with their gross
        for request in request_list:
            request.credit_note = notes_of_requests[request.credit_note_id]
    return requests, notes


@dataclass(frozen=True)
class _Found:
    """What the database knows about an upload's rows, read in a fixed number of queries."""

    vendor: str
    ours: dict  # our invoices and credit notes by number
    known: dict  # the invoices of fapiao recorded already, by pk
    recorded: dict  # recorded fapiao by number
    blue_of: dict  # blue fapiao by invoice pk
    by_buyer: dict  # issued invoices without a blue fapiao by (buyer, gross)
    requests: dict  # waiting red-letter requests by blue fapiao pk
    credit_notes: dict  # credit notes without a red fapiao by blue fapiao pk
    requests_of_note: dict  # waiting red-letter requests by credit note pk


def _match(row: FapiaoRow, found: _Found) -> PreviewRow:
    vendor, ours, known, recorded = found.vendor, found.ours, found.known, found.recorded
    blue_of, by_buyer, requests, credit_notes = (
        found.blue_of,
        found.by_buyer,
        found.requests,
        found.credit_notes,
    )
    requests_of_note = found.requests_of_note

    def conflict(message, invoice=None):
        return PreviewRow(row, Outcome.CONFLICT, invoice, message)

    if row.seller != vendor:
        return conflict(
            gettext("The seller's taxpayer number %(seller)s is not ours (%(vendor)s).")
            % {"seller": row.seller or "–", "vendor": vendor}
        )
    invoice, request = None, None
    for reference in row.references:
        if reference in ours:
            invoice = ours[reference]
            break
    if invoice is None and row.number in recorded:  # recorded before (matched then by buyer and amount)
        invoice = known.get(recorded[row.number].invoice_id)
    if invoice is None and row.red and row.blue_number in recorded:
        invoice, request, why = _red_by_blue(row, recorded[row.blue_number], requests, credit_notes)
        if invoice is None:
            return PreviewRow(row, Outcome.UNMATCHED, message=why)
    if invoice is None and not row.red:
        fits = by_buyer.get((row.buyer, row.gross), [])
        if len(fits) > 1:
            return PreviewRow(
                row,
                Outcome.UNMATCHED,
                message=gettext(
                    "%(count)s invoices of buyer %(buyer)s amount to %(gross)s and have no fapiao: give the "
                    "invoice number as 流水号."
                )
                % {"count": len(fits), "buyer": row.buyer, "gross": row.gross},
            )
        invoice = fits[0] if fits else None
    if invoice is None:
        return PreviewRow(
            row,
            Outcome.UNMATCHED,
            message=gettext("No invoice of ours has this 流水号/备注, or this buyer and amount.")
            if not row.red
            else gettext(
                "No credit note of ours has this 流水号/备注, and no red-letter request waits for it."
            ),
        )
    if row.number in recorded and recorded[row.number].invoice_id != invoice.pk:
        return conflict(
            gettext("Fapiao %(number)s is recorded on another invoice already.") % {"number": row.number},
            invoice,
        )
    if row.red != (invoice.kind == InvoiceKind.CREDIT_NOTE):
        message = (
            gettext("A red fapiao matches credit notes, not invoice %(invoice)s.")
            if row.red
            else gettext("A blue fapiao matches invoices, not credit note %(invoice)s.")
        )
        return conflict(message % {"invoice": invoice.number}, invoice)
    if invoice.gross_total != row.gross:
        return conflict(
            gettext("The amount %(gross)s differs from %(invoice)s's %(ours)s.")
            % {"gross": row.gross, "invoice": invoice.number, "ours": _gross(invoice)},
            invoice,
        )
    uscc = (invoice.customer.uscc or "").upper()
    if uscc and row.buyer and row.buyer != uscc:
        return conflict(
            gettext("The buyer's taxpayer number %(buyer)s is not %(customer)s's (%(uscc)s).")
            % {"buyer": row.buyer, "customer": invoice.customer.code, "uscc": uscc},
            invoice,
        )
    if row.number in recorded:
        fapiao = recorded[row.number]
        return PreviewRow(
            row,
            Outcome.RECORDED,
            invoice,
            gettext("Already recorded."),
            # an XML says no status: only the export's 发票状态 brings a recorded one up to date
            status_changes=bool(row.platform_status)
            and (_status_of(row), row.platform_status[:40]) != (fapiao.status, fapiao.platform_status),
        )
    others = [fapiao.number for fapiao in blue_of.get(invoice.pk, []) if not row.red]
    if others:
        return conflict(
            gettext("%(invoice)s has fapiao %(numbers)s already.")
            % {"invoice": invoice.number, "numbers": ", ".join(others)},
            invoice,
        )
    if request is None and row.red:
        waiting = requests_of_note.get(invoice.pk, [])
        request = waiting[0] if len(waiting) == 1 else None
    return PreviewRow(row, Outcome.NEW, invoice, request=request)


def _red_by_blue(row, blue: Fapiao, requests, credit_notes):
    """The credit note a red row reverses, found through its blue fapiao: the red-letter request waiting
    for it (by amount when several wait), or the blue invoice's only credit note of that amount."""
    waiting = [r for r in requests.get(blue.pk, []) if r.credit_note.gross_total == row.gross]
    if len(waiting) == 1:
        return waiting[0].credit_note, waiting[0], ""
    if not requests.get(blue.pk):
        notes = [note for note in credit_notes.get(blue.pk, []) if note.gross_total == row.gross]
        if len(notes) == 1:
            return notes[0], None, ""
    return (
        None,
        None,
        gettext("No single credit note of %(gross)s against blue fapiao %(blue)s waits for its red fapiao.")
        % {"gross": row.gross, "blue": blue.number},
    )


def _two_for_one(preview: list[PreviewRow]) -> None:
    """Two new blue (or two new red) fapiao for one invoice: both rows conflict."""
    by_invoice = defaultdict(list)
    for item in preview:
        if item.outcome in (Outcome.NEW, Outcome.RECORDED):
            by_invoice[(item.invoice.pk, item.row.red)].append(item)
    for items in by_invoice.values():
        if len(items) > 1:
            wheres = ", ".join(item.row.where for item in items)
            for item in items:
                item.outcome = Outcome.CONFLICT
                item.message = gettext("Rows %(wheres)s are all fapiao for %(invoice)s.") % {
                    "wheres": wheres,
                    "invoice": item.invoice.number,
                }


def _status_of(row: FapiaoRow) -> str:
    return PLATFORM_STATUS.get(row.platform_status, FapiaoStatus.NORMAL)


# Recording


@dataclass(frozen=True)
class FapiaoImported:
    new: int
    recorded: int
    updated: int
    requests: int


@transaction.atomic
def fapiao_import_record(*, parsed: ParsedFapiao, by, source: str) -> FapiaoImported:
    """Records the fapiao of a consistent upload, all or nothing, under the locks of the invoices it
    matches: new numbers as Fapiao (red on credit notes, completing their waiting red-letter request),
    platform statuses of numbers recorded already brought up to date. Refused with the preview
    (``FapiaoImportRefused``) when any row is unreadable, unmatched or conflicting. The invoices whose PDF
    was rendered already have it rendered again on commit, with the fapiao number (the invoice itself is
    not changed: only its document)."""
    preview = fapiao_import_preview(parsed, lock=True)
    if not preview.consistent:
        raise FapiaoImportRefused(preview)
    source = source[:200]
    new = [
        Fapiao(
            invoice=item.invoice,
            number=item.row.number,
            fapiao_type=item.row.fapiao_type,
            red=item.row.red,
            issued_on=item.row.issued_on,
            gross=Money(item.row.gross, item.invoice.currency),
            status=_status_of(item.row),
            platform_status=item.row.platform_status[:40],
            source=source,
            recorded_by=by,
        )
        for item in preview.new
    ]
    Fapiao.objects.bulk_create(new, batch_size=500)
    numbers = [fapiao.number for fapiao in new]
    for part in _chunks(numbers):
        history_record(Fapiao.objects.filter(number__in=part), history_type=CREATED)
    updated = 0
    for item in preview.recorded:
        if item.status_changes:
            changed = Fapiao.objects.get(number=item.row.number)
            changed.status, changed.platform_status = _status_of(item.row), item.row.platform_status[:40]
            changed.save(update_fields=["status", "platform_status"])
            updated += 1
    requests = 0
    red_by_number = {
        fapiao.number: fapiao
        for fapiao in Fapiao.objects.filter(number__in=[i.row.number for i in preview.new if i.request])
    }
    for item in preview.new:
        if item.request is not None:
            request = item.request
            request.red, request.status = red_by_number[item.row.number], RedLetterStatus.ISSUED
            request.save(update_fields=["red", "status"])
            requests += 1
    _render_again({item.invoice.pk for item in preview.new})
    return FapiaoImported(new=len(new), recorded=len(preview.recorded), updated=updated, requests=requests)


def _render_again(invoice_ids: set[int]) -> None:
    """An issued invoice's PDF is rendered once and kept; a fapiao recorded after it was rendered is part
    of the document, so the PDF is rendered again (a new file; the former one stays in the storage) by
    the same task, sent on commit. Until it has run the PDF page renders it when downloaded. An invoice
    whose PDF was never rendered gets the fapiao at its first rendering."""
    rendered = []
    for part in _chunks(sorted(invoice_ids)):
        rendered += Invoice.objects.filter(pk__in=part).exclude(pdf_sha256="").values_list("pk", flat=True)
    if not rendered:
        return
    from invoices.tasks import render_invoice_pdf  # tasks call services; imported here to keep one direction

    for part in _chunks(rendered):
        Invoice.objects.filter(pk__in=part).update(pdf_sha256="")
        history_record(Invoice.objects.filter(pk__in=part), history_type=CHANGED, reason="fapiao recorded")
    for pk in rendered:
        send_task_on_commit(render_invoice_pdf, pk)
