"""Red-letter corrections (红字) of fully digital e-invoices (数电发票, ../shared/einvoice/README.md): a
credit note against an invoice with a recorded blue fapiao needs a red-letter confirmation form
(红字发票信息确认单) on the tax bureau's platform, then a red fapiao.

The flow of a RedLetterRequest: DRAFT (finance checks the reason and exports what the form needs) ->
WAITING (the form is submitted, the buyer confirms within RED_LETTER_CONFIRM_HOURS, else it is VOID) ->
CONFIRMED (or at once when the buyer had not booked the blue fapiao) -> ISSUED (the red fapiao is recorded;
the blue fapiao becomes 已红冲-全额 or 已红冲-部分, by ``blue_fapiao_status_update``). A VOID request is
replaced by a new one (``replaces``).

The request's lines are its credit note's: each reverses the blue line it credits (``credits_line``). Lines
passed through at cost outside VAT (``pass_through``) are not on a fapiao, so not on its red letter either.
Amounts on the form are negative, as the platform shows them; the red fapiao's 价税合计 is stored negative.

Every write here is atomic and idempotent (the same step twice changes nothing) and keeps history
(RedLetterRequest and Fapiao are audited)."""

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing.errors import BillingError
from billing.history import history_record
from billing.spreadsheets import formula_escaped
from invoices.fapiao_batch import fapiao_item
from invoices.models import (
    FAPIAO_NUMBER_DIGITS,
    Fapiao,
    FapiaoStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    RedLetterReason,
    RedLetterRequest,
    RedLetterStatus,
)

# Platform form statuses (红字确认单状态): 01 and 04 confirmed, 02 and 03 waiting, 05 to 10 void.
PLATFORM_STATUSES = {
    "01": RedLetterStatus.CONFIRMED,
    "02": RedLetterStatus.WAITING,
    "03": RedLetterStatus.WAITING,
    "04": RedLetterStatus.CONFIRMED,
    **{f"{code:02d}": RedLetterStatus.VOID for code in range(5, 11)},
}
RECORDABLE = (RedLetterStatus.WAITING, RedLetterStatus.CONFIRMED, RedLetterStatus.VOID)
LIVE_BLUE = (FapiaoStatus.NORMAL, FapiaoStatus.REVERSED_PART)
FORM_NUMBER_MAX = RedLetterRequest._meta.get_field("form_number").max_length
REMARK = "被红冲蓝字数电发票号码：{blue} 红字发票信息确认单编号：{form}"


class RedLetterConflict(BillingError):
    status = 409


# Reads


def confirm_deadline(request: RedLetterRequest) -> datetime.datetime | None:
    """When a submitted form still waiting for the buyer becomes void."""
    if request.submitted_at is None:
        return None
    return request.submitted_at + datetime.timedelta(hours=settings.RED_LETTER_CONFIRM_HOURS)


def red_letter_status(request: RedLetterRequest, *, now: datetime.datetime | None = None) -> str:
    """The request's status as it is now: a form waiting past its deadline is void even before the beat
    task (``red_letter_requests_expire``) has recorded it."""
    deadline = confirm_deadline(request)
    if request.status == RedLetterStatus.WAITING and deadline and deadline <= (now or timezone.now()):
        return RedLetterStatus.VOID
    return request.status


def live_request(credit_note: Invoice) -> RedLetterRequest | None:
    """The credit note's request that is not void (a void one waits to be replaced), or None."""
    for request in credit_note.red_letter_requests.select_related("blue", "red").order_by("-pk"):
        if red_letter_status(request) != RedLetterStatus.VOID:
            return request
    return None


def current_request(credit_note: Invoice) -> RedLetterRequest | None:
    """The credit note's latest request, void or not (what its page shows)."""
    return credit_note.red_letter_requests.select_related("blue", "red", "replaces").order_by("-pk").first()


def blue_fapiao_of(invoice: Invoice) -> Fapiao | None:
    """The invoice's recorded blue fapiao that may still be reversed (normal or partly reversed)."""
    return (
        Fapiao.objects.filter(invoice=invoice, red=False, status__in=LIVE_BLUE)
        .order_by("-issued_on", "-pk")
        .first()
    )


def _reverses_fapiao_lines(credit_note: Invoice) -> bool:
    return any(line.on_fapiao for line in credit_note.lines.all())


