"""The batch workbook for the tax bureau's e-invoice platform (invoices.fapiao_batch): read back with openpyxl
as the platform reads it, cell by cell against the template's headers, and checked against the invoices."""

import datetime
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from djmoney.money import Money

from catalog.models import ServiceItem
from catalog.pricing import price_agreed
from contracts.models import FapiaoType
from invoices import fapiao_batch
from invoices.fapiao_batch import (
    LINES_PER_WORKBOOK,
    TEMPLATE,
    FapiaoBatchRefused,
    fapiao_batch_create,
    fapiao_batch_file,
    fapiao_batch_plan,
    template_columns,
)
from invoices.models import Fapiao, FapiaoBatch, FapiaoStatus, Invoice, InvoiceLine
from invoices.selectors import (
    FAPIAO_ISSUED,
    FAPIAO_NONE,
    FAPIAO_REQUESTED,
    fapiao_state,
    fapiao_state_sql,
    invoice_totals,
)
from invoices.services import credit_note_issue, invoice_issue
from tests.factories import CustomerFactory
from tests.invoices.fapiao_helpers import (
    USCC,
    add_line,
    customer_with_details,
    issued,
    platform_invoices,
    platform_rows,
    workbooks,
)

pytestmark = pytest.mark.django_db

MAINTENANCE, DEVELOPMENT = "3040201030000000000", "3040201010000000000"  # 软件维护服务, 软件开发服务
SOFTWARE = "1060301020100000000"  # 通用应用软件, a leaf code of software products (13%)


@pytest.fixture
def software_licence(catalogue):
    """A catalogue service sold at 13%: a software licence, classified as software."""
    ServiceItem.objects.filter(code="media-replacement").update(tax_code=SOFTWARE, fapiao_name="通用应用软件")
    return "media-replacement"


def template():
    return openpyxl.load_workbook(TEMPLATE)


def money_sum(cells, name) -> Decimal:
    return sum((Decimal(line.get(name, "0")) for line in cells), Decimal(0))


def test_a_workbook_for_both_fapiao_types_with_a_discount_two_rates_and_travel(
    catalogue, software_licence, admin_user
):
    special = customer_with_details(FapiaoType.SPECIAL)
    ordinary = customer_with_details(FapiaoType.ORDINARY, bank="", bank_account="", email="")
    first = issued(
        special,
        {"unit_price": "1000.00", "quantity": 3, "discount": "0.10"},  # 3,000.00 less 300.00
        {"service_code": software_licence, "description": "软件许可", "unit": "套", "vat_rate": "0.13",
         "unit_price": "8000.00", "quantity": 2},
        {"service_code": "on-site-service", "description": "差旅 · 上海", "unit": "", "cost": "1234.56"},
        {"unit_price": "333.33", "quantity": "2.5", "tax_inclusive": False},  # a price without VAT
    )  # fmt: skip
    second = issued(ordinary, {"service_code": "custom-development", "unit_price": "5000.00", "quantity": 1})

    batch, file = fapiao_batch_create(invoices=[first, second], by=admin_user)

    assert file.name == f"batch-{batch.pk}.xlsx"
    (book,) = workbooks(file.content)
    exported = platform_invoices(book)
    assert list(exported) == [first.number, second.number]  # the customers' order

    head = exported[first.number]
    assert {k: v for k, v in head.items() if k != "lines"} == {
        "发票流水号": first.number,
        "发票类型": "增值税专用发票",
        "是否含税": "是",
        "购买方名称": special.fapiao_details.title,
        "购买方纳税人识别号": USCC,
        "购买方地址": "北京市海淀区中关村大街1号",
        "购买方电话": "010-88888888",
        "购买方开户银行": "招商银行北京分行",
        "购买方银行账号": "110000000000000001",
        "购买方邮箱": "finance@example.cn",
        "备注": first.number,
    }
    assert head["lines"] == [
        {"发票流水号": first.number, "项目名称": "软件维护费", "商品和服务税收编码": MAINTENANCE,
         "单位": "人天", "数量": "3", "单价": "1000", "金额": "3000.00", "税率": "0.06",
         "折扣金额": "300.00"},
        {"发票流水号": first.number, "项目名称": "通用应用软件", "商品和服务税收编码": SOFTWARE,
         "单位": "套", "数量": "2", "单价": "8000", "金额": "16000.00", "税率": "0.13"},
        # travel at cost, taxable: the on-site service's code and rate, VAT included in the cost
        {"发票流水号": first.number, "项目名称": "软件维护费", "商品和服务税收编码": MAINTENANCE,
         "数量": "1", "单价": "1234.56", "金额": "1234.56", "税率": "0.06"},
        # 333.33 x 2.5 = 833.33 without VAT, 883.33 with (833.33 + 50.00)
        {"发票流水号": first.number, "项目名称": "软件维护费", "商品和服务税收编码": MAINTENANCE,
         "单位": "人天", "数量": "2.5", "单价": "353.332", "金额": "883.33", "税率": "0.06"},
    ]  # fmt: skip
    tail = exported[second.number]
    assert tail["发票类型"] == "普通发票"
    assert tail["购买方纳税人识别号"] == USCC  # a company buyer: required on an ordinary fapiao too
    assert "购买方开户银行" not in tail
    assert "购买方邮箱" not in tail
    assert tail["lines"] == [
        {"发票流水号": second.number, "项目名称": "软件开发服务费", "商品和服务税收编码": DEVELOPMENT,
         "单位": "人天", "数量": "1", "单价": "5000", "金额": "5000.00", "税率": "0.06"},
    ]  # fmt: skip

    for invoice in (first, second):  # 金额 less 折扣金额 is the invoice's gross, to the fen
        lines = exported[invoice.number]["lines"]
        assert (
            money_sum(lines, "金额") - money_sum(lines, "折扣金额") == invoice_totals(invoice)["gross"].amount
        )

    assert batch.created_by == admin_user
    assert set(batch.invoices.all()) == {first, second}
    assert (batch.workbooks, batch.lines) == (1, 5)
    assert fapiao_state(first) == FAPIAO_REQUESTED


