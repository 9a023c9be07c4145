"""The guards of an archive's life cycle (archive_states.MOVES), in a cadre's words, as the case's are in guards.py:
whose turn it is (role and status), what must be settled first, and what the actor must give."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from workflows.actors import Actor
from workflows.archive_states import APPLICABLE, BY_TRIGGER, ArchiveTrigger, Move, Status, moves_from
from workflows.errors import Reason
from workflows.models import Archive, Campaign, Case, Member, Union
from workflows.states import COMMITTED, SETTLED, State
from workflows.vocab import ApplicationKind, ClosingReason, UnionKind


def in_progress(archive: Archive) -> list[Case]:
    """Its applications still being handled: not yet paid, forfeited or withdrawn."""
    return [case for case in archive.cases if case.state not in SETTLED]


def turn_reasons(archive: Archive, move: Move, actor: Actor) -> list[Reason]:
    if actor.role not in move.roles:
        return [Reason("role", f"只有{'、'.join(r.label for r in move.roles)}可以{move.label}")]
    if archive.status not in move.sources:
        return [Reason("state", f"档案当前为「{Status(archive.status).label}」，不能{move.label}")]
    if move.when_settled and (busy := in_progress(archive)):
        listed = "、".join(f"#{c.id}（{c.campaign.name}，{State(c.state).label}）" for c in busy)
        return [Reason("in_progress", f"该档案有正在办理的申请{listed}，办结后才能{move.label}")]
    return []


def input_reasons(session: Session, archive: Archive, move: Move, comment: str | None, reason: str | None,
                  union_code: str | None) -> list[Reason]:
    reasons = []
    if move.needs_comment and not (comment or "").strip():
        reasons.append(Reason("comment", f"请填写{move.label}的说明"))
    if move.needs_reason and reason not in {r.value for r in ClosingReason}:
        reasons.append(Reason("reason", f"请选择{move.label}的原因"))
    if move.needs_union:
        union = receiving_union(session, union_code)
        if union is None:
            reasons.append(Reason("union", "请选择接收档案的基层工会（或区总工会帮扶中心）"))
        elif union.id == archive.union_id:
            reasons.append(Reason("union", "档案已在该工会"))
    return reasons


def receiving_union(session: Session, code: str | None) -> Union | None:
    if not code:
        return None
    # A grassroots union, or the district's own (the assistance center keeps it: DOMAIN.md, Transfer).
    return session.scalar(select(Union).where(Union.code == code,
                                              Union.kind.in_((UnionKind.grassroots, UnionKind.district))))


def blockers(session: Session, archive: Archive, trigger: str, actor: Actor, *, comment: str | None = None,
             reason: str | None = None, union: str | None = None, inputs: bool = True) -> list[Reason]:
    """Every reason `actor` may not fire `trigger` on `archive` now; empty when it may."""
    move = BY_TRIGGER[ArchiveTrigger(trigger)]
    turn = turn_reasons(archive, move, actor)
    if turn or not inputs:
        return turn
    return input_reasons(session, archive, move, comment, reason, union)


def available(session: Session, archive: Archive, actor: Actor) -> tuple[list[str], dict[str, str]]:
    """The archive's moves `actor` may make now, and for the others of their role from this status, why not."""
    allowed, blocked = [], {}
    for move in moves_from(Status(archive.status)):
        if actor.role not in move.roles:
            continue
        reasons = blockers(session, archive, move.trigger, actor, inputs=False)
        if reasons:
            blocked[move.trigger.value] = "；".join(r.message for r in reasons)
        else:
            allowed.append(move.trigger.value)
    return allowed, blocked


def application_kind(session: Session, archive: Archive) -> ApplicationKind:
    """增量 for a household never helped, 返困 for one that had left hardship (still 脱困, or back in hardship since
    its last help), 存量 for the others. Help recorded under an earlier archive of its people counts too."""
    if archive.status == Status.exited or archive.reactivated_at is not None:
        return ApplicationKind.returned
    if archive.last_helped_at is not None or _helped_before(session, archive):
        return ApplicationKind.existing
    return ApplicationKind.new


def _helped_before(session: Session, archive: Archive) -> bool:
    """An approved case names one of the household's numbers (as applicant or member), under any archive."""
    digests = archive.digests
    if not digests:
        return False
    approved = Case.state.in_(COMMITTED)
    return session.scalar(select(
        exists().where(approved, Case.id_digest.in_(digests))
        | exists().where(approved, Member.case_id == Case.id, Member.id_digest.in_(digests)))) or False


def merge_reasons(archive: Archive, other: Archive) -> list[Reason]:
    """Two archives each with an application in one campaign would be one household applying twice."""
    mine = {c.campaign_id: c for c in archive.cases if c.state not in (State.withdrawn, State.forfeited)}
    both = [(mine[c.campaign_id], c) for c in other.cases
            if c.campaign_id in mine and c.state not in (State.withdrawn, State.forfeited)]
    return [Reason("applied", f"两个档案在「{a.campaign.name}」中都有申请（案件#{a.id}、#{b.id}），"
                              "请先撤回其中一份再合并") for a, b in both]


def application_reasons(archive: Archive, campaign: Campaign) -> list[Reason]:
    """Why this household cannot apply in `campaign` (the campaign's own dates are new_draft_reasons)."""
    if archive.status not in APPLICABLE:
        return [Reason("state", f"档案#{archive.id}（{archive.applicant_name}）已注销，不能申请")]
    for case in archive.cases:
        if case.campaign_id == campaign.id and case.state != State.withdrawn:
            return [Reason("applied", f"{archive.applicant_name}一户在本活动中已有申请（案件#{case.id}）")]
    return []
