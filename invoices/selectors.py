"""Reads of invoices: totals, balances, overdue ageing, statements."""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from djmoney.money import Money

from billing.errors import BillingError
from billing.money import round_fen
from billing.prepared import PreparedValues
from catalog.models import ServiceGroup, ServiceItem
from contracts.fees import OverdueInvoice
from contracts.models import ChargeRequest, ChargeStatus, Customer, PeriodKind, ServicePeriod
from invoices.models import (
    Charge,
    ChargeSource,
    DataVolumeUsage,
    Fapiao,
    FapiaoBatch,
    FapiaoStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    TravelExpense,
    WorkLog,
    WorkLogReview,
)
from quotes.models import InvoicingPolicy, LineKind, OrderLine, OrderStatus, QuoteLine, ServiceOrder
from quotes.selectors import order_line_priced

AGE_BUCKETS = ((30, "1-30"), (60, "31-60"), (90, "61-90"))


def invoice_totals(invoice: Invoice) -> dict:
    """Net, VAT and gross as sums of the lines, travel at cost kept outside our VAT apart (taxable travel
    is in the net and VAT)."""
    zero = Money(0, invoice.currency)
    lines = list(invoice.lines.all())
    return {
        "net": sum((line.net for line in lines if not line.outside_vat), zero),
        "vat": sum((line.vat for line in lines), zero),
        "travel": sum((line.gross for line in lines if line.outside_vat), zero),
        "gross": sum((line.gross for line in lines), zero),
    }


# What invoice_totals and invoice_balance read: prefetched, a list of invoices costs a fixed number
# of queries.
BALANCE_PREFETCH = ("lines", "payments", "credit_notes__lines")
# What invoice_fapiaos reads: prefetched, a list shows every invoice's fapiao in one more query.
FAPIAO_PREFETCH = "fapiaos"


def invoice_fapiaos(invoice: Invoice) -> list[Fapiao]:
    """The fapiao (数电发票) the platform issued for an invoice (blue) or a credit note (red), as recorded
    (invoices.fapiao_import), in the order issued: what its page, PDF, statement, exports, the API and the
    overdue reminders show. Reads the prefetched ``FAPIAO_PREFETCH`` when a list asked for it."""
    return list(invoice.fapiaos.all())


def fapiao_numbers(invoice: Invoice) -> str:
    """The fapiao numbers of an invoice as one text (", " between them), empty when it has none."""
    return ", ".join(fapiao.number for fapiao in invoice_fapiaos(invoice))


def invoice_balance(invoice: Invoice, *, on: datetime.date | None = None) -> Money:
    """What is still open: the gross, less issued credit notes, less payments; ``on`` a date, what was
    open at the end of that day (credit notes issued and payments received until then)."""
    zero = Money(0, invoice.currency)
    credited = sum(
        (
            line.gross
            for note in invoice.credit_notes.all()
            if note.status == InvoiceStatus.ISSUED and (on is None or note.issue_date <= on)
            for line in note.lines.all()
        ),
        zero,
    )
    paid = sum(
        (payment.amount for payment in invoice.payments.all() if on is None or payment.received_on <= on),
        zero,
    )
    return invoice_totals(invoice)["gross"] + credited - paid


def _summed(queryset: models.QuerySet, field: str, *, per: str) -> Coalesce:
    """One invoice's sum of ``field`` over ``queryset`` (filtered on ``OuterRef("pk")`` through ``per``),
    zero when there is none."""
    amounts = DecimalField(max_digits=14, decimal_places=2)
    total = queryset.order_by().values(per).annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=amounts), Value(Decimal(0)), output_field=amounts)


def invoice_gross_sql(*, only: Q | None = None) -> Coalesce:
    """An invoice's gross as an annotation (invoice_totals' rule: the sum of its lines), for lists that
    sort or filter by it; ``only`` sums the lines it selects (a fapiao's: invoices.fapiao_batch.on_fapiao)."""
    lines = InvoiceLine.objects.filter(invoice=OuterRef("pk"))
    if only is not None:
        lines = lines.filter(only)
    return _summed(lines, "gross", per="invoice")


