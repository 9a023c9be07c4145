"""The guards of the transition table, each returning the reasons that block an action in a cadre's words.

Nothing here changes anything: services.py asks `blockers(...)` and refuses with what it gets; the screens ask the
same function to show a blocked button with its reason.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import ColumnElement, bindparam, false, func, select, true, union_all
from sqlalchemy.orm import Session

from .actors import Actor
from .clock import LOCAL, from_db, local_date, to_db
from .errors import Forbidden, Reason
from .identity import bank_account_problem, id_number_problem, mask_id, normalize_id
from .models import Campaign, Case, Member, Union, UnionBudget
from .schemas import CaseIn, case_input
from .states import BY_TRIGGER, LIVE, UNION_ROLES, Role, State, Transition, triggers_from
from .vocab import AidKind, DocumentKind, required_documents

PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")

FIELD_LABELS = {
    "applicant.name": "姓名",
    "applicant.gender": "性别",
    "applicant.id_number": "身份证号码",
    "applicant.phone": "联系电话",
    "applicant.employer": "工作单位",
    "worker_group": "职工类别",
    "category": "困难类别",
    "causes.primary": "主要致困原因",
    "household.annual_income": "家庭年收入",
    "household.housing": "住房情况",
    "aid.kind": "帮扶方式",
    "aid.amount": "帮扶金额",
    "bank_account": "工商银行账号",
}


# ---------------------------------------------------------------- who sees what

DISTRICT = (State.entered, State.district_approved, State.disbursed)


# Everyone but the administrator works with cases; the administrator runs the system and sees none.
CASE_READERS = (Role.cadre, Role.head, Role.reviewer, Role.finance, Role.auditor)


def can_see(actor: Actor, case: Case) -> bool:
    role = actor.role
    if role in UNION_ROLES:
        return case.union_id == actor.union_id
    if role == Role.reviewer:  # entered and later; a case returned to its union is the union's again
        return case.state in DISTRICT or (case.state == State.forfeited and case.entered_at is not None)
    if role == Role.finance:
        return case.state in (State.district_approved, State.disbursed)
    return role in (Role.auditor, Role.system)


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """`can_see` as SQL, for lists and counts."""
    role = actor.role
    if role in UNION_ROLES:
        return Case.union_id == actor.union_id
    if role == Role.reviewer:
        return Case.state.in_(DISTRICT) | ((Case.state == State.forfeited) & Case.entered_at.is_not(None))
    if role == Role.finance:
        return Case.state.in_([State.district_approved, State.disbursed])
    return true() if role in (Role.auditor, Role.system) else false()


def require_role(actor: Actor, roles: tuple[Role, ...], what: str) -> None:
    """Refuse (Forbidden) unless `actor` has one of `roles`; `what` is the action, in Chinese."""
    if actor.role not in roles:
        who = "、".join(r.label for r in roles)
        raise Forbidden(Reason("role", f"只有{who}可以{what}"))


def may_reveal(actor: Actor, case: Case) -> bool:
    """Full personal numbers: only for the people who work on the case, never for auditors or admins."""
    return actor.role in (Role.cadre, Role.head, Role.reviewer, Role.finance) and can_see(actor, case)


# ---------------------------------------------------------------- fields and documents

def field_problems(data: CaseIn, today: dt.date) -> dict[str, str]:
    """What is wrong with the values given (absent values are not wrong here: a draft may be incomplete)."""
    problems: dict[str, str] = {}
    applicant = data.applicant
    if applicant.id_number and (problem := id_number_problem(applicant.id_number, today)):
        problems["applicant.id_number"] = problem
    if applicant.phone and not PHONE.match(applicant.phone):
        problems["applicant.phone"] = "电话号码格式不对（手机11位，或带区号的座机）"
    if data.bank_account and (problem := bank_account_problem(data.bank_account)):
        problems["bank_account"] = problem
    if data.causes.secondary and data.causes.secondary == data.causes.primary:
        problems["causes.secondary"] = "次要原因不能与主要原因相同"
    seen = {normalize_id(applicant.id_number)} if applicant.id_number else set()
    for i, member in enumerate(data.household.members):
        if not member.id_number:
            continue
        if problem := id_number_problem(member.id_number, today):
            problems[f"household.members.{i}.id_number"] = problem
        elif normalize_id(member.id_number) in seen:
            problems[f"household.members.{i}.id_number"] = "身份证号码与申请人或其他家庭成员重复"
        seen.add(normalize_id(member.id_number))
    return problems


def missing_fields(case: Case) -> list[str]:
    """The labels of the fields `document` needs and the case does not have yet."""
    values = {
        "applicant.name": case.applicant_name, "applicant.gender": case.gender,
        "applicant.id_number": case.id_number, "applicant.phone": case.phone,
        "applicant.employer": case.employer, "worker_group": case.worker_group, "category": case.category,
        "causes.primary": case.primary_cause, "household.annual_income": case.annual_income,
        "household.housing": case.housing, "aid.kind": case.aid_kind, "bank_account": case.bank_account,
    }
    missing = [FIELD_LABELS[name] for name, value in values.items() if value in (None, "")]
    if case.aid_kind == AidKind.funds and not case.aid_amount:
        missing.append(FIELD_LABELS["aid.amount"])
    for i, member in enumerate(case.members, 1):
        if not member.id_number:
            missing.append(f"家庭成员{i}（{member.name}）的身份证号码")
    return missing


def missing_documents(case: Case) -> list[str]:
    have = {d.kind for d in case.documents}
    return [kind for kind in required_documents(case.medical) if kind not in have]


# Every case holding one of the ID numbers, as applicant or as member, whatever its campaign and state.
# The numbers are the only condition, so that the lookup goes by ix_cases_id_number and ix_members_id_number on
# every database: with the campaign and the states in the WHERE clause too, SQLite (which has no statistics until
# someone runs ANALYZE) walked ix_cases_campaign_state instead, reading every live case of the campaign and its
# members on each check. A number is held by a handful of cases at most, so the rest is filtered here.
# Built once: the statement and its cache key are reused on every call.
_NUMBERS = bindparam("numbers", expanding=True)
_HOLDERS = union_all(
    select(Case.id_number, Union.name, Case.campaign_id, Case.id, Case.state)
    .join(Union, Case.union_id == Union.id).where(Case.id_number.in_(_NUMBERS)),
    select(Member.id_number, Union.name, Case.campaign_id, Case.id, Case.state)
    .join(Case, Member.case_id == Case.id).join(Union, Case.union_id == Union.id)
    .where(Member.id_number.in_(_NUMBERS)),
)


def duplicate_reasons(session: Session, case: Case) -> list[Reason]:
    """No ID number of this case (applicant or member) may appear in another live case of the campaign."""
    numbers = {n for n in [case.id_number, *(m.id_number for m in case.members)] if n}
    if not numbers:
        return []
    found = sorted({(number, union) for number, union, campaign_id, case_id, state
                    in session.execute(_HOLDERS, {"numbers": sorted(numbers)})
                    if campaign_id == case.campaign_id and case_id != case.id and state in LIVE})
    return [Reason("duplicate", f"身份证号码{mask_id(number)}已在本活动的另一个案件中（{union}）")
            for number, union in found]


# ---------------------------------------------------------------- money

def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _sum_amounts(session: Session, *where) -> Decimal:
    return session.execute(select(func.coalesce(func.sum(Case.aid_amount), 0)).where(*where)).scalar_one()


def money_reasons(session: Session, case: Case, counted: tuple[State, ...]) -> list[Reason]:
    """Caps and budget. `counted` are the states whose amounts are already spoken for."""
    reasons: list[Reason] = []
    campaign = case.campaign
    amount = case.aid_amount or Decimal(0)
    if campaign.cap_per_payment is not None and amount > campaign.cap_per_payment:
        reasons.append(Reason("cap_payment",
                              f"帮扶金额{_yuan(amount)}元超过单次上限{_yuan(campaign.cap_per_payment)}元"))
    if campaign.cap_per_year is not None and case.id_number:
        year = campaign_year(campaign)
        same_year = [c.id for c in session.scalars(select(Campaign)) if campaign_year(c) == year]
        used = _sum_amounts(session, Case.id_number == case.id_number, Case.id != case.id,
                            Case.campaign_id.in_(same_year),
                            Case.state.in_([State.district_approved, State.disbursed]))
        if used + amount > campaign.cap_per_year:
            reasons.append(Reason("cap_year", f"该职工{year}年已获帮扶{_yuan(used)}元，加上本次{_yuan(amount)}元"
                                              f"超过年度上限{_yuan(campaign.cap_per_year)}元"))
    others = (Case.campaign_id == campaign.id, Case.id != case.id, Case.state.in_(counted))
    if campaign.budget is not None:
        used = _sum_amounts(session, *others)
        if used + amount > campaign.budget:
            reasons.append(Reason("budget", f"超出活动预算：剩余{_yuan(campaign.budget - used)}元，"
                                            f"本次需要{_yuan(amount)}元"))
    share = session.get(UnionBudget, (campaign.id, case.union_id))
    if share is not None:
        used = _sum_amounts(session, *others, Case.union_id == case.union_id)
        if used + amount > share.amount:
            reasons.append(Reason("budget", f"超出本工会的预算额度：剩余{_yuan(share.amount - used)}元，"
                                            f"本次需要{_yuan(amount)}元"))
    return reasons


# ---------------------------------------------------------------- deadline and notice window

def campaign_year(campaign: Campaign) -> int:
    """The year of the campaign's last moment: a deadline given as 2018-12-31 is midnight starting 2019-01-01."""
    return local_date(from_db(campaign.deadline) - dt.timedelta(microseconds=1)).year


