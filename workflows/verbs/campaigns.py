"""Campaigns: their dates, notice, reminders, caps and budget (split per union where set). Administrators only,
audited."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Conflict, Invalid, NotFound
from workflows.infra import audit
from workflows.infra.clock import LOCAL, Clock, from_db, to_db
from workflows.infra.db import unique
from workflows.inputs import YEARS, line_problem, parse_number
from workflows.models import Campaign, Case, Union, UnionBudget
from workflows.money import AmountError, read_money, yuan
from workflows.rules import due_day
from workflows.states import COMMITTED, Action
from workflows.texts import N_
from workflows.vocab import UnionKind


def _money(value: Any, field: str, problems: dict[str, str]) -> Decimal | None:
    try:
        return read_money(value)  # "1,500", "1500元" as typed; not below 0, two decimals at most
    except AmountError as error:
        problems[field] = error.args[0]  # its Text: translated where it is shown
        return None


def _whole(value: Any) -> int | None:
    """A whole number of days from an int or its digits ("5"); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_number(value, digits=4)  # ASCII only: \d would take any script's digits


def _reminders(value: Any, problems: dict[str, str]) -> list[int]:
    """Days before the deadline, as a list or as text ("7,3,1", Chinese commas too); none is allowed."""
    parts = [p for p in re.split(r"[,，、;；\s]+", value.strip()) if p] if isinstance(value, str) else list(value)
    days = [_whole(p) for p in parts]
    if any(d is None for d in days):
        problems["reminder_days"] = N_("应为用逗号分开的天数（正整数），例如 7,3,1")
        return []
    if any(d < 1 or d > 60 for d in days):
        problems["reminder_days"] = N_("提醒天数应在1到60天之间")
    return sorted(set(days), reverse=True)


