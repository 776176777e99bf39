"""One customer's fapiao, through every feature it touches: the customer's fapiao details (专票); billable
work (the paid period's fee, a quote's health check and person-days with 10% off, the days logged, lodging at
cost); the invoice run and the invoice issued; the batch workbook exported and read back as the platform
reads it; the platform's answer (its query export, 流水号 = our number) imported; the fapiao number on the
invoice page, its PDF, the statement, the exports and the overdue reminder; the payment; a partial credit
note and its red letter (04; 01 refused) to the red fapiao and the blue one 已红冲-部分. Every step agrees
with the invoice to the fen."""

import contextlib
import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money
from pypdf import PdfReader

from billing.errors import BillingError
from billing.roles import sync_roles
from catalog.models import ServiceItem
from contracts.models import Contact, FapiaoDetails, FapiaoType
from invoices.documents import invoice_context
from invoices.exports import invoices_dataset
from invoices.fapiao_batch import SERIAL, TAX_CODE, fapiao_batch_create, fapiao_batch_plan, fapiao_item
from invoices.fapiao_import import fapiao_import_preview, fapiao_import_record, read_fapiao_upload
from invoices.models import (
    Fapiao,
    FapiaoStatus,
    Invoice,
    InvoiceKind,
    InvoiceRun,
    RedLetterReason,
    RedLetterRequest,
    RedLetterStatus,
)
from invoices.red_letter import (
    red_letter_form_record,
    red_letter_red_record,
    red_letter_remark,
    red_letter_request_set_reason,
)
from invoices.selectors import invoice_balance, invoice_totals, statement_of_account
from invoices.services import (
    LineCredit,
    credit_note_issue,
    invoice_issue,
    invoice_run_execute,
    overdue_reminder_send,
    payment_record,
    travel_expense_approve,
    travel_expense_record,
    work_log_record,
)
from invoices.statements import statement_context
from invoices.tasks import render_invoice_pdf
from quotes.models import InvoicingPolicy, ServiceOrder
from quotes.services import quote_add_line, quote_create, quote_customer_answer, quote_send
from tests.factories import CustomerFactory, ServicePeriodFactory, user_with
from tests.invoices.fapiao_files import Issued, export_workbook
from tests.invoices.fapiao_helpers import platform_invoices, workbooks

pytestmark = pytest.mark.django_db
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
D = datetime.date
USCC = "91110108MA01ABCD2X"
BLUE = "02611000000000004321"  # a leading zero: text all the way
RED = "02611000000000009876"
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def CNY(amount) -> Money:
    return Money(Decimal(str(amount)), "CNY")


@pytest.fixture
def clock(monkeypatch):
    """Moves the project's clock (timezone.now, which services read) to 10:00 of a day in Shanghai."""

    @contextlib.contextmanager
    def on(day: datetime.date):
        moment = datetime.datetime.combine(day, datetime.time(10), tzinfo=SHANGHAI)
        with monkeypatch.context() as patch:
            patch.setattr(timezone, "now", lambda: moment)
            yield moment

    return on


@pytest.fixture
def people(catalogue, django_user_model):
    sync_roles()
    finance = django_user_model.objects.create_user(username="qian", password="x", is_staff=True)
    finance.groups.set(Group.objects.filter(name="finance"))
    return {
        "sales": user_with(django_user_model, "sales", "add_quote", "change_quote", "act_for_every_customer"),
        "manager": user_with(django_user_model, "manager", "approve_chargerequest", "add_consumptionentry"),
        "finance": finance,
    }


def pdf_text(invoice) -> str:
    invoice.refresh_from_db()
    return "".join(page.extract_text() for page in PdfReader(invoice.pdf.open("rb")).pages)


