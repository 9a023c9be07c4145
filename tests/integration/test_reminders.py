"""Reminders decided at the right moments, each stored once however often the sweep runs."""

import datetime as dt

from sqlalchemy import select

from scheduler import mail
from workflows import verbs
from workflows.infra.clock import LOCAL
from workflows.models import Notification
from workflows.states import State

DEADLINE = dt.datetime(2018, 1, 26, 0, 0, tzinfo=LOCAL)


def notes(session, kind=None):
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(session.scalars(query))


def hand_in(make, union, campaign):
    return verbs.submit_summary(make.session, make.person("cadre", union), make.clock, make.uploads, campaign.id,
                            "本工会送温暖活动总结。")


def test_deadline_reminders_go_to_the_cadres_and_heads_of_late_unions_at_each_offset(session, make, clock):
    late, done = make.union("华光机械厂工会"), make.union("城东环卫所工会")
    campaign = make.default_campaign()
    drafted = make.case(State.drafted, union=late)
    make.case(State.entered, union=done)
    cadre, head = make.person("cadre", late), make.person("head", late)
    make.person("cadre", done)
    for union in (late, done):  # their summaries are in: only the cases are reminded of here
        hand_in(make, union, campaign)

    clock.set(DEADLINE - dt.timedelta(days=7, seconds=1))
    assert verbs.queue_reminders(session, clock.now()) == 0
    clock.set(DEADLINE - dt.timedelta(days=7))
    assert verbs.queue_reminders(session, clock.now()) == 2
    sent = notes(session, "deadline")
    assert sorted(n.account_id for n in sent) == sorted([cadre.id, head.id])
    assert drafted.applicant_name in sent[0].text and "还有7天" in sent[0].text and "2018-01-25 24:00" in sent[0].text
    assert verbs.queue_reminders(session, clock.now()) == 0  # the same decision again: nothing new
    clock.set(DEADLINE - dt.timedelta(days=3))
    assert verbs.queue_reminders(session, clock.now()) == 2 and "还有3天" in notes(session, "deadline")[-1].text
    clock.set(DEADLINE + dt.timedelta(seconds=1))
    assert verbs.queue_reminders(session, clock.now()) == 0  # after the deadline the sweep forfeits instead
    assert campaign.reminder_days == [7, 3, 1]


def test_after_downtime_only_the_nearest_offset_is_sent(session, make, clock):
    make.case(State.drafted)
    hand_in(make, make.default_union(), make.default_campaign())
    clock.set(DEADLINE - dt.timedelta(hours=12))  # 7, 3 and 1 day marks all passed while down
    assert verbs.queue_reminders(session, clock.now()) == 1
    assert "还有1天" in notes(session, "deadline")[0].text


def test_the_cadre_hears_when_the_public_notice_is_over(session, make, clock):
    campaign = make.campaign(publicity_days=5)
    case = make.case(State.publicized, campaign=campaign)
    assert verbs.queue_reminders(session, clock.now()) == 0
    clock.set(case.notice_closes_at.replace(tzinfo=dt.timezone.utc))
    assert verbs.queue_reminders(session, clock.now()) == 1
    [note] = notes(session, "notice_closed")
    assert (note.account_id, note.case_id) == (case.created_by_id, case.id)
    assert verbs.queue_reminders(session, clock.now()) == 0


def test_reviewers_hear_of_entered_cases_unclaimed_once_a_day(session, make, clock):
    case = make.case(State.entered)
    first, second = make.account("reviewer"), make.account("reviewer")
    assert verbs.queue_reminders(session, clock.now()) == 2
    assert {n.account_id for n in notes(session, "review_waiting")} == {first.id, second.id}
    assert case.applicant_name in notes(session, "review_waiting")[0].text
    assert verbs.queue_reminders(session, clock.now()) == 0
    clock.advance(days=1)
    assert verbs.queue_reminders(session, clock.now()) == 2


# ---------------------------------------------------------------- the campaign summary (活动总结)

REPORT_DEADLINE = dt.datetime(2018, 2, 1, 0, 0, tzinfo=LOCAL)  # 2018-01-31 24:00, a week after the cases


