"""Accounts: one role each; created, enabled or disabled, given a new password or role. Administrators only,
audited; ending an account's sessions where its access changes."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Conflict, Invalid, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, to_db
from workflows.infra.db import unique
from workflows.inputs import line_problem
from workflows.models import Account, ApiToken, Union
from workflows.reads.organisation import account, union_by_code
from workflows.states import UNION_ROLES, Action, Role
from workflows.texts import N_
from workflows.vocab import UnionKind

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")


MIN_PASSWORD = 8


MAX_PASSWORD = 200


# Generated passwords: no 0/O, 1/l/I, so that one read aloud over the phone is typed right.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))


def _password_problem(password: str) -> str | None:
    if len(password or "") < MIN_PASSWORD:
        return N_("密码至少%(count)s位", count=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        return N_("密码最多%(count)s位", count=MAX_PASSWORD)
    return None


def _profile_problems(email: str | None, display_name: str | None) -> dict[str, str]:
    problems = {}
    if email and (len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email) or line_problem(email)):
        problems["email"] = N_("电子邮箱格式不对")
    if len(display_name or "") > 64:  # the length of accounts.display_name
        problems["name"] = N_("姓名最多64个字")
    elif problem := line_problem(display_name):
        problems["name"] = N_("姓名%(problem)s", problem=problem)
    return problems


def _role_and_union(session: Session, role: str, union_code: str | None,
                    problems: dict[str, str]) -> Union | None:
    """The union an account of `role` belongs to: a grassroots union for cadres and heads, none for the others."""
    if role not in Role.__members__.values() or role == Role.system:
        problems["role"] = N_("角色只能是 cadre、head、reviewer、finance、auditor 或 admin")
        return None
    union = union_by_code(session, union_code) if union_code else None
    if union_code and union is None:
        problems["union"] = N_("没有代码为%(code)s的工会", code=union_code)
    elif role in UNION_ROLES and (union is None or union.kind != UnionKind.grassroots):
        problems["union"] = N_("基层工会干部和负责人须属于一个基层工会")
    elif role not in UNION_ROLES and union is not None:
        problems["union"] = N_("只有基层工会干部和负责人属于基层工会，其他角色不选工会")
    return union


def create_account(session: Session, actor: Actor, clock: Clock, username: str, role: str, password: str,
                   union_code: str | None = None, email: str | None = None, display_name: str = "") -> Account:
    rules.require_role(actor, rules.ADMINS, N_("管理工会、账号和活动"))
    username, email, display_name = (username or "").strip(), (email or "").strip(), (display_name or "").strip()
    problems = {}
    if not USERNAME.match(username):
        problems["username"] = N_("用户名只能是2到64位字母、数字、下划线、点或连字符")
    elif taken := session.scalar(select(Account.username).where(func.lower(Account.username) == username.lower())):
        # Names differing only in case would be two look-alike operators in the trail.
        problems["username"] = N_("用户名%(taken)s已被使用", taken=taken) if taken == username else \
            N_("用户名%(username)s与已有的%(taken)s只差大小写，请换一个", username=username, taken=taken)
    union = _role_and_union(session, role, union_code, problems)
    if problem := _password_problem(password):
        problems["password"] = problem
    problems.update(_profile_problems(email, display_name))
    if problems:
        raise Invalid(problems)
    password_hash = generate_password_hash(password)
    with unique(session, Conflict(N_("账号已存在：用户名%(username)s刚刚已由他人新建", username=username))):  # two at once: one is made
        account = Account(username=username, password_hash=password_hash, role=role, union=union,
                          email=email or None, display_name=display_name, created_at=to_db(clock.now()))
        session.add(account)
    audit.record(session, actor, clock.now(), Action.create_account,
                 changes=audit.created({"username": username, "role": role, "union": union_code}))
    return account


def _end_sessions(session: Session, clock: Clock, account: Account) -> int:
    """Revoke every live token of the account, browser sessions and API tokens alike; how many there were."""
    result = session.execute(update(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=to_db(clock.now())))
    return result.rowcount


def set_account_active(session: Session, actor: Actor, clock: Clock, account_id: int, active: bool) -> Account:
    """Disable or re-enable an account. Disabling ends its sessions and API tokens at once, for good: re-enabled,
    its owner signs in again."""
    rules.require_role(actor, rules.ADMINS, N_("管理工会、账号和活动"))
    target = account(session, account_id)
    if not active and target.id == actor.id:
        raise Refused(Reason("self", N_("不能停用自己的账号")))
    if target.active == active:
        return target  # already so: a second click changes nothing
    ended = 0 if active else _end_sessions(session, clock, target)
    target.active = active
    session.flush()
    audit.record(session, actor, clock.now(), Action.enable_account if active else Action.disable_account,
                 changes=audit.diff({"active": not active, "sessions_ended": 0},
                                    {"active": active, "sessions_ended": ended}, named=("username", target.username)))
    return target


def reset_password(session: Session, actor: Actor, clock: Clock, account_id: int,
                   password: str | None = None) -> str:
    """Set the password typed by the administrator, or a new random one; returns it (to be shown once). Whoever
    knew the old password is signed out: the account's sessions and API tokens end, unless it is the
    administrator's own (they stay signed in where they are)."""
    rules.require_role(actor, rules.ADMINS, N_("管理工会、账号和活动"))
    target = account(session, account_id)
    password = password or new_password()
    if problem := _password_problem(password):
        raise Invalid({"password": problem})
    target.password_hash = generate_password_hash(password)
    ended = 0 if target.id == actor.id else _end_sessions(session, clock, target)
    session.flush()
    audit.record(session, actor, clock.now(), Action.reset_password,
                 changes=audit.diff({"sessions_ended": 0}, {"sessions_ended": ended},
                                    named=("username", target.username)))
    return password


def change_role(session: Session, actor: Actor, clock: Clock, account_id: int, role: str,
                union_code: str | None = None) -> Account:
    """A new role, with its union: a grassroots union for cadres and heads, none for the others."""
    rules.require_role(actor, rules.ADMINS, N_("管理工会、账号和活动"))
    target = account(session, account_id)
    problems: dict[str, str] = {}
    union = _role_and_union(session, role, (union_code or "").strip() or None, problems)
    if target.id == actor.id and role != target.role:
        problems["role"] = N_("不能更改自己的角色")  # the last administrator would lock everyone out
    if problems:
        raise Invalid(problems)
    before = {"role": target.role, "union": target.union.code if target.union else None}
    target.role, target.union = role, union
    session.flush()
    audit.record(session, actor, clock.now(), Action.change_role,
                 changes=audit.diff(before, {"role": role, "union": union.code if union else None},
                                    named=("username", target.username)))
    return target


def update_account(session: Session, actor: Actor, clock: Clock, account_id: int, *, display_name: str = "",
                   email: str | None = None) -> Account:
    rules.require_role(actor, rules.ADMINS, N_("管理工会、账号和活动"))
    target = account(session, account_id)
    display_name, email = (display_name or "").strip(), (email or "").strip() or None
    if problems := _profile_problems(email, display_name):
        raise Invalid(problems)
    before = {"display_name": target.display_name, "email": target.email}
    target.display_name, target.email = display_name, email
    session.flush()
    audit.record(session, actor, clock.now(), Action.update_account,
                 changes=audit.diff(before, {"display_name": display_name, "email": email},
                                    named=("username", target.username)))
    return target