def invoice_balance_sql(*, on: datetime.date | None = None):
    """invoice_balance as an annotation, for lists that sort or filter by what is open: the lines' gross,
    less credit notes issued and payments received (until the end of ``on`` when given). The two must
    agree: tests/invoices/test_balance_sql.py checks them against each other."""
    issued_credit_lines = InvoiceLine.objects.filter(
        invoice__credits=OuterRef("pk"), invoice__status=InvoiceStatus.ISSUED
    )
    payments = Payment.objects.filter(invoice=OuterRef("pk"))
    if on is not None:
        issued_credit_lines = issued_credit_lines.filter(invoice__issue_date__lte=on)
        payments = payments.filter(received_on__lte=on)
    return (
        invoice_gross_sql()
        + _summed(issued_credit_lines, "gross", per="invoice__credits")
        - _summed(payments, "amount", per="invoice")
    )


def uncharged(queryset: models.QuerySet, source: str, *, key: str = "pk") -> models.QuerySet:
    """The rows of ``queryset`` no charge of ``source`` bills yet (keyed by ``key``): collecting reads only
    what is new, not the whole history (the unique (source, source id) still guards a race)."""
    return queryset.exclude(Exists(Charge.objects.filter(source=source, source_id=OuterRef(key))))


def billable_not_collected(*, up_to: datetime.date) -> dict[str, models.QuerySet]:
    """By source, what invoices.services.charges_collect brings into the ledger up to ``up_to`` and has not
    yet: paid period fees (from the period start), order lines billed when ordered (from the day the quote
    was accepted), confirmed charge requests, approved travel, data-volume usage, and work logs not
    processed yet (a log may bill nothing: drawn from prepaid days, or against a line billed when
    ordered). Rejected travel and work logs are never charged. The unbilled list counts them, as it only
    reads; collecting is a service (its button, the invoice run, the dispatch task)."""
    return {
        ChargeSource.PERIOD_FEE: uncharged(
            ServicePeriod.objects.filter(kind=PeriodKind.PAID, start__lte=up_to, fee__gt=0),
            ChargeSource.PERIOD_FEE,
        ),
        ChargeSource.QUOTE_LINE: uncharged(
            OrderLine.objects.filter(
                invoicing_policy=InvoicingPolicy.ORDERED, order__quote__answered_at__date__lte=up_to
            ).exclude(order__status=OrderStatus.CANCELLED),
            ChargeSource.QUOTE_LINE,
            key="quote_line_id",  # keyed by the quote line, as before order lines existed
        ),
        ChargeSource.CHARGE_REQUEST: uncharged(
            ChargeRequest.objects.filter(
                status=ChargeStatus.CONFIRMED, customer_answered_at__date__lte=up_to
            ),
            ChargeSource.CHARGE_REQUEST,
        ),
        ChargeSource.TRAVEL: uncharged(
            TravelExpense.objects.filter(
                approved_at__isnull=False, rejected_at__isnull=True, spent_on__lte=up_to
            ),
            ChargeSource.TRAVEL,
        ),
        ChargeSource.DATA_VOLUME: uncharged(
            DataVolumeUsage.objects.filter(measured_on__lte=up_to), ChargeSource.DATA_VOLUME
        ),
        ChargeSource.WORK_LOG: WorkLog.objects.filter(
            processed_at__isnull=True, work_date__lte=up_to
        ).exclude(review=WorkLogReview.REJECTED),
    }


def _fee_invoices(period_id: int, on: datetime.date, due_before: datetime.date) -> models.QuerySet:
    """The issued invoices billing a period's fee that fell due before ``due_before`` with money open at
    the end of ``on`` (invoice_balance's rule), the earliest due first."""
    open_amount = invoice_balance_sql(on=on)
    return (
        Invoice.objects.filter(
            kind=InvoiceKind.INVOICE,
            status=InvoiceStatus.ISSUED,
            due_date__lt=due_before,
            lines__charge__source=ChargeSource.PERIOD_FEE,
            lines__charge__source_id=period_id,
        )
        .annotate(open_amount=open_amount)
        .filter(open_amount__gt=0)
        .order_by("due_date", "pk")
        .values("number", "currency", "due_date", "open_amount")[:1]
    )


# Compiled once per process: compiling its subqueries cost several times what running it does, and the
# entitlement check asks it for every paid period (bench/RESULTS.md, 2026-12-01).
_FEE_INVOICE = PreparedValues(
    _fee_invoices, 770_000_001, datetime.date(1900, 1, 2), datetime.date(1900, 1, 3)
)