def past_deadline(campaign: Campaign, now: dt.datetime) -> bool:
    return to_db(now) >= campaign.deadline


def deadline_text(moment: dt.datetime) -> str:
    """Local time as a cadre reads it: a deadline at midnight is 24:00 of the day before, the day it is due."""
    local = from_db(moment).astimezone(LOCAL)
    if local.time() == dt.time():
        return f"{local.date() - dt.timedelta(days=1):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"


def deadline_reason(campaign: Campaign) -> Reason:
    return Reason("deadline", f"已过报送截止时间（{deadline_text(campaign.deadline)}），不能再办理")


def notice_reason(case: Case, now: dt.datetime) -> Reason | None:
    if case.notice_closes_at is None or to_db(now) >= case.notice_closes_at:
        return None
    last_day = local_date(from_db(case.notice_closes_at)) - dt.timedelta(days=1)
    return Reason("notice_window", f"公示期未满，公示至{last_day:%Y-%m-%d}，期满后才能录入")


# ---------------------------------------------------------------- the guards of each trigger

# Who writes a draft (its fields and papers) and who writes down an objection: the verbs check these, and the case
# page offers the forms only where the same checks would pass.
DRAFTERS = (Role.cadre,)
OBJECTORS = (Role.cadre, Role.head)


def draft_reasons(case: Case, now: dt.datetime, what: str = "修改") -> list[Reason]:
    """Why a draft's fields and papers cannot change now (empty when they can)."""
    if case.state != State.drafted:
        return [Reason("state", f"案件当前为「{State(case.state).label}」，只有已起草的案件可以{what}")]
    return [deadline_reason(case.campaign)] if past_deadline(case.campaign, now) else []


