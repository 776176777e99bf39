"""Many customers with five years of history, for benchmarks and for trying the pages
(`manage.py load_demo --scale N`).

Rows are written with bulk_create in chunks of customers, each chunk in one transaction, reproducing what
the services write through their own builders: ``period_fee_charge``, ``work_log_rate_charge``,
``travel_charge`` and ``invoice_line_of_charge`` (so amounts come from catalog.pricing, rounded per line
as an invoice run rounds them); the cap of an expense from ``travel_expense_cap``. Invoice numbers are
taken from the same sequences ``invoice_issue`` uses, under a row lock, gapless per series and year and in
issue-date order within a chunk. Bulk rows get no history rows. What falls in the current month (work,
expenses, a period starting), and for a customer billed quarterly what falls in the current quarter, is left
unbilled: the next invoice run bills it, as it would in real life.

Bulk-written invoices get no PDF: an invoice's PDF is rendered when someone first downloads it
(``invoice_pdf`` renders a missing one), and the sweep that sends lost render tasks again
(``pending_work_dispatch``) looks back only DISPATCH_PENDING_WITHIN_SECONDS, so years of loaded invoices
queue nothing. A real system moving its history in would do the same: render the few documents anyone asks
for, not hundreds of thousands nobody opens."""

import datetime
import random
from collections import defaultdict
from decimal import Decimal
from functools import cache

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from djmoney.money import Money
from sequences.models import Sequence

from billing.money import round_fen
from catalog.models import Product, RateCard, ServiceItem, ServiceTier, TaxCategory
from catalog.selectors import rate_card_in_force, service_by_code, vat_rate_on
from contracts.models import (
    Contact,
    Contract,
    ContractKind,
    Customer,
    LicensedProduct,
    PeriodKind,
    ServicePeriod,
)
from contracts.services import (
    charge_request_approve,
    charge_request_create,
    charge_request_customer_answer,
    charge_request_reject,
)
from invoices.models import (
    Charge,
    ExpenseCategory,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    TravelExpense,
    WorkLog,
)
from invoices.services import (
    PAYMENT_TERMS_DAYS,
    credit_note_issue,
    invoice_line_of_charge,
    period_fee_charge,
    travel_charge,
    travel_expense_cap,
    work_log_priced,
    work_log_rate_charge,
)
from quotes.models import Quote
from quotes.services import (
    quote_add_line,
    quote_create,
    quote_customer_answer,
    quote_send,
    quotes_apply_closing_rule,
)

PREFIX = "SCALE-"
CHUNK = 200
YEARS = 5
ENGINEERS = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强")
CITIES = (("北京", "北京市"), ("上海", "上海市"), ("广州", "广东省"), ("杭州", "浙江省"), ("成都", "四川省"))
# One receipt file, a real (tiny) PDF, that every loaded travel expense points at.
RECEIPT = "receipts/demo-scale.pdf"
RECEIPT_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 298 420]>>endobj\n"
    b"trailer<</Root 1 0 R/Size 4>>\n%%EOF\n"
)
# Billed monthly by default: about a third of the customers; the others quarterly. At 10,000 customers
# that is about 100,000 invoices over the five years.
MONTHLY_SHARE = 0.3


def load_scale(
    *,
    customers: int,
    seed: int = 1,
    today: datetime.date | None = None,
    monthly_share: float = MONTHLY_SHARE,
) -> dict[str, int]:
    """Adds ``customers`` new customers (codes after the last SCALE- one) with their history; returns the
    counts of what it wrote. ``monthly_share`` of them are invoiced monthly, the others quarterly."""
    today = today or timezone.localdate()
    rng = random.Random(seed)
    _PRICES.clear(), _CARDS.clear()  # a rate card may have changed since the last load in this process
    _approvers.cache_clear()
    if not default_storage.exists(RECEIPT):
        default_storage.save(RECEIPT, ContentFile(RECEIPT_PDF))
    first = _next_number()
    counts: dict[str, int] = defaultdict(int)
    # The loaded customers are fictitious: what the services would mail them goes nowhere.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        for start in range(0, customers, CHUNK):
            numbers = range(first + start, first + min(start + CHUNK, customers))
            with transaction.atomic():
                _load_chunk(numbers, rng=rng, today=today, counts=counts, monthly_share=monthly_share)
        # sent a month and more ago and never answered: the closing rule closes them (expired)
        counts["quotes expired"] += quotes_apply_closing_rule()[0]
    return dict(counts)


