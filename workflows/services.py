"""The verbs: everything a person or the system does to a case.

Each verb takes the session, the actor and a clock; checks the rules; changes the records; writes its audit event
in the same transaction; flushes; and never commits. The caller (a request, a job, a command) commits once, and
rolls back on any exception: a refusal is raised before anything is changed, and a conflict found at flush time
leaves nothing that the rollback does not undo.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import flag_modified

from . import audit, rules
from .actors import Actor
from .clock import LOCAL, Clock, local_date, to_db
from .documents import Uploads, clean_filename
from .errors import Conflict, Forbidden, Invalid, NotFound, Reason, Refused
from .identity import mask_id, mask_numbers, normalize_account, normalize_id
from .machine import step
from .notify import notify
from .models import AuditEvent, Campaign, Case, Document, Member, Objection
from .inputs import CaseIn, case_input, parse_case
from .states import BY_TRIGGER, CLAIM_STATES, Action, Role, State, Trigger
from .vocab import DocumentKind, ObjectionStatus
from .workdays import add_working_days

MAX_COMMENT = 2000
MAX_PAYMENT_REFERENCE = 64  # the length of cases.payment_reference


# ---------------------------------------------------------------- helpers

def _touch(case: Case, now: dt.datetime) -> None:
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


def _check_version(case: Case, version: int | None) -> None:
    if version is not None and case.version != version:
        raise Conflict()


def _editable(case: Case, now: dt.datetime, what: str) -> None:
    if reasons := rules.draft_reasons(case, now, what):
        raise Refused(*reasons)


def _clean_comment(comment: str | None, field: str = "comment", limit: int = MAX_COMMENT) -> str | None:
    comment = (comment or "").strip() or None
    if comment and len(comment) > limit:
        raise Invalid({field: f"太长，最多{limit}个字"})
    return comment


# ---------------------------------------------------------------- the case's fields

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
    _check_version(case, version)
    now = clock.now()
    _editable(case, now, "修改")
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
    _touch(case, now)
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


# ---------------------------------------------------------------- documents

def add_document(session: Session, actor: Actor, clock: Clock, uploads: Uploads, case_id: int, kind: str,
                 filename: str, content: bytes, version: int | None = None) -> Document:
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.DRAFTERS, "上传资料")
    _check_version(case, version)
    now = clock.now()
    _editable(case, now, "上传资料")
    if kind not in DocumentKind.__members__.values():
        raise Invalid({"kind": "不是可选的资料类别"})
    filename = clean_filename(filename)
    uploads.check(content)
    stored = uploads.save(session, content)
    document = Document(id=stored.id, case=case, kind=kind, filename=filename, content_type=stored.content_type,
                        size=stored.size, sha256=stored.sha256, uploaded_by_id=actor.id, uploaded_at=to_db(now))
    session.add(document)
    _touch(case, now)  # a new checklist is a new version of the case
    audit.record(session, actor, now, Action.add_document, case=case, state=case.state,
                 changes={"document": [None, f"{DocumentKind(kind).label}：{filename}（SHA-256 {stored.sha256}）"]})
    return document


def remove_document(session: Session, actor: Actor, clock: Clock, uploads: Uploads, case_id: int,
                    document_id: str, version: int | None = None) -> Case:
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.DRAFTERS, "删除资料")
    _check_version(case, version)
    now = clock.now()
    _editable(case, now, "删除资料")
    document = session.get(Document, document_id)
    if document is None or document.case_id != case.id:
        raise NotFound("找不到该资料")
    label = f"{DocumentKind(document.kind).label}：{document.filename}（SHA-256 {document.sha256}）"
    case.documents.remove(document)
    session.delete(document)
    uploads.delete_on_commit(session, document_id)
    _touch(case, now)
    audit.record(session, actor, now, Action.remove_document, case=case, state=case.state,
                 changes={"document": [label, None]})
    return case


def document_for_download(session: Session, actor: Actor, document_id: str) -> Document:
    """The document, if `actor` may see its case; downloads of personal papers go to the case's people only."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("找不到该资料")
    if not rules.may_reveal(actor, get_case(session, actor, document.case_id)):
        raise Forbidden(Reason("role", "个人证件资料只有办理该案件的人员可以下载"))
    return document


