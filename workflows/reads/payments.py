"""Finance's batch: the district-approved cases waiting to be paid by this officer (the `disburse` turn of
rules.guards: nobody else has claimed them), and those paid, with their totals by union."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from workflows import rules
from workflows.actors import Actor
from workflows.models import Campaign, Case, Union
from workflows.states import Role, State, Trigger

PENDING, PAID = State.district_approved, State.disbursed


# The rows a batch page lists; the totals count everything the filter matches.
MAX_ROWS = 500


@dataclass
class BatchFilters:
    campaign: int | None = None
    union: str | None = None    # a grassroots union's code
    state: str = PENDING        # district_approved (to pay) or disbursed (paid)


@dataclass
class Totals:
    count: int = 0
    amount: Decimal = Decimal(0)


@dataclass
class UnionTotals:
    code: str
    name: str
    pending: Totals = field(default_factory=Totals)
    paid: Totals = field(default_factory=Totals)


@dataclass
class Batch:
    items: list[Case]              # at most MAX_ROWS, by union and file number
    shown: Totals                  # everything of the chosen state under the filter
    pending: Totals
    paid: Totals
    by_union: list[UnionTotals]
    campaign: Campaign | None = None
    budget_left: Decimal | None = None  # the chosen campaign's budget less what it has paid, whatever the union


def _to_pay(actor: Actor, now: dt.datetime):
    return rules.turn_clause(Trigger.disburse, actor, now)


def _where(actor: Actor, filters: BatchFilters, now: dt.datetime) -> list:
    where = [Case.visible_to(actor), or_(_to_pay(actor, now), Case.state == PAID)]
    if filters.campaign:
        where.append(Case.campaign_id == filters.campaign)
    if filters.union:
        where.append(Union.code == filters.union)
    return where


def batch(session: Session, actor: Actor, now: dt.datetime, filters: BatchFilters | None = None) -> Batch:
    """The cases finance pays, filtered by campaign and union, with totals: three queries at most."""
    rules.require_role(actor, (Role.finance,), "查看发放批次")
    filters = filters or BatchFilters()
    state = filters.state if filters.state in (PENDING, PAID) else PENDING
    where = _where(actor, filters, now)
    items = session.scalars(
        select(Case).join(Union, Case.union_id == Union.id).where(*where, Case.state == state)
        .options(joinedload(Case.union), joinedload(Case.campaign))
        .order_by(Union.code, Case.file_number, Case.id).limit(MAX_ROWS)).all()
    sums = session.execute(
        select(Union.code, Union.name, Case.state, func.count(), func.coalesce(func.sum(Case.aid_amount), 0))
        .join(Union, Case.union_id == Union.id).where(*where)
        .group_by(Union.code, Union.name, Case.state).order_by(Union.code)).all()
    unions: dict[str, UnionTotals] = {}
    pending, paid = Totals(), Totals()
    for code, name, row_state, count, amount in sums:
        line = unions.setdefault(code, UnionTotals(code, name))
        for totals in ((line.pending, pending) if row_state == PENDING else (line.paid, paid)):
            totals.count += count
            totals.amount += Decimal(amount)
    result = Batch(list(items), pending if state == PENDING else paid, pending, paid, list(unions.values()))
    if filters.campaign and (campaign := session.get(Campaign, filters.campaign)) is not None:
        result.campaign = campaign
        if campaign.budget is not None:
            spent = session.scalar(select(func.coalesce(func.sum(Case.aid_amount), 0))
                                   .where(Case.campaign_id == campaign.id, Case.state == PAID))
            result.budget_left = campaign.budget - Decimal(spent)
    return result