def reverses_in_full(credit_note: Invoice) -> bool:
    """Whether the credit note alone takes back every fapiao line of the invoice it credits, each for its
    whole amount: nothing credited before it (by earlier credit notes), nothing left after it. Only such a
    reversal may give reason 01 (开票有误)."""
    blue_lines = [line for line in credit_note.credits.lines.all() if line.on_fapiao]
    taken = {}
    for line in credit_note.lines.all():
        if line.credits_line_id is not None and line.on_fapiao:
            taken[line.credits_line_id] = taken.get(line.credits_line_id, Decimal(0)) - line.gross.amount
    return bool(blue_lines) and all(
        taken.get(line.pk, Decimal(0)) == line.gross.amount for line in blue_lines
    )


@dataclass(frozen=True)
class RedLetterLine:
    """One reversed line as the confirmation form shows it: negative quantity (None for an agreed amount),
    unit price and amounts without VAT (as the platform's form has them), VAT and the total with VAT."""

    position: int
    blue_position: int
    name: str
    tax_code: str
    quantity: Decimal | None
    unit: str
    unit_price: Decimal | None
    amount: Money  # 金额, without VAT, negative
    vat_rate: Decimal
    vat: Money  # 税额, negative
    gross: Money  # 价税合计, negative


@dataclass
class RedLetterForm:
    """What the platform's confirmation form needs, and what would make it wrong (``problems``)."""

    blue_number: str
    blue_issued_on: datetime.date
    blue_type: str
    blue_type_label: str
    reason: str
    reason_label: str
    lines: list[RedLetterLine]
    gross: Money
    problems: list[str] = field(default_factory=list)


def _unit_price_without_vat(amount: Decimal, quantity: Decimal | None) -> Decimal | None:
    if not quantity:
        return None
    return (amount / quantity).quantize(Decimal("0.000001")).normalize()


def red_letter_lines(request: RedLetterRequest) -> tuple[list[RedLetterLine], list[str]]:
    """The reversed lines of a request (its credit note's fapiao lines) and the problems found (a line
    without a tax classification code)."""
    lines, problems = [], []
    credit_lines = request.credit_note.lines.select_related("credits_line").order_by("position", "pk")
    for line in credit_lines:
        if not line.on_fapiao:
            continue
        _service, tax_code, name = fapiao_item(line)
        if not tax_code:
            problems.append(
                str(
                    _("Line %(line)s (%(name)s) has no tax classification code: set its service's code.")
                    % {"line": line.position, "name": line.description}
                )
            )
        quantity = -line.credited_quantity.normalize() if line.credited_quantity else None
        lines.append(
            RedLetterLine(
                position=line.position,
                blue_position=line.credits_line.position if line.credits_line_id else 0,
                name=name,
                tax_code=tax_code,
                quantity=quantity,
                unit=line.credits_line.unit if (quantity and line.credits_line_id) else "",
                unit_price=_unit_price_without_vat(line.net.amount, quantity),
                amount=line.net,
                vat_rate=line.vat_rate,
                vat=line.vat,
                gross=line.gross,
            )
        )
    return lines, problems


def red_letter_form_rows(request: RedLetterRequest) -> RedLetterForm:
    """What the confirmation form (红字发票信息确认单) needs: the blue fapiao's number, date and type, the
    reason and every reversed line with its negative amounts."""
    blue = request.blue
    lines, problems = red_letter_lines(request)
    currency = request.credit_note.currency
    return RedLetterForm(
        blue_number=blue.number,
        blue_issued_on=blue.issued_on,
        blue_type=blue.fapiao_type,
        blue_type_label=str(blue.get_fapiao_type_display()),
        reason=request.reason,
        reason_label=str(request.get_reason_display()),
        lines=lines,
        gross=sum((line.gross for line in lines), Money(0, currency)),
        problems=problems,
    )