def period_fee_overdue(
    *, period: ServicePeriod, on: datetime.date, due_before: datetime.date
) -> OverdueInvoice | None:
    """The issued invoice billing ``period``'s fee when it fell due before ``due_before`` and money is still
    open on it at the end of ``on``; None otherwise. One query: the entitlement check asks it (registered
    in contracts.fees by InvoicesConfig.ready)."""
    rows = _FEE_INVOICE(period.pk, on, due_before)
    if not rows:
        return None
    row = rows[0]
    return OverdueInvoice(
        number=row["number"],
        open_amount=Money(round_fen(Decimal(row["open_amount"])), row["currency"]),
        due_date=row["due_date"],
    )


CURRENT = "current"


def age_label(days_overdue: int) -> str:
    """The ageing bucket of an amount this many days past its due date: current (not yet due), 1-30,
    31-60, 61-90 or 90+."""
    if days_overdue <= 0:
        return CURRENT
    return next((label for limit, label in AGE_BUCKETS if days_overdue <= limit), "90+")


def age_bounds() -> dict[str, tuple[int, int | None]]:
    """Each overdue bucket of age_label as its first and last day overdue (None: no last day)."""
    bounds, first = {}, 1
    for limit, label in AGE_BUCKETS:
        bounds[label] = (first, limit)
        first = limit + 1
    return bounds | {"90+": (first, None)}


def overdue_by_age(*, today: datetime.date) -> dict[str, list[tuple[Invoice, Money, int]]]:
    """Issued invoices past their due date with money open, by days overdue: 1-30, 31-60, 61-90, 90+."""
    buckets: dict[str, list] = {label: [] for _days, label in AGE_BUCKETS} | {"90+": []}
    overdue = Invoice.objects.filter(
        kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED, settled=False, due_date__lt=today
    ).select_related("customer")
    for invoice in overdue.prefetch_related(*BALANCE_PREFETCH, FAPIAO_PREFETCH):
        open_amount = invoice_balance(invoice)
        if open_amount.amount <= 0:
            continue
        days = (today - invoice.due_date).days
        buckets[age_label(days)].append((invoice, open_amount, days))
    return buckets


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def statement_period(
    start: str | datetime.date | None, end: str | datetime.date | None
) -> tuple[datetime.date, datetime.date]:
    """The dates of a statement, from ISO text (the URL's ``from`` and ``to``) or dates; refuses a missing
    or malformed date and a ``from`` after ``to``."""
    dates = []
    for name, value in (("from", start), ("to", end)):
        if isinstance(value, str):
            try:  # YYYY-MM-DD only (fromisoformat would also read 20260101 or 2026-W01-1)
                value = datetime.date.fromisoformat(value) if ISO_DATE.fullmatch(value) else None
            except ValueError:
                value = None
        if not isinstance(value, datetime.date):
            raise BillingError(
                _("“%(name)s” must be a date written YYYY-MM-DD."),
                code="invalid_statement_period",
                params={"name": name},
            )
        dates.append(value)
    if dates[0] > dates[1]:
        raise BillingError(
            _("The statement's start (%(start)s) is after its end (%(end)s)."),
            code="invalid_statement_period",
            params={"start": dates[0], "end": dates[1]},
        )
    return dates[0], dates[1]


class StatementKind(models.TextChoices):
    INVOICE = "invoice", gettext_lazy("invoice")
    CREDIT_NOTE = "credit_note", gettext_lazy("credit note")
    PAYMENT = "payment", gettext_lazy("payment")


@dataclass(frozen=True)
class StatementLine:
    """One document of the period: an invoice (+), a credit note (-) or a payment (-)."""

    date: datetime.date
    kind: str
    reference: str
    invoice: Invoice  # the invoice or credit note itself, or the invoice a payment pays
    amount: Money
    balance: Money
    due_date: datetime.date | None = None
    fapiao: tuple[Fapiao, ...] = ()  # an invoice's or credit note's own (a payment's: none)