def test_unions_without_their_summary_are_reminded_at_each_offset_before_the_report_deadline(session, make, clock):
    campaign = make.campaign(report_deadline=REPORT_DEADLINE)
    missing, done = make.union("华光机械厂工会"), make.union("城东环卫所工会")
    cadre, head = make.person("cadre", missing), make.person("head", missing)
    make.account("cadre", missing).active = False  # left the union: not reminded
    make.person("head", done)
    make.account("reviewer")  # the district's people are not asked for a summary
    hand_in(make, done, campaign)

    clock.set(REPORT_DEADLINE - dt.timedelta(days=7, seconds=1))
    assert verbs.queue_reminders(session, clock.now()) == 0
    clock.set(REPORT_DEADLINE - dt.timedelta(days=7))
    assert verbs.queue_reminders(session, clock.now()) == 2
    sent = notes(session, "summary")
    assert sorted(n.account_id for n in sent) == sorted([cadre.id, head.id])
    assert "活动总结" in sent[0].text and "还有7天" in sent[0].text and "2018-01-31 24:00" in sent[0].text
    assert campaign.name in sent[0].text
    assert verbs.queue_reminders(session, clock.now()) == 0  # decided again: nothing new
    clock.set(REPORT_DEADLINE - dt.timedelta(days=3))
    assert verbs.queue_reminders(session, clock.now()) == 2 and "还有3天" in notes(session, "summary")[-1].text
    clock.set(REPORT_DEADLINE)
    assert verbs.queue_reminders(session, clock.now()) == 0  # the report deadline itself: too late to remind
    assert len(notes(session, "summary")) == 4


def test_a_union_that_hands_in_between_two_offsets_hears_no_more(session, make, clock):
    campaign = make.campaign(report_deadline=REPORT_DEADLINE)
    union = make.union()
    cadre = make.person("cadre", union)
    clock.set(REPORT_DEADLINE - dt.timedelta(days=7))
    assert verbs.queue_reminders(session, clock.now()) == 1
    clock.advance(days=1)
    hand_in(make, union, campaign)
    clock.set(REPORT_DEADLINE - dt.timedelta(days=3))
    assert verbs.queue_reminders(session, clock.now()) == 0
    assert [n.account_id for n in notes(session, "summary")] == [cadre.id]


def test_after_downtime_only_the_nearest_summary_offset_is_sent(session, make, clock):
    make.campaign(report_deadline=REPORT_DEADLINE)
    make.person("cadre", make.union())
    clock.set(REPORT_DEADLINE - dt.timedelta(hours=12))
    assert verbs.queue_reminders(session, clock.now()) == 1
    [note] = notes(session, "summary")
    assert "还有1天" in note.text and note.key.endswith(f":1:{note.account_id}")
    assert verbs.queue_reminders(session, clock.now()) == 0


def test_the_summary_and_the_cases_are_separate_reminders_when_both_are_due(session, make, clock):
    """The seed's notice asks for both by the same day: a union late with both hears of both."""
    case = make.case(State.drafted)
    make.person("head", case.union)
    clock.set(DEADLINE - dt.timedelta(days=7))
    assert verbs.queue_reminders(session, clock.now()) == 4
    assert {n.kind for n in notes(session)} == {"deadline", "summary"}


def test_a_summary_reminder_is_mailed_under_its_own_subject():
    claimed = mail.Claimed(1, "cadre@example.org", "summary", "请提交活动总结。", 0)
    assert mail.message(claimed, "songnuan@example.org")["Subject"] == "【送暖】活动总结提醒"


def test_no_notice_closed_reminder_once_the_deadline_has_passed(session, make, clock):
    """Entering is impossible after the deadline: "it can be entered now" would mislead, even about a case that the
    sweep has not forfeited yet (or that another sweep process is forfeiting at this moment)."""
    case = make.case(State.publicized)  # the factory's campaign: no notice period, closed at once
    clock.set(DEADLINE)
    assert verbs.queue_reminders(session, clock.now()) == 0
    assert case.state == State.publicized and notes(session, "notice_closed") == []
