"""The minimum living standards (低保标准) as the administrators' screen and the API list them, and what the
recognition rules (rules.recognition) say of one household, as the case and archive pages and the API show it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import Account, LivingStandard
from workflows.rules.recognition import Recognition
from workflows.vocab import Category, Exclusion, label_of


@dataclass(frozen=True)
class StandardRow:
    year: int
    area_code: str
    monthly: Decimal
    set_at: dt.datetime
    set_by: str | None        # the account's username; None for the command line
    set_by_name: str | None   # its display name


def listing(session: Session, year: int | None = None) -> list[StandardRow]:
    """The standards, the latest year first, each year's by area code; of one year only when `year` is given."""
    query = (select(LivingStandard, Account.username, Account.display_name)
             .outerjoin(Account, Account.id == LivingStandard.set_by_id)
             .order_by(LivingStandard.year.desc(), LivingStandard.area_code))
    if year is not None:
        query = query.where(LivingStandard.year == year)
    return [StandardRow(s.year, s.area_code, s.monthly, s.set_at, username, name or username)
            for s, username, name in session.execute(query)]


def years(session: Session) -> list[int]:
    """The years that have standards, the latest first (the screen's filter)."""
    return list(session.scalars(select(LivingStandard.year).distinct().order_by(LivingStandard.year.desc())))


@dataclass(frozen=True)
class Shown:
    """One household's recognition as the pages show it: the figures, the standard used, the category the income
    fits and whether the chosen one does, the reason given for it, the exclusions, the rigid spending."""

    recognition: Recognition
    category: str | None
    chosen_fits: bool
    category_reason: str | None
    exclusions: list[str]          # their labels
    spending: dict[str, Decimal | None]
    compensation: Decimal | None

    @property
    def net(self) -> Decimal | None:
        return self.recognition.net

    @property
    def standard(self):
        return self.recognition.standard

    @property
    def fits_label(self) -> str | None:
        return label_of(Category, self.recognition.fits)


def shown(recognition: Recognition, record: Any) -> Shown:
    """`record` (a case or an archive) judged by `recognition` (rules.guards.case_recognition or
    archive_recognition)."""
    return Shown(recognition=recognition, category=record.category,
                 chosen_fits=recognition.fits_category(record.category),
                 category_reason=(record.category_reason or "").strip() or None,
                 exclusions=[label_of(Exclusion, code) for code in record.exclusions or []],
                 spending={"illness": record.spending_illness, "disability": record.spending_disability,
                           "schooling": record.spending_schooling},
                 compensation=record.compensation)