def objection_reasons(case: Case, now: dt.datetime) -> list[Reason]:
    """Why no objection can be written down for this case now (empty when one can)."""
    if case.state != State.publicized:
        return [Reason("state", "只有公示中的案件可以登记异议")]
    return [deadline_reason(case.campaign)] if past_deadline(case.campaign, now) else []


def role_reason(transition: Transition) -> Reason:
    who = "、".join(r.label for r in transition.roles)
    return Reason("role", f"只有{who}可以{transition.label}")


def state_reason(case: Case, transition: Transition) -> Reason:
    return Reason("state", f"案件当前为「{State(case.state).label}」，不能{transition.label}")


def claim_reason(case: Case, actor: Actor) -> Reason | None:
    if case.claimed_by_id is not None and case.claimed_by_id != actor.id:
        return Reason("claimed", f"该案件已由{case.claimed_by.name}认领，由其办理")
    return None


def blockers(session: Session, case: Case, trigger: str, actor: Actor, now: dt.datetime, *,
             comment: str | None = None, payment_reference: str | None = None,
             inputs: bool = True) -> list[Reason]:
    """Every reason `actor` may not fire `trigger` on `case` now; empty when it may.

    With inputs=False the comment and payment reference are not asked for: the screens use that to tell which
    buttons to show before anything is typed.
    """
    transition = BY_TRIGGER[trigger]
    if actor.role not in transition.roles:
        return [role_reason(transition)]
    if case.state not in transition.sources:
        return [state_reason(case, transition)]
    reasons: list[Reason] = []
    late = past_deadline(case.campaign, now)
    if transition.before_deadline and late:
        reasons.append(deadline_reason(case.campaign))
    if trigger == "forfeit" and not late:
        reasons.append(Reason("deadline", "报送截止时间未到，不能视为自动放弃"))
    if inputs and transition.needs_comment and not (comment or "").strip():
        reasons.append(Reason("comment", f"请填写{transition.label}的理由"))
    if inputs and trigger == "disburse" and not (payment_reference or "").strip():
        reasons.append(Reason("payment_reference", "请填写付款凭证号"))
    if trigger in ("district_approve", "district_return", "reject", "disburse") and \
            (reason := claim_reason(case, actor)):
        reasons.append(reason)
    reasons.extend(GUARDS.get(trigger, _none)(session, case, actor, now))
    return reasons


