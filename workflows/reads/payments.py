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
from workflows.errors import NotFound
from workflows.infra.clock import from_db, local_date
from workflows.models import Account, Campaign, Case, PaymentBatch, PaymentLine, Union
from workflows.rules.payments import WAITING
from workflows.states import Role, State, Trigger
from workflows.texts import N_

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
    rules.require_role(actor, (Role.finance,), N_("查看发放批次"))
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


# ---------------------------------------------------------------- batches sent to the bank (批量代发)

@dataclass
class BatchSummary:
    batch: PaymentBatch
    created_by: str
    count: int
    amount: Decimal
    statuses: dict[str, int]  # PaymentLine.status → count

    @property
    def stage(self) -> str:
        """Where the batch stands, in a cadre's words."""
        if self.batch.result_at is not None:
            return N_("已导入银行回单") if not self.statuses.get(WAITING) else N_("部分回单已导入")
        return N_("已记录发放，待银行回单") if self.batch.sent_at is not None else N_("待发放")


def _summaries(session: Session, where: list) -> list[BatchSummary]:
    rows = session.execute(
        select(PaymentBatch, Account.display_name).join(Account, Account.id == PaymentBatch.created_by_id)
        .where(*where).order_by(PaymentBatch.created_at.desc(), PaymentBatch.id.desc())).all()
    ids = [batch.id for batch, _name in rows]
    counts: dict[int, dict[str, tuple[int, Decimal]]] = {}
    for batch_id, status, count, amount in session.execute(
            select(PaymentLine.batch_id, PaymentLine.status, func.count(), func.coalesce(func.sum(PaymentLine.amount), 0))
            .where(PaymentLine.batch_id.in_(ids)).group_by(PaymentLine.batch_id, PaymentLine.status)):
        counts.setdefault(batch_id, {})[status] = (count, Decimal(amount))
    return [BatchSummary(batch, name, sum(c for c, _a in counts.get(batch.id, {}).values()),
                         sum((a for _c, a in counts.get(batch.id, {}).values()), Decimal(0)),
                         {status: c for status, (c, _a) in counts.get(batch.id, {}).items()})
            for batch, name in rows]


def batches(session: Session, actor: Actor) -> list[BatchSummary]:
    """Every batch, the newest first, with its count, total and the lines by status: finance only."""
    rules.require_role(actor, (Role.finance,), N_("查看发放批次"))
    return _summaries(session, [])


@dataclass
class BatchDetail:
    summary: BatchSummary
    lines: list[PaymentLine]  # with their cases (and unions) loaded


def batch_detail(session: Session, actor: Actor, batch_id: int) -> BatchDetail:
    rules.require_role(actor, (Role.finance,), N_("查看发放批次"))
    found = _summaries(session, [PaymentBatch.id == batch_id])
    if not found:
        raise NotFound(N_("找不到该发放批次"))
    lines = session.scalars(select(PaymentLine).where(PaymentLine.batch_id == batch_id)
                            .options(joinedload(PaymentLine.case).joinedload(Case.union))
                            .order_by(PaymentLine.id)).all()
    return BatchDetail(found[0], list(lines))


def batchable(session: Session, actor: Actor, now: dt.datetime, campaign: int | None = None) -> list[Case]:
    """The cases finance may put in a new batch: to be paid by this officer, in money (goods are handed over
    against a receipt), to an account, in no batch waiting to be sent (verbs.create_batch checks the same)."""
    rules.require_role(actor, (Role.finance,), N_("新建发放批次"))
    queued = select(PaymentLine.case_id).join(PaymentBatch).where(PaymentBatch.sent_at.is_(None))
    where = [Case.visible_to(actor), _to_pay(actor, now), Case.bank_account.is_not(None), Case.aid_amount > 0,
             Case.id.not_in(queued)]
    if campaign:
        where.append(Case.campaign_id == campaign)
    return list(session.scalars(
        select(Case).join(Union, Case.union_id == Union.id).where(*where)
        .options(joinedload(Case.union), joinedload(Case.campaign))
        .order_by(Union.code, Case.file_number, Case.id).limit(MAX_ROWS)))


@dataclass
class Returned:
    case: Case
    age_days: int            # whole days since the bank returned it
    corrected: bool          # its account corrected since (reissue then needs another finance officer)
    corrected_by: str | None


def returned(session: Session, actor: Actor, now: dt.datetime) -> list[Returned]:
    """退票: the cases whose payment the bank returned, the oldest first, with their age and whether the account
    was corrected."""
    rules.require_role(actor, (Role.finance,), N_("查看退票"))
    cases = session.scalars(select(Case).where(Case.visible_to(actor), Case.state == State.payment_returned)
                            .options(joinedload(Case.union), joinedload(Case.campaign))
                            .order_by(Case.returned_at, Case.id)).all()
    names = dict(session.execute(select(Account.id, Account.display_name).where(
        Account.id.in_({c.account_corrected_by_id for c in cases if c.account_corrected_by_id}))).all())
    today = local_date(now)
    return [Returned(case, (today - local_date(from_db(case.returned_at))).days if case.returned_at else 0,
                     case.account_corrected_at is not None, names.get(case.account_corrected_by_id))
            for case in cases]
