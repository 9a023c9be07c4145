"""入户调查: a union's home visit to a household, recorded on its archive (required before its first public
notice: rules.recognition.visit_reasons)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Invalid, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, local_date, to_db
from workflows.inputs import line_problem, parse_day
from workflows.models import HomeVisit
from workflows.states import Action
from workflows.texts import N_
from workflows.verbs.archives import get_archive
from workflows.verbs.cases import clean_comment

VISITORS = 200


def record_visit(session: Session, actor: Actor, clock: Clock, archive_id: int, visited_on: Any,
                 visitors: str | None, findings: str | None) -> HomeVisit:
    """A cadre or head of the archive's union writes down a visit: when, who went, what they found."""
    rules.require_role(actor, rules.VISITORS, N_("登记入户调查"))
    archive = get_archive(session, actor, archive_id)
    now = clock.now()
    problems: dict[str, str] = {}
    day = parse_day(visited_on)
    if day is None:
        problems["visited_on"] = N_("请填写调查日期，格式如 2018-01-05")
    elif day > local_date(now):
        problems["visited_on"] = N_("调查日期不能晚于今天")
    visitors = (visitors or "").strip()
    if not visitors:
        problems["visitors"] = N_("请填写调查人")
    elif len(visitors) > VISITORS:
        problems["visitors"] = N_("太长，最多%(limit)s个字", limit=VISITORS)
    elif problem := line_problem(visitors):
        problems["visitors"] = problem
    try:
        findings = clean_comment(findings, "findings")
    except Invalid as error:
        problems |= error.fields
    if not findings:
        problems.setdefault("findings", N_("请填写调查情况"))
    if problems:
        raise Invalid(problems)
    if reasons := rules.recognition.visit_record_reasons(archive):
        raise Refused(*reasons)
    visit = HomeVisit(archive=archive, visited_on=day, visitors=visitors, findings=findings,
                      recorded_by_id=actor.id, recorded_at=to_db(now))
    session.add(visit)
    session.flush()
    audit.record(session, actor, now, Action.record_visit, archive=archive, state=archive.status,
                 comment=findings, changes=audit.created({"visited_on": day, "visitors": visitors}))
    return visit