FORM_HEADERS = ("序号", "蓝字发票行", "项目名称", "商品和服务税收编码", "单位", "数量", "单价",
                "金额", "税率", "税额", "价税合计")  # fmt: skip


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        value = value.amount
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def red_letter_form_xlsx(request: RedLetterRequest) -> bytes:
    """The confirmation form's data as a workbook, every cell text (the 20-digit number keeps its zeros,
    amounts keep their two decimals): the blue fapiao and reason on top, one row per reversed line."""
    from openpyxl import Workbook

    form = red_letter_form_rows(request)
    book = Workbook()
    sheet = book.active
    sheet.title = "红字发票信息确认单"
    head = [
        ("蓝字发票号码", form.blue_number),
        ("蓝字发票开票日期", form.blue_issued_on.isoformat()),
        ("蓝字发票票种", form.blue_type_label),
        ("红冲原因", f"{form.reason} {RedLetterReason(form.reason).label}"),
        ("价税合计", _text(form.gross)),
        ("备注", red_letter_remark(request) if request.form_number else ""),
    ]
    rows = [*head, (), FORM_HEADERS]
    for line in form.lines:
        rows.append(
            (line.position, line.blue_position, line.name, line.tax_code, line.unit, line.quantity,
             line.unit_price, line.amount, line.vat_rate.normalize(), line.vat, line.gross)
        )  # fmt: skip
    for row in rows:
        sheet.append([formula_escaped(_text(value)) for value in row])
    for row in sheet.iter_rows():
        for cell in row:
            cell.number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def red_letter_remark(request: RedLetterRequest) -> str:
    """The 备注 the platform requires on the red fapiao."""
    if not request.form_number:
        raise BillingError(
            _("The remark needs the confirmation form's number: record it first."), code="red_letter_no_form"
        )
    return REMARK.format(blue=request.blue.number, form=request.form_number)


def red_letter_requests_due(*, now: datetime.datetime | None = None):
    """Requests waiting for the buyer past their deadline (void, not yet recorded so)."""
    now = now or timezone.now()
    return RedLetterRequest.objects.filter(
        status=RedLetterStatus.WAITING,
        submitted_at__lte=now - datetime.timedelta(hours=settings.RED_LETTER_CONFIRM_HOURS),
    )


# Writes


def _locked(request: RedLetterRequest) -> RedLetterRequest:
    return (
        RedLetterRequest.objects.select_for_update(of=("self",))
        .select_related("blue", "credit_note")
        .get(pk=request.pk)
    )


def _expire(request: RedLetterRequest) -> None:
    """Records a void that the clock decided (the read side already shows it)."""
    if request.status == RedLetterStatus.WAITING and red_letter_status(request) == RedLetterStatus.VOID:
        request.status = RedLetterStatus.VOID
        request.save(update_fields=["status"])


def _check_reason(credit_note: Invoice, reason: str) -> None:
    if reason not in RedLetterReason.values:
        raise BillingError(
            _("Unknown red-letter reason %(reason)s."), code="red_letter_reason", params={"reason": reason}
        )
    if reason == RedLetterReason.ERROR and not reverses_in_full(credit_note):
        raise BillingError(
            _("Reason 01 (invoiced in error) is for a full reversal only: this credit note reverses "
              "%(invoice)s in part. Choose 02, 03 or 04."),
            code="red_letter_reason_full_only",
            params={"invoice": credit_note.credits.number},
        )  # fmt: skip


def _blue_for(credit_note: Invoice) -> Fapiao:
    if credit_note.kind != InvoiceKind.CREDIT_NOTE or credit_note.status != InvoiceStatus.ISSUED:
        raise BillingError(
            _("A red-letter request is for an issued credit note."), code="red_letter_not_credit_note"
        )
    blue = blue_fapiao_of(credit_note.credits)
    if blue is None:
        raise BillingError(
            _("%(invoice)s has no fapiao left to reverse: record its blue fapiao first."),
            code="red_letter_no_blue",
            params={"invoice": credit_note.credits.number},
        )
    return blue


@transaction.atomic
def red_letter_request_create(*, credit_note: Invoice, reason: str, by=None) -> RedLetterRequest:
    """A red-letter request (DRAFT) for an issued credit note whose invoice has a blue fapiao to reverse;
    reason 01 only when the credit note reverses the whole invoice. One live request per credit note: asked
    again with the same reason, the live one is returned; a void one is replaced (``red_letter_request_
    replace``)."""
    credit_note = (
        Invoice.objects.select_for_update(of=("self",)).select_related("credits").get(pk=credit_note.pk)
    )
    existing = live_request(credit_note)
    if existing is not None:
        if existing.reason == reason:
            return existing
        raise RedLetterConflict(
            _("Credit note %(note)s has a red-letter request already."),
            code="red_letter_exists",
            params={"note": credit_note.number},
        )
    if credit_note.red_letter_requests.exists():
        raise RedLetterConflict(
            _("The red-letter request of %(note)s is void: replace it."),
            code="red_letter_void",
            params={"note": credit_note.number},
        )
    blue = _blue_for(credit_note)
    if not _reverses_fapiao_lines(credit_note):
        raise BillingError(
            _("Credit note %(note)s takes back nothing the fapiao holds: no red letter is needed."),
            code="red_letter_nothing",
            params={"note": credit_note.number},
        )
    _check_reason(credit_note, reason)
    return RedLetterRequest.objects.create(credit_note=credit_note, blue=blue, reason=reason, created_by=by)