_PRICES: dict = {}
_CARDS: dict = {}


def _work_price(log: WorkLog):
    """The price of a log's work, asked of the pricing path once per rate card, VAT rate, quantity and
    delivery mode: the same inputs give the same price, and asking it for each of a million logs would take
    hours."""
    if log.work_date not in _CARDS:
        category = service_by_code(log.service_code).tax_category.code
        _CARDS[log.work_date] = (
            rate_card_in_force(on=log.work_date),
            vat_rate_on(category_code=category, on=log.work_date),
        )
    card, vat_rate = _CARDS[log.work_date]
    key = (card.pk, vat_rate, log.days, log.role, log.on_site, log.service_code)
    if key not in _PRICES:
        _PRICES[key] = work_log_priced(log, log.days, rate_card=card, vat_rate=vat_rate)
    return _PRICES[key]


def _next_number() -> int:
    codes = Customer.objects.filter(code__startswith=PREFIX).values_list("code", flat=True)
    return (
        max(
            (int(code.removeprefix(PREFIX)) for code in codes if code.removeprefix(PREFIX).isdigit()),
            default=0,
        )
        + 1
    )


def _load_chunk(numbers, *, rng: random.Random, today: datetime.date, counts, monthly_share: float) -> None:
    tiers = list(ServiceTier.objects.filter(code__in=("standard", "premium")).order_by("code")) or list(
        ServiceTier.objects.all()[:1]
    )
    products = Product.objects.in_bulk(field_name="code")
    product_codes = [code for code in ("KMS", "EIS") if code in products] or list(products)[:2]
    month_start = today.replace(day=1)
    horizon = today - relativedelta(years=YEARS)

    customers = [
        Customer(
            code=f"{PREFIX}{n:06d}",
            legal_name=f"规模示例{n:06d}有限公司",
            city=(city := rng.choice(CITIES))[0],
            region=city[1],
        )
        for n in numbers
    ]
    Customer.objects.bulk_create(customers)
    Contact.objects.bulk_create(
        Contact(
            customer=c, name=rng.choice(ENGINEERS), email=f"it@{c.code.lower()}.example.com", is_primary=True
        )
        for c in customers
    )

    # contracts: a purchase with its free year, a renewal contract with yearly paid periods (some lapse), and
    # for some customers a second product bought under a purchase contract of its own
    plans = []  # (customer, contract, [(kind, start, end, tier, fee)], product or None)
    for customer in customers:
        bought = horizon + datetime.timedelta(days=rng.randrange((today - horizon).days - 60))
        tier = rng.choice(tiers)
        purchase = Contract(
            customer=customer, number=f"HT-{customer.code}-1", kind=ContractKind.PURCHASE, signed_on=bought
        )
        free_end = bought + relativedelta(years=1) - datetime.timedelta(days=1)
        plans.append((customer, purchase, [(PeriodKind.FREE, bought, free_end, tier, 0)], product_codes[0]))
        lapses_after = rng.choice((1, 2, None, None, None, None))
        paid, start, fee = [], free_end + datetime.timedelta(days=1), rng.randrange(30, 150) * 1000
        while start <= today and (lapses_after is None or len(paid) < lapses_after):
            paid.append(
                (
                    PeriodKind.PAID,
                    start,
                    start + relativedelta(years=1) - datetime.timedelta(days=1),
                    tier,
                    fee,
                )
            )
            start += relativedelta(years=1)
        if paid:
            renewal = Contract(
                customer=customer,
                number=f"HT-{customer.code}-R",
                kind=ContractKind.RENEWAL,
                signed_on=paid[0][1] - datetime.timedelta(days=20),
                continues=purchase,
            )
            plans.append((customer, renewal, paid, None))
        if len(product_codes) > 1 and rng.random() < 0.2:
            second = bought + datetime.timedelta(days=rng.randrange(max((today - bought).days, 1)))
            plans.append(
                (
                    customer,
                    Contract(
                        customer=customer,
                        number=f"HT-{customer.code}-2",
                        kind=ContractKind.PURCHASE,
                        signed_on=second,
                    ),
                    [
                        (
                            PeriodKind.FREE,
                            second,
                            second + relativedelta(years=1) - datetime.timedelta(days=1),
                            tier,
                            0,
                        )
                    ],
                    product_codes[1],
                )
            )
    contracts = [plan[1] for plan in plans]
    Contract.objects.bulk_create([c for c in contracts if c.kind != ContractKind.RENEWAL])
    Contract.objects.bulk_create([c for c in contracts if c.kind == ContractKind.RENEWAL])
    LicensedProduct.objects.bulk_create(
        LicensedProduct(
            contract=contract, product=products[code], version="8.5.2" if code == "KMS" else "5.2.0"
        )
        for _customer, contract, _periods, code in plans
        if code
    )
    periods = [
        ServicePeriod(
            contract=contract,
            kind=kind,
            start=start,
            end=end,
            tier=tier,
            calendar=tier.calendar,
            fee=Money(fee, "CNY"),
        )
        for _customer, contract, spans, _code in plans
        for kind, start, end, tier, fee in spans
    ]
    ServicePeriod.objects.bulk_create(periods)
    counts["customers"] += len(customers)
    counts["contracts"] += len(contracts)
    counts["periods"] += len(periods)

    # work and travel, charged at once when before this month (as a run would have charged them)
    vat_cache: dict[datetime.date, Decimal] = {}

    def vat(day):
        if day not in vat_cache:
            vat_cache[day] = vat_rate_on(category_code=TaxCategory.SERVICES, on=day)
        return vat_cache[day]

    # work is logged from the first rate card on (before it, a run would set it aside: nothing prices it)
    priced_from = (
        RateCard.objects.filter(code="list")
        .order_by("effective_from")
        .values_list("effective_from", flat=True)
        .first()
        or today
    )
    bought_on = {
        customer.pk: max(min(p[2][0][1] for p in plans if p[0] is customer), priced_from)
        for customer in customers
    }
    logs, expenses = [], []
    for customer in customers:
        span = max((today - bought_on[customer.pk]).days, 1)
        for j in range(rng.randrange(60, 141)):
            day = bought_on[customer.pk] + datetime.timedelta(days=rng.randrange(span))
            logs.append(
                WorkLog(
                    customer=customer,
                    engineer=rng.choice(ENGINEERS),
                    work_date=day,
                    days=rng.choice((Decimal("0.5"), Decimal(1), Decimal("1.5"), Decimal(2))),
                    on_site=rng.random() < 0.3,
                    ticket_ref=f"TK-{customer.code}-{j:04d}",
                    description="远程支持与问题排查",
                    idempotency_key=f"scale:{customer.code}:{j}",
                    processed_at=timezone.now() if day < month_start else None,
                )
            )
        for _j in range(rng.randrange(0, 4)):
            day = bought_on[customer.pk] + datetime.timedelta(days=rng.randrange(span))
            category = rng.choice(ExpenseCategory.values)
            amount = Money(rng.randrange(200, 3000), "CNY")
            cap, excess = travel_expense_cap(category=category, spent_on=day, amount=amount)
            expenses.append(
                TravelExpense(
                    customer=customer,
                    category=category,
                    spent_on=day,
                    amount=amount,
                    cap=cap,
                    excess=excess,
                    description="现场支持差旅",
                    receipt=RECEIPT,
                    approved_at=timezone.now(),
                )
            )
    WorkLog.objects.bulk_create(logs, batch_size=2000)
    TravelExpense.objects.bulk_create(expenses, batch_size=2000)
    counts["work logs"] += len(logs)
    counts["travel expenses"] += len(expenses)

    charges = [
        period_fee_charge(period, customer_id=period.contract.customer_id, vat_rate=vat(period.start))
        for period in periods
        if period.kind == PeriodKind.PAID and period.start < month_start
    ]
    charges += [
        work_log_rate_charge(log, priced=_work_price(log)) for log in logs if log.work_date < month_start
    ]
    charges += [travel_charge(expense) for expense in expenses if expense.spent_on < month_start]
    counts["charges"] += len(charges)
    monthly = {customer.pk for customer in customers if rng.random() < monthly_share}
    _invoice(charges, customers, monthly=monthly, rng=rng, today=today, counts=counts)