@dataclass(frozen=True)
class Statement:
    """A customer's statement of account (对账单) in one currency: the balance brought forward from before
    ``start``, the documents of the period with a running balance, the closing balance at ``end`` and
    what is open then by age. ``closing == sum(ageing) + unapplied`` (unapplied: invoices paid or
    credited beyond their amount)."""

    customer: Customer
    currency: str
    start: datetime.date
    end: datetime.date
    opening: Money
    lines: list[StatementLine]
    closing: Money
    ageing: dict[str, Money]
    unapplied: Money

    @property
    def invoiced(self) -> Money:
        return self._sum(StatementKind.INVOICE)

    @property
    def credited(self) -> Money:
        return self._sum(StatementKind.CREDIT_NOTE)

    @property
    def paid(self) -> Money:
        return self._sum(StatementKind.PAYMENT)

    def _sum(self, kind: str) -> Money:
        return sum((line.amount for line in self.lines if line.kind == kind), Money(0, self.currency))


AGEING_LABELS = (CURRENT, *(label for _days, label in AGE_BUCKETS), "90+")
_KIND_ORDER = {StatementKind.INVOICE: 0, StatementKind.CREDIT_NOTE: 1, StatementKind.PAYMENT: 2}


def statement_period_asked(params) -> tuple[datetime.date, datetime.date, str]:
    """The ``from`` and ``to`` of a statement page's query or form: this year until today when neither is
    given; this year and the error why, when they are wrong."""
    today = timezone.localdate()
    this_year = (today.replace(month=1, day=1), today)
    if not params.get("from") and not params.get("to"):
        return *this_year, ""
    try:
        return *statement_period(params.get("from"), params.get("to")), ""
    except BillingError as error:
        return *this_year, str(error)


def statement_of_account(*, customer: Customer, start: datetime.date, end: datetime.date) -> list[Statement]:
    """The customer's statements between two dates, one per currency it was invoiced or paid in until
    ``end`` (amounts of two currencies are never added), in alphabetical order of currency. Issued
    invoices count on their issue date, credit notes on theirs, payments on the day received. A fixed
    number of queries."""
    start, end = statement_period(start, end)
    documents = list(
        Invoice.objects.filter(customer=customer, status=InvoiceStatus.ISSUED, issue_date__lte=end)
        .select_related("credits")
        .prefetch_related(*BALANCE_PREFETCH, FAPIAO_PREFETCH)
    )
    entries: dict[str, list[tuple]] = {}
    for document in documents:
        kind = (
            StatementKind.CREDIT_NOTE if document.kind == InvoiceKind.CREDIT_NOTE else StatementKind.INVOICE
        )
        amount = invoice_totals(document)["gross"]
        due_date = document.due_date if kind == StatementKind.INVOICE else None  # a credit note is never due
        entries.setdefault(document.currency, []).append(
            (document.issue_date, kind, document.number, document, amount, due_date)
        )
        for payment in document.payments.all():
            if payment.received_on <= end:
                entries[document.currency].append(
                    (
                        payment.received_on,
                        StatementKind.PAYMENT,
                        payment.reference,
                        document,
                        -payment.amount,
                        None,
                    )
                )
    statements = []
    for currency in sorted(entries):
        rows = sorted(entries[currency], key=lambda e: (e[0], _KIND_ORDER[e[1]], e[2]))
        zero = Money(0, currency)
        opening = sum((e[4] for e in rows if e[0] < start), zero)
        balance, lines = opening, []
        for day, kind, reference, document, amount, due_date in rows:
            if day >= start:
                balance += amount
                fapiao = () if kind == StatementKind.PAYMENT else tuple(invoice_fapiaos(document))
                lines.append(StatementLine(day, kind, reference, document, amount, balance, due_date, fapiao))
        ageing, unapplied = dict.fromkeys(AGEING_LABELS, zero), zero
        for document in documents:
            if document.currency != currency or document.kind != InvoiceKind.INVOICE:
                continue
            open_amount = invoice_balance(document, on=end)
            if open_amount.amount > 0:
                label = age_label((end - document.due_date).days) if document.due_date else CURRENT
                ageing[label] += open_amount
            else:
                unapplied += open_amount
        statements.append(
            Statement(customer, currency, start, end, opening, lines, balance, ageing, unapplied)
        )
    return statements


