"""Fees and cover (服务费逾期): a paid period covers while its fee is paid, or not yet overdue past grace.

The invoices app bills a period's fee and knows what is still open on the invoice; the apps import one way
(invoices imports contracts), so the decision cannot ask it directly. Instead invoices registers a reader
here in its ``AppConfig.ready`` (``register_overdue_fee_reader``), and the decision asks through
``fee_overdue``: one query, only when the covering period is paid and has a fee. Without a reader (an
install without invoices) no fee is ever overdue.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from djmoney.money import Money

from contracts.models import PeriodKind, ServicePeriod


@dataclass(frozen=True)
class OverdueInvoice:
    """What the invoices app tells of a period's overdue fee invoice."""

    number: str
    open_amount: Money
    due_date: datetime.date


@dataclass(frozen=True)
class FeeOverdue:
    """The covering period's fee invoice, overdue past grace on the day asked about, and the tier's
    policy."""

    invoice: str
    open_amount: Money
    due_date: datetime.date
    days_overdue: int
    policy: str


# reader(period=..., on=the day asked, due_before=the first due date still within grace) -> invoice or None
OverdueFeeReader = Callable[..., OverdueInvoice | None]
_reader: OverdueFeeReader | None = None


def register_overdue_fee_reader(reader: OverdueFeeReader | None) -> None:
    """Called by the app that bills period fees (invoices.apps.InvoicesConfig.ready)."""
    global _reader
    _reader = reader


def overdue_fee_reader() -> OverdueFeeReader | None:
    return _reader


def fee_overdue(period: ServicePeriod, day: datetime.date) -> FeeOverdue | None:
    """The period's fee invoice when, on ``day``, it is issued, still has money open and its due date plus
    FEE_OVERDUE_GRACE_DAYS lies before ``day``; None for a free period, a fee not invoiced, not due, within
    grace, paid or credited."""
    if _reader is None or period.kind != PeriodKind.PAID or not period.fee or period.fee.amount <= 0:
        return None
    overdue_before = day - datetime.timedelta(days=settings.FEE_OVERDUE_GRACE_DAYS)
    invoice = _reader(period=period, on=day, due_before=overdue_before)
    if invoice is None:
        return None
    return FeeOverdue(
        invoice=invoice.number,
        open_amount=invoice.open_amount,
        due_date=invoice.due_date,
        days_overdue=(day - invoice.due_date).days,
        policy=period.tier.fee_overdue_policy,
    )
