"""Deadlines and the public notice as people read them: the day a deadline falls due, its text, and the reasons
they give when they refuse."""

from __future__ import annotations

import datetime as dt

from workflows.errors import Reason
from workflows.infra.clock import LOCAL, from_db, to_db
from workflows.infra.expr import at_or_after
from workflows.models import Campaign, Case
from workflows.texts import N_


def due_day(deadline: dt.datetime) -> dt.date:
    """The local day a deadline (aware, or naive UTC as stored) falls due: midnight is the end of the day before."""
    moment = from_db(deadline) if deadline.tzinfo is None else deadline
    return (moment - dt.timedelta(microseconds=1)).astimezone(LOCAL).date()


def deadline_text(moment: dt.datetime) -> str:
    """Local time as a cadre reads it: a deadline at midnight is 24:00 of the day it is due."""
    local = (from_db(moment) if moment.tzinfo is None else moment).astimezone(LOCAL)
    if local.time() == dt.time():
        return f"{due_day(moment):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def campaign_year(campaign: Campaign) -> int:
    """The year of the campaign's last moment: a deadline given as 2018-12-31 is midnight starting 2019-01-01."""
    return due_day(campaign.deadline).year


def deadline_reason(campaign: Campaign) -> Reason:
    return Reason("deadline", N_("已过报送截止时间（%(deadline)s），不能再办理", deadline=deadline_text(campaign.deadline)))


def not_yet_reason(campaign: Campaign) -> Reason:
    return Reason("deadline", N_("报送截止时间未到，不能视为自动放弃"))


def notice_reason(case: Case) -> Reason:
    """Why a case in its public notice cannot be entered yet."""
    if case.notice_closes_at is None:
        return Reason("notice_window", N_("公示期未满，期满后才能录入"))
    return Reason("notice_window", N_("公示期未满，公示至%(day)s，期满后才能录入",
                                      day=due_day(case.notice_closes_at).isoformat()))


def past_report_deadline(campaign: Campaign, now: dt.datetime) -> bool:
    return to_db(now) >= campaign.report_deadline


def report_deadline_reason(campaign: Campaign) -> Reason:
    return Reason("report_deadline",
                  N_("已过活动总结的提交截止时间（%(deadline)s），不能再提交或修改", deadline=deadline_text(campaign.report_deadline)))


# How long a closed notice stays on the printed 公示名单 (the list on the wall is the current one, not a record).
NOTICE_LIST_DAYS = 7


def on_notice_list(case, now: dt.datetime):
    """The 公示名单 lists a case whose notice is open, or closed at most NOTICE_LIST_DAYS ago; one expression for a
    case (a bool) and for the Case class (SQL), like the models' rules."""
    return at_or_after(case.notice_closes_at, to_db(now - dt.timedelta(days=NOTICE_LIST_DAYS)))
