"""Objections during the public notice: written down by a cadre or head, decided by the head."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Invalid, NotFound, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, to_db
from workflows.models import Objection
from workflows.states import Action
from workflows.texts import N_
from workflows.verbs.cases import clean_comment, get_case, touch
from workflows.vocab import ObjectionStatus


def record_objection(session: Session, actor: Actor, clock: Clock, case_id: int, statement: str) -> Objection:
    """A cadre or head writes down an objector's statement during the public notice."""
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.OBJECTORS, N_("登记异议"))
    statement = clean_comment(statement, "statement")
    if not statement:
        raise Invalid({"statement": N_("请填写异议内容")})
    now = clock.now()
    if reasons := rules.objection_reasons(case, now):
        raise Refused(*reasons)
    objection = Objection(case=case, statement=statement, status=ObjectionStatus.open, recorded_by_id=actor.id,
                          recorded_at=to_db(now))
    session.add(objection)
    touch(case, now)
    audit.record(session, actor, now, Action.object, case=case, state=case.state, comment=statement)
    return objection


def resolve_objection(session: Session, actor: Actor, clock: Clock, objection_id: int, outcome: str,
                      comment: str | None) -> Objection:
    """The head decides: dismissed (the case goes on) or upheld (the head then returns or withdraws it)."""
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(N_("找不到该异议"))
    case = get_case(session, actor, objection.case_id)
    rules.require_role(actor, rules.RESOLVERS, N_("处理异议"))
    if outcome not in (ObjectionStatus.dismissed, ObjectionStatus.upheld):
        raise Invalid({"outcome": N_("处理结果只能是不成立或成立")})
    comment = clean_comment(comment)
    if not comment:
        raise Invalid({"comment": N_("请填写处理意见")})
    if objection.status != ObjectionStatus.open:
        raise Refused(Reason("objection", N_("该异议已经处理过了")))
    now = clock.now()
    if reasons := rules.objection_reasons(case, now, N_("处理异议")):  # decided in the notice, as it was recorded
        raise Refused(*reasons)
    objection.status = outcome
    objection.resolved_by_id = actor.id
    objection.resolved_at = to_db(now)
    objection.resolution = comment
    touch(case, now)
    audit.record(session, actor, now, Action.resolve_objection, case=case, state=case.state, comment=comment,
                 changes={"objection": [audit.text(ObjectionStatus.open), audit.text(outcome)]})
    return objection
