"""The lists people work from: the inbox (what I can do now) and the case list (what I may see).

Both are one query for the page and one for the count, with the case's union and campaign loaded alongside,
however many cases there are. What is a task comes from the transition table (Transition.task).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from .actors import Actor
from .clock import to_db
from .models import Campaign, Case, Objection, Union
from .rules import visible_clause
from .states import GRASSROOTS, TRANSITIONS, Role, State
from .vocab import ObjectionStatus

MAX_PER_PAGE = 100


@dataclass
class Filters:
    state: str | None = None
    union: str | None = None        # a union's code
    campaign: int | None = None
    worker_group: str | None = None
    category: str | None = None
    aid_kind: str | None = None
    q: str | None = None            # part of a name, or digits of the ID number
    claimed_by_me: bool = False


@dataclass
class Page:
    items: list[Case]
    total: int
    page: int
    per_page: int
    groups: dict[str, int] = field(default_factory=dict)  # inbox only: task label → count


# The roles with an inbox: those that have a task in the transition table.
TASK_ROLES = tuple(role for role in Role if any(t.task and role in t.roles for t in TRANSITIONS))


def task_states(role: str) -> dict[State, str]:
    """The states in which `role` has a task waiting, with the task's inbox label."""
    return {source: t.task for t in TRANSITIONS if t.task and role in t.roles for source in t.sources}


def _task_clause(actor: Actor, now: dt.datetime) -> ColumnElement[bool]:
    clauses = []
    for state, _ in task_states(actor.role).items():
        clause = Case.state == state
        if state == State.publicized:
            clause = and_(clause, Case.notice_closes_at <= to_db(now))  # only once the notice is over
        if state == State.documented and actor.role == Role.head:
            # Four eyes: a head's own drafts are another head's task.
            clause = and_(clause, Case.created_by_id != actor.id,
                          or_(Case.documented_by_id.is_(None), Case.documented_by_id != actor.id))
        clauses.append(clause)
    if actor.role == Role.head:
        clauses.append(and_(Case.state == State.publicized, exists().where(
            Objection.case_id == Case.id, Objection.status == ObjectionStatus.open)))
    if not clauses:
        return false()
    late = and_(Case.state.in_(GRASSROOTS), Campaign.deadline <= to_db(now))
    claimed = Case.claimed_by_id.is_(None) | (Case.claimed_by_id == actor.id) \
        if actor.role in (Role.reviewer, Role.finance) else None
    return and_(or_(*clauses), ~late, *([claimed] if claimed is not None else []))


def _filtered(query: Select, filters: Filters, actor: Actor) -> Select:
    if filters.state:
        query = query.where(Case.state == filters.state)
    if filters.union:
        query = query.where(Union.code == filters.union)
    if filters.campaign:
        query = query.where(Case.campaign_id == filters.campaign)
    for name in ("worker_group", "category", "aid_kind"):
        if value := getattr(filters, name):
            query = query.where(getattr(Case, name) == value)
    if filters.claimed_by_me:
        query = query.where(Case.claimed_by_id == actor.id)
    if q := (filters.q or "").strip():
        digits = q.upper().replace("*", "")
        by_number = Case.id_number.contains(digits) if len(digits) >= 4 and digits.rstrip("X").isdigit() else false()
        query = query.where(or_(Case.applicant_name.contains(q, autoescape=True), by_number))
    return query


def _page(session: Session, where: Select, order, page: int, per_page: int) -> tuple[list[Case], int]:
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    total = session.scalar(select(func.count()).select_from(where.with_only_columns(Case.id).subquery()))
    items = session.scalars(where.options(joinedload(Case.union), joinedload(Case.campaign))
                            .order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
    return list(items), total


def _base(actor: Actor) -> Select:
    return select(Case).join(Union, Case.union_id == Union.id).join(Campaign, Case.campaign_id == Campaign.id) \
        .where(visible_clause(actor))


def inbox(session: Session, actor: Actor, now: dt.datetime, filters: Filters | None = None, page: int = 1,
          per_page: int = 20) -> Page:
    """The cases `actor` can move on now, the nearest deadline first, then the longest waiting."""
    filters = filters or Filters()
    where = _filtered(_base(actor).where(_task_clause(actor, now)), filters, actor)
    items, total = _page(session, where, (Campaign.deadline, Case.updated_at, Case.id), page, per_page)
    labels = task_states(actor.role)
    counts = session.execute(where.with_only_columns(Case.state, func.count()).group_by(Case.state)).all()
    groups = {}
    for state, count in counts:
        label = labels.get(State(state), "待处理异议")
        groups[label] = groups.get(label, 0) + count
    return Page(items, total, max(page, 1), min(max(per_page, 1), MAX_PER_PAGE), groups)


def cases(session: Session, actor: Actor, filters: Filters | None = None, page: int = 1,
          per_page: int = 20) -> Page:
    """Every case `actor` may see, newest first."""
    where = _filtered(_base(actor), filters or Filters(), actor)
    items, total = _page(session, where, (Case.id.desc(),), page, per_page)
    return Page(items, total, max(page, 1), min(max(per_page, 1), MAX_PER_PAGE))