def _issued_lines(*, months: int, today: datetime.date) -> tuple[dict[datetime.date, dict], models.QuerySet]:
    """Empty rows for the last ``months`` months and the issued invoice and credit-note lines in them, each
    with its issue date and the charge it bills (a credit note's line: the charge of the line it credits)."""
    first = today.replace(day=1) - relativedelta(months=months - 1)
    rows = {first + relativedelta(months=index): {} for index in range(months)}
    lines = (
        InvoiceLine.objects.filter(invoice__status=InvoiceStatus.ISSUED, invoice__issue_date__gte=first)
        .annotate(
            day=F("invoice__issue_date"),  # months are cut in Python: SQLite's date functions are slow
            billed_source=Case(
                When(credits_line__isnull=False, then=F("credits_line__charge__source")),
                default=F("charge__source"),
            ),
            billed_source_id=Case(
                When(credits_line__isnull=False, then=F("credits_line__charge__source_id")),
                default=F("charge__source_id"),
            ),
        )
        .order_by()
    )
    return rows, lines


def _by_month(rows: dict, sums, keys) -> dict[str, list[dict]]:
    """Gross per currency, month and key (from ``sums``: (currency, month, key, total) summed by the
    database, Decimals), given as floats for the charts; the default currency always has its rows (zeros in
    a window without invoices), two currencies are never added."""
    sums = list(sums)
    currencies = sorted({settings.DEFAULT_CURRENCY, *(currency for currency, *_rest in sums)})
    tables = {currency: {month: dict.fromkeys(keys, Decimal(0)) for month in rows} for currency in currencies}
    for currency, month, key, total in sums:
        table = tables[currency].get(month)
        if table is not None:
            table[key] = table.get(key, Decimal(0)) + total
    return {
        currency: [
            {"month": month, **{key: float(total) for key, total in table.items()}}
            for month, table in table_by_month.items()
        ]
        for currency, table_by_month in tables.items()
    }


def _month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


CHART_CACHE_SECONDS = 24 * 3600


def _month_sums(name: str, rows: dict, lines: models.QuerySet, sums) -> list[tuple]:
    """``sums(lines)`` (tuples whose second item is the month) for the months of ``rows``, each month's
    kept in the cache under a fingerprint of the documents issued in it (how many, the last key, the last
    issue time): an issued invoice or credit note never changes, so a month's sums change only when a
    document is issued in it, which changes its fingerprint. The database sums only the months whose
    fingerprint is new (after the first view, the current month), so the charts do not read a year of
    lines on every view."""
    first = min(rows)
    issued = (
        Invoice.objects.filter(status=InvoiceStatus.ISSUED, issue_date__gte=first)
        .order_by()
        .values("issue_date")
        .annotate(documents=Count("pk"), last=Max("pk"), at=Max("issued_at"))
    )
    prints: dict[datetime.date, list] = {month: [0, 0, None] for month in rows}
    for row in issued:
        found = prints.get(_month(row["issue_date"]))
        if found is not None:
            found[0] += row["documents"]
            found[1] = max(found[1], row["last"])
            found[2] = max(filter(None, (found[2], row["at"])), default=None)
    keys = {
        month: f"charts:{name}:{month:%Y-%m}:{count}:{last}:{at.isoformat() if at else ''}"
        for month, (count, last, at) in prints.items()
    }
    cached = cache.get_many(list(keys.values()))
    missing = [month for month, key in keys.items() if key not in cached]
    if missing:
        computed: dict[datetime.date, list] = {month: [] for month in missing}
        end = max(missing) + relativedelta(months=1)
        for row in sums(lines.filter(invoice__issue_date__gte=min(missing), invoice__issue_date__lt=end)):
            if row[1] in computed:
                computed[row[1]].append(row)
        cache.set_many({keys[month]: found for month, found in computed.items()}, CHART_CACHE_SECONDS)
        cached |= {keys[month]: found for month, found in computed.items()}
    return [row for key in keys.values() for row in cached[key]]


def revenue_by_month(*, months: int, today: datetime.date) -> dict[str, list[dict]]:
    """Gross invoiced per currency and month (credit notes deducted) over the last ``months`` months, split
    by what was billed (period fees, quote lines, person-days, ...). Summed by the database: one query,
    whatever the number of invoices."""
    rows, lines = _issued_lines(months=months, today=today)

    def sums(lines):
        totals = lines.values("invoice__currency", "day", "invoice__kind", "charge__source").annotate(
            total=Sum("gross")
        )
        return [
            (
                row["invoice__currency"],
                _month(row["day"]),
                "credited"
                if row["invoice__kind"] == InvoiceKind.CREDIT_NOTE
                else row["charge__source"] or ChargeSource.PERIOD_FEE,
                row["total"],
            )
            for row in totals
        ]

    return _by_month(rows, _month_sums("revenue", rows, lines, sums), [*ChargeSource.values, "credited"])


