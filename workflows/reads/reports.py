"""The figures of a campaign for one union (with the unions under it) or the district: the statistics table
(送温暖活动统计表) and the dashboard. Read only. Which union a person may look at is scope()'s."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case as when
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from workflows.actors import Actor
from workflows.errors import NotFound
from workflows.models import AuditEvent, Campaign, Case, Member, Summary, Union, UnionBudget
from workflows.money import plain
from workflows.rules.caps import budget_column
from workflows.states import COMMITTED, GRASSROOTS, LIVE, RETURNED, TRANSITIONS, UNION_ROLES, Role, State
from workflows.texts import N_
from workflows.vocab import AidKind, Category, UnionKind, WorkerGroup

# A draft may not have its worker group, category or aid kind yet: counted under this key so that every
# breakdown adds up to the number of cases.
UNSET, UNSET_LABEL = "unset", "未填写"
# A forfeited case is overdue (逾期未报) when the system forfeited it, rejected (不合格) when a person did.
OVERDUE_TRIGGERS = {t.trigger for t in TRANSITIONS if t.dest == State.forfeited and Role.system in t.roles}
# Where the money came from, as each union's summary states it (Summary.fund_*): key, column, label.
SOURCES = (("upper", Summary.fund_upper, "上级工会拨付"), ("own", Summary.fund_own, "本级工会"),
           ("government", Summary.fund_government, "党政支持"), ("society", Summary.fund_society, "社会募集"),
           ("donations", Summary.fund_donations, "职工捐款"))
WAN = Decimal(10000)


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
        raise NotFound(N_("找不到该活动"))
    if actor.role in UNION_ROLES:
        own = session.get(Union, actor.union_id)
        if union_code and union_code != own.code:
            raise NotFound(N_("找不到该工会"))
        return campaign, own
    union = session.scalar(select(Union).where(Union.code == union_code)) if union_code else None
    if union_code and union is None:
        raise NotFound(N_("找不到该工会"))
    return campaign, union


def campaigns(session: Session) -> list[Campaign]:
    """Every campaign, the latest first: what the pickers offer."""
    return list(session.scalars(select(Campaign).order_by(Campaign.deadline.desc(), Campaign.id.desc())))


def pickable_unions(session: Session, actor: Actor) -> list[Union]:
    """The unions `actor` may pick (besides the whole district): their own, or every federation and grassroots
    union for the district's roles."""
    if actor.role in UNION_ROLES:
        return [session.get(Union, actor.union_id)]
    order = when((Union.kind == UnionKind.federation, 0), else_=1)
    return list(session.scalars(select(Union).where(Union.kind != UnionKind.district)
                                .order_by(order, Union.code)))


def unit_name(session: Session, union: Union | None) -> str:
    """填报单位: the union, or for the whole district the district union's own name."""
    if union is not None:
        return union.name
    names = session.scalars(select(Union.name).where(Union.kind == UnionKind.district).order_by(Union.id)).all()
    return names[0] if len(names) == 1 else "全区"


def _where(session: Session, campaign_id: int, union: Union | None) -> list[Any]:
    where = [Case.campaign_id == campaign_id]
    if union is not None:
        where.append(Case.union_id.in_(union_and_below(session, union)))
    return where


def _count(*states: State):
    return func.coalesce(func.sum(when((Case.state.in_(states), 1), else_=0)), 0)


def _amount(*states: State):
    return func.coalesce(func.sum(when((Case.state.in_(states), Case.aid_amount), else_=0)), 0)


def statistics(session: Session, campaign_id: int, union: Union | None = None) -> dict[str, Any]:
    """Cases by state, worker group, category and aid kind (each with the amounts approved and paid and the cases
    forfeited); the totals; one row per union (each with its `helped` figures); and `helped`, the table as the unions
    report it for the whole view (helped()). Amounts are strings with two decimals, as the API gives them."""
    where = _where(session, campaign_id, union)
    measures = (func.count(), _amount(*COMMITTED), _amount(State.disbursed), _count(State.forfeited))

    def grouped(column, codes) -> dict[str, dict[str, Any]]:
        found = {key: row for key, *row in
                 session.execute(select(column, *measures).where(*where).group_by(column))}
        keys = [(code.value, code.label) for code in codes]
        if found.get(None):
            keys.append((UNSET, UNSET_LABEL))
        return {key: _measures(label, found.get(None if key == UNSET else key, (0, 0, 0, 0))) for key, label in keys}

    by_state = dict(session.execute(select(Case.state, func.count()).where(*where).group_by(Case.state)).all())
    total, approved_sum, paid_sum, _ = session.execute(select(*measures).where(*where)).one()
    return {
        "campaign": campaign_id,
        "union": union.code if union else None,
        "unit": unit_name(session, union),
        "cases": total,
        "by_state": {s.value: by_state.get(s.value, 0) for s in State},
        "by_worker_group": grouped(Case.worker_group, WorkerGroup),
        "by_category": grouped(Case.category, Category),
        "by_aid_kind": grouped(Case.aid_kind, AidKind),
        "approved_amount": plain(approved_sum),
        "paid_amount": plain(paid_sum),
        "forfeited": by_state.get(State.forfeited.value, 0),
        "by_union": by_union(session, campaign_id, union),
        "helped": helped(session, campaign_id, union),
    }


