"""Working days for the public notice window: the State Council's holidays and make-up working days."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from workflows.rules import workdays
from workflows.rules.workdays import add_working_days, is_working_day

D = dt.date


# 2018 Spring Festival: off Thu 02-15 .. Wed 02-21; make-up working days Sun 02-11 and Sat 02-24.
@pytest.mark.parametrize(("day", "working"), [
    (D(2018, 2, 9), True),     # Friday
    (D(2018, 2, 10), False),   # Saturday
    (D(2018, 2, 11), True),    # Sunday, made up
    (D(2018, 2, 14), True),    # Wednesday, the last working day before the holiday
    (D(2018, 2, 15), False),
    (D(2018, 2, 16), False),   # Spring Festival
    (D(2018, 2, 19), False),   # a Monday inside the holiday
    (D(2018, 2, 21), False),
    (D(2018, 2, 22), True),
    (D(2018, 2, 24), True),    # Saturday, made up
    (D(2018, 2, 25), False),   # Sunday
    # 2018 National Day: off Mon 10-01 .. Sun 10-07; make-up working days Sat 09-29 and Sun 09-30.
    (D(2018, 9, 29), True),
    (D(2018, 9, 30), True),
    (D(2018, 10, 1), False),
    (D(2018, 10, 5), False),   # a Friday inside the holiday
    (D(2018, 10, 8), True),
])
def test_working_days_of_2018(day, working):
    assert is_working_day(day) is working


@pytest.mark.parametrize(("start", "days", "last"), [
    (D(2018, 2, 9), 1, D(2018, 2, 11)),    # the make-up Sunday counts
    (D(2018, 2, 9), 4, D(2018, 2, 14)),
    (D(2018, 2, 9), 5, D(2018, 2, 22)),    # the holiday week does not
    (D(2018, 2, 14), 1, D(2018, 2, 22)),
    (D(2018, 2, 22), 2, D(2018, 2, 24)),   # Fri 02-23, then the make-up Saturday
    (D(2018, 2, 22), 3, D(2018, 2, 26)),
    (D(2018, 9, 28), 1, D(2018, 9, 29)),
    (D(2018, 9, 28), 3, D(2018, 10, 8)),
    (D(2018, 1, 8), 5, D(2018, 1, 15)),    # an ordinary week: Tue .. Fri, then Monday
    (D(2018, 2, 10), 0, D(2018, 2, 10)),   # zero days: the same day, even a day of rest
])
def test_add_working_days(start, days, last):
    assert add_working_days(start, days) == last


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(D(2018, 2, 9), -1)


def test_a_year_without_a_published_schedule_counts_monday_to_friday(monkeypatch, caplog):
    monkeypatch.setattr(workdays, "_warned", set())
    caplog.set_level(logging.WARNING, logger="workflows.rules.workdays")
    assert add_working_days(D(2027, 1, 1), 1) == D(2027, 1, 4)      # Friday -> Monday
    assert add_working_days(D(2027, 10, 1), 5) == D(2027, 10, 8)    # no National Day holiday is known yet
    assert [is_working_day(D(2027, 2, day)) for day in range(1, 8)] == [True] * 5 + [False] * 2
    warnings = [r for r in caplog.records if r.name == "workflows.rules.workdays"]
    assert len(warnings) == 1 and "2027" in warnings[0].getMessage()  # said once per year, not per day