PERIODS, TRAVEL, OUT_OF_SCOPE = "service-periods", "travel", "out-of-scope"


def _service_code_of(source: str, model: type[models.Model], field: str = "service_code") -> When:
    return When(
        billed_source=source,
        then=Subquery(
            model.objects.filter(pk=OuterRef("billed_source_id")).values(field)[:1],
            output_field=models.CharField(),
        ),
    )


def revenue_by_group(*, months: int, today: datetime.date) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """Gross invoiced per currency and month by service group (服务类别) of what was billed, credit notes
    deducted from the group of the line they credit; period fees, travel at cost and out-of-scope work have
    buckets of their own. Returns the months by currency and the bucket labels, in catalogue order. Summed
    by the database by service: a fixed number of queries and rows, whatever the number of invoices."""
    rows, lines = _issued_lines(months=months, today=today)

    def sums(lines):
        totals = (
            lines.annotate(
                service=Case(
                    _service_code_of(ChargeSource.WORK_LOG, WorkLog),
                    _service_code_of(ChargeSource.DATA_VOLUME, DataVolumeUsage),
                    _service_code_of(ChargeSource.CHARGE_REQUEST, ChargeRequest),
                    _service_code_of(ChargeSource.QUOTE_LINE, QuoteLine, "service__code"),
                    default=Value(""),
                    output_field=models.CharField(),
                )
            )
            .values("invoice__currency", "day", "billed_source", "service")
            .annotate(total=Sum("gross"))
        )
        return [
            (row["invoice__currency"], _month(row["day"]), row["billed_source"], row["service"], row["total"])
            for row in totals
        ]

    group_of_service = dict(ServiceItem.objects.values_list("code", "group__code"))

    def key_of(source: str | None, service: str | None) -> str:
        if source is None or source == ChargeSource.PERIOD_FEE:
            return PERIODS
        if source == ChargeSource.TRAVEL:
            return TRAVEL
        if source == ChargeSource.QUOTE_LINE and not service:
            return PERIODS  # a renewal quote's period fee
        return group_of_service.get(service) or OUT_OF_SCOPE

    grouped = (
        (currency, month, key_of(source, service), total)
        for currency, month, source, service, total in _month_sums("groups", rows, lines, sums)
    )
    labels = {PERIODS: str(_("service period fees (standard service)"))}
    labels |= {group.code: str(group.name) for group in ServiceGroup.objects.all()}
    labels |= {OUT_OF_SCOPE: str(_("out-of-scope work")), TRAVEL: str(_("travel and lodging at cost"))}
    return _by_month(rows, grouped, labels), labels


def overdue_sums_by_age(*, today: datetime.date) -> dict[str, dict[str, Money]]:
    """What is open on issued invoices past their due date, summed per ageing bucket (1-30, 31-60, 61-90,
    90+) and currency: invoice_balance's rule (lines' gross, less issued credit notes, less payments),
    computed and summed by the database: one query, whatever the number of invoices (the charts' ageing).
    Kept in the cache until a payment is recorded, a document issued or the day changes."""
    issued_credit_lines = InvoiceLine.objects.filter(
        invoice__credits=OuterRef("pk"), invoice__status=InvoiceStatus.ISSUED
    )
    open_amount = (
        _summed(InvoiceLine.objects.filter(invoice=OuterRef("pk")), "gross", per="invoice")
        + _summed(issued_credit_lines, "gross", per="invoice__credits")
        - _summed(Payment.objects.filter(invoice=OuterRef("pk")), "amount", per="invoice")
    )
    # what is open changes only with a payment or an issued document (issued ones never change) or a new day
    paid = Payment.objects.aggregate(count=Count("pk"), last=Max("pk"), total=Sum("amount"))
    issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED).aggregate(count=Count("pk"), last=Max("pk"))
    key = "charts:ageing:{}:{}:{}:{}:{}:{}".format(today, *paid.values(), *issued.values())
    if (cached := cache.get(key)) is not None:
        return cached
    limits = [(today - datetime.timedelta(days=days), label) for days, label in AGE_BUCKETS]
    bucket = Case(
        *(When(due_date__gte=day, then=Value(label)) for day, label in limits), default=Value("90+")
    )
    rows = (
        Invoice.objects.filter(
            kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED, settled=False, due_date__lt=today
        )
        .annotate(open_amount=open_amount)
        .filter(open_amount__gt=0)
        .annotate(bucket=bucket)
        .order_by()
        .values("bucket", "currency")
        .annotate(total=Sum("open_amount"))
    )
    sums: dict[str, dict[str, Money]] = {label: {} for _days, label in AGE_BUCKETS} | {"90+": {}}
    for row in rows:
        sums[row["bucket"]][row["currency"]] = Money(round_fen(Decimal(row["total"])), row["currency"])
    cache.set(key, sums, CHART_CACHE_SECONDS)
    return sums


