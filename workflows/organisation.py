"""Unions, accounts and campaigns: what administrators set up before the cadres start. Audited like the rest."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from . import audit
from .actors import Actor
from .clock import LOCAL, Clock, to_db
from .errors import Forbidden, Invalid, Reason
from .models import Account, Campaign, Union
from .states import UNION_ROLES, Role
from .vocab import UnionKind

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")
MIN_PASSWORD = 8


def _admin_only(actor: Actor) -> None:
    if actor.role != Role.admin:
        raise Forbidden(Reason("role", "只有系统管理员可以管理工会、账号和活动"))


def _record(session: Session, actor: Actor, clock: Clock, action: str, changes: dict[str, Any]) -> None:
    audit.append(session, at=clock.now(), actor_id=actor.id, actor=actor.username, role=actor.role, action=action,
                 changes={k: [None, None if v is None else str(v)] for k, v in changes.items()})


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
    elif parent is None and kind != UnionKind.district:
        problems["parent"] = "基层工会和工会联合会须有上级工会"
    elif parent is not None and parent.kind == UnionKind.grassroots:
        problems["parent"] = "基层工会下不能再设工会"
    if problems:
        raise Invalid(problems)
    union = Union(code=code, name=name, kind=kind, parent=parent)
    session.add(union)
    session.flush()
    _record(session, actor, clock, "create_union", {"code": code, "name": name, "kind": kind,
                                                    "parent": parent_code})
    return union


def create_account(session: Session, actor: Actor, clock: Clock, username: str, role: str, password: str,
                   union_code: str | None = None, email: str | None = None, display_name: str = "") -> Account:
    _admin_only(actor)
    username = (username or "").strip()
    problems = {}
    if not USERNAME.match(username):
        problems["username"] = "用户名只能是2到64位字母、数字、下划线、点或连字符"
    elif session.scalar(select(Account).where(Account.username == username)):
        problems["username"] = f"用户名{username}已被使用"
    if role not in Role.__members__.values() or role == Role.system:
        problems["role"] = "角色只能是 cadre、head、reviewer、finance、auditor 或 admin"
    if len(password or "") < MIN_PASSWORD:
        problems["password"] = f"密码至少{MIN_PASSWORD}位"
    if email and (len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email)):
        problems["email"] = "电子邮箱格式不对"
    if len(display_name or "") > 64:  # the length of accounts.display_name
        problems["name"] = "姓名最多64个字"
    union = union_by_code(session, union_code) if union_code else None
    if union_code and union is None:
        problems["union"] = f"没有代码为{union_code}的工会"
    elif role in UNION_ROLES and (union is None or union.kind != UnionKind.grassroots):
        problems["union"] = "基层工会干部和负责人须属于一个基层工会"
    if problems:
        raise Invalid(problems)
    account = Account(username=username, password_hash=generate_password_hash(password), role=role, union=union,
                      email=email or None, display_name=display_name, created_at=to_db(clock.now()))
    session.add(account)
    session.flush()
    _record(session, actor, clock, "create_account", {"username": username, "role": role, "union": union_code})
    return account


def parse_deadline(text: str) -> dt.datetime:
    """An ISO-8601 instant; without a zone it is local time; a bare date means the end of that day."""
    text = (text or "").strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LOCAL)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Invalid({"deadline": "截止时间格式应为 2018-01-25 或 2018-01-25T17:00"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)


def _money(value: Any, field: str, problems: dict[str, str]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        problems[field] = "应为金额（元）"
        return None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2 or amount >= 10**10:
        problems[field] = "应为不小于0、最多两位小数的金额（元）"
        return None
    return amount


def create_campaign(session: Session, actor: Actor, clock: Clock, *, name: str, deadline: dt.datetime,
                    starts_on: dt.date | None = None, ends_on: dt.date | None = None, publicity_days: int = 5,
                    reminder_days: list[int] | None = None, cap_per_payment: Any = None, cap_per_year: Any = None,
                    budget: Any = None, report_deadline: dt.datetime | None = None) -> Campaign:
    _admin_only(actor)
    name = (name or "").strip()
    problems: dict[str, str] = {}
    if not 2 <= len(name) <= 100:
        problems["name"] = "名称为2到100个字"
    elif session.scalar(select(Campaign).where(Campaign.name == name)):
        problems["name"] = f"已有名为「{name}」的活动"
    local_deadline = (deadline - dt.timedelta(microseconds=1)).astimezone(LOCAL).date()  # the day it is due
    # Without a period given: from the first of the month two months before the deadline (Nov 1 for Jan 25).
    first = local_deadline.replace(day=1)
    starts_on = starts_on or (first.replace(year=first.year - 1, month=first.month + 10) if first.month <= 2
                              else first.replace(month=first.month - 2))
    ends_on = ends_on or local_deadline + dt.timedelta(days=30)
    if starts_on > ends_on:
        problems["start"] = "开始日期不能晚于结束日期"
    if not 0 <= publicity_days <= 60:
        problems["publicity_days"] = "公示天数应在0到60个工作日之间"
    reminder_days = sorted(set(reminder_days if reminder_days is not None else [7, 3, 1]), reverse=True)
    if any(d < 1 or d > 60 for d in reminder_days):
        problems["reminder_days"] = "提醒天数应在1到60天之间"
    caps = {field: _money(value, field, problems) for field, value in
            (("cap_per_payment", cap_per_payment), ("cap_per_year", cap_per_year), ("budget", budget))}
    if problems:
        raise Invalid(problems)
    campaign = Campaign(name=name, starts_on=starts_on, ends_on=ends_on, deadline=to_db(deadline),
                        report_deadline=to_db(report_deadline or deadline), publicity_days=publicity_days,
                        reminder_days=reminder_days, **caps)
    session.add(campaign)
    session.flush()
    _record(session, actor, clock, "create_campaign", {"name": name, "deadline": deadline.isoformat(),
                                                       "publicity_days": publicity_days, **caps})
    return campaign
