"""The e-invoice platform's files as a test needs them: its query export workbook (sheet 发票基础信息, a
title row, the header, the rows and a 合计 row; another sheet 信息汇总表) and an invoice's XML."""

import datetime
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal

import openpyxl
from django.conf import settings

from invoices.selectors import invoice_totals
from tests.factories import CustomerFactory, ServicePeriodFactory
from tests.invoices.conftest import issued_invoices

D = datetime.date
BUYER_A = "91110000MA0000001L"
BUYER_B = "91310000MA1K3YJ12X"
LEADING_ZEROS = "00260000000000000123"


def number(serial: int) -> str:
    return f"2611{serial:016d}"


def gross(invoice) -> Decimal:
    return invoice_totals(invoice)["gross"].amount


def two_invoices():
    """Two customers' issued invoices of 2026-01-05: ACME's (10,600.00) and BETA's (5,300.00)."""
    acme = CustomerFactory(code="ACME", legal_name="示例科技有限公司", uscc=BUYER_A)
    beta = CustomerFactory(code="BETA", legal_name="贝塔有限公司", uscc=BUYER_B)
    ServicePeriodFactory(contract__customer=acme, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=10600)
    ServicePeriodFactory(contract__customer=beta, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=5300)
    first = issued_invoices(acme, up_to=D(2026, 1, 31), issue_date=D(2026, 1, 5))["CNY"]
    second = issued_invoices(beta, up_to=D(2026, 1, 31), issue_date=D(2026, 1, 5))["CNY"]
    return first, second


HEADERS = [
    "序号", "发票代码", "发票号码", "数电发票号码", "销方识别号", "销方名称", "购方识别号",
    "购买方名称", "开票日期", "金额", "税额", "价税合计", "发票来源", "发票票种", "发票状态",
    "是否正数发票", "发票风险等级", "开票人", "备注",
]  # fmt: skip


@dataclass
class Issued:
    """One fapiao as the platform reports it."""

    number: str
    buyer: str
    gross: Decimal
    issued_on: str = "2026-11-03"
    remark: str = ""
    serial: str = ""
    seller: str = ""
    red: bool = False
    status: str = "正常"
    kind: str = "数电发票（增值税专用发票）"
    buyer_name: str = "示例科技有限公司"

    @property
    def net(self) -> Decimal:
        return (self.gross / Decimal("1.06")).quantize(Decimal("0.01"))


def vendor_uscc() -> str:
    return settings.VENDOR["uscc"]


def export_workbook(rows: list[Issued], *, numbers_as="text", serial_column=False, totals=True) -> bytes:
    """The query export. ``numbers_as`` "float" stores the 数电发票号码 as a number cell the way Excel and
    openpyxl do (a double: 2.611e+19, its last digits lost); "int" as a number cell holding the exact
    digits (<v>260000000000000123</v>: a leading zero lost, nothing else)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "发票基础信息"
    sheet.append(["全量发票查询导出结果", None, "查询时间：2026-11-30"])
    sheet.append(HEADERS + (["发票流水号"] if serial_column else []))
    for place, row in enumerate(rows, 1):
        number = {"text": row.number, "int": int(row.number), "float": float(row.number)}[numbers_as]
        cells = [
            place, "", "", number, row.seller or vendor_uscc(), settings.VENDOR["name"], row.buyer,
            row.buyer_name, row.issued_on, row.net, row.gross - row.net, row.gross, "电子发票服务平台",
            row.kind, row.status, "否" if row.red else "是", "正常", "张会计", row.remark,
        ]  # fmt: skip
        if serial_column:
            cells.append(row.serial)
        sheet.append(cells)
    if totals:
        total = sum((row.gross for row in rows), Decimal(0))
        sheet.append(["合计", "", "", "", "", "", "", "", "", "", "", total])
    details = book.create_sheet("信息汇总表")
    details.append(["数电发票号码", "税收分类编码", "货物或应税劳务名称", "税率"])
    for row in rows:
        details.append([row.number, "3040201030000000000", "*信息技术服务*软件维护费", "6%"])
    buffer = io.BytesIO()
    book.save(buffer)
    if numbers_as == "int":
        return _exact_integers(buffer.getvalue(), [int(row.number) for row in rows])
    return buffer.getvalue()


def _exact_integers(data: bytes, numbers: list[int]) -> bytes:
    """The workbook with column D's number cells of the data rows (3, 4, ...) holding exact integers."""

    def exact(found: re.Match) -> bytes:
        return b'<c r="D%s" t="n"><v>%d</v>' % (found.group(1), numbers[int(found.group(1)) - 3])

    source, buffer = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            content = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'<c r="D(\d+)" t="n"><v>[^<]*</v>', exact, content)
            target.writestr(member, content)
    return buffer.getvalue()


def invoice_xml(row: Issued, *, encoding="UTF-8") -> bytes:
    """A 数电 invoice's XML, as the platform gives it to download."""
    sign = "-" if row.red else ""
    gross = abs(row.gross)
    text = f"""<?xml version="1.0" encoding="{encoding}"?>
<EInvoice>
  <Header><EIid>{row.number}</EIid><EInvoiceTag>SWEI3200</EInvoiceTag><Version>0.1</Version>
    <InherentLabel><EInvoiceType><LabelCode>01</LabelCode><LabelName>增值税专用发票</LabelName></EInvoiceType>
    </InherentLabel></Header>
  <EInvoiceData>
    <SellerInformation><SellerIdNum>{row.seller or vendor_uscc()}</SellerIdNum>
      <SellerName>卖方</SellerName></SellerInformation>
    <BuyerInformation><BuyerIdNum>{row.buyer}</BuyerIdNum>
      <BuyerName>{row.buyer_name}</BuyerName></BuyerInformation>
    <BasicInformation><TotalAmWithoutTax>{sign}{row.net}</TotalAmWithoutTax>
      <TotalTaxAm>{sign}{gross - row.net}</TotalTaxAm>
      <TotalTax-includedAmount>{sign}{gross}</TotalTax-includedAmount>
      <RequestTime>{row.issued_on} 09:00:00</RequestTime></BasicInformation>
    <AdditionalInformation><Remark>{row.remark}</Remark></AdditionalInformation>
  </EInvoiceData>
  <TaxSupervisionInfo><InvoiceNumber>{row.number}</InvoiceNumber>
    <IssueTime>{row.issued_on} 10:20:30</IssueTime>
    <TaxBureauCode>11100000000</TaxBureauCode></TaxSupervisionInfo>
</EInvoice>
"""
    return text.encode("gb18030" if encoding.lower() == "gbk" else "utf-8")


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