@dataclass(frozen=True)
class Quantity:
    """A quantity of an order line and its amount, in the line's own terms (gross when its price includes
    VAT, net when not), rounded to the fen."""

    quantity: Decimal
    amount: Money


@dataclass(frozen=True)
class OrderLineProgress:
    """Where an order line stands. Always ordered = delivered + remaining + released (released: what was
    left undelivered when the order was closed), and invoiced - credited = what the ledger billed for it."""

    line: OrderLine
    ordered: Quantity
    delivered: Quantity
    beyond: Quantity  # logged past the ordered quantity: a charge request, never this line
    invoiced: Quantity
    credited: Quantity
    remaining: Quantity
    released: Quantity

    @property
    def parts(self) -> list[tuple[str, Quantity]]:
        """The columns a page shows, in order."""
        names = ("ordered", "delivered", "invoiced", "credited", "remaining", "released")
        return [(name, getattr(self, name)) for name in names]


def order_lines_progress(lines) -> list[OrderLineProgress]:
    """Ordered, delivered, invoiced, credited, remaining and released quantities and amounts of order lines
    (the one place they are computed; pages and the API read them here), in three queries for any number.

    Delivered: person-days logged against the line, up to its quantity; for a line billed when ordered that
    is not in person-days, everything is delivered once the order is closed. Invoiced: lines of issued
    invoices that bill the line's charges; credited: issued credit-note lines that credit them."""
    lines = list(lines)
    ids = [line.pk for line in lines]
    logged = {
        line_id: (total or Decimal(0), processed or Decimal(0))
        for line_id, total, processed in WorkLog.objects.filter(order_line__in=ids)
        .exclude(review=WorkLogReview.REJECTED)  # never charged, so never delivered
        .values("order_line")
        .annotate(total=Sum("days"), processed=Sum("days", filter=Q(processed_at__isnull=False)))
        .values_list("order_line", "total", "processed")
    }
    charges: dict[int, list[Charge]] = {}
    for charge in (
        Charge.objects.filter(order_line__in=ids)
        .select_related("invoice_line__invoice")
        .prefetch_related("invoice_line__credited_by__invoice")
    ):
        charges.setdefault(charge.order_line_id, []).append(charge)
    nothing = (Decimal(0), Decimal(0))
    return [_progress(line, *logged.get(line.pk, nothing), charges.get(line.pk, [])) for line in lines]