def _none(session, case, actor, now) -> list[Reason]:
    return []


def _document(session: Session, case: Case, actor: Actor, now: dt.datetime) -> list[Reason]:
    reasons = []
    if missing := missing_documents(case):
        reasons.append(Reason("documents", "缺少：" + "、".join(DocumentKind(k).label for k in missing)))
    if missing := missing_fields(case):
        reasons.append(Reason("fields", "未填写：" + "、".join(missing)))
    if problems := field_problems(case_input(case), local_date(now)):
        reasons.append(Reason("fields", "；".join(problems.values())))
    return reasons + duplicate_reasons(session, case)


def _approve(session: Session, case: Case, actor: Actor, now: dt.datetime) -> list[Reason]:
    if actor.id in (case.created_by_id, case.documented_by_id):
        return [Reason("four_eyes", "不能审核自己起草或提交的案件，须由另一位负责人审核")]
    return []


def _enter(session: Session, case: Case, actor: Actor, now: dt.datetime) -> list[Reason]:
    reasons = [r for r in [notice_reason(case, now)] if r]
    since = case.publicized_at
    for objection in case.objections:
        if objection.status == "open":
            reasons.append(Reason("objection", "公示期间有未处理的异议，须由负责人处理后才能录入"))
            break
        if objection.status == "upheld" and since is not None and objection.recorded_at >= since:
            reasons.append(Reason("objection", "异议成立，须退回修改或撤回，不能录入"))
            break
    return reasons


def _district_approve(session: Session, case: Case, actor: Actor, now: dt.datetime) -> list[Reason]:
    return money_reasons(session, case, (State.district_approved, State.disbursed)) + duplicate_reasons(session, case)


def _disburse(session: Session, case: Case, actor: Actor, now: dt.datetime) -> list[Reason]:
    return money_reasons(session, case, (State.disbursed,))


GUARDS = {
    "document": _document,
    "approve": _approve,
    "enter": _enter,
    "district_approve": _district_approve,
    "disburse": _disburse,
}


def available(session: Session, case: Case, actor: Actor, now: dt.datetime) -> tuple[list[str], dict[str, str]]:
    """The triggers `actor` may fire now, and for the others of their role from this state, why not."""
    allowed, blocked = [], {}
    for transition in triggers_from(State(case.state)):
        if actor.role not in transition.roles:
            continue
        reasons = blockers(session, case, transition.trigger, actor, now, inputs=False)
        if reasons:
            blocked[transition.trigger] = "；".join(r.message for r in reasons)
        else:
            allowed.append(transition.trigger)
    return allowed, blocked
