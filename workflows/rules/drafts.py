"""A draft as its drafter handles it before handing it in: one per household and campaign (saving the same household
again opens the draft there is), and deleted only by whoever opened it, while nobody else has seen it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from workflows.actors import Actor
from workflows.errors import Reason
from workflows.models import Archive, AuditEvent, Campaign, Case
from workflows.states import UNION_ROLES, Action, Role, State, Trigger
from workflows.texts import N_

from .access import can_see
from .timing import deadline_reason


def open_draft(archive: Archive, campaign: Campaign, actor: Actor) -> Case | None:
    """The household's draft in `campaign` that `actor` may open: what a second new case of the same ID number
    (Back, then Save again) opens instead of being made."""
    for case in archive.cases:
        if case.campaign_id == campaign.id and case.state == State.drafted and can_see(actor, case):
            return case
    return None


def delete_reasons(session: Session, case: Case, actor: Actor, now: dt.datetime) -> list[Reason]:
    """Why `actor` may not delete `case` now: only its drafter, only a draft never handed in (one returned for
    changes was seen by others and stays in the record: it is withdrawn instead), and only before the deadline
    (after it, a draft not handed in is forfeited and counted as such, not made to vanish)."""
    if case.state != State.drafted:
        return [Reason("state", N_("案件当前为「%(state)s」：只有未提交的草稿可以删除，不再申请的请撤回",
                                   state=State(case.state).label))]
    if case.campaign.past_deadline(now):
        return [deadline_reason(case.campaign)]
    if case.created_by_id != actor.id:
        return [Reason("drafter", N_("只有起草该草稿的人可以删除它"))]
    submitted = session.scalar(select(exists().where(AuditEvent.case_id == case.id,
                                                     AuditEvent.action == str(Trigger.document))))
    if submitted:
        return [Reason("submitted", N_("该申请提交过审核（后被退回），不能删除；不再申请的请撤回"))]
    return []


def deletion_told(session: Session, actor: Actor, case_id: int) -> AuditEvent | None:
    """The event of `case_id`'s deletion as a draft, for a person who could have seen that draft: its union's people
    (the union of the household's archive, which the event names and which outlives the draft; the drafter
    themself) and auditors. None for anyone else, so that nothing of another union's drafts is told."""
    event = session.scalar(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                    AuditEvent.action == Action.delete_draft)
                           .order_by(AuditEvent.seq.desc()).limit(1))
    if event is None or actor.role not in (*UNION_ROLES, Role.auditor):
        return None
    if actor.role in UNION_ROLES and event.actor_id != actor.id:
        archive = session.get(Archive, event.archive_id) if event.archive_id is not None else None
        if archive is None or archive.union_id != actor.union_id:
            return None
    return event