def _invoice(charges, customers, *, monthly: set, rng: random.Random, today: datetime.date, counts) -> None:
    """One invoice per customer and month of service (customers in ``monthly``) or quarter, issued on the
    first day after it, numbered in issue-date order; then the payments. A quarter not over yet is left
    unbilled."""
    by_period = defaultdict(list)
    for charge in sorted(charges, key=lambda c: (c.service_date, c.source, c.source_id)):
        day = charge.service_date
        start = day.replace(day=1) if charge.customer_id in monthly else quarter_start(day)
        by_period[(charge.customer_id, start)].append(charge)
    drafts = []
    for (customer_id, start), billed in sorted(by_period.items(), key=lambda item: (item[0][0], item[0][1])):
        issued_on = start + relativedelta(months=1 if customer_id in monthly else 3)
        if issued_on > today:
            continue  # this quarter's charges wait for a run
        lines = [invoice_line_of_charge(charge) for charge in billed]
        drafts.append((issued_on, customer_id, billed, lines))
    drafts.sort(key=lambda d: (d[0], d[1]))
    years = {d[0].year for d in drafts}
    sequences = {}
    for year in sorted(years):
        Sequence.objects.get_or_create(name=f"invoice-INV-{year}", defaults={"last": 0})
        sequences[year] = Sequence.objects.select_for_update().get(name=f"invoice-INV-{year}")
    invoices = []
    for issued_on, customer_id, _billed, _lines in drafts:
        sequence = sequences[issued_on.year]
        sequence.last += 1
        invoices.append(
            Invoice(
                kind=InvoiceKind.INVOICE,
                series="INV",
                year=issued_on.year,
                sequence=sequence.last,
                number=f"INV{issued_on.year}-{sequence.last:06d}",
                status=InvoiceStatus.ISSUED,
                customer_id=customer_id,
                issue_date=issued_on,
                due_date=issued_on + datetime.timedelta(days=PAYMENT_TERMS_DAYS),
                issued_at=datetime.datetime.combine(
                    issued_on, datetime.time(9), tzinfo=timezone.get_current_timezone()
                ),
            )
        )
    for sequence in sequences.values():
        sequence.save(update_fields=["last"])
    Invoice.objects.bulk_create(invoices, batch_size=2000)
    all_lines = []
    for invoice, (_issued_on, _customer_id, _billed, lines) in zip(invoices, drafts, strict=True):
        for position, line in enumerate(lines, start=1):
            line.invoice, line.position = invoice, position
            all_lines.append(line)
    InvoiceLine.objects.bulk_create(all_lines, batch_size=2000)
    for _issued_on, _customer_id, billed, lines in drafts:
        for charge, line in zip(billed, lines, strict=True):
            charge.invoice_line = line
    Charge.objects.bulk_create(charges, batch_size=2000)  # each with the line that bills it, or none yet
    counts["invoices"] += len(invoices)
    counts["invoice lines"] += len(all_lines)

    payments, settled = [], []
    for invoice, (_issued_on, _customer_id, _billed, lines) in zip(invoices, drafts, strict=True):
        gross = sum((line.gross.amount for line in lines), Decimal(0))
        received = invoice.issue_date + datetime.timedelta(days=rng.randrange(3, 45))
        luck = rng.random()
        if gross <= 0:
            settled.append(invoice.pk)
        if received > today or luck < 0.08:
            continue  # open: overdue once its due date has passed
        amount = gross if luck > 0.16 else round_fen(gross / 2)
        if amount == gross > 0:
            settled.append(invoice.pk)  # paid in full: invoices_settled_mark's answer, without its queries
        if amount > 0:
            payments.append(
                Payment(
                    invoice=invoice,
                    amount=Money(amount, invoice.currency),
                    received_on=received,
                    reference=f"BANK-{invoice.number}",
                )
            )
    Payment.objects.bulk_create(payments, batch_size=2000)
    for start in range(0, len(settled), 2000):
        Invoice.objects.filter(pk__in=settled[start : start + 2000]).update(settled=True)
    counts["payments"] += len(payments)
    _through_services(customers, invoices, paid={p.invoice_id for p in payments}, rng=rng, counts=counts)


