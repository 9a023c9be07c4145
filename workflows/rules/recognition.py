"""Recognition (困难认定, DOMAIN.md): the household's net per-capita monthly income against the local minimum living
standard (低保标准), the category it fits, the exclusions (不予建档) and the papers its causes call for. One place
for each rule: `document` asks them of a case, the screens and the API show them for a case or an archive, the
annual review reads the same income against the same standard.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from workflows.archive_states import Status
from workflows.errors import Reason
from workflows.infra.memo import remembered
from workflows.models import LivingStandard
from workflows.money import yuan
from workflows.texts import N_
from workflows.vocab import (
    DISABILITY_DOCUMENTS,
    MEDICAL_DOCUMENTS,
    MIGRANT_DOCUMENTS,
    REQUIRED_DOCUMENTS,
    SCHOOL_DOCUMENTS,
    Category,
    Cause,
    DocumentKind,
    Exclusion,
    WorkerGroup,
    label_of,
)

# The rigid spending taken off the household's income (DOMAIN.md, Recognition).
RIGID = ("spending_illness", "spending_disability", "spending_schooling")
# Below this many times the standard a category fits; 意外致困 is judged like 相对困难, after compensation.
LINES: tuple[tuple[Category, int], ...] = ((Category.deep, 1), (Category.relative, 2))
ACCIDENT_LINE = 2
CENT = Decimal("0.01")


def net_monthly(record: Any) -> Decimal | None:
    """(annual income + compensation − rigid spending) / 12 / the household's size; None while the income is not
    known. `record` is a case or an archive (anything with the household's columns and members)."""
    if record.annual_income is None:
        return None
    income = record.annual_income + (record.compensation or 0) - sum(getattr(record, n) or 0 for n in RIGID)
    return (Decimal(income) / 12 / record.household_size).quantize(CENT)


def area_chain(area: str | None) -> list[str]:
    """The codes a standard is looked up by, nearest first: the county, its city (XXXX00), its province (XX0000)."""
    if not area:
        return []
    return list(dict.fromkeys([area, area[:4] + "00", area[:2] + "0000"]))


def area_of(hukou_area: str | None, id_number: str | None) -> tuple[str | None, bool]:
    """The area whose standard applies, and whether it was guessed: the household's 户口所在地 as its archive
    records it; until the cadre fills that in, where the head's ID number was issued (its first six digits)."""
    if hukou_area:
        return hukou_area, False
    return (id_number[:6], True) if id_number else (None, False)


# Built once (its cache key too): `document` asks it on every move.
_STANDARDS = select(LivingStandard).where(LivingStandard.year == bindparam("year"),
                                          LivingStandard.area_code.in_(bindparam("chain", expanding=True)))


def standard_for(session: Session, year: int, area: str | None) -> LivingStandard | None:
    chain = area_chain(area)
    if not chain:
        return None
    def fetch() -> LivingStandard | None:
        found = {s.area_code: s for s in session.scalars(_STANDARDS, {"year": year, "chain": list(chain)})}
        return next((found[code] for code in chain if code in found), None)
    return remembered(session, ("standard", year, area), fetch)


def fitting(net: Decimal, monthly: Decimal) -> Category | None:
    """深度困难 below the standard, 相对困难 below twice it; None above (not in hardship by income)."""
    return next((category for category, times in LINES if net < monthly * times), None)


@dataclass(frozen=True)
class Recognition:
    """What the income says of one household in one year and area."""

    year: int
    area: str | None
    net: Decimal | None
    standard: LivingStandard | None
    # The area is where the head's ID number was issued: the archive has no 户口所在地 yet.
    area_guessed: bool = False

    @property
    def known(self) -> bool:
        return self.net is not None and self.standard is not None

    @property
    def fits(self) -> Category | None:
        return fitting(self.net, self.standard.monthly) if self.known else None

    @property
    def above_line(self) -> bool:
        """Above every hardship line: twice the standard or more."""
        return self.known and self.fits is None

    def fits_category(self, category: str | None) -> bool:
        """Whether `category` fits (True when it cannot be told: no income or no standard yet)."""
        if not self.known or not category:
            return True
        if category == Category.accident:
            return self.net < self.standard.monthly * ACCIDENT_LINE
        return self.fits == category

    def text(self) -> str:
        """One line for the case and archive pages."""
        if self.net is None:
            return N_("未填写家庭年收入，无法核算月人均净收入")
        net = yuan(self.net)
        if not self.area:
            return N_("家庭月人均净收入%(net)s；未填写户口所在地行政区划，无法对照低保标准", net=net)
        guessed = N_("，档案未填户口所在地，按身份证号前6位") if self.area_guessed else ""
        if self.standard is None:
            return N_("家庭月人均净收入%(net)s；%(year)s年%(area)s地区尚未设定低保标准%(guessed)s", net=net,
                      year=self.year, area=self.area, guessed=guessed)
        known = dict(net=net, year=self.year, monthly=yuan(self.standard.monthly), area=self.standard.area_code,
                     guessed=guessed)
        if not self.fits:
            return N_("家庭月人均净收入%(net)s；%(year)s年低保标准每人每月%(monthly)s（%(area)s%(guessed)s）；"
                      "按收入高于低保标准2倍，不符合困难认定条件", **known)
        return N_("家庭月人均净收入%(net)s；%(year)s年低保标准每人每月%(monthly)s（%(area)s%(guessed)s）；"
                  "按收入符合%(category)s", category=label_of(Category, self.fits), **known)


def recognise(session: Session, record: Any, year: int, archive: Any) -> Recognition:
    """`record` (a case or an archive) against the standard of `year` where `archive`'s household lives."""
    area, guessed = area_of(archive.hukou_area, archive.id_number or record.id_number)
    return Recognition(year, area, net_monthly(record), standard_for(session, year, area), guessed)


def category_reasons(recognition: Recognition, record: Any) -> list[Reason]:
    """A chosen category that does not fit blocks `document` unless the case says why."""
    if recognition.fits_category(record.category) or (record.category_reason or "").strip():
        return []
    chosen = label_of(Category, record.category)
    return [Reason("category", N_("所选困难类别「%(chosen)s」与收入不符（%(recognition)s）；"
                                  "请改选困难类别，或在「类别说明」中写明理由", chosen=chosen,
                                  recognition=recognition.text()))]


def exclusion_reasons(record: Any) -> list[Reason]:
    """不予建档: any exclusion keeps the household out, whatever its income."""
    return [Reason("exclusion", N_("不予建档：%(exclusion)s", exclusion=label_of(Exclusion, code)))
            for code in record.exclusions or []]


def _causes(record: Any) -> set[str]:
    return {record.primary_cause, *(record.secondary_causes or [])}


# The papers some households need besides every case's: (papers, when, what the forms say of when).
CONDITIONAL_DOCUMENTS: tuple[tuple[tuple[DocumentKind, ...], Any, str], ...] = (
    (MEDICAL_DOCUMENTS, lambda r: r.medical, "医疗救助案件"),
    (DISABILITY_DOCUMENTS, lambda r: Cause.no_work_capacity in _causes(r) or bool(r.spending_disability),
     "致困原因含无劳动能力，或填写了残疾支出"),
    (SCHOOL_DOCUMENTS, lambda r: Cause.schooling in _causes(r) or bool(r.spending_schooling),
     "致困原因含子女上学，或填写了就学支出"),
    (MIGRANT_DOCUMENTS, lambda r: r.worker_group == WorkerGroup.migrant_worker, "困难农民工"),
)


def required_documents(record: Any) -> tuple[DocumentKind, ...]:
    """The papers `document` needs of a case (or of the values a form holds): every case's, and those its kind,
    causes and worker group call for (CONDITIONAL_DOCUMENTS)."""
    return REQUIRED_DOCUMENTS + tuple(kind for kinds, applies, _ in CONDITIONAL_DOCUMENTS if applies(record)
                                      for kind in kinds)



# ---------------------------------------------------------------- evidence: the home visit

def needs_visit(archive: Any) -> bool:
    """An archive's first public notice waits for a home visit: a household never helped, not taken over from the
    union's ledger, and never visited."""
    return archive.last_helped_at is None and archive.imported_at is None and not archive.visits


def visit_reasons(case: Any) -> list[Reason]:
    if needs_visit(case.archive):
        return [Reason("home_visit", N_("首次公示前须入户调查：请在该户档案页登记入户调查（日期、调查人、调查情况）"))]
    return []


def visit_record_reasons(archive: Any) -> list[Reason]:
    if archive.status == Status.deregistered:
        return [Reason("state", N_("档案已注销，不能登记入户调查"))]
    return []
