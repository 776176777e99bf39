"""Issued invoices exported for fapiao (数电发票) as the tax bureau's batch workbook (批量开票-导入开票模板,
V260401, ``einvoice/batch-template-V260401.xlsx``; ../shared/einvoice/ describes it).

The workbook is the platform's own template filled by header name (row 3 of each sheet; data from row 4),
so its instructions, hidden version sheet (``excelVersion``: pt:20260401) and drop-down lists reach the
platform as it shipped them. Every cell written is text (number format ``@``, a string value, never a
formula). One invoice is one row of ``1-发票基本信息`` whose 发票流水号 is our invoice number; its lines are
rows of ``2-发票明细信息`` with the same 发票流水号, amounts VAT included (是否含税 = 是): 金额 is the line's
list amount with VAT, 折扣金额 its discount (the platform adds the discount line), so 金额 - 折扣金额 summed
over an invoice is its gross to the fen. The platform computes the VAT from 税率.

Lines left out of the workbook, on purpose:
- a line of nothing (its gross is zero: a free item, or one discounted to nothing): a fapiao line needs an
  amount, and leaving it out changes no total;
- travel passed through at cost without VAT when settings.TRAVEL_VAT is "outside": third parties invoice
  those costs to the customer, they are no sale of ours.
When travel is taxable (settings.TRAVEL_VAT "taxable", the default), travel at cost billed before invoices
carried its VAT (a pass-through line at 0%) goes on the fapiao as part of the travel service's sale: its cost
is the amount VAT included, at that service's code and rate in force on the invoice's date.

Before anything is written every invoice is checked (``fapiao_batch_problems``): a batch with any problem
is refused whole, with every problem listed by invoice, line and column."""

import functools
import io
import re
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.errors import BillingError
from billing.money import round_fen
from catalog.models import validate_tax_code
from catalog.selectors import service_by_code
from contracts.models import FapiaoDetails, FapiaoType
from invoices.models import FapiaoBatch, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from invoices.selectors import blue_fapiao_sql, invoice_totals

TEMPLATE = Path(__file__).parent / "einvoice" / "batch-template-V260401.xlsx"
TEMPLATE_VERSION = "pt:20260401"  # excelVersion!A4: the platform reads which template it is given
INVOICE_SHEET = "1-发票基本信息"
LINE_SHEET = "2-发票明细信息"
HINT_ROW, HEADER_ROW, FIRST_ROW = 2, 3, 4

# The template's own rules (row 1 of 2-发票明细信息): over 2,000 lines a workbook the platform may fail, over
# 5,000 it cannot issue. Its drop-down lists reach row 1001: 1,000 invoices a workbook at most.
LINES_PER_WORKBOOK = 2000
LINES_PLATFORM_MAX = 5000
INVOICES_PER_WORKBOOK = 1000

SERIAL = "发票流水号"
YES = "是"
FAPIAO_TYPE_NAMES = {FapiaoType.SPECIAL: "增值税专用发票", FapiaoType.ORDINARY: "普通发票"}
TAX_CODE = "商品和服务税收编码"
# columns this module fills, and the ones that must not be empty
INVOICE_COLUMNS = (
    SERIAL, "发票类型", "是否含税", "购买方名称", "购买方纳税人识别号", "购买方地址", "购买方电话",
    "购买方开户银行", "购买方银行账号", "备注", "购买方邮箱",
)  # fmt: skip
INVOICE_REQUIRED = (SERIAL, "发票类型", "是否含税", "购买方名称", "购买方纳税人识别号")
LINE_COLUMNS = (SERIAL, "项目名称", TAX_CODE, "单位", "数量", "单价", "金额", "税率", "折扣金额")
LINE_REQUIRED = (SERIAL, "项目名称", "金额", "税率")  # and 商品和服务税收编码, which _line_cells checks

LIMIT = re.compile(r"限\s*(\d+)\s*字符")
# characters an XML 1.0 document (so an .xlsx cell) cannot hold
ILLEGAL_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _header(value) -> str:
    """A header as matched: its text without line breaks or spaces (the template wraps some headers)."""
    return re.sub(r"\s+", "", str(value or ""))


@dataclass(frozen=True)
class Column:
    number: int  # 1-based
    limit: int | None  # characters, from the template's hint row