def quarter_start(day: datetime.date) -> datetime.date:
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


# What happens to the quotes of every fourth customer (a chunk's first twenty: one in each state), in turn.
QUOTE_FATES = ("accepted", "declined", "expired", "sent", "draft")
# And to the charge requests of every tenth customer.
REQUEST_FATES = ("confirmed", "declined", "rejected", "awaiting customer", "waiting")


def _through_services(customers, invoices, *, paid: set, rng: random.Random, counts) -> None:
    """What is rare enough to go through the services (dated today, as they date it, with history): quotes
    in every state (an accepted one becomes a service order; an expired one was sent forty days ago and
    the closing rule closes it after the load), charge requests in every state, and for one unpaid invoice
    in forty a credit note reversing it (each renders its PDF, as does each quote sent)."""
    development = ServiceItem.objects.get(code="custom-development")
    quoted = customers[:20:4] + customers[20::20]
    for fate, customer in zip(_cycle(QUOTE_FATES), quoted, strict=False):
        quote = quote_create(customer=customer, notes="规模演示报价")
        quote_add_line(quote=quote, service=development, quantity=Decimal(rng.randrange(2, 20)))
        if fate != "draft":
            quote = quote_send(quote=quote)
        if fate in ("accepted", "declined"):
            quote_customer_answer(quote=quote, accept=fate == "accepted", name="王经理", ip=None)
        elif fate == "expired":
            Quote.objects.filter(pk=quote.pk).update(sent_at=timezone.now() - datetime.timedelta(days=40))
        counts["quotes"] += 1
        counts["service orders"] += fate == "accepted"
    manager, finance = _approvers()
    for fate, customer in zip(_cycle(REQUEST_FATES), customers[1::10], strict=False):
        request = charge_request_create(
            customer=customer,
            ticket_ref=f"CR-{customer.code}",
            description="定制报表开发（超出标准服务范围）",
            requested_by="api:demo",
            estimated_person_days=Decimal(rng.randrange(1, 6)),
            service_code="custom-development",
        )
        if fate == "rejected":
            charge_request_reject(request=request, by=manager, note="属于标准服务范围")
        elif fate != "waiting":
            request = charge_request_approve(request=request, by=manager)
            if request.status != "awaiting_customer":  # above the threshold: finance approves too
                request = charge_request_approve(request=request, by=finance)
            if fate in ("confirmed", "declined"):
                charge_request_customer_answer(
                    request=request, accept=fate == "confirmed", name="王经理", ip=None
                )
        counts["charge requests"] += 1
    for invoice in [i for i in invoices if i.pk not in paid][::40]:
        credit_note_issue(invoice=invoice, reason="开票信息有误，红字冲销")
        counts["credit notes"] += 1


def _cycle(fates):
    while True:
        yield from fates


@cache
def _approvers():
    """An account manager and a finance user to approve charge requests: the demo's role users when
    there are any, else two that cannot sign in."""
    users = get_user_model().objects
    found = []
    for role in ("account_manager", "finance"):
        user = users.filter(groups__name=role, is_active=True).order_by("pk").first()
        if user is None:
            user, _created = users.get_or_create(username=f"scale-{role}", defaults={"is_staff": True})
            user.set_unusable_password()
            user.save()
            group = Group.objects.filter(name=role).first()
            if group is None:
                from billing.roles import sync_roles

                sync_roles()
                group = Group.objects.get(name=role)
            user.groups.add(group)
        found.append(users.get(pk=user.pk))  # fresh: no permission cache from before its group
    return tuple(found)
