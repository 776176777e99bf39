"""Issued invoices for the fapiao tests, and the batch workbook read back as the platform reads it: headers in
row 3, data from row 4, every value a string, invoices and lines joined by 发票流水号."""

import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
from djmoney.money import Money

from catalog.pricing import price_agreed, price_at_cost
from catalog.selectors import travel_vat_rate
from contracts.models import FapiaoDetails, FapiaoType
from invoices.models import Invoice, InvoiceLine
from invoices.services import invoice_issue
from tests.factories import CustomerFactory

USCC = "91110000802100433B"


def customer_with_details(fapiao_type=FapiaoType.SPECIAL, **details):
    customer = CustomerFactory(uscc=USCC)
    fields = {
        "title": f"{customer.legal_name}",
        "address": "北京市海淀区中关村大街1号",
        "phone": "010-88888888",
        "bank": "招商银行北京分行",
        "bank_account": "110000000000000001",
        "email": "finance@example.cn",
        "fapiao_type": fapiao_type,
    } | details
    FapiaoDetails.objects.create(customer=customer, **fields)
    return customer


def add_line(invoice, *, service_code="remote-maintenance", description="远程运维", unit="人天", **terms):
    """A line priced as billing prices it: ``unit_price``, ``quantity``, ``vat_rate``, ``discount``,
    ``tax_inclusive``; ``cost`` makes it travel passed through at cost."""
    if "cost" in terms:
        # as travel_charge prices it: at the travel service's rate when travel is taxable (TRAVEL_VAT)
        priced = price_at_cost(
            amount=Money(Decimal(terms["cost"]), "CNY"), vat_rate=travel_vat_rate(on=datetime.date.today())
        )
    else:
        priced = price_agreed(
            unit_price=Money(Decimal(terms.get("unit_price", "1000.00")), "CNY"),
            quantity=Decimal(terms.get("quantity", 1)),
            vat_rate=Decimal(terms.get("vat_rate", "0.06")),
            tax_inclusive=terms.get("tax_inclusive", True),
            discount=Decimal(terms.get("discount", 0)),
        )
    return InvoiceLine.objects.create(
        invoice=invoice,
        position=invoice.lines.count() + 1,
        description=description,
        **{**priced.line_fields(), "unit": unit},
        discount=priced.discount,
        net=priced.net,
        vat=priced.vat,
        gross=priced.gross,
        service_code=service_code,
    )


def issued(customer, *lines: dict, issue_date=datetime.date(2026, 11, 2)) -> Invoice:
    invoice = Invoice.objects.create(customer=customer, currency="CNY")
    for terms in lines or ({},):
        add_line(invoice, **terms)
    return invoice_issue(invoice=invoice, issue_date=issue_date)


def workbooks(content: bytes) -> list[openpyxl.Workbook]:
    """The workbooks of an export: one .xlsx, or each of a zip's."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        if "[Content_Types].xml" in archive.namelist():
            return [openpyxl.load_workbook(io.BytesIO(content))]
        return [openpyxl.load_workbook(io.BytesIO(archive.read(name))) for name in archive.namelist()]


def platform_rows(sheet) -> list[dict[str, str]]:
    """A sheet as the platform reads it: headers in row 3 by their text, data from row 4; every value must
    be text (a number, a date or a formula is refused)."""
    headers = [
        "".join(str(value or "").split())
        for value in next(sheet.iter_rows(min_row=3, max_row=3, values_only=True))
    ]
    rows = []
    for cells in sheet.iter_rows(min_row=4):
        if all(cell.value in (None, "") for cell in cells):
            continue
        row = {}
        for header, cell in zip(headers, cells, strict=False):
            if cell.value is None:
                continue
            assert isinstance(cell.value, str), (cell.coordinate, cell.value)
            assert cell.data_type == "s", (cell.coordinate, cell.data_type)
            assert cell.number_format == "@", (cell.coordinate, cell.number_format)
            row[header] = cell.value
        rows.append(row)
    return rows


def platform_invoices(book) -> dict[str, dict]:
    """流水号 -> the invoice's row with its ``lines``, as the platform joins the two sheets."""
    invoices = {row["发票流水号"]: row | {"lines": []} for row in platform_rows(book["1-发票基本信息"])}
    for line in platform_rows(book["2-发票明细信息"]):
        invoices[line["发票流水号"]]["lines"].append(line)
    return invoices