def _progress(
    line: OrderLine, logged: Decimal, processed: Decimal, charges: list[Charge]
) -> OrderLineProgress:
    currency = str(line.amount.currency)
    zero = Decimal(0)

    def part(quantity: Decimal, amount: Decimal) -> Quantity:
        return Quantity(quantity, Money(round_fen(amount), currency))

    def own_terms(invoice_line: InvoiceLine) -> Decimal:
        return (invoice_line.gross if line.tax_inclusive else invoice_line.net).amount

    closed = not line.order.is_open
    delivered_quantity = min(logged, line.quantity)
    if line.invoicing_policy == InvoicingPolicy.DELIVERED:
        work_charges = [c for c in charges if c.source == ChargeSource.WORK_LOG]
        # delivered and not charged yet (logs the next run bills): worth their share of the agreed price
        pending = delivered_quantity - min(processed, line.quantity)
        delivered_amount = sum((c.amount.amount for c in work_charges), zero) + (
            order_line_priced(line, pending).amount.amount if pending > 0 else zero
        )
    else:
        if closed and line.kind != LineKind.PERSON_DAYS and line.order.status == OrderStatus.CLOSED:
            # a course, a fixed price: delivered when the order is closed (a cancelled order delivers none)
            delivered_quantity = line.quantity
        if delivered_quantity == line.quantity:
            delivered_amount = line.amount.amount
        elif delivered_quantity:
            delivered_amount = order_line_priced(line, delivered_quantity).amount.amount
        else:
            delivered_amount = zero
    delivered_amount = round_fen(delivered_amount)
    left = (line.quantity - delivered_quantity, line.amount.amount - delivered_amount)
    remaining, released = ((zero, zero), left) if closed else (left, (zero, zero))
    issued = [
        c.invoice_line
        for c in charges
        if c.invoice_line and c.invoice_line.invoice.status == InvoiceStatus.ISSUED
    ]
    credits = [
        credit
        for billed in issued
        for credit in billed.credited_by.all()
        if credit.invoice.status == InvoiceStatus.ISSUED
    ]
    return OrderLineProgress(
        line=line,
        ordered=part(line.quantity, line.amount.amount),
        delivered=part(delivered_quantity, delivered_amount),
        beyond=part(max(logged - line.quantity, zero), zero),
        invoiced=part(sum((b.quantity for b in issued), zero), sum((own_terms(b) for b in issued), zero)),
        credited=part(  # an agreed amount credited takes back no quantity
            sum((c.credited_quantity or zero for c in credits), zero),
            sum((-own_terms(c) for c in credits), zero),
        ),
        remaining=part(*remaining),
        released=part(*released),
    )


def order_progress(order: ServiceOrder) -> list[OrderLineProgress]:
    return order_lines_progress(order.lines.select_related("order__quote", "service"))


# Fapiao (数电发票) of an invoice: none yet, requested (in a batch workbook sent to the platform, no fapiao
# recorded yet) or issued (a blue fapiao recorded that stands, whole or partly reversed; a fully reversed or
# void one no longer covers the invoice).
FAPIAO_NONE, FAPIAO_REQUESTED, FAPIAO_ISSUED = "none", "requested", "issued"
FAPIAO_STATES = {
    FAPIAO_NONE: gettext_lazy("no fapiao"),
    FAPIAO_REQUESTED: gettext_lazy("fapiao requested"),
    FAPIAO_ISSUED: gettext_lazy("fapiao issued"),
}
STANDING_FAPIAO = (FapiaoStatus.NORMAL, FapiaoStatus.REVERSED_PART)


def blue_fapiao_sql() -> Exists:
    """Whether an invoice has a blue fapiao that stands, as an annotation."""
    return Exists(Fapiao.objects.filter(invoice=OuterRef("pk"), red=False, status__in=STANDING_FAPIAO))


def fapiao_requested_sql() -> Exists:
    """Whether an invoice is in a fapiao batch, as an annotation (whatever the platform made of it)."""
    return Exists(FapiaoBatch.invoices.through.objects.filter(invoice_id=OuterRef("pk")))


def fapiao_state_sql() -> Case:
    """fapiao_state as an annotation, for lists that filter or show it."""
    return Case(
        When(blue_fapiao_sql(), then=Value(FAPIAO_ISSUED)),
        When(fapiao_requested_sql(), then=Value(FAPIAO_REQUESTED)),
        default=Value(FAPIAO_NONE),
        output_field=CharField(),
    )


def invoice_uncredited_sql():
    """An invoice's gross less its issued credit notes', as an annotation: what a fapiao may still cover."""
    issued_credit_lines = InvoiceLine.objects.filter(
        invoice__credits=OuterRef("pk"), invoice__status=InvoiceStatus.ISSUED
    )
    return invoice_gross_sql() + _summed(issued_credit_lines, "gross", per="invoice__credits")


def fapiao_state(invoice: Invoice) -> str:
    """FAPIAO_NONE, FAPIAO_REQUESTED or FAPIAO_ISSUED for one invoice."""
    return (
        Invoice.objects.filter(pk=invoice.pk)
        .annotate(state=fapiao_state_sql())
        .values_list("state", flat=True)
        .get()
    )