def _at(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value if value.tzinfo else value.replace(tzinfo=LOCAL)


def _check_campaign(session: Session, s: dict[str, Any], campaign: Campaign | None,
                    now: dt.datetime) -> tuple[dict[str, Any], dict[Union, Decimal]]:
    """The settings `s` made clean (the model's column values) and the budget shares by union; raises Invalid
    naming every field that is wrong."""
    problems: dict[str, str] = {}
    name = (s["name"] or "").strip()
    if not 2 <= len(name) <= 100:
        problems["name"] = N_("名称为2到100个字")
    elif problem := line_problem(name):
        problems["name"] = N_("名称%(problem)s", problem=problem)
    elif session.scalar(select(Campaign.id).where(Campaign.name == name,
                                                  Campaign.id != (campaign.id if campaign else -1))):
        problems["name"] = N_("已有名为「%(name)s」的活动", name=name)
    deadline, report = _at(s["deadline"]), _at(s["report_deadline"])
    starts_on, ends_on = s["starts_on"], s["ends_on"]
    if deadline is None:
        problems["deadline"] = N_("请填写报送截止时间")
    if starts_on is None:
        problems["start"] = N_("请填写开始日期")
    if ends_on is None:
        problems["end"] = N_("请填写结束日期")
    for key, value in (("start", starts_on), ("end", ends_on), ("deadline", deadline),
                       ("report_deadline", report)):
        if value is not None and not YEARS[0] <= value.year <= YEARS[1]:
            problems[key] = N_("年份应在%(first)s年至%(last)s年之间", first=YEARS[0], last=YEARS[1])
    if problems:
        raise Invalid(problems)
    if starts_on and ends_on and starts_on > ends_on:
        problems["start"] = N_("开始日期不能晚于结束日期")
    elif deadline and starts_on and ends_on and not starts_on <= due_day(deadline) <= ends_on:
        problems["deadline"] = N_("报送截止时间应在活动期间（%(start)s至%(end)s）内", start=starts_on.isoformat(),
                                  end=ends_on.isoformat())
    elif campaign is not None and deadline and to_db(deadline) != campaign.deadline and deadline <= now:
        problems["deadline"] = N_("报送截止时间不能改到已经过去的时间（未报送的案件会被立即视为自动放弃）")
    if deadline and report and report < deadline:
        problems["report_deadline"] = N_("总结报送截止时间不能早于案件报送截止时间")
    publicity_days = _whole(s["publicity_days"])
    if publicity_days is None or not 0 <= publicity_days <= 60:
        problems["publicity_days"] = N_("公示天数应在0到60个工作日之间")
    reminder_days = _reminders(s["reminder_days"], problems)
    money = {key: _money(s[key], key, problems) for key in ("cap_per_payment", "cap_per_year", "budget")}
    shares = _shares(session, s["union_budgets"] or {}, problems)
    if shares and money["budget"] is not None and sum(shares.values()) > money["budget"]:
        problems["union_budgets"] = (N_("各基层工会预算合计%(shares)s元，"
                                     "超过活动总预算%(budget)s元", shares=yuan(sum(shares.values())),
                                     budget=yuan(money["budget"])))
    if campaign is not None:
        _not_below_committed(session, campaign, money["budget"], shares, problems)
    if problems:
        raise Invalid(problems)
    values = {"name": name, "starts_on": starts_on, "ends_on": ends_on, "deadline": to_db(deadline),
              "report_deadline": to_db(report or deadline), "publicity_days": publicity_days,
              "reminder_days": reminder_days, **money, "goods_in_budget": bool(s.get("goods_in_budget"))}
    return values, shares


def _shares(session: Session, given: Mapping[str, Any], problems: dict[str, str]) -> dict[Union, Decimal]:
    """{union code: amount} as {grassroots union: amount}; a blank amount means no share of its own."""
    given = {code: amount for code, amount in given.items() if amount not in (None, "")}
    unions = {u.code: u for u in session.scalars(select(Union).where(Union.code.in_(list(given))))}
    shares = {}
    for code, raw in given.items():
        key = f"union_budgets.{code}"
        union = unions.get(code)
        if union is None or union.kind != UnionKind.grassroots:
            problems[key] = N_("%(code)s不是基层工会，不能单独分配预算", code=code)
        elif (amount := _money(raw, key, problems)) is not None:
            shares[union] = amount
    return shares


def _not_below_committed(session: Session, campaign: Campaign, budget: Decimal | None,
                         shares: dict[Union, Decimal], problems: dict[str, str]) -> None:
    """A budget cut below what is already approved or paid would leave the books overspent."""
    # What the budget counts of each case, as approvals count it (goods only where the campaign says so).
    used = dict(session.execute(
        select(Case.union_id, func.coalesce(func.sum(rules.caps.budget_column(campaign)), 0))
        .where(Case.campaign_id == campaign.id, Case.state.in_(COMMITTED)).group_by(Case.union_id)).all())
    total = sum(used.values(), Decimal(0))
    if budget is not None and budget < total:
        problems["budget"] = N_("不能少于已审定和已发放的金额合计%(total)s元", total=yuan(total))
    for union, amount in shares.items():
        if amount < used.get(union.id, 0):
            problems[f"union_budgets.{union.code}"] = \
                N_("不能少于该工会已审定和已发放的金额合计%(total)s元", total=yuan(Decimal(used[union.id])))


def _name_taken(name: str) -> Conflict:
    """Another campaign took the name since it was checked (the database's key on names caught it)."""
    return Conflict(N_("活动名称已存在：「%(name)s」刚刚已由他人使用", name=name))


def _budget_lines(campaign: Campaign, codes: Mapping[int, str]) -> dict[str, Decimal]:
    return {f"union_budget.{codes[b.union_id]}": b.amount for b in campaign.union_budgets}


def _set_shares(session: Session, campaign: Campaign, shares: dict[Union, Decimal]) -> None:
    wanted = {union.id: amount for union, amount in shares.items()}
    for row in list(campaign.union_budgets):
        if row.union_id not in wanted:
            campaign.union_budgets.remove(row)
        else:
            row.amount = wanted.pop(row.union_id)
    campaign.union_budgets.extend(UnionBudget(union_id=uid, amount=amount) for uid, amount in wanted.items())


def create_campaign(session: Session, actor: Actor, clock: Clock, *, name: str, deadline: dt.datetime,
                    starts_on: dt.date | None = None, ends_on: dt.date | None = None, publicity_days: Any = 5,
                    reminder_days: Any = None, cap_per_payment: Any = None, cap_per_year: Any = None,
                    budget: Any = None, report_deadline: dt.datetime | None = None,
                    union_budgets: Mapping[str, Any] | None = None, goods_in_budget: bool = False) -> Campaign:
    """A campaign. Without a period given: from the first of the month two months before the deadline (Nov 1 for
    Jan 25) to 30 days after it. `union_budgets` splits the budget: {grassroots union code: amount}."""
    rules.require_role(actor, rules.ADMINS, N_("管理工会、账号和活动"))
    if deadline is not None and (starts_on is None or ends_on is None):
        first = due_day(_at(deadline)).replace(day=1)
        starts_on = starts_on or (first.replace(year=first.year - 1, month=first.month + 10) if first.month <= 2
                                  else first.replace(month=first.month - 2))
        ends_on = ends_on or due_day(_at(deadline)) + dt.timedelta(days=30)
    settings = {"name": name, "deadline": deadline, "starts_on": starts_on, "ends_on": ends_on,
                "publicity_days": publicity_days,
                "reminder_days": [7, 3, 1] if reminder_days is None else reminder_days,
                "cap_per_payment": cap_per_payment, "cap_per_year": cap_per_year, "budget": budget,
                "report_deadline": report_deadline, "union_budgets": union_budgets,
                "goods_in_budget": goods_in_budget}
    values, shares = _check_campaign(session, settings, None, clock.now())
    with unique(session, _name_taken(values["name"])):  # two of one name at once: one is made
        campaign = Campaign(**values)
        _set_shares(session, campaign, shares)
        session.add(campaign)
    shares_given = {f"union_budget.{union.code}": amount for union, amount in shares.items()}
    audit.record(session, actor, clock.now(), Action.create_campaign, changes=audit.created(values | shares_given))
    return campaign


CAMPAIGN_SETTINGS = ("name", "starts_on", "ends_on", "deadline", "report_deadline", "publicity_days",
                     "reminder_days", "cap_per_payment", "cap_per_year", "budget", "union_budgets",
                     "goods_in_budget")


def update_campaign(session: Session, actor: Actor, clock: Clock, campaign_id: int, **changes: Any) -> Campaign:
    """Change any of a campaign's settings (the keywords of create_campaign); those not given stay as they are
    (report_deadline=None: the same as the submission deadline). Checked as at creation; besides, a budget or a
    union's share may not fall below what is already approved or paid, nor a deadline move into the past."""
    rules.require_role(actor, rules.ADMINS, N_("管理工会、账号和活动"))
    if unknown := set(changes) - set(CAMPAIGN_SETTINGS):
        raise TypeError(f"unknown campaign settings: {sorted(unknown)}")
    # Locked: approvals and payments read the budget under the same lock (rules.money_reasons).
    campaign = session.get(Campaign, campaign_id, with_for_update=True, populate_existing=True)
    if campaign is None:
        raise NotFound(N_("找不到该活动"))
    codes = dict(session.execute(select(Union.id, Union.code).where(
        Union.id.in_([b.union_id for b in campaign.union_budgets]))).all())
    current = {key: getattr(campaign, key) for key in CAMPAIGN_SETTINGS if key != "union_budgets"}
    current.update(deadline=from_db(campaign.deadline), report_deadline=from_db(campaign.report_deadline),
                   union_budgets={codes[b.union_id]: b.amount for b in campaign.union_budgets})
    values, shares = _check_campaign(session, {**current, **changes}, campaign, clock.now())
    before = {key: getattr(campaign, key) for key in values} | _budget_lines(campaign, codes)
    with unique(session, _name_taken(values["name"])):
        for key, value in values.items():
            setattr(campaign, key, value)
        _set_shares(session, campaign, shares)
    after = dict(values) | {f"union_budget.{union.code}": amount for union, amount in shares.items()}
    audit.record(session, actor, clock.now(), Action.update_campaign,
                 changes=audit.diff(before, after, named=("campaign", campaign.id)))
    return campaign
