"""The lists people work from: the inbox (what I can do now) and the case list (what I may see).

Both are one query for the page and one for the count, with the case's union and campaign loaded alongside,
however many cases there are. What is a task comes from the task table (states.TASKS), when it is due from rules.tasks.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from workflows.actors import Actor
from workflows.identity import normalize_id
from workflows.models import Campaign, Case, Union
from workflows.rules import task_clause, task_label
from workflows.states import tasks_of

MAX_PER_PAGE = 100


@dataclass
class Filters:
    state: str | None = None
    union: str | None = None        # a union's code
    campaign: int | None = None
    worker_group: str | None = None
    category: str | None = None
    aid_kind: str | None = None
    q: str | None = None            # part of a name, or the last four digits of the ID number
    claimed_by_me: bool = False


@dataclass
class Page:
    items: list[Case]
    total: int
    page: int
    per_page: int
    groups: dict[str, int] = field(default_factory=dict)  # inbox only: task label → count
    tasks: dict[int, str] = field(default_factory=dict)   # inbox only: case id → the label of its task


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
        query = query.where(name_or_number(Case, q))
    return query


def name_or_number(row, q: str):
    """Part of the name, or the last four digits of the ID number, as the screens ask for them: never a run of
    digits inside it, nor the whole number, either of which would let someone who sees only masks recover whole
    numbers a search at a time (the mask shows all but the birth date: a few thousand guesses of the whole number,
    none of them a reveal in the trail). `row` is the class searched (a case, an archive or a member of either):
    the last four are looked for in its stored mask (its number is sealed, sealing.py)."""
    name = row.name if hasattr(row, "relation") else row.applicant_name
    last4 = normalize_id(q)
    by_number = row.id_masked.endswith(last4) if re.fullmatch(r"[0-9]{3}[0-9X]", last4) else false()
    return or_(name.contains(q, autoescape=True), by_number)


def _page(session: Session, where: Select, order, page: int, per_page: int) -> tuple[list, int]:
    """One page of `where`'s rows (a Case first in each), and how many rows there are in all."""
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    total = session.scalar(select(func.count()).select_from(where.with_only_columns(Case.id).subquery()))
    rows = session.execute(where.options(joinedload(Case.union), joinedload(Case.campaign))
                           .order_by(*order).limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def _base(actor: Actor) -> Select:
    return select(Case).join(Union, Case.union_id == Union.id).join(Campaign, Case.campaign_id == Campaign.id) \
        .where(Case.visible_to(actor))


def inbox(session: Session, actor: Actor, now: dt.datetime, filters: Filters | None = None, page: int = 1,
          per_page: int = 20) -> Page:
    """The cases `actor` can move on now, the nearest deadline first, then the longest waiting."""
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    if not tasks_of(actor.role):  # the task table gives this role nothing to do: nothing to ask the database
        return Page([], 0, page, per_page)
    filters = filters or Filters()
    where = _filtered(_base(actor).where(task_clause(actor, now)), filters, actor)
    label = task_label(actor, now)
    rows, total = _page(session, where.add_columns(label), (Campaign.deadline, Case.updated_at, Case.id), page,
                        per_page)
    groups = dict(session.execute(where.with_only_columns(label, func.count()).group_by(label)).all())
    return Page([case for case, _ in rows], total, page, per_page, groups, {case.id: task for case, task in rows})


def cases(session: Session, actor: Actor, filters: Filters | None = None, page: int = 1,
          per_page: int = 20) -> Page:
    """Every case `actor` may see, newest first."""
    where = _filtered(_base(actor), filters or Filters(), actor)
    rows, total = _page(session, where, (Case.id.desc(),), page, per_page)
    return Page([case for case, in rows], total, max(page, 1), min(max(per_page, 1), MAX_PER_PAGE))
