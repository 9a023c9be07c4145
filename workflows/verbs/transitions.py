"""The moves of the transition table: `fire` checks the guards, runs the move's effects, writes its event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Forbidden, Invalid, Refused
from workflows.identity import mask_numbers
from workflows.infra import audit
from workflows.infra.clock import LOCAL, Clock, local_date, to_db
from workflows.infra.db import locks_rows
from workflows.infra.machine import step
from workflows.infra.outbox import notify
from workflows.models import Campaign, Case
from workflows.rules.guards import READS, loading
from workflows.rules.workdays import add_working_days
from workflows.states import BY_TRIGGER, Trigger
from workflows.texts import N_
from workflows.verbs import archives
from workflows.verbs.cases import case_query, check_version, clean_comment, get_case, save

MAX_PAYMENT_REFERENCE = 64  # the length of cases.payment_reference


def fire(session: Session, actor: Actor, clock: Clock, case_id: int, trigger: str, version: int | None, *,
         comment: str | None = None, payment_reference: str | None = None) -> Case:
    """Move a case by `trigger` of the transition table, if every rule allows it."""
    if trigger not in BY_TRIGGER:
        raise Invalid({"trigger": N_("没有这个操作")})
    transition = BY_TRIGGER[Trigger(trigger)]
    case = get_case(session, actor, case_id, QUERIES[transition.trigger])
    check_version(case, version)
    comment = clean_comment(comment)
    payment_reference = clean_comment(payment_reference, "payment_reference", MAX_PAYMENT_REFERENCE, one_line=True)
    now = clock.now()
    if transition.spends and locks_rows(session):
        # Caps and budget are sums over the campaign's other cases, and the yearly cap over the household's other
        # cases of the year: lock the campaign's row and the household's archives first, so that two decisions at
        # once cannot both fit in the same remaining money (PostgreSQL; SQLite writers are serialised already).
        session.execute(select(Campaign.id).where(Campaign.id == case.campaign_id).with_for_update())
        if case.campaign.cap_per_year is not None:
            rules.lock_household(session, case)
    reasons = rules.blockers(session, case, trigger, actor, now, comment=comment,
                             payment_reference=payment_reference)
    if reasons:
        raise (Forbidden if reasons[0].rule == "role" else Refused)(*reasons)
    before = case.state
    # The effects read lazy relations (`enter` reads case.union): they run before anything is written.
    effects = EFFECTS.get(transition.trigger, _no_effect)(case, actor, now, payment_reference, comment)
    after = step(before, trigger)
    changes = {"state": [audit.text(before), audit.text(after)]}
    changes |= audit.diff({name: getattr(case, name) for name in effects}, effects)
    save(session, case, now, {**effects, "state": after, "claimed_by_id": None})
    comment = comment or transition.default_comment
    events = [audit.row(actor, now, transition.trigger, case_id=case.id, archive_id=case.archive_id,
                        from_state=before, to_state=after, comment=comment, changes=changes)]
    if transition.updates_archive:
        events.append(archives.after_approval(session, actor, now, case))
    # The move's event, and its archive's, in one turn of the chain's head.
    event = audit.append_many(session, events)[0]
    if transition.tells_drafter:
        # The cadre who drafted it is told at once; the key (the event) makes it one notification per return.
        notify(session, key=f"returned:{event['seq']}", account_id=case.created_by_id, kind="returned", now=now,
               case_id=case.id, text=TOLD[transition.trigger].format(name=case.applicant_name, actor=actor.name,
                                                                     comment=mask_numbers(comment)))
    return case


def _move_query(paths: tuple[tuple, ...]):
    """A move's case query, with what its guards read (rules.guards.READS): the rows and the first list joined
    (one statement, cheaper than a query more for a case's few members, visits or objections), any further list
    read by a query of its own: two lists joined would give members × papers rows."""
    options, joined = [], False
    for path in paths:
        many = any(step.property.uselist for step in path)
        options.append(loading(path, selectinload if many and joined else joinedload))
        joined |= many
    return case_query(*options)


QUERIES = {trigger: _move_query(READS.get(trigger, ())) for trigger in BY_TRIGGER}

# What the drafter is told of a move that tells them (Transition.tells_drafter).
TOLD = {Trigger.return_: "案件「{name}」被{actor}退回修改：{comment}",
        Trigger.district_return: "案件「{name}」被{actor}退回修改：{comment}",
        Trigger.bounce: "案件「{name}」的帮扶金被银行退回（退票）：{comment}。请核对并更正银行账号"}


def _no_effect(case, actor, now, payment_reference, comment) -> dict[str, Any]:
    return {}


def _back_to_draft(case, actor, now, payment_reference, comment) -> dict[str, Any]:
    return {"documented_by_id": None, "approved_by_id": None, "publicized_at": None, "notice_closes_at": None}


def _publicize(case: Case, actor, now: dt.datetime, payment_reference, comment) -> dict[str, Any]:
    opened = local_date(now)
    if case.campaign.publicity_days == 0:
        closes = now
    else:
        last = add_working_days(opened, case.campaign.publicity_days)
        closes = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), LOCAL)
    return {"publicized_at": to_db(now), "notice_closes_at": to_db(closes)}


def _enter(case: Case, actor, now: dt.datetime, payment_reference, comment) -> dict[str, Any]:
    year = rules.campaign_year(case.campaign)
    return {"entered_at": to_db(now), "file_number": case.file_number or f"{year}-{case.union.code}-{case.id:06d}"}


# What a move writes on the case besides its state.
EFFECTS = {
    Trigger.document: lambda case, actor, now, ref, comment: {"documented_by_id": actor.id},
    Trigger.approve: lambda case, actor, now, ref, comment: {"approved_by_id": actor.id},
    Trigger.return_: _back_to_draft,
    Trigger.district_return: _back_to_draft,
    Trigger.publicize: _publicize,
    Trigger.enter: _enter,
    Trigger.disburse: lambda case, actor, now, ref, comment: {"payment_reference": ref, "disbursed_at": to_db(now)},
    # The bank's reason is kept; the account must be corrected after the return (by whom is kept too).
    Trigger.bounce: lambda case, actor, now, ref, comment: {
        "returned_at": to_db(now), "return_reason": comment, "account_corrected_by_id": None,
        "account_corrected_at": None},
}
