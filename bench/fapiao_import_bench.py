"""Recording the platform's answer (invoices.fapiao_import): its query export of ``rows`` issued fapiao,
read, matched to as many issued invoices (half by the invoice number in 备注, half by the buyer's taxpayer
number and amount) and recorded, against openpyxl reading the same cells bare (read-only, values only) in
the same run."""

import datetime
import io
import time
from decimal import Decimal

ROWS = 5000
PREFIX = "FPB"


def _issued_invoices(rows: int):
    """``rows`` issued invoices of as many customers, each with one line, written in bulk."""
    from djmoney.money import Money

    from contracts.models import Customer
    from invoices.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus

    customers = Customer.objects.bulk_create(
        Customer(code=f"{PREFIX}-{n:06d}", legal_name=f"发票客户{n}", uscc=f"91110000FPB{n:06d}X")
        for n in range(rows)
    )
    day = datetime.date(2026, 10, 8)
    invoices = Invoice.objects.bulk_create(
        Invoice(
            kind=InvoiceKind.INVOICE,
            series=PREFIX,
            year=2026,
            sequence=n + 1,
            number=f"{PREFIX}2026-{n + 1:06d}",
            status=InvoiceStatus.ISSUED,
            customer=customer,
            issue_date=day,
            due_date=day + datetime.timedelta(days=30),
        )
        for n, customer in enumerate(customers)
    )
    amounts = [Decimal(1060 + n % 997) for n in range(rows)]
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=1,
            description="软件维护费",
            quantity=1,
            unit_price=Money(amount, "CNY"),
            list_amount=Money(amount, "CNY"),
            vat_rate=Decimal("0.06"),
            net=Money((amount / Decimal("1.06")).quantize(Decimal("0.01")), "CNY"),
            vat=Money(amount - (amount / Decimal("1.06")).quantize(Decimal("0.01")), "CNY"),
            gross=Money(amount, "CNY"),
        )
        for invoice, amount in zip(invoices, amounts, strict=True)
    )
    return list(zip(invoices, customers, amounts, strict=True))


def _answer(issued) -> bytes:
    """The platform's query export for these invoices: title row, header, one row each, 合计."""
    import openpyxl
    from django.conf import settings

    from tests.invoices.fapiao_files import HEADERS

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "发票基础信息"
    sheet.append(["全量发票查询导出结果"])
    sheet.append(HEADERS)
    for n, (invoice, customer, amount) in enumerate(issued):
        net = (amount / Decimal("1.06")).quantize(Decimal("0.01"))
        sheet.append(
            [
                n + 1, "", "", f"2611{n:016d}", settings.VENDOR["uscc"], settings.VENDOR["name"],
                customer.uscc, customer.legal_name, "2026-10-09", net, amount - net, amount,
                "电子发票服务平台", "数电发票（增值税专用发票）", "正常", "是", "正常", "张会计",
                invoice.number if n % 2 else "",
            ]
        )  # fmt: skip
    sheet.append(["合计", "", "", "", "", "", "", "", "", "", "", sum(a for _i, _c, a in issued)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _bare(data: bytes) -> int:
    """openpyxl alone: the sheet's cells read, nothing checked."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    cells = sum(len(row) for row in book["发票基础信息"].iter_rows(values_only=True))
    book.close()
    return cells


def run(rows: int = ROWS) -> list[str]:
    from django.conf import settings

    from invoices.fapiao_import import fapiao_import_preview, fapiao_import_record, read_fapiao_upload
    from invoices.models import Fapiao

    settings.IMPORT_MAX_BYTES = max(settings.IMPORT_MAX_BYTES, 50 * 1024 * 1024)
    data = _answer(_issued_invoices(rows))
    read_fapiao_upload(data, name="warm-up.xlsx")  # both paths warm: modules loaded, caches filled
    start = time.perf_counter()
    _bare(data)
    bare = time.perf_counter() - start

    start = time.perf_counter()
    parsed = read_fapiao_upload(data, name="answer.xlsx")
    read = time.perf_counter() - start
    preview = fapiao_import_preview(parsed)
    previewed = time.perf_counter() - start
    if not preview.consistent or len(preview.new) != rows:
        raise RuntimeError("the benchmark's answer did not match cleanly")
    imported = fapiao_import_record(
        parsed=read_fapiao_upload(data, name="answer.xlsx"), by=None, source="bench"
    )
    ours = time.perf_counter() - start - previewed  # the confirmation reads the file again, as the page does
    if imported.new != rows or Fapiao.objects.filter(source="bench").count() != rows:
        raise RuntimeError("the benchmark's answer was not recorded whole")
    return [
        f"## Fapiao import: the platform's answer of {rows} rows (SQLite)",
        f"- openpyxl reading the same cells bare: {bare * 1000:.0f} ms",
        f"- ours, read and checked: {read * 1000:.0f} ms (ratio {read / bare:.2f})",
        f"- ours, preview (read and matched): {previewed * 1000:.0f} ms (ratio {previewed / bare:.2f})",
        f"- ours, confirmation (read, matched again under locks, recorded): {ours * 1000:.0f} ms "
        f"(ratio {ours / bare:.2f})",
    ]