def _measures(label: str, row) -> dict[str, Any]:
    cases, approved, paid, forfeited = row
    return {"label": label, "cases": cases, "approved": plain(approved), "paid": plain(paid),
            "forfeited": forfeited}


def by_union(session: Session, campaign_id: int, union: Union | None = None) -> list[dict[str, Any]]:
    """One row per grassroots union in view (those without a case too) and any other union holding cases: cases
    by stage, the forfeited ones split into overdue (逾期未报) and rejected (不合格), and the amounts."""
    where = _where(session, campaign_id, union)
    in_view = union_and_below(session, union) if union is not None else None
    rows = {union_id: row for union_id, *row in session.execute(
        select(Case.union_id, func.count(), _count(*GRASSROOTS), _count(State.entered),
               _count(State.district_approved), _count(State.disbursed), _count(State.forfeited),
               _count(State.withdrawn), _amount(*COMMITTED), _amount(State.disbursed), _count(*RETURNED))
        .where(*where).group_by(Case.union_id))}
    how: dict[tuple[int, str], int] = {}
    for union_id, action, n in session.execute(  # the one transition into `forfeited` of each forfeited case
            select(Case.union_id, AuditEvent.action, func.count()).join(AuditEvent, AuditEvent.case_id == Case.id)
            .where(*where, Case.state == State.forfeited, AuditEvent.to_state == State.forfeited,
                   AuditEvent.from_state != State.forfeited)
            .group_by(Case.union_id, AuditEvent.action)):
        key = (union_id, "overdue" if action in OVERDUE_TRIGGERS else "rejected")
        how[key] = how.get(key, 0) + n
    shown = select(Union).where(Union.kind == UnionKind.grassroots)
    if in_view is not None:
        shown = shown.where(Union.id.in_(in_view))
    unions = {u.id: u for u in session.scalars(shown)}
    unions.update({u.id: u for u in session.scalars(select(Union).where(Union.id.in_(set(rows) - set(unions))))})
    figures = _helped_by_union(session, campaign_id, where, list(unions))
    result = []
    for u in sorted(unions.values(), key=lambda u: u.code):
        cases, in_progress, entered, approved_n, disbursed, forfeited, withdrawn, approved, paid, returned = \
            rows.get(u.id, (0,) * 10)
        result.append({"code": u.code, "name": u.name, "cases": cases, "in_progress": in_progress,
                       "entered": entered, "district_approved": approved_n, "disbursed": disbursed,
                       "forfeited": forfeited, "overdue": how.get((u.id, "overdue"), 0),
                       "rejected": how.get((u.id, "rejected"), 0), "withdrawn": withdrawn,
                       "payment_returned": returned, "approved": plain(approved), "paid": plain(paid),
                       "helped": figures[u.id]})
    return result


# ------------------------------------------------------------------ the table as the unions report it

def wan(amount: Any) -> str:
    """元 as 万元 with two decimals (what the unions' tables show), from the amount rounded to the fen first."""
    return str((Decimal(plain(amount)) / WAN).quantize(Decimal("0.01"), ROUND_HALF_UP))


def money_pair(amount: Any) -> dict[str, str]:
    """An amount as the unions' table gives it: 万元 with the 元 beside."""
    return {"yuan": plain(amount), "wan": wan(amount)}


def _helped_measures():
    """The figures of the cases the district approved (COMMITTED: paid or not, a returned payment too): households,
    persons (the household's size: the applicant and each member of the case), households by worker group and the
    medical ones (大病), cash (慰问金: the amounts of the cases that are not goods) and goods (物资折款: the value of
    the goods cases)."""
    members = (select(Member.case_id, func.count().label("n")).group_by(Member.case_id).subquery())
    approved = Case.state.in_(COMMITTED)
    goods = Case.aid_kind == AidKind.goods
    measures = [
        func.coalesce(func.sum(when((approved, 1), else_=0)), 0),
        func.coalesce(func.sum(when((approved, 1 + func.coalesce(members.c.n, 0)), else_=0)), 0),
        *[func.coalesce(func.sum(when((approved & (Case.worker_group == group.value), 1), else_=0)), 0)
          for group in WorkerGroup],
        func.coalesce(func.sum(when((approved & Case.medical.is_(True), 1), else_=0)), 0),
        func.coalesce(func.sum(when((approved & or_(Case.aid_kind.is_(None), ~goods), Case.aid_amount), else_=0)), 0),
        func.coalesce(func.sum(when((approved & goods, Case.goods_value), else_=0)), 0),
    ]
    return members, measures