def test_the_workbook_is_the_template_filled_by_header_name(catalogue):
    invoice = issued(customer_with_details())
    _batch, file = fapiao_batch_create(invoices=[invoice], by=None)
    (book,) = workbooks(file.content)
    original = template()

    assert book.sheetnames == original.sheetnames
    assert [sheet.sheet_state for sheet in book.worksheets] == [s.sheet_state for s in original.worksheets]
    assert book["excelVersion"].sheet_state == "hidden"
    assert book["excelVersion"]["A4"].value == "pt:20260401"
    assert book.active.title == "1-发票基本信息"
    for sheet in original.worksheets:
        copy = book[sheet.title]
        # instructions, hints and headers as the platform wrote them; drop-down lists and merged cells kept
        for row in (1, 2, 3):
            # (an empty string saved is an empty cell)
            assert [c.value or None for c in copy[row]] == [c.value or None for c in sheet[row]], (
                sheet.title,
                row,
            )
        assert [(v.sqref, v.formula1) for v in copy.data_validations.dataValidation] == [
            (v.sqref, v.formula1) for v in sheet.data_validations.dataValidation
        ]
        assert copy.merged_cells.ranges == sheet.merged_cells.ranges
    # every value under the header it belongs to, whatever column the template gives it
    columns = template_columns()
    (row,) = platform_rows(book["1-发票基本信息"])
    sheet = book["1-发票基本信息"]
    for header, value in row.items():
        assert sheet.cell(row=4, column=columns["1-发票基本信息"][header].number).value == value
        assert (
            "".join(str(sheet.cell(row=3, column=columns["1-发票基本信息"][header].number).value).split())
            == header
        )


def test_columns_are_found_by_header_not_by_position(catalogue, tmp_path, monkeypatch):
    """A template whose columns moved (as V251101's did) is filled by header all the same."""
    moved = template()
    lines = moved["2-发票明细信息"]
    lines.move_range("N2:N3", cols=1)  # 金额 (H) and 煤炭种类 (N) change places
    lines.move_range("H2:H3", cols=6)
    lines.move_range("O2:O3", cols=-7)
    path = tmp_path / "moved.xlsx"
    moved.save(path)
    monkeypatch.setattr(fapiao_batch, "TEMPLATE", path)
    template_columns.cache_clear()
    try:
        invoice = issued(customer_with_details(), {"unit_price": "120.50", "quantity": 2})
        _batch, file = fapiao_batch_create(invoices=[invoice], by=None)
        (book,) = workbooks(file.content)
        (line,) = platform_invoices(book)[invoice.number]["lines"]
        assert line["金额"] == "241.00"
        assert book["2-发票明细信息"].cell(row=4, column=14).value == "241.00"
    finally:
        template_columns.cache_clear()


def test_a_cell_that_looks_like_a_formula_is_text(catalogue):
    customer = customer_with_details(title='=HYPERLINK("x")有限公司')
    invoice = issued(customer)
    _batch, file = fapiao_batch_create(invoices=[invoice], by=None)
    (book,) = workbooks(file.content)
    cell = book["1-发票基本信息"]["F4"]
    assert book["1-发票基本信息"]["F3"].value == "购买方名称"
    assert (cell.value, cell.data_type) == ('=HYPERLINK("x")有限公司', "s")


