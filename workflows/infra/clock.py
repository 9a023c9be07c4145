"""The one source of time for the domain. Services and jobs take a clock; tests pass a FixedClock."""

from __future__ import annotations

import datetime as dt
import os
from typing import Protocol
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
# The union's time zone: deadlines, working days and file numbers are local to it.
LOCAL = ZoneInfo(os.environ.get("SONGNUAN_TIMEZONE", "Asia/Shanghai"))


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware."""


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move."""

    def __init__(self, now: dt.datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = now

    def now(self) -> dt.datetime:
        return self._now

    def set(self, now: dt.datetime) -> None:
        self._now = now

    def advance(self, **delta: float) -> dt.datetime:
        self._now += dt.timedelta(**delta)
        return self._now


def to_db(moment: dt.datetime) -> dt.datetime:
    """Times are stored as naive UTC, which every database keeps the same way."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=UTC)


def local_date(moment: dt.datetime, tz: dt.tzinfo = LOCAL) -> dt.date:
    return moment.astimezone(tz).date()
