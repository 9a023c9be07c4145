"""低保标准: the local minimum living standard per year and area code, kept by the administrators (DOMAIN.md,
Recognition). Setting one creates the row or changes its amount; either way one audited event."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Conflict, Invalid
from workflows.identity import PROVINCES
from workflows.infra import audit
from workflows.infra.clock import Clock, to_db
from workflows.infra.db import unique
from workflows.inputs import YEARS, parse_year
from workflows.models import LivingStandard
from workflows.money import AmountError, parse_amount
from workflows.states import Action
from workflows.texts import N_

# Yuan per person per month. The highest standards in the country are near 1,500; ten times the unit above that
# is a typing error, not a standard.
MAXIMUM = Decimal("99999.99")


def set_standard(session: Session, actor: Actor, clock: Clock, year: Any, area: Any, monthly: Any) -> LivingStandard:
    """Set the standard of `year` for `area` (a county's six digits, or a city's XXXX00 or a province's XX0000, which
    the areas under it fall back to): created, or its amount changed."""
    rules.require_role(actor, rules.ADMINS, N_("设定低保标准"))
    problems: dict[str, str] = {}
    year = _year(year, problems)
    area = _area(area, problems)
    monthly = _monthly(monthly, problems)
    if problems:
        raise Invalid(problems)
    now = clock.now()
    standard = session.get(LivingStandard, (year, area))
    key = {"year": year, "area_code": area}
    # Two administrators setting the same new standard at once: one of them sets it, the other is told.
    with unique(session, Conflict(N_("%(year)s年%(area)s的低保标准刚刚已由他人设定，请刷新后查看", year=year, area=area))):
        if standard is None:
            standard = LivingStandard(year=year, area_code=area, monthly=monthly)
            session.add(standard)
            changes = audit.created({**key, "monthly": monthly})
        else:
            changes = {name: [audit.text(value)] * 2 for name, value in key.items()}
            changes |= audit.diff({"monthly": standard.monthly}, {"monthly": monthly})
            standard.monthly = monthly
        standard.set_by_id, standard.set_at = actor.id, to_db(now)
    audit.record(session, actor, now, Action.set_standard, changes=changes)
    return standard


def _year(value: Any, problems: dict[str, str]) -> int | None:
    year = parse_year(value)
    if year is None:
        problems["year"] = N_("年度应为%(first)s到%(last)s之间的四位数字，如 2018", first=YEARS[0], last=YEARS[1])
    return year


def _area(value: Any, problems: dict[str, str]) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    # ASCII digits only: \d would take any script's.
    if not re.fullmatch(r"[0-9]{6}", text):
        problems["area"] = N_("行政区划代码应为6位数字：区县如 110105，市如 110100，省如 110000")
        return None
    if text[:2] not in PROVINCES:
        problems["area"] = N_("行政区划代码%(text)s的前两位不是省级代码", text=text)
        return None
    return text


def _monthly(value: Any, problems: dict[str, str]) -> Decimal | None:
    try:
        amount = parse_amount(value)  # the one reader of amounts: "1,000", "1000元" as typed
    except AmountError:
        amount = None
    if amount is None or not amount.is_finite():
        problems["monthly"] = N_("请填写每人每月的金额（元），如 1000 或 1000.50")
    elif amount <= 0:
        problems["monthly"] = N_("低保标准应大于0元")
    elif amount.as_tuple().exponent < -2:
        problems["monthly"] = N_("金额最多两位小数")
    elif amount > MAXIMUM:
        problems["monthly"] = N_("金额太大：每人每月不超过%(maximum)s元", maximum=format(MAXIMUM, ","))
    else:
        return amount.quantize(Decimal("0.01"))
    return None
