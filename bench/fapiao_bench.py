"""Fapiao batch export (invoices.fapiao_batch): issued invoices as the platform's batch workbooks, against
openpyxl writing the same cells bare (a new workbook, the same strings in the same places, saved) in the same
run."""

import datetime
import io
import time
from decimal import Decimal

import openpyxl

LINES_PER_INVOICE = 2


def _issued_invoices(count: int) -> list[int]:
    """``count`` issued invoices in yuan, each of its own customer with fapiao details and two lines (a
    discounted maintenance line at 6%, a software licence at 13%). Bulk-made: an invoice run is not what
    this part measures."""
    from djmoney.money import Money

    from catalog.pricing import price_agreed
    from contracts.models import Customer, FapiaoDetails, FapiaoType
    from invoices.models import Invoice, InvoiceLine, InvoiceStatus

    customers = Customer.objects.bulk_create(
        Customer(code=f"FPX-{n:06d}", legal_name=f"开票客户{n}有限公司", uscc="91110000802100433B")
        for n in range(count)
    )
    FapiaoDetails.objects.bulk_create(
        FapiaoDetails(
            customer=customer,
            title=customer.legal_name,
            address="北京市海淀区中关村大街1号",
            phone="010-88888888",
            bank="招商银行北京分行",
            bank_account="110000000000000001",
            email="finance@example.cn",
            fapiao_type=FapiaoType.SPECIAL if n % 3 else FapiaoType.ORDINARY,
        )
        for n, customer in enumerate(customers)
    )
    day = datetime.date(2026, 11, 2)
    invoices = Invoice.objects.bulk_create(
        Invoice(
            customer=customer,
            series="FPX",
            year=2026,
            sequence=n + 1,
            number=f"FPX2026-{n + 1:06d}",
            status=InvoiceStatus.ISSUED,
            issue_date=day,
            due_date=day,
            currency="CNY",
        )
        for n, customer in enumerate(customers)
    )
    maintenance = price_agreed(
        unit_price=Money(Decimal("1200.00"), "CNY"),
        quantity=Decimal(3),
        vat_rate=Decimal("0.06"),
        discount=Decimal("0.10"),
    )
    licence = price_agreed(
        unit_price=Money(Decimal("8000.00"), "CNY"), quantity=Decimal(1), vat_rate=Decimal("0.13")
    )
    lines = []
    for invoice in invoices:
        for position, (priced, service, unit) in enumerate(
            ((maintenance, "remote-maintenance", "人天"), (licence, "media-replacement", "套")), start=1
        ):
            lines.append(
                InvoiceLine(
                    invoice=invoice,
                    position=position,
                    description=f"{service} {invoice.number}",
                    **{**priced.line_fields(), "unit": unit},
                    discount=priced.discount,
                    net=priced.net,
                    vat=priced.vat,
                    gross=priced.gross,
                    service_code=service,
                )
            )
    InvoiceLine.objects.bulk_create(lines, batch_size=2000)
    return [invoice.pk for invoice in invoices]


def _bare(groups) -> list[bytes]:
    """The same cells written bare: per workbook a new openpyxl workbook, the two sheets, rows 4 on."""
    from invoices.fapiao_batch import FIRST_ROW, INVOICE_SHEET, LINE_SHEET, template_columns

    columns = template_columns()
    books = []
    for group in groups:
        book = openpyxl.Workbook()
        heads, lines = book.active, book.create_sheet(LINE_SHEET)
        heads.title = INVOICE_SHEET
        line_row = FIRST_ROW
        for row, request in enumerate(group, start=FIRST_ROW):
            for name, value in request.row.items():
                heads.cell(row=row, column=columns[INVOICE_SHEET][name].number, value=value)
            for cells in request.lines:
                for name, value in cells.items():
                    lines.cell(row=line_row, column=columns[LINE_SHEET][name].number, value=value)
                line_row += 1
        out = io.BytesIO()
        book.save(out)
        books.append(out.getvalue())
    return books


def _untouched_template(times: int) -> None:
    from invoices.fapiao_batch import _load_template

    book = _load_template()
    for _ in range(times):
        book.save(io.BytesIO())


def export(count: int) -> list[str]:
    from django.db import transaction

    from catalog.models import ServiceItem
    from invoices.fapiao_batch import fapiao_batch_create, fapiao_batch_plan, workbook_groups

    ServiceItem.objects.filter(code="media-replacement").update(
        tax_code="1060301020100000000", fapiao_name="通用应用软件"
    )
    pks = _issued_invoices(count)

    start = time.perf_counter()
    with transaction.atomic():
        batch, file = fapiao_batch_create(invoices=pks, by=None)
        transaction.set_rollback(True)  # the batch is not kept: the part can run again
    ours = time.perf_counter() - start

    start = time.perf_counter()
    requests, problems = fapiao_batch_plan(pks)
    plan = time.perf_counter() - start
    assert not problems, problems[:5]
    groups = workbook_groups(requests)
    start = time.perf_counter()
    bare = _bare(groups)
    baseline = time.perf_counter() - start
    start = time.perf_counter()
    _untouched_template(len(groups))
    untouched = time.perf_counter() - start
    return [
        f"## Fapiao batch export: {count} invoices, {count * LINES_PER_INVOICE} lines (SQLite)",
        f"- ours (checks, the template filled by header name, {batch.workbooks} workbooks, "
        f"{len(file.content) / 1e6:.1f} MB {file.name.rsplit('.', 1)[1]}): {ours:.2f} s",
        f"- of which reading and checking the invoices: {plan:.2f} s",
        f"- baseline (openpyxl writing the same cells bare, {len(bare)} new workbooks): {baseline:.2f} s",
        f"- ratio ours/baseline: {ours / baseline:.2f}",
        f"- for scale: openpyxl loading the template once and saving it untouched {len(groups)} times "
        f"(its hidden drop-down sheets, which the platform needs): {untouched:.2f} s",
    ]
