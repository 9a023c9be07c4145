"""Working days of the People's Republic of China, for the public notice window.

chinesecalendar knows the State Council's holidays and make-up working days for the years it was released with.
For a later year, whose schedule it does not know yet, we count Monday to Friday and say so in the log: upgrading
the package when the year's schedule is published makes the count exact.
"""

from __future__ import annotations

import datetime as dt
import logging

import chinese_calendar

log = logging.getLogger(__name__)
_warned: set[int] = set()


def is_working_day(day: dt.date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned:
            _warned.add(day.year)
            log.warning("chinesecalendar has no schedule for %s; counting Monday to Friday", day.year)
        return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The `days`-th working day after `start` (start itself not counted); `start` when days is 0."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    while days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day