# ---------------------------------------------------------------- transitions

def fire(session: Session, actor: Actor, clock: Clock, case_id: int, trigger: str, version: int | None, *,
         comment: str | None = None, payment_reference: str | None = None) -> Case:
    """Move a case by `trigger` of the transition table, if every rule allows it."""
    if trigger not in BY_TRIGGER:
        raise Invalid({"trigger": "没有这个操作"})
    transition = BY_TRIGGER[Trigger(trigger)]
    case = get_case(session, actor, case_id)
    _check_version(case, version)
    comment = _clean_comment(comment)
    payment_reference = _clean_comment(payment_reference, "payment_reference", MAX_PAYMENT_REFERENCE)
    now = clock.now()
    if transition.spends:
        # Caps and budget are sums over the campaign's other cases: lock its row first, so that two decisions at
        # once cannot both fit in the same remaining money (PostgreSQL; SQLite writers are serialised already).
        session.execute(select(Campaign.id).where(Campaign.id == case.campaign_id).with_for_update())
    reasons = rules.blockers(session, case, trigger, actor, now, comment=comment,
                             payment_reference=payment_reference)
    if reasons:
        raise (Forbidden if reasons[0].rule == "role" else Refused)(*reasons)
    before = case.state
    # The effects read lazy relations (`enter` reads case.union): they must run while nothing is dirty, or the
    # autoflush of that load writes the new state outside audit.record's flush (a raw StaleDataError for a racing
    # loser) and a second UPDATE follows, raising the version twice for one transition.
    effects = EFFECTS.get(transition.trigger, _no_effect)(case, actor, now, payment_reference)
    case.state = step(before, trigger)
    changes = {"state": [audit.text(before), audit.text(case.state)]}
    changes |= audit.diff({name: getattr(case, name) for name in effects}, effects)
    for name, value in effects.items():
        setattr(case, name, value)
    case.claimed_by_id = None
    _touch(case, now)
    comment = comment or transition.default_comment
    event = audit.record(session, actor, now, transition.trigger, case=case, from_state=before,
                         to_state=case.state, comment=comment, changes=changes)
    if transition.tells_drafter:
        # The cadre who drafted it is told at once; the key (the event) makes it one notification per return.
        notify(session, key=f"returned:{event.seq}", account_id=case.created_by_id, kind="returned", now=now,
               case_id=case.id, text=f"案件「{case.applicant_name}」被{actor.name}退回修改：{mask_numbers(comment)}")
    return case


def _no_effect(case, actor, now, payment_reference) -> dict[str, Any]:
    return {}


def _back_to_draft(case, actor, now, payment_reference) -> dict[str, Any]:
    return {"documented_by_id": None, "approved_by_id": None, "publicized_at": None, "notice_closes_at": None}


def _publicize(case: Case, actor, now: dt.datetime, payment_reference) -> dict[str, Any]:
    opened = local_date(now)
    if case.campaign.publicity_days == 0:
        closes = now
    else:
        last = add_working_days(opened, case.campaign.publicity_days)
        closes = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), LOCAL)
    return {"publicized_at": to_db(now), "notice_closes_at": to_db(closes)}


def _enter(case: Case, actor, now: dt.datetime, payment_reference) -> dict[str, Any]:
    year = rules.campaign_year(case.campaign)
    return {"entered_at": to_db(now), "file_number": case.file_number or f"{year}-{case.union.code}-{case.id:06d}"}