def _helped_row(row, funds: dict[str, Any]) -> dict[str, Any]:
    households, persons, *rest = row
    groups, (medical, cash, goods) = rest[:len(WorkerGroup)], rest[len(WorkerGroup):]
    return {"households": households, "persons": persons,
            "by_worker_group": {group.value: n for group, n in zip(WorkerGroup, groups)},
            "medical": medical, "cash": money_pair(cash), "goods": money_pair(goods),
            "sources": {key: money_pair(funds.get(key) or 0) for key, _column, _label in SOURCES}}


def _funds(session: Session, campaign_id: int, union_ids: list[int] | None) -> dict[int, dict[str, Any]]:
    query = select(Summary.union_id, *[column for _key, column, _label in SOURCES]).where(
        Summary.campaign_id == campaign_id)
    if union_ids is not None:
        query = query.where(Summary.union_id.in_(union_ids))
    return {union_id: dict(zip((key for key, _c, _l in SOURCES), values))
            for union_id, *values in session.execute(query)}


def _helped_by_union(session: Session, campaign_id: int, where: list[Any],
                     union_ids: list[int]) -> dict[int, dict[str, Any]]:
    members, measures = _helped_measures()
    rows = {union_id: row for union_id, *row in session.execute(
        select(Case.union_id, *measures).outerjoin(members, members.c.case_id == Case.id)
        .where(*where).group_by(Case.union_id))}
    funds = _funds(session, campaign_id, union_ids)
    empty = (0,) * (5 + len(WorkerGroup))
    return {union_id: _helped_row(rows.get(union_id, empty), funds.get(union_id, {})) for union_id in union_ids}


def helped(session: Session, campaign_id: int, union: Union | None = None) -> dict[str, Any]:
    """The table as the unions report it, for the whole view (its totals row): counted over the cases and the
    summaries of the view, not added up from the unions' rows, so that a test can hold one against the other."""
    members, measures = _helped_measures()
    row = session.execute(select(*measures).outerjoin(members, members.c.case_id == Case.id)
                          .where(*_where(session, campaign_id, union))).one()
    in_view = union_and_below(session, union) if union is not None else None
    totals: dict[str, Any] = {}
    for funds in _funds(session, campaign_id, in_view).values():
        for key, value in funds.items():
            totals[key] = totals.get(key, Decimal(0)) + Decimal(value or 0)
    return _helped_row(row, totals)


def funnel(session: Session, campaign_id: int, union: Union | None = None) -> list[dict[str, Any]]:
    """Each stage of the main path with how many cases reached it (at any time, from the audit trail: a case
    forfeited while publicized did reach publicity) and how many are in it now."""
    where = _where(session, campaign_id, union)
    rank = when(*[(AuditEvent.to_state == state.value, i) for i, state in enumerate(LIVE)])
    furthest = (select(func.max(rank).label("rank")).select_from(AuditEvent)
                .join(Case, Case.id == AuditEvent.case_id).where(*where).group_by(AuditEvent.case_id).subquery())
    counts = dict(session.execute(select(furthest.c.rank, func.count()).group_by(furthest.c.rank)).all())
    now = dict(session.execute(select(Case.state, func.count()).where(*where).group_by(Case.state)).all())
    return [{"state": state.value, "label": state.label, "now": now.get(state.value, 0),
             "reached": sum(n for r, n in counts.items() if r is not None and r >= i)}
            for i, state in enumerate(LIVE)]


def budget(session: Session, campaign: Campaign, union: Union | None = None) -> dict[str, Decimal | None]:
    """The budget in view (the campaign's, or the shares of the union and those under it; None when there is
    none), what district approval has spoken for (paid or not, as rules.money_reasons counts it: goods only when
    the campaign counts them in the budget), and what is left."""
    where = _where(session, campaign.id, union)
    spent = budget_column(campaign)
    approved, paid = session.execute(select(
        func.coalesce(func.sum(when((Case.state.in_(COMMITTED), spent), else_=0)), 0),
        func.coalesce(func.sum(when((Case.state == State.disbursed, spent), else_=0)), 0)).where(*where)).one()
    approved, paid = Decimal(plain(approved)), Decimal(plain(paid))  # SQLite sums in floats
    if union is None:
        total = campaign.budget
    else:
        shares = session.scalars(select(UnionBudget.amount).where(
            UnionBudget.campaign_id == campaign.id, UnionBudget.union_id.in_(union_and_below(session, union)))).all()
        total = sum(shares, Decimal(0)) if shares else None
    return {"total": total, "approved": approved, "paid": paid, "committed": approved - paid,
            "left": None if total is None else total - approved}