@functools.cache
def template_columns() -> dict[str, dict[str, Column]]:
    """Per sheet we fill, its columns by header (row 3) with the length limit its hint (row 2) states.
    Read off the template itself, never assumed by position: another version moves columns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Workbook contains no default style": the platform's file
        book = openpyxl.load_workbook(TEMPLATE, read_only=True)
    try:
        columns = {}
        for sheet_name, wanted in ((INVOICE_SHEET, INVOICE_COLUMNS), (LINE_SHEET, LINE_COLUMNS)):
            sheet = book[sheet_name]
            sheet.reset_dimensions()  # the dimension the file declares is not to be trusted
            rows = list(sheet.iter_rows(min_row=HINT_ROW, max_row=HEADER_ROW, values_only=True))
            hints, headers = rows[0], rows[1]
            sheet = {}
            for number, header in enumerate(headers, start=1):
                name = _header(header)
                if name and name not in sheet:
                    hint = LIMIT.search(str(hints[number - 1] or "")) if number <= len(hints) else None
                    sheet[name] = Column(number=number, limit=int(hint.group(1)) if hint else None)
            missing = [name for name in wanted if name not in sheet]
            if missing:
                raise ImproperlyConfigured(f"{TEMPLATE.name}: sheet {sheet_name} has no column {missing}")
            columns[sheet_name] = sheet
        return columns
    finally:
        book.close()


@dataclass(frozen=True)
class BatchProblem:
    """Why an invoice cannot go into a batch: which invoice, line (1-based position, 0 for the invoice),
    column (the template's header, empty for the invoice as a whole) and what is wrong."""

    invoice: str
    message: str
    column: str = ""
    line: int = 0

    def __str__(self) -> str:
        where = self.invoice
        if self.line:
            where += " " + _("line %(line)s") % {"line": self.line}
        if self.column:
            where += f" {self.column}"
        return f"{where}: {self.message}"


class FapiaoBatchRefused(BillingError):
    """A batch refused whole; ``problems`` lists every reason, invoice by invoice."""

    def __init__(self, problems: list[BatchProblem]):
        super().__init__(
            gettext_lazy("The batch is refused: %(count)s problems, nothing was exported."),
            code="fapiao_batch_refused",
            params={"count": len(problems)},
        )
        self.problems = problems


@dataclass
class FapiaoRequest:
    """One invoice as the workbook carries it: its row of 1-发票基本信息 and its lines' rows of
    2-发票明细信息, text by header."""

    invoice: Invoice
    row: dict[str, str]
    lines: list[dict[str, str]] = field(default_factory=list)


def _text(value: Decimal) -> str:
    """A decimal as plain text with no exponent and no trailing zeros: 1.000 -> "1", 0.0600 -> "0.06"."""
    return f"{Decimal(value).normalize():f}"


def _unit_price_text(price: Decimal, quantity: Decimal, amount: Decimal, *, limit: int) -> str:
    """The unit price with VAT as the platform takes it (13 decimals at most, ``limit`` characters): the
    price itself when quantity x price gives the amount to the fen, else the amount / quantity (a tiered or
    agreed amount), as precise as the column holds."""
    if round_fen(price * quantity) != amount:
        price = amount / quantity
    whole = len(str(int(abs(price))))
    places = max(0, min(13, limit - whole - 1))
    candidate = round(price, places)
    return _text(candidate)


def fapiao_item(line: InvoiceLine) -> tuple[str, str, str]:
    """The service a line sells, its tax classification code and the 项目名称 to print (the service's
    fapiao name, else the line's description): what the batch workbook and a red-letter form show. Empty
    code and service when the line names none (a problem to report, not to guess)."""
    code = line.service_code or (line.credits_line.service_code if line.credits_line_id else "")
    service = service_by_code(code) if code else None
    if service is None:
        return code, "", line.description
    return code, service.tax_code, service.fapiao_name or line.description


def on_fapiao() -> Q:
    """PricedLine.on_fapiao as a filter of invoice lines, for sums: not travel outside VAT (passed through
    with no VAT rate); a line of nothing is left in, it adds nothing."""
    return ~Q(pass_through=True, vat_rate=Decimal(0))


def _inclusive_amounts(line: InvoiceLine) -> tuple[Decimal, Decimal, Decimal]:
    """金额, 折扣金额 and the unit price, VAT included: a price with VAT as it is; a price without VAT
    (a net list amount) with its VAT added, so that 金额 - 折扣金额 is the line's gross to the fen."""
    gross = line.gross.amount
    if line.tax_inclusive or line.pass_through:
        listed, price = line.list_amount.amount, line.unit_price.amount
    else:
        factor = 1 + line.vat_rate
        listed, price = round_fen(line.list_amount.amount * factor), line.unit_price.amount * factor
    return listed, listed - gross, price


def _invoice_label(invoice: Invoice) -> str:
    return invoice.number or f"#{invoice.pk}"


def fapiao_request(invoice: Invoice) -> tuple[FapiaoRequest, list[BatchProblem]]:
    """The rows ``invoice`` becomes and every problem that keeps it out of a batch. ``invoice`` comes with
    its customer's fapiao details, lines (and their charges), credit notes and ``has_blue_fapiao`` (see
    ``_invoices``)."""
    label = _invoice_label(invoice)
    problems: list[BatchProblem] = []

    def problem(message, column="", line=0):
        problems.append(BatchProblem(invoice=label, message=str(message), column=column, line=line))

    if invoice.kind != InvoiceKind.INVOICE or invoice.status != InvoiceStatus.ISSUED:
        problem(_("Only issued invoices get a fapiao (not drafts, not credit notes)."))
        return FapiaoRequest(invoice=invoice, row={}), problems
    if invoice.currency != "CNY":
        problem(_("A fapiao is in yuan; this invoice is in %(currency)s.") % {"currency": invoice.currency})
    if getattr(invoice, "has_blue_fapiao", False):
        problem(_("A fapiao is recorded for this invoice already."))
    if any(note.status == InvoiceStatus.ISSUED for note in invoice.credit_notes.all()):
        problem(_("A credit note was issued against this invoice before its fapiao: arrange it by hand."))
    try:
        details = invoice.customer.fapiao_details
    except FapiaoDetails.DoesNotExist:
        details = None
        problem(_("The customer has no fapiao details (title, taxpayer number, fapiao type)."))
    row = {
        SERIAL: invoice.number,
        "是否含税": YES,
        # our invoice number, as the fapiao's remark: the customer finds what it pays against
        "备注": invoice.number,
    }
    if details is not None:
        row |= {
            "发票类型": FAPIAO_TYPE_NAMES.get(details.fapiao_type, ""),
            "购买方名称": details.title,
            # 专票: required; 普票: required for a company buyer, and every customer of ours is a company
            "购买方纳税人识别号": invoice.customer.uscc,
            "购买方地址": details.address,
            "购买方电话": details.phone,
            "购买方开户银行": details.bank,
            "购买方银行账号": details.bank_account,
            "购买方邮箱": details.email,
        }
    request = FapiaoRequest(invoice=invoice, row={k: v for k, v in row.items() if v})
    columns = template_columns()
    if details is not None:
        problems += _cell_problems(label, request.row, columns[INVOICE_SHEET], INVOICE_REQUIRED, line=0)

    lines = sorted(invoice.lines.all(), key=lambda line: (line.position, line.pk))
    left_out = Decimal(0)
    line_columns = columns[LINE_SHEET]
    for position, line in enumerate(lines, start=1):
        if not line.on_fapiao:
            left_out += line.gross.amount
            continue
        cells, line_problems = _line_cells(line, invoice, line_columns)
        for message, column in line_problems:
            problem(message, column, position)
        problems += _cell_problems(label, cells, line_columns, LINE_REQUIRED, line=position)
        request.lines.append(cells)
    if not request.lines:
        problem(_("The invoice has no line to put on a fapiao."))
    if len(request.lines) > LINES_PER_WORKBOOK:
        problem(
            _(
                "%(count)s lines: the platform takes at most %(most)s lines a workbook (and cannot issue "
                "over %(max)s); split the invoice's fapiao by hand."
            )
            % {"count": len(request.lines), "most": LINES_PER_WORKBOOK, "max": LINES_PLATFORM_MAX}
        )
    exported = sum(
        (Decimal(cells.get("金额", "0")) - Decimal(cells.get("折扣金额", "0")) for cells in request.lines),
        Decimal(0),
    )
    gross = invoice_totals(invoice)["gross"].amount - left_out
    if not problems and exported != gross:  # a check of this module, never expected to fire
        problem(
            _("The lines add up to %(lines)s, the invoice to %(gross)s.")
            % {"lines": exported, "gross": gross}
        )
    return request, problems


@functools.lru_cache(maxsize=512)
def _tax_code_problem(code: str) -> str:
    """validate_tax_code's verdict, asked once per code in a batch (it reads the catalogue's codes; the
    cache is emptied as each batch is planned)."""
    try:
        validate_tax_code(code)
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


def _line_cells(line: InvoiceLine, invoice: Invoice, columns: dict[str, Column]) -> tuple[dict, list]:
    problems = []
    code, tax_code, name = fapiao_item(line)
    if not code or service_by_code(code) is None:
        problems.append((_("No catalogue service: the line has no tax classification code."), TAX_CODE))
    else:
        if not tax_code:
            problems.append(
                (_("The service %(service)s has no tax classification code.") % {"service": code}, TAX_CODE)
            )
        else:
            if message := _tax_code_problem(tax_code):
                problems.append((message, TAX_CODE))
    listed, discount, price = _inclusive_amounts(line)
    if line.gross.amount < 0 or discount < 0:
        problems.append((_("A fapiao line cannot be negative or have a negative discount."), "金额"))
    rate = line.vat_rate
    cells = {
        SERIAL: invoice.number,
        "项目名称": name,
        TAX_CODE: tax_code,
        "单位": line.unit,
        "金额": f"{listed:.2f}",
        "税率": _text(rate),
    }
    if discount:
        cells["折扣金额"] = f"{discount:.2f}"
    if line.quantity > 0:
        cells["数量"] = _text(line.quantity)
        cells["单价"] = _unit_price_text(price, line.quantity, listed, limit=columns["单价"].limit or 16)
    return {key: value for key, value in cells.items() if value}, problems


def _cell_problems(label, cells, columns, required, *, line) -> list[BatchProblem]:
    problems = []
    for name in required:
        if not cells.get(name):
            problems.append(BatchProblem(label, str(_("Required by the platform, empty.")), name, line))
    for name, value in cells.items():
        limit = columns[name].limit
        if limit is not None and len(value) > limit:
            message = _("%(length)s characters, the platform takes %(limit)s at most.") % {
                "length": len(value),
                "limit": limit,
            }
            problems.append(BatchProblem(label, message, name, line))
        if ILLEGAL_IN_XLSX.search(value):
            problems.append(BatchProblem(label, str(_("Holds control characters.")), name, line))
    return problems


def _invoices(pks: Iterable[int]):
    return (
        Invoice.objects.filter(pk__in=list(pks))
        .select_related("customer__fapiao_details")
        .prefetch_related("lines__charge", "credit_notes")
        .annotate(has_blue_fapiao=blue_fapiao_sql())
        .order_by("customer__code", "series", "year", "sequence", "pk")
    )


def fapiao_batch_plan(pks: Iterable[int]) -> tuple[list[FapiaoRequest], list[BatchProblem]]:
    """The invoices ``pks`` as requests for the workbook and every problem (an unknown pk included)."""
    pks = list(dict.fromkeys(pks))
    invoices = list(_invoices(pks))
    _tax_code_problem.cache_clear()
    found = {invoice.pk for invoice in invoices}
    problems = [
        BatchProblem(invoice=f"#{pk}", message=str(_("No such invoice."))) for pk in pks if pk not in found
    ]
    requests = []
    for invoice in invoices:
        request, invoice_problems = fapiao_request(invoice)
        requests.append(request)
        problems += invoice_problems
    return requests, problems


def workbook_groups(requests: list[FapiaoRequest]) -> list[list[FapiaoRequest]]:
    """The requests in workbooks of LINES_PER_WORKBOOK lines and INVOICES_PER_WORKBOOK invoices at most, in
    order, an invoice never split across two."""
    groups: list[list[FapiaoRequest]] = []
    lines = 0
    for request in requests:
        if (
            not groups
            or lines + len(request.lines) > LINES_PER_WORKBOOK
            or len(groups[-1]) >= INVOICES_PER_WORKBOOK
        ):
            groups.append([])
            lines = 0
        groups[-1].append(request)
        lines += len(request.lines)
    return groups


def _load_template() -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(TEMPLATE)


def _write_text(sheet, row: int, column: int, value: str) -> None:
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    cell.data_type = "s"  # text, even when it starts with "=": never a formula
    cell.number_format = "@"


def workbooks_bytes(groups: list[list[FapiaoRequest]]) -> list[bytes]:
    """One platform workbook per group: the template, its two sheets filled by header name. The template is
    loaded once (its hidden drop-down sheets make loading it the dearest step) and emptied below the
    headers between two workbooks."""
    columns = template_columns()
    invoice_columns, line_columns = columns[INVOICE_SHEET], columns[LINE_SHEET]
    book = _load_template()
    invoice_sheet, line_sheet = book[INVOICE_SHEET], book[LINE_SHEET]
    book.active = book.worksheets.index(invoice_sheet)
    books = []
    for requests in groups:
        for sheet in (invoice_sheet, line_sheet):
            if sheet.max_row >= FIRST_ROW:
                sheet.delete_rows(FIRST_ROW, sheet.max_row - FIRST_ROW + 1)
        line_row = FIRST_ROW
        for row, request in enumerate(requests, start=FIRST_ROW):
            for name, value in request.row.items():
                _write_text(invoice_sheet, row, invoice_columns[name].number, value)
            for cells in request.lines:
                for name, value in cells.items():
                    _write_text(line_sheet, line_row, line_columns[name].number, value)
                line_row += 1
        out = io.BytesIO()
        book.save(out)
        books.append(out.getvalue())
    return books


def workbook_bytes(requests: list[FapiaoRequest]) -> bytes:
    """One platform workbook holding ``requests``."""
    return workbooks_bytes([requests])[0]


@dataclass(frozen=True)
class FapiaoBatchFile:
    name: str
    content_type: str
    content: bytes


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _batch_file(batch_id: int, groups: list[list[FapiaoRequest]]) -> FapiaoBatchFile:
    books = workbooks_bytes(groups)
    if len(books) == 1:
        return FapiaoBatchFile(name=f"batch-{batch_id}.xlsx", content_type=XLSX_TYPE, content=books[0])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, content in enumerate(books, start=1):
            archive.writestr(f"batch-{batch_id}-{n}.xlsx", content)
    return FapiaoBatchFile(
        name=f"batch-{batch_id}.zip", content_type="application/zip", content=out.getvalue()
    )


def fapiao_batch_problems(pks: Iterable[int]) -> list[BatchProblem]:
    """Every problem that keeps the invoices ``pks`` from a batch; none when the batch may be exported."""
    return fapiao_batch_plan(pks)[1]


@transaction.atomic
def fapiao_batch_create(*, invoices: Iterable[Invoice | int], by) -> tuple[FapiaoBatch, FapiaoBatchFile]:
    """Records a batch of issued invoices sent to the platform for fapiao and returns its file: one
    workbook, or a zip of several (batch-<id>-<n>.xlsx) past 2,000 lines. Refused whole, nothing recorded,
    with FapiaoBatchRefused listing every problem when any invoice has one."""
    pks = [item.pk if isinstance(item, Invoice) else int(item) for item in invoices]
    if not pks:
        raise BillingError(_("Select the invoices to export."), code="fapiao_batch_empty")
    list(Invoice.objects.select_for_update().filter(pk__in=pks).values_list("pk"))  # one batch at a time
    requests, problems = fapiao_batch_plan(pks)
    if problems:
        raise FapiaoBatchRefused(problems)
    groups = workbook_groups(requests)
    batch = FapiaoBatch.objects.create(
        workbooks=len(groups), lines=sum(len(request.lines) for request in requests), created_by=by
    )
    batch.invoices.set([request.invoice for request in requests])
    return batch, _batch_file(batch.pk, groups)


def fapiao_batch_file(batch: FapiaoBatch) -> FapiaoBatchFile:
    """A recorded batch's file again, rebuilt from its invoices (issued, so unchanged; the buyer's fapiao
    details as they are now). Refused when an invoice has had its fapiao since: sent again, the platform
    would issue it twice."""
    requests, problems = fapiao_batch_plan(batch.invoices.values_list("pk", flat=True))
    if problems:
        raise FapiaoBatchRefused(problems)
    return _batch_file(batch.pk, workbook_groups(requests))