# What a move writes on the case besides its state.
EFFECTS = {
    Trigger.document: lambda case, actor, now, ref: {"documented_by_id": actor.id},
    Trigger.approve: lambda case, actor, now, ref: {"approved_by_id": actor.id},
    Trigger.return_: _back_to_draft,
    Trigger.district_return: _back_to_draft,
    Trigger.publicize: _publicize,
    Trigger.enter: _enter,
    Trigger.disburse: lambda case, actor, now, ref: {"payment_reference": ref, "disbursed_at": to_db(now)},
}


# ---------------------------------------------------------------- objections

def record_objection(session: Session, actor: Actor, clock: Clock, case_id: int, statement: str) -> Objection:
    """A cadre or head writes down an objector's statement during the public notice."""
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.OBJECTORS, "登记异议")
    statement = _clean_comment(statement, "statement")
    if not statement:
        raise Invalid({"statement": "请填写异议内容"})
    now = clock.now()
    if reasons := rules.objection_reasons(case, now):
        raise Refused(*reasons)
    objection = Objection(case=case, statement=statement, status=ObjectionStatus.open, recorded_by_id=actor.id,
                          recorded_at=to_db(now))
    session.add(objection)
    _touch(case, now)
    audit.record(session, actor, now, Action.object, case=case, state=case.state, comment=statement)
    return objection


def resolve_objection(session: Session, actor: Actor, clock: Clock, objection_id: int, outcome: str,
                      comment: str | None) -> Objection:
    """The head decides: dismissed (the case goes on) or upheld (the head then returns or withdraws it)."""
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound("找不到该异议")
    case = get_case(session, actor, objection.case_id)
    rules.require_role(actor, (Role.head,), "处理异议")
    if outcome not in (ObjectionStatus.dismissed, ObjectionStatus.upheld):
        raise Invalid({"outcome": "处理结果只能是不成立或成立"})
    comment = _clean_comment(comment)
    if not comment:
        raise Invalid({"comment": "请填写处理意见"})
    if objection.status != ObjectionStatus.open:
        raise Refused(Reason("objection", "该异议已经处理过了"))
    now = clock.now()
    if reasons := rules.objection_reasons(case, now):  # decided in the notice, as it was recorded
        raise Refused(*reasons)
    objection.status = outcome
    objection.resolved_by_id = actor.id
    objection.resolved_at = to_db(now)
    objection.resolution = comment
    _touch(case, now)
    audit.record(session, actor, now, Action.resolve_objection, case=case, state=case.state, comment=comment,
                 changes={"objection": [audit.text(ObjectionStatus.open), audit.text(outcome)]})
    return objection


# ---------------------------------------------------------------- claims and reveals

def claim(session: Session, actor: Actor, clock: Clock, case_id: int) -> Case:
    """A reviewer or finance officer takes a case, so that two people do not work on it at once."""
    case = get_case(session, actor, case_id)
    rules.require_role(actor, tuple(CLAIM_STATES), "认领案件")
    if case.state != CLAIM_STATES[Role(actor.role)]:
        raise Refused(Reason("state", f"案件当前为「{State(case.state).label}」，不能认领"))
    if not case.free_for(actor.id):
        raise Refused(rules.claim_reason(case, actor))
    if case.claimed_by_id == actor.id:
        return case
    now = clock.now()
    case.claimed_by_id = actor.id
    _touch(case, now)
    audit.record(session, actor, now, Action.claim, case=case, state=case.state)
    return case


def release(session: Session, actor: Actor, clock: Clock, case_id: int) -> Case:
    case = get_case(session, actor, case_id)
    rules.require_role(actor, tuple(CLAIM_STATES), "释放案件")
    if case.claimed_by_id != actor.id:
        raise Refused(Reason("claimed", "只能释放自己认领的案件"))
    now = clock.now()
    case.claimed_by_id = None
    _touch(case, now)
    audit.record(session, actor, now, Action.release, case=case, state=case.state)
    return case


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
