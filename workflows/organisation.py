"""Unions, accounts and campaigns: what administrators set up before the cadres start. Audited like the rest."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import generate_password_hash

from . import audit
from .actors import Actor
from .clock import LOCAL, Clock, from_db, to_db
from .errors import Forbidden, Invalid, NotFound, Reason, Refused
from .money import yuan
from .rules import due_day
from .models import Account, ApiToken, Campaign, Case, Union, UnionBudget
from .states import COMMITTED, UNION_ROLES, Action, Role
from .vocab import UnionKind

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200
# Generated passwords: no 0/O, 1/l/I, so that one read aloud over the phone is typed right.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def _admin_only(actor: Actor) -> None:
    if actor.role != Role.admin:
        raise Forbidden(Reason("role", "只有系统管理员可以管理工会、账号和活动"))


def _record(session: Session, actor: Actor, clock: Clock, action: Action, changes: dict[str, Any]) -> None:
    audit.record(session, actor, clock.now(), action, changes=audit.created(changes))


def _record_diff(session: Session, actor: Actor, clock: Clock, action: Action, who: tuple[str, Any],
                 before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    """An edit: the changed fields before and after; `who` names the record and is kept even when unchanged."""
    name = audit.text(who[1])
    audit.record(session, actor, clock.now(), action, changes={who[0]: [name, name]} | audit.diff(before, after))


# ---------------------------------------------------------------- unions

def union_by_code(session: Session, code: str) -> Union | None:
    return session.scalar(select(Union).where(Union.code == code))


def create_union(session: Session, actor: Actor, clock: Clock, code: str, name: str, parent_code: str | None = None,
                 kind: str | None = None) -> Union:
    _admin_only(actor)
    code, name = (code or "").strip(), (name or "").strip()
    problems = {}
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
        problems["code"] = "代码只能是1到32位字母、数字、下划线或连字符"
    elif union_by_code(session, code):
        problems["code"] = f"代码{code}已被使用"
    if not 1 <= len(name) <= 100:
        problems["name"] = "名称不能为空，最多100个字"
    parent = None
    if parent_code:
        parent = union_by_code(session, parent_code)
        if parent is None:
            problems["parent"] = f"没有代码为{parent_code}的上级工会"
    kind = kind or (UnionKind.grassroots if parent else UnionKind.district)
    if kind not in UnionKind.__members__.values():
        problems["kind"] = "类别只能是 district、federation 或 grassroots"
    elif "parent" in problems:
        pass  # an unknown parent: what it may hold cannot be told
    elif parent is None and kind != UnionKind.district:
        problems["parent"] = "基层工会和工会联合会须有上级工会"
    elif parent is not None and parent.kind == UnionKind.grassroots:
        problems["parent"] = "基层工会下不能再设工会"
    elif parent is not None and kind == UnionKind.district:
        problems["kind"] = "区总工会没有上级工会"
    if problems:
        raise Invalid(problems)
    union = Union(code=code, name=name, kind=kind, parent=parent)
    session.add(union)
    session.flush()
    _record(session, actor, clock, Action.create_union, {"code": code, "name": name, "kind": kind,
                                                    "parent": parent_code})
    return union


@dataclass
class UnionNode:
    """A union in the tree, with how many accounts belong to it directly."""

    union: Union
    accounts: int
    depth: int
    children: list[UnionNode] = field(default_factory=list)


def union_tree(session: Session) -> list[UnionNode]:
    """The roots (district unions), each with its federations and grassroots unions below, ordered by code."""
    counts = dict(session.execute(select(Account.union_id, func.count()).where(Account.union_id.is_not(None))
                                  .group_by(Account.union_id)).all())
    unions = session.scalars(select(Union).order_by(Union.code)).all()
    children: dict[int | None, list[Union]] = {}
    for union in unions:
        children.setdefault(union.parent_id, []).append(union)

    def build(union: Union, depth: int) -> UnionNode:
        node = UnionNode(union, counts.get(union.id, 0), depth)
        node.children = [build(child, depth + 1) for child in children.get(union.id, [])]
        return node

    return [build(root, 0) for root in children.get(None, [])]


def grassroots_unions(session: Session) -> list[Union]:
    return list(session.scalars(select(Union).where(Union.kind == UnionKind.grassroots).order_by(Union.code)))


# ---------------------------------------------------------------- accounts

def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))


def _password_problem(password: str) -> str | None:
    if len(password or "") < MIN_PASSWORD:
        return f"密码至少{MIN_PASSWORD}位"
    if len(password) > MAX_PASSWORD:
        return f"密码最多{MAX_PASSWORD}位"
    return None


def _profile_problems(email: str | None, display_name: str | None) -> dict[str, str]:
    problems = {}
    if email and (len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        problems["email"] = "电子邮箱格式不对"
    if len(display_name or "") > 64:  # the length of accounts.display_name
        problems["name"] = "姓名最多64个字"
    return problems


def _role_and_union(session: Session, role: str, union_code: str | None,
                    problems: dict[str, str]) -> Union | None:
    """The union an account of `role` belongs to: a grassroots union for cadres and heads, none for the others."""
    if role not in Role.__members__.values() or role == Role.system:
        problems["role"] = "角色只能是 cadre、head、reviewer、finance、auditor 或 admin"
        return None
    union = union_by_code(session, union_code) if union_code else None
    if union_code and union is None:
        problems["union"] = f"没有代码为{union_code}的工会"
    elif role in UNION_ROLES and (union is None or union.kind != UnionKind.grassroots):
        problems["union"] = "基层工会干部和负责人须属于一个基层工会"
    elif role not in UNION_ROLES and union is not None:
        problems["union"] = "只有基层工会干部和负责人属于基层工会，其他角色不选工会"
    return union


def create_account(session: Session, actor: Actor, clock: Clock, username: str, role: str, password: str,
                   union_code: str | None = None, email: str | None = None, display_name: str = "") -> Account:
    _admin_only(actor)
    username, email, display_name = (username or "").strip(), (email or "").strip(), (display_name or "").strip()
    problems = {}
    if not USERNAME.match(username):
        problems["username"] = "用户名只能是2到64位字母、数字、下划线、点或连字符"
    elif session.scalar(select(Account).where(Account.username == username)):
        problems["username"] = f"用户名{username}已被使用"
    union = _role_and_union(session, role, union_code, problems)
    if problem := _password_problem(password):
        problems["password"] = problem
    problems.update(_profile_problems(email, display_name))
    if problems:
        raise Invalid(problems)
    account = Account(username=username, password_hash=generate_password_hash(password), role=role, union=union,
                      email=email or None, display_name=display_name, created_at=to_db(clock.now()))
    session.add(account)
    session.flush()
    _record(session, actor, clock, Action.create_account, {"username": username, "role": role, "union": union_code})
    return account


def account(session: Session, account_id: int) -> Account:
    found = session.get(Account, account_id)
    if found is None:
        raise NotFound("找不到该账号")
    return found


def accounts(session: Session, role: str | None = None, union_id: int | None = None, page: int = 1,
             per_page: int = 50) -> tuple[list[Account], int]:
    """A page of accounts, by username, and how many there are in all."""
    where = []
    if role:
        where.append(Account.role == role)
    if union_id:
        where.append(Account.union_id == union_id)
    total = session.scalar(select(func.count()).select_from(Account).where(*where))
    rows = session.scalars(select(Account).options(selectinload(Account.union)).where(*where)
                           .order_by(Account.username).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def _end_sessions(session: Session, clock: Clock, account: Account) -> int:
    """Revoke every live token of the account, browser sessions and API tokens alike; how many there were."""
    result = session.execute(update(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=to_db(clock.now())))
    return result.rowcount


def set_account_active(session: Session, actor: Actor, clock: Clock, account_id: int, active: bool) -> Account:
    """Disable or re-enable an account. Disabling ends its sessions and API tokens at once, for good: re-enabled,
    its owner signs in again."""
    _admin_only(actor)
    target = account(session, account_id)
    if not active and target.id == actor.id:
        raise Refused(Reason("self", "不能停用自己的账号"))
    if target.active == active:
        return target  # already so: a second click changes nothing
    ended = 0 if active else _end_sessions(session, clock, target)
    target.active = active
    session.flush()
    _record_diff(session, actor, clock, Action.enable_account if active else Action.disable_account,
                 ("username", target.username), {"active": not active, "sessions_ended": 0},
                 {"active": active, "sessions_ended": ended})
    return target


def reset_password(session: Session, actor: Actor, clock: Clock, account_id: int,
                   password: str | None = None) -> str:
    """Set the password typed by the administrator, or a new random one; returns it (to be shown once). Whoever
    knew the old password is signed out: the account's sessions and API tokens end, unless it is the
    administrator's own (they stay signed in where they are)."""
    _admin_only(actor)
    target = account(session, account_id)
    password = password or new_password()
    if problem := _password_problem(password):
        raise Invalid({"password": problem})
    target.password_hash = generate_password_hash(password)
    ended = 0 if target.id == actor.id else _end_sessions(session, clock, target)
    session.flush()
    _record_diff(session, actor, clock, Action.reset_password, ("username", target.username), {"sessions_ended": 0},
                 {"sessions_ended": ended})
    return password