def test_one_customers_fapiao_from_the_work_to_the_red_letter_agrees_to_the_fen(
    people, clock, client, django_capture_on_commit_callbacks
):
    finance = people["finance"]
    customer = CustomerFactory(
        code="ACME", legal_name="北京示例科技有限公司", uscc=USCC, account_manager=people["manager"]
    )
    Contact.objects.create(customer=customer, name="王芳", email="wang@acme.example.com", is_primary=True)
    details = FapiaoDetails.objects.create(
        customer=customer,
        title=customer.legal_name,
        address="北京市海淀区中关村大街1号",
        phone="010-88888888",
        bank="招商银行北京分行",
        bank_account="110000000000000001",
        email="finance@acme.example.com",
        fapiao_type=FapiaoType.SPECIAL,
    )
    period = ServicePeriodFactory(
        contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=Decimal("50000.00")
    )

    # January: a quote of a health check (billed when ordered) and three person-days (as delivered), 10% off.
    with clock(D(2026, 1, 10)):
        quote = quote_create(customer=customer, discount=Decimal("0.1"), created_by=people["sales"])
        check = quote_add_line(quote=quote, service=ServiceItem.objects.get(code="health-check"), quantity=1)
        quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=3)
        assert (check.list_amount, check.discount_amount, check.gross) == (CNY(25000), CNY(2500), CNY(22500))
        quote = quote_send(quote=quote)
    with clock(D(2026, 1, 12)):
        quote_customer_answer(quote=quote, accept=True, name="王芳", ip=None)
    development = ServiceOrder.objects.get(quote=quote).lines.get(invoicing_policy=InvoicingPolicy.DELIVERED)
    for day in (20, 21):  # two of the three days delivered
        with clock(D(2026, 1, day)):
            work_log_record(
                customer=customer,
                engineer="李工",
                work_date=D(2026, 1, day),
                ticket_ref=quote.reference,
                idempotency_key=f"wl-{day}",
                days=Decimal(1),
                order_line=development,
            )
    with clock(D(2026, 1, 22)):  # a night's lodging on site, under the policy's cap: billed at cost
        expense = travel_expense_record(
            customer=customer,
            category="lodging",
            spent_on=D(2026, 1, 21),
            amount=CNY("456.78"),
            description="北京 一晚",
            receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.4 receipt"),
            by=people["manager"],
        )
        travel_expense_approve(expense=expense, by=finance)

    # The run of January; the invoice issued on 1 February.
    with clock(D(2026, 2, 1)):
        run = invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 1, 31), customer=customer))
        invoice = invoice_issue(invoice=Invoice.objects.get(run=run), issue_date=D(2026, 2, 1))
    lines = list(invoice.lines.order_by("position"))
    gross = invoice_totals(invoice)["gross"]
    assert sorted(line.gross for line in lines) == [
        CNY("456.78"),
        CNY(1620),
        CNY(1620),
        CNY(22500),
        CNY(50000),
    ]
    assert gross == sum((line.gross for line in lines), CNY(0)) == CNY("76196.78")
    assert period.fee == CNY(50000)

    # Finance exports the batch: the workbook, read back as the platform reads it, is the invoice.
    _requests, problems = fapiao_batch_plan([invoice.pk])
    assert problems == [], problems
    with clock(D(2026, 2, 2)):
        batch, file = fapiao_batch_create(invoices=[invoice], by=finance)
    assert (file.name, list(batch.invoices.all()), batch.lines) == (f"batch-{batch.pk}.xlsx", [invoice], 5)
    (book,) = workbooks(file.content)
    exported = platform_invoices(book)
    assert list(exported) == [invoice.number]
    row = exported[invoice.number]
    assert (row["发票类型"], row["购买方名称"], row["购买方纳税人识别号"], row["是否含税"]) == (
        "增值税专用发票",
        "北京示例科技有限公司",
        USCC,
        "是",
    )
    assert (row["购买方开户银行"], row["购买方银行账号"], row["备注"]) == (
        details.bank,
        details.bank_account,
        invoice.number,
    )
    assert len(row["lines"]) == len(lines)
    for cells, line in zip(row["lines"], lines, strict=True):
        assert Decimal(cells["金额"]) - Decimal(cells.get("折扣金额", "0")) == line.gross.amount, cells
        assert cells["税率"] == "0.06"  # services, and travel taxed as part of the service's sale
        service = ServiceItem.objects.get(code=fapiao_item(line)[0])
        assert (cells[TAX_CODE], cells["项目名称"]) == (service.tax_code, service.fapiao_name)
        assert len(cells[TAX_CODE]) == 19
    discounted = [cells for cells in row["lines"] if "折扣金额" in cells]
    assert sorted((cells["金额"], cells["折扣金额"]) for cells in discounted) == [
        ("1800.00", "180.00"),
        ("1800.00", "180.00"),
        ("25000.00", "2500.00"),
    ]
    exported_gross = sum(
        (Decimal(c["金额"]) - Decimal(c.get("折扣金额", "0")) for c in row["lines"]), Decimal(0)
    )
    assert exported_gross == gross.amount

    # The platform issues the fapiao; its query export names our number as the 流水号 and in the 备注.
    answer = export_workbook(
        [
            Issued(
                BLUE,
                row["购买方纳税人识别号"],
                exported_gross,
                issued_on="2026-02-03",
                remark=row["备注"],
                serial=row[SERIAL],
                buyer_name=row["购买方名称"],
            )
        ],
        serial_column=True,
    )
    parsed = read_fapiao_upload(answer, name="全量发票查询.xlsx")
    preview = fapiao_import_preview(parsed)
    assert preview.consistent
    assert [(item.invoice, item.row.number) for item in preview.new] == [(invoice, BLUE)]
    with django_capture_on_commit_callbacks(execute=True):  # the PDF rendered again, with the number
        fapiao_import_record(parsed=parsed, by=finance, source="全量发票查询.xlsx")
    blue = Fapiao.objects.get(number=BLUE)
    assert (blue.invoice, blue.gross, blue.red, blue.status) == (invoice, gross, False, FapiaoStatus.NORMAL)
    assert (blue.fapiao_type, blue.issued_on) == (FapiaoType.SPECIAL, D(2026, 2, 3))

    # The number where the customer and finance look.
    client.force_login(finance)
    page = client.get(reverse("invoices:invoice", args=[invoice.pk]), **ENGLISH).content.decode()
    assert f'<strong class="fapiao-number">{BLUE}</strong>' in page
    html = render_to_string("invoices/invoice_pdf.html", invoice_context(invoice))
    assert f"数电发票号码 / Fapiao number: {BLUE}" in html
    if not Invoice.objects.get(pk=invoice.pk).pdf:
        render_invoice_pdf(invoice.pk)
    text = pdf_text(invoice)
    assert BLUE in text
    assert invoice.number in text
    context = statement_context(customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31))
    assert f"数电发票 Fapiao {BLUE}" in render_to_string("invoices/statement_pdf.html", context)
    statement = client.get(
        reverse("invoices:statement", args=[customer.code]), {"from": "2026-01-01", "to": "2026-12-31"}
    ).content.decode()
    assert BLUE in statement
    assert invoices_dataset(Invoice.objects.filter(pk=invoice.pk)).dict[0]["fapiao"] == BLUE

    # Unpaid past its due date: the reminder quotes the fapiao and the amount open.
    assert invoice.due_date < D(2026, 3, 10)
    overdue_reminder_send(invoice=invoice, today=D(2026, 3, 10), by=None)
    (reminder,) = mail.outbox
    assert BLUE in reminder.body
    assert "76,196.78" in reminder.body

    # Paid in full.
    payment_record(invoice=invoice, amount=gross, received_on=D(2026, 3, 12), reference="B-FAPIAO-1")
    assert invoice_balance(invoice) == CNY(0)

    # An allowance agreed on the health check: a credit note of 2,000.00, which starts a red letter (04).
    check_line = next(line for line in lines if line.gross == CNY(22500))
    with clock(D(2026, 3, 20)):
        note = credit_note_issue(
            invoice=invoice, reason="验收折让", lines={check_line.pk: LineCredit(amount=Decimal("2000.00"))}
        )
    assert (note.kind, invoice_totals(note)["gross"]) == (InvoiceKind.CREDIT_NOTE, CNY(-2000))
    request = RedLetterRequest.objects.get(credit_note=note)
    assert (request.blue, request.reason, request.status) == (blue, RedLetterReason.ALLOWANCE, "draft")
    with pytest.raises(BillingError) as refused:  # 01 (invoiced in error) is for a full reversal only
        red_letter_request_set_reason(request=request, reason=RedLetterReason.ERROR, by=finance)
    assert refused.value.code == "red_letter_reason_full_only"
    request.refresh_from_db()
    assert request.reason == RedLetterReason.ALLOWANCE

    # The buyer confirms the form on the platform; the red fapiao is issued and recorded.
    with clock(D(2026, 3, 21)):
        request = red_letter_form_record(
            request=request, form_number="11010026032100000001", status="confirmed", by=finance
        )
    assert request.status == RedLetterStatus.CONFIRMED
    remark = red_letter_remark(request)  # what the red fapiao's 备注 must say
    assert BLUE in remark
    assert "11010026032100000001" in remark
    with clock(D(2026, 3, 22)):
        request = red_letter_red_record(request=request, number=RED, issued_on=D(2026, 3, 22), by=finance)
    red = Fapiao.objects.get(number=RED)
    assert (request.status, request.red, red.invoice, red.red) == (RedLetterStatus.ISSUED, red, note, True)
    assert red.gross == invoice_totals(note)["gross"] == CNY(-2000)
    blue.refresh_from_db()
    assert blue.status == FapiaoStatus.REVERSED_PART
    page = client.get(reverse("invoices:invoice", args=[invoice.pk])).content.decode()  # zh-hans
    assert "已红冲-部分" in page
    assert note.number in page
    page = client.get(reverse("invoices:invoice", args=[note.pk]), **ENGLISH).content.decode()
    assert f'<strong class="fapiao-number">{RED}</strong>' in page
    assert RED in render_to_string("invoices/invoice_pdf.html", invoice_context(note))

    # The statement: invoiced - credited - paid, to the fen; the customer holds a credit of 2,000.00.
    (cny,) = statement_of_account(customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31))
    assert (cny.invoiced, cny.credited, cny.paid) == (CNY("76196.78"), CNY(-2000), CNY("-76196.78"))
    assert cny.closing == cny.invoiced + cny.credited + cny.paid == CNY(-2000)
    assert cny.closing == invoice_balance(invoice)
    assert sum(cny.ageing.values(), CNY(0)) + cny.unapplied == cny.closing
    fapiao_on_statement = {line.reference: [f.number for f in line.fapiao] for line in cny.lines}
    assert fapiao_on_statement[invoice.number] == [BLUE]
    assert fapiao_on_statement[note.number] == [RED]
