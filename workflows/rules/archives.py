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
from workflows.texts import Joined, N_
from workflows.vocab import ApplicationKind, ClosingReason, UnionKind


def in_progress(archive: Archive) -> list[Case]:
    """Its applications still being handled: not yet paid, forfeited or withdrawn."""
    return [case for case in archive.cases if case.state not in SETTLED]


def turn_reasons(archive: Archive, move: Move, actor: Actor) -> list[Reason]:
    if actor.role not in move.roles:
        return [Reason("role", N_("只有%(who)s可以%(move)s", who=[r.label for r in move.roles], move=move.label))]
    if archive.status not in move.sources:
        return [Reason("state", N_("档案当前为「%(status)s」，不能%(move)s", status=Status(archive.status).label,
                                   move=move.label))]
    if move.when_settled and (busy := in_progress(archive)):
        listed = [N_("#%(case)s（%(campaign)s，%(state)s）", case=c.id, campaign=c.campaign.name,
                     state=State(c.state).label) for c in busy]
        return [Reason("in_progress", N_("该档案有正在办理的申请%(listed)s，办结后才能%(move)s", listed=listed,
                                         move=move.label))]
    return []


def input_reasons(session: Session, archive: Archive, move: Move, comment: str | None, reason: str | None,
                  union_code: str | None) -> list[Reason]:
    reasons = []
    if move.needs_comment and not (comment or "").strip():
        reasons.append(Reason("comment", N_("请填写%(move)s的说明", move=move.label)))
    if move.needs_reason and reason not in {r.value for r in ClosingReason}:
        reasons.append(Reason("reason", N_("请选择%(move)s的原因", move=move.label)))
    if move.needs_union:
        union = receiving_union(session, union_code)
        if union is None:
            reasons.append(Reason("union", N_("请选择接收档案的基层工会（或区总工会帮扶中心）")))
        elif union.id == archive.union_id:
            reasons.append(Reason("union", N_("档案已在该工会")))
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
            blocked[move.trigger.value] = Joined(r.message for r in reasons)
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
    return [Reason("applied", N_("两个档案在「%(campaign)s」中都有申请（案件#%(a)s、#%(b)s），"
                              "请先撤回其中一份再合并", campaign=a.campaign.name, a=a.id, b=b.id)) for a, b in both]


def application_reasons(archive: Archive, campaign: Campaign) -> list[Reason]:
    """Why this household cannot apply in `campaign` (the campaign's own dates are new_draft_reasons)."""
    if archive.status not in APPLICABLE:
        return [Reason("state", N_("档案#%(archive)s（%(name)s）已注销，不能申请", archive=archive.id,
                                   name=archive.applicant_name))]
    for case in archive.cases:
        if case.campaign_id == campaign.id and case.state != State.withdrawn:
            return [Reason("applied", N_("%(name)s一户在本活动中已有申请（案件#%(case)s）", name=archive.applicant_name,
                                         case=case.id))]
    return []
