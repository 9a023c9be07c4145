"""Tariffs (标准): the amount a campaign gives a household of a category and worker group; and the one money check
of a draft's amount (caps and tariff), which the case form shows as a warning beside the amount once saved and
`document` refuses with (rules/guards.py). The budget is district approval's (Transition.spends)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflows.errors import Reason
from workflows.infra.memo import remembered
from workflows.models import Case, Tariff
from workflows.money import yuan
from workflows.rules.caps import cap_reasons
from workflows.texts import N_
from workflows.vocab import AidKind


# Built once (its cache key too; Session.get builds both on every call): `document` asks it on every move.
_TARIFF = select(Tariff.amount).where(Tariff.campaign_id == bindparam("campaign"),
                                      Tariff.category == bindparam("category"),
                                      Tariff.worker_group == bindparam("group"))


def tariff_for(session: Session, case: Case) -> Decimal | None:
    """The campaign's amount for the case's category and worker group; None without one (or without both)."""
    if not case.category or not case.worker_group:
        return None
    # The campaign object, not campaign_id: a case being opened has no campaign_id until it is flushed (and must
    # not be flushed half-built by this look-up).
    key = {"campaign": case.campaign.id, "category": str(case.category), "group": str(case.worker_group)}
    with session.no_autoflush:
        return remembered(session, ("tariff", *key.values()), lambda: session.scalar(_TARIFF, key))


def default_amount(session: Session, case: Case) -> Decimal | None:
    """What a new funds case without an amount starts with: the tariff (None when there is none to give)."""
    if case.aid_kind != AidKind.funds or case.aid_amount is not None:
        return None
    return tariff_for(session, case)


def tariff_reasons(session: Session, case: Case) -> list[Reason]:
    """A funds amount other than the tariff needs a stated reason (Case.amount_reason)."""
    if case.aid_kind != AidKind.funds or case.aid_amount is None or (case.amount_reason or "").strip():
        return []
    tariff = tariff_for(session, case)
    if tariff is None or Decimal(case.aid_amount) == tariff:
        return []
    return [Reason("tariff", N_("帮扶金额%(amount)s元与本活动的标准%(tariff)s元不同，"
                             "请填写「金额与标准不同的理由」", amount=yuan(case.aid_amount), tariff=yuan(tariff)))]


def amount_reasons(session: Session, case: Case) -> list[Reason]:
    """What is wrong with the case's amount: over a cap, or not the tariff without a reason."""
    if case.aid_amount is None:
        return []
    return cap_reasons(session, case) + tariff_reasons(session, case)


def campaign_tariffs(session: Session, campaign_id: int) -> list[Tariff]:
    """A campaign's tariffs, by category and worker group."""
    return list(session.scalars(select(Tariff).where(Tariff.campaign_id == campaign_id)
                                .order_by(Tariff.category, Tariff.worker_group)))
