"""The case record: find it, open a draft, edit its fields, reveal a full number; and what every verb of a case
shares (the version, the draft's rules, comments)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import flag_modified

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Conflict, Forbidden, Invalid, NotFound, Reason, Refused
from workflows.identity import mask_id, normalize_account, normalize_id
from workflows.infra import audit
from workflows.infra.clock import Clock, local_date, to_db
from workflows.inputs import CaseIn, case_input, parse_case
from workflows.models import Campaign, Case, Member
from workflows.states import Action, State

MAX_COMMENT = 2000


def touch(case: Case, now: dt.datetime) -> None:
    """Every change of a case, or of what hangs on it (documents, objections, claims), is a new version of it,
    even when it comes within the same instant as the one before (the clock may not have moved)."""
    case.updated_at = to_db(now)
    flag_modified(case, "updated_at")  # an unchanged value would otherwise write no UPDATE and keep the version


def get_case(session: Session, actor: Actor, case_id: int) -> Case:
    """The case, if `actor` may see it; NotFound otherwise, so that its existence is not revealed."""
    # Every verb checks the campaign's deadline: load it in the same query rather than by a second one.
    case = session.get(Case, case_id, options=[joinedload(Case.campaign)])
    if case is None or not rules.can_see(actor, case):
        raise NotFound("找不到该案件")
    return case


def check_version(case: Case, version: int | None) -> None:
    if version is not None and case.version != version:
        raise Conflict()


def editable(case: Case, now: dt.datetime, what: str) -> None:
    if reasons := rules.draft_reasons(case, now, what):
        raise Refused(*reasons)


def clean_comment(comment: str | None, field: str = "comment", limit: int = MAX_COMMENT) -> str | None:
    comment = (comment or "").strip() or None
    if comment and len(comment) > limit:
        raise Invalid({field: f"太长，最多{limit}个字"})
    return comment


def _flat(data: CaseIn) -> dict[str, Any]:
    """The case's columns from its input."""
    return {
        "applicant_name": data.applicant.name, "gender": data.applicant.gender,
        "id_number": normalize_id(data.applicant.id_number) if data.applicant.id_number else None,
        "phone": data.applicant.phone, "employer": data.applicant.employer,
        "worker_group": data.worker_group, "category": data.category,
        "primary_cause": data.causes.primary, "secondary_cause": data.causes.secondary,
        "annual_income": data.household.annual_income, "housing": data.household.housing,
        "aid_kind": data.aid.kind, "aid_amount": data.aid.amount, "medical": data.aid.medical,
        "bank_account": normalize_account(data.bank_account) if data.bank_account else None,
    }


def _members(data: CaseIn) -> list[Member]:
    return [Member(position=i, name=m.name, relation=m.relation,
                   id_number=normalize_id(m.id_number) if m.id_number else None, monthly_income=m.monthly_income,
                   health=m.health, occupation=m.occupation) for i, m in enumerate(data.household.members)]


def _member_values(member: Member) -> tuple[str | None, ...]:
    return tuple(audit.text(getattr(member, name)) for name in
                 ("name", "relation", "id_number", "monthly_income", "health", "occupation"))


def _member_summary(members: list[Member]) -> str:
    return "；".join(f"{m.name}（{m.relation}，{mask_id(m.id_number) or '无证号'}）" for m in members)


def _validated(data: Any, today: dt.date) -> CaseIn:
    parsed = parse_case(data)
    if problems := rules.field_problems(parsed, today):
        raise Invalid(problems)
    return parsed


def create_case(session: Session, actor: Actor, clock: Clock, campaign_id: int, data: Any) -> Case:
    """A cadre opens a draft for a worker of their own union."""
    rules.require_role(actor, rules.DRAFTERS, "新建案件")
    now = clock.now()
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise Invalid({"campaign": "没有这个活动"})
    if reasons := rules.new_draft_reasons(campaign, now):
        raise Refused(*reasons)
    parsed = _validated(data, local_date(now))
    case = Case(campaign=campaign, union_id=actor.union_id, state=State.drafted, created_by_id=actor.id,
                created_at=to_db(now), updated_at=to_db(now), **_flat(parsed))
    case.members = _members(parsed)
    session.add(case)
    changes = audit.created({name: value for name, value in _flat(parsed).items() if value not in (None, "", False)})
    if case.members:
        changes["members"] = [None, _member_summary(case.members)]
    session.flush()
    audit.record(session, actor, now, Action.create, case=case, to_state=State.drafted, changes=changes)
    return case


def edit_case(session: Session, actor: Actor, clock: Clock, case_id: int, version: int | None,
              data: dict[str, Any]) -> Case:
    """Change fields of a draft. `data` may be partial: what it names replaces what the case holds."""
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.DRAFTERS, "修改案件")
    check_version(case, version)
    now = clock.now()
    editable(case, now, "修改")
    if not isinstance(data, dict):
        raise Invalid({"body": "应为一个对象"})
    # case_input builds without validation, so a case loaded from the database holds its codes as plain strings
    # where the schema says enums: they dump to the same JSON, without a serializer warning for each.
    merged = _merge(case_input(case).model_dump(mode="json", warnings=False), data)
    parsed = _validated(merged, local_date(now))
    new = _flat(parsed)
    changes = audit.diff({name: getattr(case, name) for name in new}, new)
    new_members = _members(parsed)
    if [_member_values(m) for m in new_members] != [_member_values(m) for m in case.members]:
        changes["members"] = [_member_summary(case.members), _member_summary(new_members)]
        case.members = new_members
    if not changes:
        return case
    for name, value in new.items():
        setattr(case, name, value)
    touch(case, now)
    audit.record(session, actor, now, Action.edit, case=case, state=case.state, changes=changes)
    return case


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`patch` laid over `base`, object by object; lists (the members) are replaced whole."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def reveal(session: Session, actor: Actor, clock: Clock, case_id: int, field: str) -> str:
    """The full ID or bank number, for a person entitled to the case; every reveal is audited."""
    case = get_case(session, actor, case_id)
    if field not in ("id_number", "bank_account"):
        raise Invalid({"field": "只能查看身份证号码或银行账号"})
    if not rules.may_reveal(actor, case):
        raise Forbidden(Reason("role", "无权查看完整号码"))
    value = getattr(case, field)
    if not value:
        raise Refused(Reason("fields", "该号码尚未填写"))
    audit.record(session, actor, clock.now(), Action.reveal, case=case, state=case.state,
                 changes={"revealed": [None, field]})
    return value
