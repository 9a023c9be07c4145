"""The statistics table of a campaign (送温暖活动统计表), for one union (with the unions under it) or the district."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import case as when, func, select
from sqlalchemy.orm import Session

from .actors import Actor
from .errors import NotFound
from .models import Campaign, Case, Union
from .states import UNION_ROLES, State
from .vocab import AidKind, Category, WorkerGroup

APPROVED = (State.district_approved, State.disbursed)


def union_and_below(session: Session, union: Union) -> list[int]:
    """The ids of `union` and every union under it (the tree is small: read it once)."""
    children: dict[int | None, list[int]] = {}
    for union_id, parent_id in session.execute(select(Union.id, Union.parent_id)):
        children.setdefault(parent_id, []).append(union_id)
    found, todo = [], [union.id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def scope(session: Session, actor: Actor, campaign_id: int, union_code: str | None) -> tuple[Campaign, Union | None]:
    """The campaign and the union whose figures `actor` asks for: a grassroots union's people see their own union
    only (another one is not found); the district's roles see any union, or the whole district."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("找不到该活动")
    if actor.role in UNION_ROLES:
        own = session.get(Union, actor.union_id)
        if union_code and union_code != own.code:
            raise NotFound("找不到该工会")
        return campaign, own
    union = session.scalar(select(Union).where(Union.code == union_code)) if union_code else None
    if union_code and union is None:
        raise NotFound("找不到该工会")
    return campaign, union


def statistics(session: Session, campaign_id: int, union: Union | None = None) -> dict[str, Any]:
    """Cases by state, worker group, category and aid kind; amounts approved and paid; cases forfeited."""
    where = [Case.campaign_id == campaign_id]
    if union is not None:
        where.append(Case.union_id.in_(union_and_below(session, union)))
    approved = func.coalesce(func.sum(when((Case.state.in_(APPROVED), Case.aid_amount), else_=0)), 0)
    paid = func.coalesce(func.sum(when((Case.state == State.disbursed, Case.aid_amount), else_=0)), 0)

    def grouped(column, codes) -> dict[str, dict[str, Any]]:
        rows = {key: (n, a, p) for key, n, a, p in
                session.execute(select(column, func.count(), approved, paid).where(*where).group_by(column))}
        return {code.value: {"label": code.label, "cases": rows.get(code.value, (0, 0, 0))[0],
                             "approved": _money(rows.get(code.value, (0, 0, 0))[1]),
                             "paid": _money(rows.get(code.value, (0, 0, 0))[2])} for code in codes}

    by_state = dict(session.execute(select(Case.state, func.count()).where(*where).group_by(Case.state)).all())
    total, approved_sum, paid_sum = session.execute(select(func.count(), approved, paid).where(*where)).one()
    return {
        "campaign": campaign_id,
        "union": union.code if union else None,
        "cases": total,
        "by_state": {s.value: by_state.get(s.value, 0) for s in State},
        "by_worker_group": grouped(Case.worker_group, WorkerGroup),
        "by_category": grouped(Case.category, Category),
        "by_aid_kind": grouped(Case.aid_kind, AidKind),
        "approved_amount": _money(approved_sum),
        "paid_amount": _money(paid_sum),
        "forfeited": by_state.get(State.forfeited.value, 0),
    }


def _money(value: Any) -> str:
    return f"{Decimal(value or 0):.2f}"
