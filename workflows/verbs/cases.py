"""The case record: find it, reveal a full number; and what every verb of a case shares (the version, the draft's
rules, comments). Drafts are opened and edited in applications.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, bindparam, inspect, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

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


def save(session: Session, case: Case, now: dt.datetime, values: dict[str, Any]) -> None:
    """Write `values` to the case as its next version (touch), in one UPDATE with the version check the unit of
    work would make (a Conflict when the case changed since it was read), without the unit of work's bookkeeping
    for a row whose changes are known; the instance then holds them as saved. A case with changes of its own not
    yet flushed goes through the unit of work as a whole instead, so that it is one UPDATE and one version."""
    if inspect(case).modified:
        for name, value in values.items():
            setattr(case, name, value)
        touch(case, now)
        try:
            session.flush()
        except StaleDataError:
            raise Conflict() from None
        return
    values = {**values, "updated_at": to_db(now), "version": case.version + 1}
    if session.execute(_SAVE, {**values, "case_id_": case.id, "version_": case.version}).rowcount != 1:
        raise Conflict()
    for name, value in values.items():
        set_committed_value(case, name, value)


_CASES = Case.__table__
# The SET clause is made of the parameters given (a Core statement on the table): one compiled form per set of
# columns, cached.
_SAVE = update(_CASES).where(_CASES.c.id == bindparam("case_id_"), _CASES.c.version == bindparam("version_"))
_MAPPER = inspect(Case)


def case_query(*also) -> Select:
    """The query of get_case, loading with the case its campaign (every verb checks the deadline) and `also` (loader
    options: what a verb reads next), rather than by further queries. Build it once (at import): the query and its
    cache key are then reused on every call (Session.get builds a new query, and its key, each time)."""
    return select(Case).options(joinedload(Case.campaign), *also).where(Case.id == bindparam("case_id"))


_CASE = case_query()


def get_case(session: Session, actor: Actor, case_id: int, query: Select = _CASE) -> Case:
    """The case, if `actor` may see it; NotFound otherwise, so that its existence is not revealed. `query` is one
    of case_query()."""
    if _MAPPER.identity_key_from_primary_key([case_id]) in session.identity_map:
        case = session.get(Case, case_id)  # already in the session: no query, as Session.get gives it
    else:
        case = session.execute(query, {"case_id": case_id}).unique().scalar_one_or_none()  # unique: joined lists
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