def bulk_lines(invoice: Invoice, count: int) -> None:
    priced = price_agreed(
        unit_price=Money(Decimal("10.00"), "CNY"), quantity=Decimal(1), vat_rate=Decimal("0.06")
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=n,
            description=f"数据处理 {n}",
            **{**priced.line_fields(), "unit": "次"},
            net=priced.net,
            vat=priced.vat,
            gross=priced.gross,
            service_code="data-migration",
        )
        for n in range(1, count + 1)
    )


def many_lines(customer, count: int) -> Invoice:
    invoice = Invoice.objects.create(customer=customer, currency="CNY")
    bulk_lines(invoice, count)
    return invoice_issue(invoice=invoice, issue_date=datetime.date(2026, 11, 2))


def test_more_than_2000_lines_become_several_workbooks_never_splitting_an_invoice(catalogue):
    customer = customer_with_details()
    invoices = [many_lines(customer, count) for count in (1200, 700, 150)]  # 1,900 lines, then 150

    batch, file = fapiao_batch_create(invoices=invoices, by=None)

    assert file.name == f"batch-{batch.pk}.zip"
    with zipfile.ZipFile(io.BytesIO(file.content)) as archive:
        assert archive.namelist() == [f"batch-{batch.pk}-1.xlsx", f"batch-{batch.pk}-2.xlsx"]
    books = [platform_invoices(book) for book in workbooks(file.content)]
    assert [[len(found["lines"]) for found in book.values()] for book in books] == [[1200, 700], [150]]
    assert all(sum(len(found["lines"]) for found in book.values()) <= LINES_PER_WORKBOOK for book in books)
    assert (batch.workbooks, batch.lines) == (2, 2050)


def test_an_invoice_over_2000_lines_is_refused(catalogue):
    invoice = many_lines(customer_with_details(), LINES_PER_WORKBOOK + 1)
    with pytest.raises(FapiaoBatchRefused) as refused:
        fapiao_batch_create(invoices=[invoice], by=None)
    assert [(p.invoice, p.line) for p in refused.value.problems] == [(invoice.number, 0)]
    assert "2001" in refused.value.problems[0].message.replace(",", "")
    assert not FapiaoBatch.objects.exists()


def test_a_bad_batch_is_refused_with_every_problem_and_nothing_written(catalogue, software_licence):
    good = issued(customer_with_details())
    no_details = issued(CustomerFactory())
    no_taxpayer = customer_with_details(FapiaoType.ORDINARY)
    no_taxpayer.uscc = ""
    no_taxpayer.save()
    ordinary_without_number = issued(no_taxpayer)
    ServiceItem.objects.filter(code="upgrade").update(tax_code="", fapiao_name="")
    ServiceItem.objects.filter(code="defect-fix").update(tax_code="3040201000000000000")  # a parent code
    bad_lines = issued(
        customer_with_details(),
        {"service_code": "upgrade", "description": "升级" * 60},  # no code, and a name of 120 characters
        {"service_code": "defect-fix"},
        {"service_code": "no-such-service"},
    )
    draft = Invoice.objects.create(customer=good.customer, currency="CNY")
    add_line(draft)
    credited = issued(customer_with_details())
    note = credit_note_issue(invoice=credited, reason="优惠", lines={credited.lines.get().pk: Decimal("0.5")})
    with_fapiao = issued(customer_with_details())
    Fapiao.objects.create(
        invoice=with_fapiao,
        number="00260000000000000001",
        fapiao_type=FapiaoType.SPECIAL,
        issued_on=datetime.date(2026, 11, 3),
        gross=Money(Decimal("1000.00"), "CNY"),
    )
    dollars = Invoice.objects.create(customer=customer_with_details(), currency="USD")
    InvoiceLine.objects.create(
        invoice=dollars, description="support", quantity=1, unit_price=Money(100, "USD"),
        list_amount=Money(100, "USD"), vat_rate=Decimal("0.06"), net=Money("94.34", "USD"),
        vat=Money("5.66", "USD"), gross=Money(100, "USD"), service_code="remote-maintenance",
    )  # fmt: skip
    dollars = invoice_issue(invoice=dollars)
    selected = [
        good,
        no_details,
        ordinary_without_number,
        bad_lines,
        draft,
        credited,
        note,
        with_fapiao,
        dollars,
    ]

    with pytest.raises(FapiaoBatchRefused) as refused:
        fapiao_batch_create(invoices=[*selected, 999999], by=None)

    found = {(p.invoice, p.line, p.column) for p in refused.value.problems}
    assert found == {
        ("#999999", 0, ""),
        (no_details.number, 0, ""),
        (ordinary_without_number.number, 0, "购买方纳税人识别号"),
        (bad_lines.number, 1, "商品和服务税收编码"),  # no code
        (bad_lines.number, 1, "项目名称"),  # 120 characters
        (bad_lines.number, 2, "商品和服务税收编码"),  # a parent code
        (bad_lines.number, 3, "商品和服务税收编码"),  # no such service
        (f"#{draft.pk}", 0, ""),  # a draft
        (credited.number, 0, ""),  # credited before its fapiao
        (note.number, 0, ""),  # a credit note
        (with_fapiao.number, 0, ""),
        (dollars.number, 0, ""),
    }
    with translation.override("en"):
        assert str(refused.value) == "The batch is refused: 12 problems, nothing was exported."
    with translation.override("zh-hans"):
        assert str(refused.value) == "该批次被拒绝：共 12 个问题，未导出任何内容。"
    assert not FapiaoBatch.objects.exists()
    assert fapiao_state(good) == FAPIAO_NONE


