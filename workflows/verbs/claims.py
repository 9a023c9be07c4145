"""Claims: a reviewer or finance officer takes a case, so that two people do not work on it at once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock
from workflows.models import Case
from workflows.states import CLAIM_STATES, Action, Role, State
from workflows.texts import N_
from workflows.verbs.cases import get_case, touch


def claim(session: Session, actor: Actor, clock: Clock, case_id: int) -> Case:
    """A reviewer or finance officer takes a case, so that two people do not work on it at once."""
    case = get_case(session, actor, case_id)
    rules.require_role(actor, tuple(CLAIM_STATES), N_("认领案件"))
    if case.state != CLAIM_STATES[Role(actor.role)]:
        raise Refused(Reason("state", N_("案件当前为「%(state)s」，不能认领", state=State(case.state).label)))
    if not case.free_for(actor.id):
        raise Refused(rules.claim_reason(case, actor))
    if case.claimed_by_id == actor.id:
        return case
    now = clock.now()
    case.claimed_by_id = actor.id
    touch(case, now)
    audit.record(session, actor, now, Action.claim, case=case, state=case.state)
    return case


def release(session: Session, actor: Actor, clock: Clock, case_id: int) -> Case:
    case = get_case(session, actor, case_id)
    rules.require_role(actor, tuple(CLAIM_STATES), N_("释放案件"))
    if case.claimed_by_id != actor.id:
        raise Refused(Reason("claimed", N_("只能释放自己认领的案件")))
    now = clock.now()
    case.claimed_by_id = None
    touch(case, now)
    audit.record(session, actor, now, Action.release, case=case, state=case.state)
    return case