def change_role(session: Session, actor: Actor, clock: Clock, account_id: int, role: str,
                union_code: str | None = None) -> Account:
    """A new role, with its union: a grassroots union for cadres and heads, none for the others."""
    _admin_only(actor)
    target = account(session, account_id)
    problems: dict[str, str] = {}
    union = _role_and_union(session, role, (union_code or "").strip() or None, problems)
    if target.id == actor.id and role != target.role:
        problems["role"] = "不能更改自己的角色"  # the last administrator would lock everyone out
    if problems:
        raise Invalid(problems)
    before = {"role": target.role, "union": target.union.code if target.union else None}
    target.role, target.union = role, union
    session.flush()
    _record_diff(session, actor, clock, Action.change_role, ("username", target.username), before,
                 {"role": role, "union": union.code if union else None})
    return target


def update_account(session: Session, actor: Actor, clock: Clock, account_id: int, *, display_name: str = "",
                   email: str | None = None) -> Account:
    _admin_only(actor)
    target = account(session, account_id)
    display_name, email = (display_name or "").strip(), (email or "").strip() or None
    if problems := _profile_problems(email, display_name):
        raise Invalid(problems)
    before = {"display_name": target.display_name, "email": target.email}
    target.display_name, target.email = display_name, email
    session.flush()
    _record_diff(session, actor, clock, Action.update_account, ("username", target.username), before,
                 {"display_name": display_name, "email": email})
    return target


