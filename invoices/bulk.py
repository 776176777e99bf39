"""Bulk actions: one service applied to each of a selection, each item in its own transaction, with what
was done and what was refused and why. The one-item services keep every rule (numbering, four eyes, once a
day); this module only runs them one after the other, so a refusal of one item leaves the others done."""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError
from invoices.models import Invoice, TravelExpense, WorkLog
from invoices.services import (
    invoice_issue,
    overdue_reminder_send,
    travel_expense_approve,
    travel_expense_reject,
    work_log_approve,
    work_log_reject,
)


@dataclass(frozen=True)
class Outcome:
    """What became of one selected item: ``done`` with the service's ``result``, or refused with the
    service's ``error`` (its message is translated when shown). ``item`` is None when nothing has the pk."""

    pk: int
    item: models.Model | None
    done: bool
    result: object = None
    error: BillingError | None = None


@dataclass(frozen=True)
class BulkReport:
    outcomes: list[Outcome]

    @property
    def done(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.done]

    @property
    def refused(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.done]


def selection_check(pks: Iterable[int]) -> list[int]:
    """The selected pks, each once and in the order given; refuses an empty selection and one larger than
    BULK_ACTION_MAX, as a whole."""
    selected = list(dict.fromkeys(pks))
    if not selected:
        raise BillingError(_("Select at least one row."), code="selection_empty")
    limit = settings.BULK_ACTION_MAX
    if len(selected) > limit:
        raise BillingError(
            _("%(count)s rows are selected; at most %(limit)s are done at once: narrow the list."),
            code="selection_too_large",
            params={"count": len(selected), "limit": limit},
        )
    return selected


def apply_each(
    queryset: models.QuerySet, pks: Iterable[int], action: Callable[[models.Model], object]
) -> BulkReport:
    """Calls ``action`` on each selected row of ``queryset`` (in the order of ``pks``), each call in its own
    transaction: a BillingError rolls back that item only and is kept on its outcome. A pk no row of
    ``queryset`` has is refused as not found."""
    selected = selection_check(pks)
    rows = queryset.in_bulk(selected)
    outcomes = []
    for pk in selected:
        item = rows.get(pk)
        if item is None:
            error = BillingError(_("No longer there (deleted or changed meanwhile)."), code="not_found")
            outcomes.append(Outcome(pk=pk, item=None, done=False, error=error))
            continue
        try:
            with transaction.atomic():
                result = action(item)
        except BillingError as error:
            outcomes.append(Outcome(pk=pk, item=item, done=False, error=error))
        else:
            outcomes.append(Outcome(pk=pk, item=item, done=True, result=result))
    return BulkReport(outcomes)


def invoices_issue(*, pks: Iterable[int], by) -> BulkReport:
    """Issues each selected draft (invoice_issue): each takes the next number of its series when it is
    issued, so the numbers stay gapless whichever drafts are refused."""
    return apply_each(
        Invoice.objects.select_related("customer"), pks, lambda invoice: invoice_issue(invoice=invoice, by=by)
    )


def overdue_remind(*, pks: Iterable[int], by, today: datetime.date, again: bool = False) -> BulkReport:
    """Reminds the customer of each selected overdue invoice (overdue_reminder_send: once a day unless
    ``again``)."""
    return apply_each(
        Invoice.objects.select_related("customer"),
        pks,
        lambda invoice: overdue_reminder_send(invoice=invoice, today=today, by=by, again=again),
    )


def _reason_check(approve: bool, reason: str) -> None:
    if not approve and not reason.strip():
        raise BillingError(_("Say why the selected rows are rejected."), code="reason_required")


def travel_expenses_decide(*, pks: Iterable[int], by, approve: bool, reason: str = "") -> BulkReport:
    """Approves (four eyes above the cap, per expense) or rejects, with one reason, each selected expense."""
    _reason_check(approve, reason)
    if approve:
        action = lambda expense: travel_expense_approve(expense=expense, by=by)  # noqa: E731
    else:
        action = lambda expense: travel_expense_reject(expense=expense, by=by, reason=reason)  # noqa: E731
    return apply_each(TravelExpense.objects.select_related("customer"), pks, action)


def work_logs_decide(*, pks: Iterable[int], by, approve: bool, reason: str = "") -> BulkReport:
    """Approves (not by who recorded it) or rejects, with one reason, each selected work log."""
    _reason_check(approve, reason)
    if approve:
        action = lambda log: work_log_approve(log=log, by=by)  # noqa: E731
    else:
        action = lambda log: work_log_reject(log=log, by=by, reason=reason)  # noqa: E731
    return apply_each(WorkLog.objects.select_related("customer"), pks, action)