def test_lines_of_nothing_and_travel_outside_the_fapiao_are_left_out(catalogue, settings):
    settings.TRAVEL_VAT = "outside"
    invoice = issued(
        customer_with_details(),
        {"unit_price": "2000.00"},
        {"unit_price": "0.00", "description": "免费巡检"},
        {"unit_price": "500.00", "discount": "1"},  # discounted to nothing
        {"service_code": "", "description": "住宿", "cost": "800.00"},
    )
    _batch, file = fapiao_batch_create(invoices=[invoice], by=None)
    (book,) = workbooks(file.content)
    (line,) = platform_invoices(book)[invoice.number]["lines"]
    assert line["金额"] == "2000.00"
    assert invoice_totals(invoice)["gross"].amount == Decimal("2800.00")  # the lodging stays on our invoice


def test_the_fapiao_state_of_an_invoice(catalogue):
    invoice = issued(customer_with_details())
    assert fapiao_state(invoice) == FAPIAO_NONE
    batch, _file = fapiao_batch_create(invoices=[invoice], by=None)
    assert fapiao_state(invoice) == FAPIAO_REQUESTED
    assert fapiao_batch_file(batch).content[:2] == b"PK"  # downloaded again while the fapiao is awaited
    fapiao = Fapiao.objects.create(
        invoice=invoice,
        number="01260000000000000099",
        fapiao_type=FapiaoType.SPECIAL,
        issued_on=datetime.date(2026, 11, 3),
        gross=Money(Decimal("1000.00"), "CNY"),
    )
    assert fapiao_state(invoice) == FAPIAO_ISSUED
    states = Invoice.objects.annotate(state=fapiao_state_sql()).values_list("state", flat=True)
    assert list(states) == [FAPIAO_ISSUED]
    with pytest.raises(FapiaoBatchRefused):  # sent again, the platform would issue a second fapiao
        fapiao_batch_file(batch)
    Fapiao.objects.filter(pk=fapiao.pk).update(status=FapiaoStatus.REVERSED_FULL)
    assert fapiao_state(invoice) == FAPIAO_REQUESTED  # a fully reversed fapiao covers it no longer


def test_an_empty_selection_is_refused(catalogue):
    with pytest.raises(fapiao_batch.BillingError):
        fapiao_batch_create(invoices=[], by=None)


def test_the_template_columns_and_limits_are_read_off_the_template():
    columns = template_columns()
    assert columns["1-发票基本信息"]["发票流水号"].limit == 20
    assert columns["1-发票基本信息"]["备注"].limit == 230
    assert columns["1-发票基本信息"]["购买方邮箱"].number == 31  # AE
    assert columns["2-发票明细信息"]["项目名称"].limit == 100
    assert columns["2-发票明细信息"]["折扣金额"].number == 10  # J


def test_checking_a_batch_costs_the_same_queries_whatever_its_size(catalogue):
    def queries(invoices) -> int:
        with CaptureQueriesContext(connection) as captured:
            _requests, problems = fapiao_batch_plan([invoice.pk for invoice in invoices])
        assert problems == []
        return len(captured)

    customer = customer_with_details()
    lines = ({"unit_price": "100.00"}, {"service_code": "custom-development"})
    few = [issued(customer, *lines) for _ in range(2)]
    many = few + [issued(customer_with_details(), *lines) for _ in range(4)]
    queries(few)  # the catalogue snapshot, once per process
    assert queries(many) == queries(few)
