"""Red-letter corrections (invoices.red_letter): a credit note against an invoice with a blue fapiao starts a
request; reason 01 only for a full reversal; the form recorded waiting, confirmed or void (72 hours), then
the red fapiao, and the blue fapiao 已红冲-部分 or 已红冲-全额; a void form replaced; idempotent steps."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone
from djmoney.money import Money
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from billing.errors import BillingError
from catalog.pricing import price_agreed
from invoices.models import (
    Fapiao,
    FapiaoStatus,
    Invoice,
    InvoiceLine,
    RedLetterReason,
    RedLetterRequest,
    RedLetterStatus,
)
from invoices.red_letter import (
    blue_fapiao_status_update,
    red_letter_form_record,
    red_letter_form_rows,
    red_letter_form_xlsx,
    red_letter_red_record,
    red_letter_remark,
    red_letter_request_create,
    red_letter_request_replace,
    red_letter_request_set_reason,
    red_letter_requests_expire,
    red_letter_status,
)
from invoices.services import LineCredit, credit_note_issue, invoice_issue
from invoices.tasks import void_unconfirmed_red_letter_forms
from tests.factories import CustomerFactory

D = datetime.date
pytestmark = pytest.mark.django_db
BLUE_NUMBER = "02440000000012345678"  # leading zero: text, never a number
RED_NUMBER = "03440000000087654321"
RED_NUMBER_2 = "03440000000087654322"


def cny(amount) -> Money:
    return Money(Decimal(amount), "CNY")


def issued_invoice(*lines, customer=None) -> Invoice:
    """An issued invoice of ``lines`` (service code, quantity, unit price VAT included, VAT rate)."""
    invoice = Invoice.objects.create(customer=customer or CustomerFactory())
    for position, (service_code, quantity, unit_price, vat_rate) in enumerate(lines, start=1):
        priced = price_agreed(
            unit_price=cny(unit_price),
            quantity=Decimal(quantity),
            vat_rate=Decimal(vat_rate),
            tax_inclusive=True,
            discount=Decimal(0),
            list_amount=cny(Decimal(quantity) * Decimal(unit_price)),
        )
        InvoiceLine.objects.create(
            invoice=invoice,
            position=position,
            description=f"line {position}",
            **{**priced.line_fields(), "unit": "人天"},
            net=priced.net,
            vat=priced.vat,
            gross=priced.gross,
            service_code=service_code,
        )
    return invoice_issue(invoice=invoice, issue_date=D(2026, 3, 2))


def blue_fapiao(invoice: Invoice, number: str = BLUE_NUMBER) -> Fapiao:
    """The blue fapiao the platform issued, recorded directly (the import records them in production)."""
    gross = sum((line.gross for line in invoice.lines.all()), cny(0))
    return Fapiao.objects.create(
        invoice=invoice, number=number, fapiao_type="special", issued_on=D(2026, 3, 3), gross=gross
    )


@pytest.fixture
def invoice(catalogue):
    """Maintenance 3 person-days at 1,060.00 (6%) and a licence at 1,130.00 (13%): 4,310.00 in all."""
    return issued_invoice(
        ("remote-maintenance", "3", "1060.00", "0.06"), ("custom-development", "1", "1130.00", "0.13")
    )


@pytest.fixture
def blue(invoice):
    return blue_fapiao(invoice)


def full_credit(invoice, user=None):
    return credit_note_issue(invoice=invoice, reason="开票信息有误", by=user)


def partial_credit(invoice):
    first = invoice.lines.get(position=1)
    return credit_note_issue(invoice=invoice, reason="少做一天", lines={first.pk: Decimal(1)})


def confirmed(request, form="4400000000000000000001"):
    return red_letter_form_record(request=request, form_number=form, status="01")


# Starting a request


def test_a_credit_note_without_a_fapiao_starts_no_request(invoice):
    note = full_credit(invoice)
    assert not RedLetterRequest.objects.filter(credit_note=note).exists()
    with pytest.raises(BillingError) as refused:
        red_letter_request_create(credit_note=note, reason="02")
    assert refused.value.code == "red_letter_no_blue"


def test_a_full_credit_note_starts_a_draft_with_reason_01(invoice, blue, admin_user):
    note = full_credit(invoice, admin_user)
    request = RedLetterRequest.objects.get(credit_note=note)
    assert (request.status, request.reason, request.blue, request.created_by) == (
        RedLetterStatus.DRAFT,
        RedLetterReason.ERROR,
        blue,
        admin_user,
    )


def test_a_partial_credit_note_starts_with_04_and_refuses_01(invoice, blue):
    note = partial_credit(invoice)
    request = RedLetterRequest.objects.get(credit_note=note)
    assert request.reason == RedLetterReason.ALLOWANCE
    with pytest.raises(BillingError) as refused:
        red_letter_request_set_reason(request=request, reason="01")
    assert refused.value.code == "red_letter_reason_full_only"
    request.refresh_from_db()
    assert request.reason == "04"
    assert red_letter_request_set_reason(request=request, reason="03").reason == "03"


def test_what_is_left_after_an_earlier_credit_note_is_no_full_reversal(invoice, blue):
    partial_credit(invoice)
    rest = full_credit(invoice)  # what is left of every line
    request = RedLetterRequest.objects.get(credit_note=rest)
    assert request.reason == RedLetterReason.ALLOWANCE
    with pytest.raises(BillingError):
        red_letter_request_set_reason(request=request, reason="01")


def test_one_live_request_per_credit_note(invoice, blue):
    note = full_credit(invoice)
    request = RedLetterRequest.objects.get(credit_note=note)
    assert red_letter_request_create(credit_note=note, reason="01") == request  # asked again: the same
    with pytest.raises(BillingError) as refused:
        red_letter_request_create(credit_note=note, reason="02")
    assert refused.value.code == "red_letter_exists"
    assert RedLetterRequest.objects.filter(credit_note=note).count() == 1


def test_an_unknown_reason_is_refused(invoice, blue):
    request = RedLetterRequest.objects.get(credit_note=full_credit(invoice))
    with pytest.raises(BillingError):
        red_letter_request_set_reason(request=request, reason="09")


# The form


def test_the_form_rows_reverse_each_blue_line_negatively(invoice, blue):
    note = partial_credit(invoice)
    form = red_letter_form_rows(RedLetterRequest.objects.get(credit_note=note))
    assert (form.blue_number, form.blue_issued_on, form.blue_type, form.reason) == (
        BLUE_NUMBER,
        D(2026, 3, 3),
        "special",
        "04",
    )
    [line] = form.lines
    assert line.blue_position == 1
    assert line.name == "软件维护费"
    assert line.tax_code == "3040201030000000000"
    assert line.quantity == Decimal(-1)
    assert (line.amount, line.vat, line.gross) == (cny("-1000.00"), cny("-60.00"), cny("-1060.00"))
    assert line.unit_price == Decimal(1000)
    assert line.vat_rate == Decimal("0.06")
    assert form.gross == cny("-1060.00")
    assert form.problems == []


def test_a_line_without_a_service_is_reported_not_refused(catalogue):
    invoice = issued_invoice(("", "2", "530.00", "0.06"))
    blue_fapiao(invoice)
    form = red_letter_form_rows(RedLetterRequest.objects.get(credit_note=full_credit(invoice)))
    assert form.lines[0].tax_code == ""
    assert form.lines[0].name == "line 1"
    assert len(form.problems) == 1
    assert "税收分类编码" in form.problems[0]  # in the default language


def test_an_agreed_amount_reverses_no_quantity(invoice, blue):
    second = invoice.lines.get(position=2)
    note = credit_note_issue(
        invoice=invoice, reason="折让", lines={second.pk: LineCredit(amount=Decimal("113.00"))}
    )
    [line] = red_letter_form_rows(RedLetterRequest.objects.get(credit_note=note)).lines
    assert (line.quantity, line.unit_price) == (None, None)
    assert (line.amount, line.vat, line.gross, line.tax_code) == (
        cny("-100.00"),
        cny("-13.00"),
        cny("-113.00"),
        "3040201010000000000",
    )


def test_the_form_workbook_reads_back_as_text(invoice, blue):
    request = confirmed(RedLetterRequest.objects.get(credit_note=full_credit(invoice)))
    book = openpyxl.load_workbook(io.BytesIO(red_letter_form_xlsx(request)))
    sheet = book.active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    rows = [
        row[: max((i + 1 for i, value in enumerate(row) if value is not None), default=0)] for row in rows
    ]
    assert rows[0] == ["蓝字发票号码", BLUE_NUMBER]
    assert rows[1] == ["蓝字发票开票日期", "2026-03-03"]
    assert rows[3][1].startswith("01 ")
    assert rows[4] == ["价税合计", "-4310.00"]
    assert rows[5][1] == red_letter_remark(request)
    header = rows[7]
    assert header[:4] == ["序号", "蓝字发票行", "项目名称", "商品和服务税收编码"]
    first, second = rows[8], rows[9]
    assert first == ["1", "1", "软件维护费", "3040201030000000000", "人天", "-3", "1000", "-3000.00", "0.06",
                     "-180.00", "-3180.00"]  # fmt: skip
    assert second[3] == "3040201010000000000"
    assert second[-1] == "-1130.00"
    assert second[8] == "0.13"
    assert all(
        isinstance(cell.value, str) for row in sheet.iter_rows() for cell in row if cell.value is not None
    )


# Recording the form and the red fapiao: a full credit note


def test_a_full_reversal_from_waiting_to_confirmed_to_the_red_fapiao(invoice, blue, admin_user):
    note = full_credit(invoice)
    request = RedLetterRequest.objects.get(credit_note=note)
    request = red_letter_form_record(
        request=request, form_number="44000000000000000001", status="02", by=admin_user
    )
    assert request.status == RedLetterStatus.WAITING
    assert request.submitted_at is not None
    submitted = request.submitted_at
    request = red_letter_form_record(request=request, form_number="44000000000000000001", status="04")
    assert request.status == RedLetterStatus.CONFIRMED
    assert request.submitted_at == submitted
    assert red_letter_remark(request) == (
        f"被红冲蓝字数电发票号码：{BLUE_NUMBER} 红字发票信息确认单编号：44000000000000000001"
    )
    request = red_letter_red_record(
        request=request, number=RED_NUMBER, issued_on=D(2026, 3, 10), by=admin_user
    )
    assert request.status == RedLetterStatus.ISSUED
    red = request.red
    assert (red.invoice, red.red, red.gross, red.number, red.fapiao_type) == (
        note,
        True,
        cny("-4310.00"),
        RED_NUMBER,
        "special",
    )
    blue.refresh_from_db()
    assert blue.status == FapiaoStatus.REVERSED_FULL
    assert blue.get_status_display() == FapiaoStatus.REVERSED_FULL.label
    assert request.history.count() >= 4  # created, waiting, confirmed, issued


def test_a_form_the_buyer_needs_not_confirm_is_confirmed_at_once(invoice, blue):
    request = RedLetterRequest.objects.get(credit_note=full_credit(invoice))
    assert confirmed(request).status == RedLetterStatus.CONFIRMED


def test_a_red_fapiao_needs_a_confirmed_form(invoice, blue):
    request = RedLetterRequest.objects.get(credit_note=full_credit(invoice))
    with pytest.raises(BillingError) as refused:
        red_letter_red_record(request=request, number=RED_NUMBER, issued_on=D(2026, 3, 10))
    assert refused.value.code == "red_letter_not_confirmed"
    request = red_letter_form_record(request=request, form_number="F1", status="waiting")
    with pytest.raises(BillingError):
        red_letter_red_record(request=request, number=RED_NUMBER, issued_on=D(2026, 3, 10))
    assert not Fapiao.objects.filter(red=True).exists()


@pytest.mark.parametrize("number", ["3440000000087654321", "0344000000008765432X", "034400000000876543210"])
def test_a_red_number_has_twenty_digits(invoice, blue, number):
    request = confirmed(RedLetterRequest.objects.get(credit_note=full_credit(invoice)))
    with pytest.raises(BillingError) as refused:
        red_letter_red_record(request=request, number=number, issued_on=D(2026, 3, 10))
    assert refused.value.code == "fapiao_number"


def test_a_number_recorded_already_is_refused(invoice, blue):
    request = confirmed(RedLetterRequest.objects.get(credit_note=full_credit(invoice)))
    with pytest.raises(BillingError) as refused:
        red_letter_red_record(request=request, number=BLUE_NUMBER, issued_on=D(2026, 3, 10))
    assert refused.value.code == "fapiao_number_taken"


# A partial credit note, then the rest


def test_a_partial_reversal_then_the_rest_makes_the_blue_fully_reversed(invoice, blue):
    first = RedLetterRequest.objects.get(credit_note=partial_credit(invoice))
    first = red_letter_red_record(
        request=confirmed(first, "F-1"), number=RED_NUMBER, issued_on=D(2026, 3, 10)
    )
    blue.refresh_from_db()
    assert blue.status == FapiaoStatus.REVERSED_PART
    assert first.red.gross == cny("-1060.00")

    rest = RedLetterRequest.objects.get(credit_note=full_credit(invoice))
    assert rest.blue == blue  # a partly reversed blue fapiao is reversed further
    form = red_letter_form_rows(rest)
    assert [(line.blue_position, line.quantity, line.gross) for line in form.lines] == [
        (1, Decimal(-2), cny("-2120.00")),
        (2, Decimal(-1), cny("-1130.00")),
    ]
    red_letter_red_record(request=confirmed(rest, "F-2"), number=RED_NUMBER_2, issued_on=D(2026, 3, 11))
    blue.refresh_from_db()
    assert blue.status == FapiaoStatus.REVERSED_FULL


def test_the_blue_status_rule_reads_every_red_fapiao_of_the_invoice(invoice, blue):
    """The import records red fapiao too and calls the same rule."""
    note = credit_note_issue(
        invoice=invoice, reason="x", lines={invoice.lines.get(position=2).pk: Decimal(1)}
    )
    RedLetterRequest.objects.filter(credit_note=note).delete()
    Fapiao.objects.create(
        invoice=note,
        number=RED_NUMBER,
        fapiao_type="special",
        red=True,
        issued_on=D(2026, 3, 9),
        gross=cny("-1130"),
    )
    assert blue_fapiao_status_update(blue).status == FapiaoStatus.REVERSED_PART


# 72 hours, void and replaced


def test_a_form_unconfirmed_for_72_hours_is_void_on_read_then_by_the_task(invoice, blue, time_machine):
    time_machine.move_to(timezone.make_aware(datetime.datetime(2026, 3, 10, 9)), tick=False)
    request = RedLetterRequest.objects.get(credit_note=full_credit(invoice))
    request = red_letter_form_record(request=request, form_number="F1", status="02")
    time_machine.move_to(timezone.make_aware(datetime.datetime(2026, 3, 13, 8, 59)), tick=False)
    assert red_letter_status(request) == RedLetterStatus.WAITING
    assert void_unconfirmed_red_letter_forms() == 0
    time_machine.move_to(timezone.make_aware(datetime.datetime(2026, 3, 13, 9, 0)), tick=False)
    assert red_letter_status(request) == RedLetterStatus.VOID  # on read, before the task
    request.refresh_from_db()
    assert request.status == RedLetterStatus.WAITING
    with pytest.raises(BillingError) as refused:
        red_letter_form_record(request=request, form_number="F1", status="01")
    assert refused.value.code == "red_letter_status"
    assert void_unconfirmed_red_letter_forms() == 1
    assert red_letter_requests_expire() == 0
    request.refresh_from_db()
    assert request.status == RedLetterStatus.VOID
    assert request.history.first().status == RedLetterStatus.VOID


def test_the_confirmation_hours_are_a_setting(invoice, blue, time_machine, settings):
    settings.RED_LETTER_CONFIRM_HOURS = 24
    time_machine.move_to(timezone.make_aware(datetime.datetime(2026, 3, 10, 9)), tick=False)
    request = red_letter_form_record(
        request=RedLetterRequest.objects.get(credit_note=full_credit(invoice)), form_number="F1", status="03"
    )
    time_machine.move_to(timezone.make_aware(datetime.datetime(2026, 3, 11, 9, 1)), tick=False)
    assert red_letter_status(request) == RedLetterStatus.VOID


def test_a_void_form_is_replaced_by_a_new_request(invoice, blue):
    note = partial_credit(invoice)
    old = RedLetterRequest.objects.get(credit_note=note)
    with pytest.raises(BillingError) as refused:
        red_letter_request_replace(request=old)
    assert refused.value.code == "red_letter_not_void"
    old = red_letter_form_record(request=old, form_number="F1", status="07")
    assert old.status == RedLetterStatus.VOID
    with pytest.raises(BillingError) as refused:
        red_letter_request_create(credit_note=note, reason="04")
    assert refused.value.code == "red_letter_void"
    new = red_letter_request_replace(request=old)
    assert (new.replaces, new.status, new.reason, new.blue, new.form_number) == (old, "draft", "04", blue, "")
    assert red_letter_request_replace(request=old) == new  # twice: the same replacement
    red_letter_red_record(request=confirmed(new, "F2"), number=RED_NUMBER, issued_on=D(2026, 3, 10))
    blue.refresh_from_db()
    assert blue.status == FapiaoStatus.REVERSED_PART


# Idempotency and bad steps


def test_recording_the_same_form_twice_changes_nothing(invoice, blue):
    request = RedLetterRequest.objects.get(credit_note=full_credit(invoice))
    request = red_letter_form_record(request=request, form_number="F1", status="02")
    versions = request.history.count()
    again = red_letter_form_record(request=request, form_number="F1", status="waiting")
    assert again.status == RedLetterStatus.WAITING
    assert request.history.count() == versions
    with pytest.raises(BillingError) as refused:
        red_letter_form_record(request=request, form_number="F2", status="02")
    assert refused.value.code == "red_letter_form_number_differs"


def test_recording_the_same_red_fapiao_twice_changes_nothing(invoice, blue):
    request = confirmed(RedLetterRequest.objects.get(credit_note=full_credit(invoice)))
    red_letter_red_record(request=request, number=RED_NUMBER, issued_on=D(2026, 3, 10))
    again = red_letter_red_record(request=request, number=RED_NUMBER, issued_on=D(2026, 3, 10))
    assert again.red.number == RED_NUMBER
    assert Fapiao.objects.filter(red=True).count() == 1
    with pytest.raises(BillingError) as refused:
        red_letter_red_record(request=request, number=RED_NUMBER_2, issued_on=D(2026, 3, 10))
    assert refused.value.code == "red_letter_issued"


@pytest.mark.parametrize("status", ["", "11", "confirmd", "issued", "draft"])
def test_an_unknown_form_status_is_refused(invoice, blue, status):
    request = RedLetterRequest.objects.get(credit_note=full_credit(invoice))
    with pytest.raises(BillingError) as refused:
        red_letter_form_record(request=request, form_number="F1", status=status)
    assert refused.value.code == "red_letter_form_status"
    request.refresh_from_db()
    assert (request.form_number, request.submitted_at) == ("", None)


def test_a_confirmed_form_does_not_go_back_to_waiting_nor_changes_reason(invoice, blue):
    request = confirmed(RedLetterRequest.objects.get(credit_note=full_credit(invoice)))
    with pytest.raises(BillingError):
        red_letter_form_record(request=request, form_number="4400000000000000000001", status="02")
    with pytest.raises(BillingError) as refused:
        red_letter_request_set_reason(request=request, reason="02")
    assert refused.value.code == "red_letter_submitted"


def test_the_remark_needs_the_form_number(invoice, blue):
    request = RedLetterRequest.objects.get(credit_note=full_credit(invoice))
    with pytest.raises(BillingError):
        red_letter_remark(request)


def test_a_red_fapiao_dated_before_its_blue_is_refused(invoice, blue):
    request = confirmed(RedLetterRequest.objects.get(credit_note=full_credit(invoice)))
    with pytest.raises(BillingError) as refused:
        red_letter_red_record(request=request, number=RED_NUMBER, issued_on=D(2026, 3, 1))
    assert refused.value.code == "red_letter_date"
    assert not Fapiao.objects.filter(red=True).exists()


_fapiao_numbers = iter(range(10**6))


@hypothesis_settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(amounts=st.lists(st.integers(min_value=1, max_value=99_999), min_size=1, max_size=4))
def test_the_blue_is_partly_reversed_until_its_red_fapiao_take_back_all_of_it(catalogue, amounts):
    """Agreed amounts credited one after the other (the rest last), each red-lettered: the blue fapiao is
    已红冲-部分 after every red fapiao but the last, 已红冲-全额 after it, and the reds add up to it."""
    invoice = issued_invoice(("remote-maintenance", "1", "1000000.00", "0.06"))
    blue = blue_fapiao(invoice, number=f"0244{next(_fapiao_numbers):016d}")
    line = invoice.lines.get()
    notes = [
        credit_note_issue(
            invoice=invoice, reason="折让", lines={line.pk: LineCredit(amount=Decimal(cents) / 100)}
        )
        for cents in amounts
    ]
    notes.append(full_credit(invoice))  # what is left
    for position, note in enumerate(notes, start=1):
        request = confirmed(RedLetterRequest.objects.get(credit_note=note), f"F{position}")
        assert request.reason == RedLetterReason.ALLOWANCE
        red_letter_red_record(
            request=request, number=f"0344{next(_fapiao_numbers):016d}", issued_on=D(2026, 3, 9)
        )
        blue.refresh_from_db()
        expected = FapiaoStatus.REVERSED_FULL if position == len(notes) else FapiaoStatus.REVERSED_PART
        assert blue.status == expected
    reds = Fapiao.objects.filter(red=True, invoice__credits=invoice)
    assert -sum((red.gross for red in reds), cny(0)) == blue.gross


def test_a_credit_of_travel_at_cost_only_needs_no_red_letter(invoice, blue, settings):
    """Travel passed through at cost outside VAT, when travel is kept outside the fapiao (TRAVEL_VAT
    "outside"), is not on the fapiao: crediting it alone reverses none."""
    settings.TRAVEL_VAT = "outside"
    draft = Invoice.objects.create(customer=invoice.customer)
    InvoiceLine.objects.create(
        invoice=draft,
        position=1,
        description="差旅费",
        quantity=1,
        unit_price=cny("800.00"),
        list_amount=cny("800.00"),
        vat_rate=Decimal(0),
        pass_through=True,
        net=cny("800.00"),
        vat=cny("0"),
        gross=cny("800.00"),
    )
    travel = invoice_issue(invoice=draft, issue_date=D(2026, 3, 2))
    Fapiao.objects.create(
        invoice=travel, number=RED_NUMBER_2, fapiao_type="special", issued_on=D(2026, 3, 3), gross=cny("0.01")
    )
    note = full_credit(travel)
    assert not RedLetterRequest.objects.filter(credit_note=note).exists()
    with pytest.raises(BillingError) as refused:
        red_letter_request_create(credit_note=note, reason="02")
    assert refused.value.code == "red_letter_nothing"