# ---------------------------------------------------------------- campaigns

# The years a campaign's dates may fall in: beyond them a date is a typing error (and 9999-12-31 24:00 overflows).
YEARS = (2000, 2100)


def parse_deadline(text: str) -> dt.datetime:
    """An ISO-8601 instant; without a zone it is local time; a bare date means the end of that day."""
    text = (text or "").strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LOCAL)
        else:
            moment = dt.datetime.fromisoformat(text)
        if not YEARS[0] <= moment.year <= YEARS[1]:
            raise ValueError
    except (ValueError, OverflowError):
        raise Invalid({"deadline": "截止时间格式应为 2018-01-25 或 2018-01-25T17:00"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)


def _money(value: Any, field: str, problems: dict[str, str]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        problems[field] = "应为金额（元）"
        return None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2 or amount >= 10**10:
        problems[field] = "应为不小于0、最多两位小数的金额（元）"
        return None
    return amount


def _whole(value: Any) -> int | None:
    """A whole number of days from an int or its digits ("5"); None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip() if isinstance(value, str) else ""
    return int(text) if re.fullmatch(r"\d{1,4}", text) else None


def _reminders(value: Any, problems: dict[str, str]) -> list[int]:
    """Days before the deadline, as a list or as text ("7,3,1", Chinese commas too); none is allowed."""
    parts = [p for p in re.split(r"[,，、;；\s]+", value.strip()) if p] if isinstance(value, str) else list(value)
    days = [_whole(p) for p in parts]
    if any(d is None for d in days):
        problems["reminder_days"] = "应为用逗号分开的天数（正整数），例如 7,3,1"
        return []
    if any(d < 1 or d > 60 for d in days):
        problems["reminder_days"] = "提醒天数应在1到60天之间"
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
        problems["name"] = "名称为2到100个字"
    elif session.scalar(select(Campaign.id).where(Campaign.name == name,
                                                  Campaign.id != (campaign.id if campaign else -1))):
        problems["name"] = f"已有名为「{name}」的活动"
    deadline, report = _at(s["deadline"]), _at(s["report_deadline"])
    starts_on, ends_on = s["starts_on"], s["ends_on"]
    if deadline is None:
        problems["deadline"] = "请填写报送截止时间"
    if starts_on is None:
        problems["start"] = "请填写开始日期"
    if ends_on is None:
        problems["end"] = "请填写结束日期"
    for key, value in (("start", starts_on), ("end", ends_on), ("deadline", deadline),
                       ("report_deadline", report)):
        if value is not None and not YEARS[0] <= value.year <= YEARS[1]:
            problems[key] = f"年份应在{YEARS[0]}年至{YEARS[1]}年之间"
    if problems:
        raise Invalid(problems)
    if starts_on and ends_on and starts_on > ends_on:
        problems["start"] = "开始日期不能晚于结束日期"
    elif deadline and starts_on and ends_on and not starts_on <= due_day(deadline) <= ends_on:
        problems["deadline"] = f"报送截止时间应在活动期间（{starts_on:%Y-%m-%d}至{ends_on:%Y-%m-%d}）内"
    elif campaign is not None and deadline and to_db(deadline) != campaign.deadline and deadline <= now:
        problems["deadline"] = "报送截止时间不能改到已经过去的时间（未报送的案件会被立即视为自动放弃）"
    if deadline and report and report < deadline:
        problems["report_deadline"] = "总结报送截止时间不能早于案件报送截止时间"
    publicity_days = _whole(s["publicity_days"])
    if publicity_days is None or not 0 <= publicity_days <= 60:
        problems["publicity_days"] = "公示天数应在0到60个工作日之间"
    reminder_days = _reminders(s["reminder_days"], problems)
    money = {key: _money(s[key], key, problems) for key in ("cap_per_payment", "cap_per_year", "budget")}
    shares = _shares(session, s["union_budgets"] or {}, problems)
    if shares and money["budget"] is not None and sum(shares.values()) > money["budget"]:
        problems["union_budgets"] = (f"各基层工会预算合计{yuan(sum(shares.values()))}元，"
                                     f"超过活动总预算{yuan(money['budget'])}元")
    if campaign is not None:
        _not_below_committed(session, campaign, money["budget"], shares, problems)
    if problems:
        raise Invalid(problems)
    values = {"name": name, "starts_on": starts_on, "ends_on": ends_on, "deadline": to_db(deadline),
              "report_deadline": to_db(report or deadline), "publicity_days": publicity_days,
              "reminder_days": reminder_days, **money}
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
            problems[key] = f"{code}不是基层工会，不能单独分配预算"
        elif (amount := _money(raw, key, problems)) is not None:
            shares[union] = amount
    return shares


def _not_below_committed(session: Session, campaign: Campaign, budget: Decimal | None,
                         shares: dict[Union, Decimal], problems: dict[str, str]) -> None:
    """A budget cut below what is already approved or paid would leave the books overspent."""
    used = dict(session.execute(
        select(Case.union_id, func.coalesce(func.sum(Case.aid_amount), 0))
        .where(Case.campaign_id == campaign.id, Case.state.in_(COMMITTED)).group_by(Case.union_id)).all())
    total = sum(used.values(), Decimal(0))
    if budget is not None and budget < total:
        problems["budget"] = f"不能少于已审定和已发放的金额合计{yuan(total)}元"
    for union, amount in shares.items():
        if amount < used.get(union.id, 0):
            problems[f"union_budgets.{union.code}"] = \
                f"不能少于该工会已审定和已发放的金额合计{yuan(Decimal(used[union.id]))}元"


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
                    union_budgets: Mapping[str, Any] | None = None) -> Campaign:
    """A campaign. Without a period given: from the first of the month two months before the deadline (Nov 1 for
    Jan 25) to 30 days after it. `union_budgets` splits the budget: {grassroots union code: amount}."""
    _admin_only(actor)
    if deadline is not None and (starts_on is None or ends_on is None):
        first = due_day(_at(deadline)).replace(day=1)
        starts_on = starts_on or (first.replace(year=first.year - 1, month=first.month + 10) if first.month <= 2
                                  else first.replace(month=first.month - 2))
        ends_on = ends_on or due_day(_at(deadline)) + dt.timedelta(days=30)
    settings = {"name": name, "deadline": deadline, "starts_on": starts_on, "ends_on": ends_on,
                "publicity_days": publicity_days,
                "reminder_days": [7, 3, 1] if reminder_days is None else reminder_days,
                "cap_per_payment": cap_per_payment, "cap_per_year": cap_per_year, "budget": budget,
                "report_deadline": report_deadline, "union_budgets": union_budgets}
    values, shares = _check_campaign(session, settings, None, clock.now())
    campaign = Campaign(**values)
    _set_shares(session, campaign, shares)
    session.add(campaign)
    session.flush()
    _record(session, actor, clock, Action.create_campaign,
            {**values, **{f"union_budget.{union.code}": amount for union, amount in shares.items()}})
    return campaign


CAMPAIGN_SETTINGS = ("name", "starts_on", "ends_on", "deadline", "report_deadline", "publicity_days",
                     "reminder_days", "cap_per_payment", "cap_per_year", "budget", "union_budgets")


def update_campaign(session: Session, actor: Actor, clock: Clock, campaign_id: int, **changes: Any) -> Campaign:
    """Change any of a campaign's settings (the keywords of create_campaign); those not given stay as they are
    (report_deadline=None: the same as the submission deadline). Checked as at creation; besides, a budget or a
    union's share may not fall below what is already approved or paid, nor a deadline move into the past."""
    _admin_only(actor)
    if unknown := set(changes) - set(CAMPAIGN_SETTINGS):
        raise TypeError(f"unknown campaign settings: {sorted(unknown)}")
    # Locked: approvals and payments read the budget under the same lock (rules.money_reasons).
    campaign = session.get(Campaign, campaign_id, with_for_update=True, populate_existing=True)
    if campaign is None:
        raise NotFound("找不到该活动")
    codes = dict(session.execute(select(Union.id, Union.code).where(
        Union.id.in_([b.union_id for b in campaign.union_budgets]))).all())
    current = {key: getattr(campaign, key) for key in CAMPAIGN_SETTINGS if key != "union_budgets"}
    current.update(deadline=from_db(campaign.deadline), report_deadline=from_db(campaign.report_deadline),
                   union_budgets={codes[b.union_id]: b.amount for b in campaign.union_budgets})
    values, shares = _check_campaign(session, {**current, **changes}, campaign, clock.now())
    before = {key: getattr(campaign, key) for key in values} | _budget_lines(campaign, codes)
    for key, value in values.items():
        setattr(campaign, key, value)
    _set_shares(session, campaign, shares)
    session.flush()
    after = dict(values) | {f"union_budget.{union.code}": amount for union, amount in shares.items()}
    _record_diff(session, actor, clock, Action.update_campaign, ("campaign", campaign.id), before, after)
    return campaign
