"""Reminders decided at the right moments, each stored once however often the sweep runs."""

import datetime as dt

from sqlalchemy import select

from workflows import reminders
from workflows.clock import LOCAL
from workflows.models import Notification
from workflows.states import State

DEADLINE = dt.datetime(2018, 1, 26, 0, 0, tzinfo=LOCAL)


def notes(session, kind=None):
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(session.scalars(query))


def test_deadline_reminders_go_to_the_cadres_and_heads_of_late_unions_at_each_offset(session, make, clock):
    late, done = make.union("华光机械厂工会"), make.union("城东环卫所工会")
    campaign = make.default_campaign()
    drafted = make.case(State.drafted, union=late)
    make.case(State.entered, union=done)
    cadre, head = make.person("cadre", late), make.person("head", late)
    make.person("cadre", done)

    clock.set(DEADLINE - dt.timedelta(days=7, seconds=1))
    assert reminders.queue(session, clock.now()) == 0
    clock.set(DEADLINE - dt.timedelta(days=7))
    assert reminders.queue(session, clock.now()) == 2
    sent = notes(session, "deadline")
    assert sorted(n.account_id for n in sent) == sorted([cadre.id, head.id])
    assert drafted.applicant_name in sent[0].text and "还有7天" in sent[0].text and "2018-01-25 24:00" in sent[0].text
    assert reminders.queue(session, clock.now()) == 0  # the same decision again: nothing new
    clock.set(DEADLINE - dt.timedelta(days=3))
    assert reminders.queue(session, clock.now()) == 2 and "还有3天" in notes(session, "deadline")[-1].text
    clock.set(DEADLINE + dt.timedelta(seconds=1))
    assert reminders.queue(session, clock.now()) == 0  # after the deadline the sweep forfeits instead
    assert campaign.reminder_days == [7, 3, 1]


def test_after_downtime_only_the_nearest_offset_is_sent(session, make, clock):
    make.case(State.drafted)
    clock.set(DEADLINE - dt.timedelta(hours=12))  # 7, 3 and 1 day marks all passed while down
    assert reminders.queue(session, clock.now()) == 1
    assert "还有1天" in notes(session, "deadline")[0].text


def test_the_cadre_hears_when_the_public_notice_is_over(session, make, clock):
    campaign = make.campaign(publicity_days=5)
    case = make.case(State.publicized, campaign=campaign)
    assert reminders.queue(session, clock.now()) == 0
    clock.set(case.notice_closes_at.replace(tzinfo=dt.timezone.utc))
    assert reminders.queue(session, clock.now()) == 1
    [note] = notes(session, "notice_closed")
    assert (note.account_id, note.case_id) == (case.created_by_id, case.id)
    assert reminders.queue(session, clock.now()) == 0


def test_reviewers_hear_of_entered_cases_unclaimed_once_a_day(session, make, clock):
    case = make.case(State.entered)
    first, second = make.account("reviewer"), make.account("reviewer")
    assert reminders.queue(session, clock.now()) == 2
    assert {n.account_id for n in notes(session, "review_waiting")} == {first.id, second.id}
    assert case.applicant_name in notes(session, "review_waiting")[0].text
    assert reminders.queue(session, clock.now()) == 0
    clock.advance(days=1)
    assert reminders.queue(session, clock.now()) == 2
