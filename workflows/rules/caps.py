"""Caps and budgets: the money a case may still take (DOMAIN.md, Campaign)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import case as when
from sqlalchemy import bindparam, exists, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session

from workflows.errors import Reason
from workflows.infra.memo import active, remembered
from workflows.models import Archive, ArchiveNumber, Campaign, Case, Member, Money, UnionBudget
from workflows.money import yuan
from workflows.rules.timing import campaign_year
from workflows.states import COMMITTED, State
from workflows.texts import N_
from workflows.vocab import AidKind


def _sum_amounts(session: Session, *where) -> Decimal:
    return session.execute(select(func.coalesce(func.sum(Case.aid_amount), 0)).where(*where)).scalar_one()


def cap_reasons(session: Session, case: Case) -> list[Reason]:
    """The campaign's caps on one payment and on a household's year (checked from the saved draft on: the case
    form warns, `document` refuses; rules/tariffs.amount_reasons)."""
    reasons: list[Reason] = []
    campaign = case.campaign
    amount = case.aid_amount or Decimal(0)
    if campaign.cap_per_payment is not None and amount > campaign.cap_per_payment:
        reasons.append(Reason("cap_payment",
                              N_("帮扶金额%(amount)s元超过单次上限%(cap)s元", amount=yuan(amount),
                                 cap=yuan(campaign.cap_per_payment))))
    if campaign.cap_per_year is not None:
        year = campaign_year(campaign)
        same_year = [c.id for c in session.scalars(select(Campaign)) if campaign_year(c) == year]
        used = _sum_amounts(session, household_cases(case), Case.id != case.id,
                            Case.campaign_id.in_(same_year), Case.state.in_(COMMITTED))
        if used + amount > campaign.cap_per_year:
            reasons.append(Reason("cap_year", N_("该户%(year)s年已获帮扶%(used)s元，加上本次%(amount)s元"
                                              "超过年度上限%(cap)s元", year=year, used=yuan(used), amount=yuan(amount),
                                              cap=yuan(campaign.cap_per_year))))
    return reasons


# A union's share of a campaign's budget. Built once (its cache key too; Session.get builds both on every call):
# each money move asks it.
_SHARE = select(UnionBudget.amount).where(UnionBudget.campaign_id == bindparam("campaign"),
                                          UnionBudget.union_id == bindparam("union"))


def money_reasons(session: Session, case: Case, counted: tuple[State, ...]) -> list[Reason]:
    """Caps and budget. `counted` are the states whose amounts are already spoken for (Transition.spends)."""
    reasons = cap_reasons(session, case)
    campaign = case.campaign
    amount = budget_amount(case)
    if campaign.budget is not None:
        used = spoken_for(session, case, counted)
        if used + amount > campaign.budget:
            reasons.append(Reason("budget", N_("超出活动预算：剩余%(left)s元，"
                                            "本次需要%(amount)s元", left=yuan(campaign.budget - used), amount=yuan(amount))))
    share = remembered(session, ("union_budget", campaign.id, case.union_id),
                       lambda: session.scalar(_SHARE, {"campaign": campaign.id, "union": case.union_id}))
    if share is not None:
        used = spoken_for(session, case, counted, case.union_id)
        if used + amount > share:
            reasons.append(Reason("budget", N_("超出本工会的预算额度：剩余%(left)s元，"
                                            "本次需要%(amount)s元", left=yuan(share - used), amount=yuan(amount))))
    return reasons


def budget_amount(case: Case) -> Decimal:
    """What a case takes from the cash budget: its amount; a goods case (送实物) its value (物资折款), and that only
    when the campaign counts goods in the budget (DOMAIN.md, Goods). budget_column() is the same for a query."""
    if case.aid_kind == AidKind.goods:
        return (case.goods_value or Decimal(0)) if case.campaign.goods_in_budget else Decimal(0)
    return case.aid_amount or Decimal(0)


def budget_column(campaign: Campaign):
    """budget_amount() of each case of `campaign`, as a column to sum."""
    goods = func.coalesce(Case.goods_value, 0) if campaign.goods_in_budget else literal(0)
    # Typed as money: SQLite would otherwise hand the sum back as a float.
    return type_coerce(when((Case.aid_kind == AidKind.goods, goods), else_=func.coalesce(Case.aid_amount, 0)), Money)


def spoken_for(session: Session, case: Case, counted: tuple[State, ...], union_id: int | None = None) -> Decimal:
    """What the other cases of the case's campaign in the `counted` states take from its budget (of one union's,
    with union_id). A verb asks the database for the others alone: a case another request has just moved stays
    out of its own sum, and the move is then refused as a conflict when saved, not as money spent. A page asking of
    each of its cases (memo.remembering) reads the campaign's sum once and takes each case's own amount off it."""
    campaign = case.campaign
    where = [Case.campaign_id == campaign.id, Case.state.in_(counted)]
    if union_id is not None:
        where.append(Case.union_id == union_id)
    if not active(session):
        return _sum_budget(session, campaign, *where, Case.id != case.id)
    total = remembered(session, ("spoken_for", campaign.id, tuple(counted), union_id),
                       lambda: _sum_budget(session, campaign, *where))
    return total - (budget_amount(case) if case.id is not None and case.state in counted else Decimal(0))


def _sum_budget(session: Session, campaign: Campaign, *where) -> Decimal:
    return session.execute(select(func.coalesce(func.sum(budget_column(campaign)), 0)).where(*where)).scalar_one()


def household_cases(case: Case):
    """The cases of the household of `case`: of its archive, or naming any of its ID numbers (as applicant or as
    member), so that the yearly cap counts every person of the household (DOMAIN.md, Household archive)."""
    digests = case.digests
    if not digests:
        return Case.archive_id == case.archive_id
    return or_(Case.archive_id == case.archive_id, Case.id_digest.in_(digests),
               exists().where(Member.case_id == Case.id, Member.id_digest.in_(digests)))


def lock_household(session: Session, case: Case) -> None:
    """Lock the archives of the household (its own, and those holding any of its numbers), in id order, before its
    yearly sum is read: two approvals of one household in two campaigns of a year then follow each other."""
    ids = {case.archive_id, *session.scalars(select(ArchiveNumber.archive_id)
                                             .where(ArchiveNumber.id_digest.in_(case.digests)))}
    session.execute(select(Archive.id).where(Archive.id.in_(sorted(ids))).order_by(Archive.id).with_for_update())