def default_reason(credit_note: Invoice) -> str:
    """The reason a request starts with (finance changes it while it is a draft): 01 (invoiced in error)
    for a full reversal, the usual case of a wrong invoice issued again; 04 (sales allowance) for a part."""
    return RedLetterReason.ERROR if reverses_in_full(credit_note) else RedLetterReason.ALLOWANCE


def red_letter_request_start(*, credit_note: Invoice, by=None) -> RedLetterRequest | None:
    """What issuing a credit note does: when its invoice has a blue fapiao to reverse, a draft request with
    the default reason; otherwise nothing (None)."""
    if credit_note.credits_id is None or blue_fapiao_of(credit_note.credits) is None:
        return None
    if not _reverses_fapiao_lines(credit_note):
        return None
    return red_letter_request_create(credit_note=credit_note, reason=default_reason(credit_note), by=by)


@transaction.atomic
def red_letter_request_set_reason(*, request: RedLetterRequest, reason: str, by=None) -> RedLetterRequest:
    """Changes the reason of a draft (a submitted form keeps the reason it was submitted with)."""
    request = _locked(request)
    if request.reason == reason:
        return request
    if request.status != RedLetterStatus.DRAFT:
        raise RedLetterConflict(
            _("The reason can change only before the form is submitted."), code="red_letter_submitted"
        )
    _check_reason(request.credit_note, reason)
    request.reason = reason
    request.save(update_fields=["reason"])
    return request


def _recorded_status(status: str) -> str:
    status = (status or "").strip()
    if status in PLATFORM_STATUSES:
        return PLATFORM_STATUSES[status]
    if status in RECORDABLE:
        return status
    raise BillingError(
        _("Unknown form status %(status)s: give the platform's code (01 to 10) or waiting, confirmed, void."),
        code="red_letter_form_status",
        params={"status": status},
    )


@transaction.atomic
def red_letter_form_record(
    *, request: RedLetterRequest, form_number: str, status: str, by=None
) -> RedLetterRequest:
    """Records the confirmation form's number and status on the platform (its code, 01 to 10, or ours):
    waiting for the buyer, confirmed (at once when the buyer had not booked the blue fapiao), or void. The
    first record starts the confirmation clock (``submitted_at``). Recording what is recorded already changes
    nothing; a confirmed form does not go back to waiting, and a void or issued one changes no more."""
    request = _locked(request)
    form_number = (form_number or "").strip()
    status = _recorded_status(status)
    if not form_number or len(form_number) > FORM_NUMBER_MAX:
        raise BillingError(
            _("Give the confirmation form's number (%(max)s characters at most)."),
            code="red_letter_form_number",
            params={"max": FORM_NUMBER_MAX},
        )
    if request.form_number and request.form_number != form_number:
        raise RedLetterConflict(
            _("This request is recorded with form %(form)s; a new form needs a new request (replace it)."),
            code="red_letter_form_number_differs",
            params={"form": request.form_number},
        )
    _expire(request)
    if request.form_number == form_number and request.status == status:
        return request
    allowed = {
        RedLetterStatus.DRAFT: RECORDABLE,
        RedLetterStatus.WAITING: RECORDABLE,
        RedLetterStatus.CONFIRMED: (RedLetterStatus.CONFIRMED, RedLetterStatus.VOID),
    }.get(request.status, ())
    if status not in allowed:
        raise RedLetterConflict(
            _("A request %(current)s cannot become %(new)s."),
            code="red_letter_status",
            params={"current": request.get_status_display(), "new": RedLetterStatus(status).label},
        )
    request.form_number = form_number
    request.status = status
    if request.submitted_at is None:
        request.submitted_at = timezone.now()
    request.save(update_fields=["form_number", "status", "submitted_at"])
    return request


def _check_red_number(number: str) -> str:
    number = (number or "").strip()
    if not (len(number) == FAPIAO_NUMBER_DIGITS and number.isascii() and number.isdigit()):
        raise BillingError(
            _("A fapiao number has 20 digits; “%(number)s” does not."),
            code="fapiao_number",
            params={"number": number},
        )
    return number


