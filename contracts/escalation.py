"""The three-level response (三级响应机制, terms 1.7): the local service specialist (本地服务专员) takes a
ticket, the dedicated maintenance team (专职维护团队) takes it over after a set time, then the product and
technical experts (产品和技术专家).

The times are catalogue data (catalog.models.EscalationLevel), counted in working hours of the service
period's calendar from the moment the ticket was opened. The level that owns a ticket at a moment is the
highest whose time has come.
"""

import datetime
from dataclasses import dataclass

from catalog.calendar import WorkingCalendar, deadline
from catalog.models import EscalationLevel
from catalog.selectors import escalation_levels


@dataclass(frozen=True)
class Escalation:
    """Who owns a ticket at a moment and when the next level takes it over (None at the last level).
    ``vendor_to_confirm``: a time used is the vendor's to confirm (the terms give none);
    ``calendar_provisional``: a time used counts in a year whose holiday schedule is not published."""

    current: EscalationLevel
    next: EscalationLevel | None
    escalate_by: datetime.datetime | None
    vendor_to_confirm: bool
    calendar_provisional: bool

    @property
    def level(self) -> int:
        return self.current.level

    @property
    def next_level(self) -> int | None:
        return self.next.level if self.next else None

    @property
    def provisional(self) -> bool:
        return self.vendor_to_confirm or self.calendar_provisional


def escalation_at(
    *,
    tier_id: int,
    severity: str,
    calendar: WorkingCalendar,
    opened_at: datetime.datetime,
    at: datetime.datetime,
) -> Escalation | None:
    """The escalation of a ticket of ``severity`` opened at ``opened_at``, as it stands at ``at``; None when
    the tier has no escalation levels for the severity. No queries once the catalogue snapshot is warm."""
    levels = escalation_levels(tier_id=tier_id, severity=severity)
    if not levels:
        return None
    current, current_takeover = levels[0], None
    for level in levels:
        takeover = deadline(
            opened_at, datetime.timedelta(seconds=int(level.after_hours * 3600)), calendar=calendar
        )
        if takeover.at > at and current_takeover is not None:
            return Escalation(
                current=current,
                next=level,
                escalate_by=takeover.at,
                vendor_to_confirm=current.vendor_to_confirm or level.vendor_to_confirm,
                calendar_provisional=current_takeover.provisional or takeover.provisional,
            )
        current, current_takeover = level, takeover
    return Escalation(
        current=current,
        next=None,
        escalate_by=None,
        vendor_to_confirm=current.vendor_to_confirm,
        calendar_provisional=current_takeover.provisional,
    )
