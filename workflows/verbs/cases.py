"""The case record: find it, reveal a full number; and what every verb of a case shares (the version, the draft's
rules, comments). Drafts are opened and edited in applications.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import flag_modified

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Conflict, Forbidden, Invalid, NotFound, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, to_db
from workflows.inputs import CaseIn, line_problem, parse, text_problem
from workflows.models import Case
from workflows.states import Action
from workflows.texts import N_
from workflows.verbs import households

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
        raise NotFound(N_("找不到该案件"))
    return case


def check_version(record, version: int | None, stale: str | None = None) -> None:
    """A case (or an archive, whose `stale` message says so) changed since the actor read `version`."""
    if version is not None and record.version != version:
        raise Conflict(*([stale] if stale else []))


def editable(case: Case, now: dt.datetime, what: str) -> None:
    if reasons := rules.draft_reasons(case, now, what):
        raise Refused(*reasons)


def clean_comment(comment: str | None, field: str = "comment", limit: int = MAX_COMMENT,
                  one_line: bool = False) -> str | None:
    """A free text (comments, statements, findings), stripped, within `limit`, of lines and tabs but no other
    control character; `one_line`: not even those (a reference)."""
    comment = (comment or "").strip() or None
    if comment and len(comment) > limit:
        raise Invalid({field: N_("太长，最多%(limit)s个字", limit=limit)})
    if problem := (line_problem if one_line else text_problem)(comment):
        raise Invalid({field: problem})
    return comment


def case_columns(data: CaseIn) -> dict[str, Any]:
    """The case's columns from its input."""
    return {**households.columns(data),
            "aid_kind": data.aid.kind, "aid_amount": data.aid.amount, "medical": data.aid.medical,
            "amount_reason": data.aid.amount_reason or None, "goods_items": data.aid.goods_items or None,
            "goods_value": data.aid.goods_value}


def validated(model: type, data: Any, today: dt.date) -> Any:
    parsed = parse(model, data)
    if problems := rules.field_problems(parsed, today):
        raise Invalid(problems)
    return parsed


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`patch` laid over `base`, object by object; lists (the members) are replaced whole."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def reveal(session: Session, actor: Actor, clock: Clock, case_id: int, field: str) -> str:
    """The full ID or bank number, for a person entitled to the case; every reveal is audited."""
    case = get_case(session, actor, case_id)
    if field not in ("id_number", "bank_account"):
        raise Invalid({"field": N_("只能查看身份证号码或银行账号")})
    if not rules.may_reveal(actor, case):
        raise Forbidden(Reason("role", N_("无权查看完整号码")))
    value = getattr(case, field)
    if not value:
        raise Refused(Reason("fields", N_("该号码尚未填写")))
    audit.record(session, actor, clock.now(), Action.reveal, case=case, state=case.state,
                 changes={"revealed": [None, field]})
    return value