@transaction.atomic
def red_letter_red_record(
    *, request: RedLetterRequest, number: str, issued_on: datetime.date, by=None
) -> RedLetterRequest:
    """Records the red fapiao the platform issued for a confirmed form (its 价税合计 negative, as the
    platform shows it) on the credit note; the request is ISSUED and the blue fapiao's status follows
    (``blue_fapiao_status_update``). Recording the same number again changes nothing."""
    request = _locked(request)
    number = _check_red_number(number)
    if request.status == RedLetterStatus.ISSUED:
        if request.red.number == number:
            return request
        raise RedLetterConflict(
            _("The red fapiao of this request is %(number)s already."),
            code="red_letter_issued",
            params={"number": request.red.number},
        )
    _expire(request)
    if request.status != RedLetterStatus.CONFIRMED:
        raise RedLetterConflict(
            _("A red fapiao is recorded once its form is confirmed (it is %(status)s)."),
            code="red_letter_not_confirmed",
            params={"status": request.get_status_display()},
        )
    if Fapiao.objects.filter(number=number).exists():
        raise RedLetterConflict(
            _("Fapiao %(number)s is recorded already."), code="fapiao_number_taken", params={"number": number}
        )
    blue = Fapiao.objects.select_for_update().get(pk=request.blue_id)
    if issued_on < blue.issued_on:
        raise BillingError(
            _("A red fapiao is not issued before its blue fapiao (%(date)s)."),
            code="red_letter_date",
            params={"date": blue.issued_on},
        )
    form = red_letter_form_rows(request)
    request.red = Fapiao.objects.create(
        invoice=request.credit_note,
        number=number,
        fapiao_type=blue.fapiao_type,
        red=True,
        issued_on=issued_on,
        gross=form.gross,
        source=str(_("red-letter form %(form)s") % {"form": request.form_number}),
        recorded_by=by,
    )
    request.status = RedLetterStatus.ISSUED
    request.save(update_fields=["red", "status"])
    blue_fapiao_status_update(blue)
    return request


def blue_fapiao_status_update(blue: Fapiao) -> Fapiao:
    """The one rule for a blue fapiao's status once red fapiao reverse it: fully reversed (已红冲-全额)
    when the red fapiao recorded on its invoice's credit notes take back its whole total, partly
    (已红冲-部分) when they take back some, normal when none. A void blue fapiao stays void. Red fapiao store
    their total negative. Whoever records a red fapiao (this module, an import) calls it."""
    if blue.status == FapiaoStatus.VOID:
        return blue
    reds = Fapiao.objects.filter(red=True, invoice__credits_id=blue.invoice_id).exclude(
        status=FapiaoStatus.VOID
    )
    taken_back = -sum((red.gross.amount for red in reds), Decimal(0))
    if not reds:
        status = FapiaoStatus.NORMAL
    elif taken_back >= blue.gross.amount:
        status = FapiaoStatus.REVERSED_FULL
    else:
        status = FapiaoStatus.REVERSED_PART
    if blue.status != status:
        blue.status = status
        blue.save(update_fields=["status"])
    return blue


@transaction.atomic
def red_letter_request_replace(*, request: RedLetterRequest, by=None) -> RedLetterRequest:
    """A new draft request for a void one's credit note (a void form cannot be used again), with the same
    reason; asked twice, the same replacement."""
    request = _locked(request)
    replacement = RedLetterRequest.objects.filter(replaces=request).first()
    if replacement is not None:
        return replacement
    _expire(request)
    if request.status != RedLetterStatus.VOID:
        raise RedLetterConflict(
            _("Only a void request is replaced (this one is %(status)s)."),
            code="red_letter_not_void",
            params={"status": request.get_status_display()},
        )
    blue = _blue_for(request.credit_note)
    return RedLetterRequest.objects.create(
        credit_note=request.credit_note, blue=blue, reason=request.reason, replaces=request, created_by=by
    )


@transaction.atomic
def red_letter_requests_expire(*, now: datetime.datetime | None = None) -> int:
    """Records as void every form still waiting past its deadline (beat); returns how many."""
    due = red_letter_requests_due(now=now)
    ids = list(due.select_for_update().values_list("pk", flat=True))
    if not ids:
        return 0
    RedLetterRequest.objects.filter(pk__in=ids).update(status=RedLetterStatus.VOID)
    history_record(RedLetterRequest.objects.filter(pk__in=ids), reason="void: not confirmed in time")
    return len(ids)
