"""Reminders, decided by the sweep and queued as notifications in the same transaction (the outbox's deciding part:
workflows/infra/outbox.py queues, scheduler/mail.py delivers).

Each has a key naming what it is about, so that deciding it again, in a second run or a second process, stores
nothing new: every reminder is delivered once. Deciding is serialised across processes (see `queue`): a key is
checked, then inserted, and two transactions doing that at once would both insert it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.actors import SYSTEM
from workflows.infra.clock import from_db, local_date, to_db
from workflows.infra.outbox import notify
from workflows.models import Account, Campaign, Case, Summary, Union
from workflows.rules import deadline_text, turn_clause
from workflows.states import GRASSROOTS, Role, State, Trigger
from workflows.vocab import UnionKind

# An entered case waiting longer than this for the district is brought to the reviewers' attention.
REVIEW_WAIT = dt.timedelta(days=3)
LISTED = 10  # names listed in one reminder; the rest are counted
LOCK_KEY = 0x536E52656D696E64  # "SnRemind": the transaction-level advisory lock of `queue` on PostgreSQL


def queue_reminders(session: Session, now: dt.datetime) -> int:
    """Queue every reminder due at `now`; returns how many were new.

    Several sweeps may decide at once (`songnuan sweep` beside the scheduler, or several of them). On PostgreSQL
    they take turns here, until their transactions end: the next one then reads the keys the previous one
    committed (READ COMMITTED) instead of inserting the same key and failing on the unique index. On SQLite the
    writing session's BEGIN IMMEDIATE serialises them already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
    return (_deadline_reminders(session, now) + _summary_reminders(session, now) + _notice_closed(session, now)
            + _review_waiting(session, now))


def _offset(deadline: dt.datetime, reminder_days: list[int], now: dt.datetime) -> int | None:
    """The offset (days before `deadline`) whose reminder is due at `now`, if any. After downtime only the nearest
    one is sent: three stale reminders at once would help nobody."""
    due = [days for days in reminder_days if deadline - dt.timedelta(days=days) <= now]
    return min(due) if due and now < deadline else None


def _active(session: Session, *roles: Role, union_id: int | None = None) -> list[Account]:
    query = select(Account).where(Account.role.in_(roles), Account.active.is_(True))
    if union_id is not None:
        query = query.where(Account.union_id == union_id)
    return list(session.scalars(query.order_by(Account.id)))


def _names(names: list[str]) -> str:
    shown = "、".join(names[:LISTED])
    return shown + (f"等{len(names)}人" if len(names) > LISTED else "")


def _deadline_reminders(session: Session, now: dt.datetime) -> int:
    """At each offset before the deadline, the cadres and heads of unions with unsubmitted cases, listing them."""
    queued = 0
    for campaign in session.scalars(select(Campaign).where(~Campaign.past_deadline(now))):
        deadline = from_db(campaign.deadline)
        days = _offset(deadline, campaign.reminder_days, now)
        if days is None:
            continue
        waiting: dict[int, list[str]] = defaultdict(list)
        for union_id, name in session.execute(
                select(Case.union_id, Case.applicant_name).where(Case.campaign_id == campaign.id,
                                                                 Case.state.in_(GRASSROOTS)).order_by(Case.id)):
            waiting[union_id].append(name)
        for union_id, names in waiting.items():
            text = (f"{campaign.name}将于{deadline_text(campaign.deadline)}截止报送（还有{days}天），本工会尚有"
                    f"{len(names)}件未报送：{_names(names)}。逾期未报视为自动放弃。")
            for account in _active(session, Role.cadre, Role.head, union_id=union_id):
                queued += notify(session, key=f"deadline:{campaign.id}:{days}:{account.id}", account_id=account.id,
                                 kind="deadline", text=text, now=now) is not None
    return queued


def _summary_reminders(session: Session, now: dt.datetime) -> int:
    """At each offset before the report deadline, the cadres and heads of grassroots unions that have not handed
    in their campaign summary and statistics table."""
    queued = 0
    for campaign in session.scalars(select(Campaign).where(Campaign.report_deadline > to_db(now))):
        days = _offset(from_db(campaign.report_deadline), campaign.reminder_days, now)
        if days is None:
            continue
        handed_in = select(Summary.id).where(Summary.campaign_id == campaign.id, Summary.union_id == Union.id)
        message = (f"{campaign.name}的活动总结和统计表须于{deadline_text(campaign.report_deadline)}前提交"
                   f"（还有{days}天），本工会尚未提交。")
        for account_id in session.scalars(
                select(Account.id).join(Union, Union.id == Account.union_id)
                .where(Union.kind == UnionKind.grassroots, ~handed_in.exists(),
                       Account.role.in_((Role.cadre, Role.head)), Account.active.is_(True))
                .order_by(Account.id)):
            queued += notify(session, key=f"summary:{campaign.id}:{days}:{account_id}", account_id=account_id,
                             kind="summary", text=message, now=now) is not None
    return queued


def _notice_closed(session: Session, now: dt.datetime) -> int:
    """The cadre who drafted a case, once it can be entered: the notice is over with no objection pending, and the
    deadline has not passed (the `enter` turn of rules.guards, the one rule that the button asks too)."""
    queued = 0
    for case in session.scalars(select(Case).join(Campaign, Campaign.id == Case.campaign_id)
                                .where(turn_clause(Trigger.enter, SYSTEM, now))):
        queued += notify(session, key=f"notice_closed:{case.id}:{case.publicized_at.isoformat()}",
                         account_id=case.created_by_id, kind="notice_closed", case_id=case.id, now=now,
                         text=f"案件「{case.applicant_name}」公示期已满，无异议的可以录入报送。") is not None
    return queued


def _review_waiting(session: Session, now: dt.datetime) -> int:
    """Each reviewer, once a day, about entered cases nobody has claimed or that have waited too long."""
    cases = session.execute(select(Case.applicant_name, Case.claimed_by_id, Case.entered_at)
                            .where(Case.state == State.entered).order_by(Case.entered_at)).all()
    late = [name for name, claimed, entered in cases
            if claimed is None or from_db(entered) <= now - REVIEW_WAIT]
    if not late:
        return 0
    day = local_date(now).isoformat()
    text = f"有{len(late)}件已录入报送的案件无人认领或等待超过{REVIEW_WAIT.days}天：{_names(late)}。"
    return sum(notify(session, key=f"review_waiting:{day}:{account.id}", account_id=account.id,
                      kind="review_waiting", text=text, now=now) is not None
               for account in _active(session, Role.reviewer))
