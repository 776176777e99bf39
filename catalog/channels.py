"""Whether a channel takes requests at a moment, and when it next does: the channel's opening hours
(ChannelHours) on the business calendar, which alone knows working time."""

import datetime
from dataclasses import dataclass

from catalog.calendar import is_working_time, load_calendar, next_working_time
from catalog.models import Channel
from catalog.selectors import channel_hours_calendar


@dataclass(frozen=True)
class ChannelOpening:
    """A channel at a moment: ``open`` then, or else ``opens_next``, the start of its next opening hours."""

    code: str
    open: bool
    opens_next: datetime.datetime | None

    @property
    def label(self) -> str:
        return Channel(self.code).label


def channel_opening(*, channel: str, at: datetime.datetime) -> ChannelOpening | None:
    """The channel's opening at ``at``; None when the catalogue gives the channel no hours."""
    calendar = channel_hours_calendar(channel=channel)
    if calendar is None:
        return None
    hours = load_calendar(calendar)
    if is_working_time(at, calendar=hours):
        return ChannelOpening(code=channel, open=True, opens_next=None)
    return ChannelOpening(code=channel, open=False, opens_next=next_working_time(at, calendar=hours))
