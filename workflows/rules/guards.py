"""The guards of the transition table, each returning the reasons that block an action in a cadre's words.

A guard has three parts. Whose turn it is (`turn_reasons`): the state, the deadline, the claim, four eyes, the
notice window and objections; each is a Check whose condition is one expression that the guard evaluates on the
case and the inbox compiles to SQL (rules/tasks.py), so the buttons and the inbox cannot disagree. What the actor
must type (`input_reasons`): a comment, a payment reference. What the work still lacks (`work_reasons`): papers,
fields, duplicates, money. Nothing here changes anything: the verbs ask `blockers(...)` and refuse with what they
get; the screens ask the same function to show a blocked button with its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from workflows.actors import Actor
from workflows.errors import Reason
from workflows.infra.clock import local_date
from workflows.infra.expr import is_set, is_unset, negate, one_of, some
from workflows.infra.memo import remembering
from workflows.inputs import case_input
from workflows.models import Archive, Campaign, Case
from workflows.rules.caps import money_reasons
from workflows.rules.fields import (
    archive_numbers_held,
    case_archive_reasons,
    case_holders,
    duplicate_reasons,
    field_problems,
    missing_documents,
    missing_fields,
)
from workflows.rules.recognition import category_reasons, exclusion_reasons, recognise, visit_reasons
from workflows.rules.tariffs import amount_reasons
from workflows.rules.timing import campaign_year, deadline_reason, not_yet_reason, notice_reason
from workflows.states import BY_TRIGGER, State, Task, Transition, Trigger, triggers_from
from workflows.texts import Joined, N_
from workflows.vocab import DocumentKind


@dataclass(frozen=True)
class Check:
    """One condition of an actor's turn. `holds(case, campaign, actor, now)` is written with workflows/infra/expr.py:
    given a case and its campaign it is a bool, given the Case and Campaign classes it is SQL. `reason(case, actor)`
    says why, when it does not hold."""

    holds: Callable[[Any, Any, Actor, dt.datetime], Any]
    reason: Callable[[Case, Actor], Reason]


def state_reason(case: Case, transition: Transition) -> Reason:
    return Reason("state", N_("案件当前为「%(state)s」，不能%(action)s", state=State(case.state).label, action=transition.label))


def claim_reason(case: Case, actor: Actor) -> Reason:
    return Reason("claimed", N_("该案件已由%(name)s认领，由其办理", name=case.claimed_by.name))


def role_reason(transition: Transition) -> Reason:
    return Reason("role", N_("只有%(who)s可以%(action)s", who=[r.label for r in transition.roles],
                             action=transition.label))


BEFORE_DEADLINE = Check(lambda case, campaign, actor, now: negate(campaign.past_deadline(now)),
                        lambda case, actor: deadline_reason(case.campaign))
AFTER_DEADLINE = Check(lambda case, campaign, actor, now: campaign.past_deadline(now),
                       lambda case, actor: not_yet_reason(case.campaign))
CLAIM = Check(lambda case, campaign, actor, now: case.free_for(actor.id), claim_reason)
# What some moves ask besides the facts of their row.
EXTRA: dict[Trigger, tuple[Check, ...]] = {
    Trigger.approve: (
        Check(lambda case, campaign, actor, now: case.fresh_eyes(actor.id),
              lambda case, actor: Reason("four_eyes", N_("不能审核自己起草或提交的案件，须由另一位负责人审核"))),),
    Trigger.enter: (
        Check(lambda case, campaign, actor, now: case.notice_over(now), lambda case, actor: notice_reason(case)),
        # Proof of the public notice (DOMAIN.md): where and when the union posted its list, with a photo or scan.
        Check(lambda case, campaign, actor, now: case.notice_posted,
              lambda case, actor: Reason("notice_posting", N_("本工会尚未登记本活动公示名单的张贴情况（地点、日期和照片），"
                                                           "请先在「公示名单」页登记"))),
        Check(lambda case, campaign, actor, now: negate(case.open_objection),
              lambda case, actor: Reason("objection", N_("公示期间有未处理的异议，须由负责人处理后才能录入"))),
        Check(lambda case, campaign, actor, now: negate(case.upheld_objection),
              lambda case, actor: Reason("objection", N_("异议成立，须退回修改或撤回，不能录入"))),
    ),
    # A returned payment goes out again only to a corrected account, and never on the word of the one person who
    # corrected it (DOMAIN.md: confirmed by finance, never by the person who changed it).
    Trigger.reissue: (
        Check(lambda case, campaign, actor, now: is_set(case.account_corrected_at),
              lambda case, actor: Reason("account", N_("退票后尚未更正银行账号：请先更正账号，再由另一位财务人员重新发放"))),
        Check(lambda case, campaign, actor, now: some(is_unset(case.account_corrected_by_id),
                                                      case.account_corrected_by_id != actor.id),
              lambda case, actor: Reason("four_eyes", N_("银行账号是您更正的，须由另一位财务人员确认并重新发放"))),
    ),
}


def in_state(states: tuple[State, ...], reason: Callable[[Case, Actor], Reason]) -> Check:
    return Check(lambda case, campaign, actor, now: one_of(case.state, states), reason)


@cache
def turn_checks(trigger: Trigger) -> tuple[Check, ...]:
    """The checks of whose turn `trigger` is, the state first: all from the row of the table, and EXTRA."""
    t = BY_TRIGGER[trigger]
    checks = [in_state(t.sources, lambda case, actor: state_reason(case, t))]
    checks += [BEFORE_DEADLINE] if t.before_deadline else []
    checks += [AFTER_DEADLINE] if t.after_deadline else []
    checks += [CLAIM] if t.needs_claim else []
    return (*checks, *EXTRA.get(trigger, ()))


@cache
def task_checks(task: Task) -> tuple[Check, ...]:
    """When a task of the inbox is due: its move's turn; for the head's objections, a pending objection."""
    if task.trigger is not None:
        return turn_checks(task.trigger)
    return (in_state(task.states, lambda case, actor: Reason("state", N_("只有公示中的案件有异议待处理"))),
            BEFORE_DEADLINE,
            Check(lambda case, campaign, actor, now: some(case.open_objection, case.upheld_objection),
                  lambda case, actor: Reason("objection", N_("没有待处理的异议"))))


def failing(checks: tuple[Check, ...], case: Case, actor: Actor, now: dt.datetime) -> list[Reason]:
    """The reasons of the checks that do not hold for `case`; the state's alone when it is the wrong one."""
    reasons = []
    for i, check in enumerate(checks):
        if not check.holds(case, case.campaign, actor, now):
            reasons.append(check.reason(case, actor))
            if i == 0:
                break
    return reasons


def turn_reasons(case: Case, trigger: Trigger, actor: Actor, now: dt.datetime) -> list[Reason]:
    """Why it is not `actor`'s turn to fire `trigger` on `case` now (empty when it is)."""
    transition = BY_TRIGGER[trigger]
    if actor.role not in transition.roles:
        return [role_reason(transition)]
    return failing(turn_checks(trigger), case, actor, now)


def input_reasons(transition: Transition, comment: str | None, payment_reference: str | None) -> list[Reason]:
    reasons = []
    if transition.needs_comment and not (comment or "").strip():
        reasons.append(Reason("comment", N_("请填写「%(action)s」的理由", action=transition.label)))
    if transition.needs_payment_reference and not (payment_reference or "").strip():
        reasons.append(Reason("payment_reference", N_("请填写付款凭证号")))
    return reasons


def _document(session: Session, case: Case, now: dt.datetime) -> list[Reason]:
    reasons = []
    if missing := missing_documents(case):
        reasons.append(Reason("documents", N_("缺少：%(kinds)s", kinds=[DocumentKind(k).label for k in missing])))
    if missing := missing_fields(case):
        reasons.append(Reason("fields", N_("未填写：%(fields)s", fields=missing)))
    if problems := field_problems(case_input(case), local_date(now)):
        reasons.append(Reason("fields", Joined(problems.values())))
    reasons += exclusion_reasons(case) + category_reasons(case_recognition(session, case), case)
    reasons += amount_reasons(session, case)
    return reasons + _duplicates(session, case)


def document_needs(session: Session, case: Case, now: dt.datetime) -> list[Reason]:
    """What `document` still needs of a draft: the case form shows it, as the case page's button does."""
    return _document(session, case, now)


def case_recognition(session: Session, case: Case):
    """The case's household against the standard of its campaign's year and its archive's area."""
    return recognise(session, case, campaign_year(case.campaign), case.archive)


def archive_recognition(session: Session, archive: Any, now: dt.datetime):
    """The archive's household against the standard of the current local year and its area."""
    return recognise(session, archive, local_date(now).year, archive)


def _duplicates(session: Session, case: Case) -> list[Reason]:
    """No number of the case in another live case of the campaign, nor in another household's archive."""
    return duplicate_reasons(session, case) + case_archive_reasons(session, case)


# What the work of a move must hold besides money (which the row's `spends` asks for).
GUARDS: dict[Trigger, Callable[[Session, Case, dt.datetime], list[Reason]]] = {
    Trigger.document: _document,
    Trigger.publicize: lambda session, case, now: visit_reasons(case),
    Trigger.district_approve: lambda session, case, now: _duplicates(session, case),
}


# What the checks above (and the move's effects) read of a case besides its own row, by move: each a path of
# relationships, loaded with the case instead of by one lazy load each. Only a hint for speed: whatever is not named
# here is still loaded when read. How they are loaded is the reader's choice: one case (a move) joins them to its
# own query (verbs.transitions.QUERIES); a page of cases reads each in one more query for all (checking below).
READS: dict[Trigger, tuple[tuple, ...]] = {
    Trigger.document: ((Case.archive,), (Case.members,), (Case.documents,)),
    Trigger.publicize: ((Case.archive, Archive.visits),),
    Trigger.enter: ((Case.union,), (Case.objections,)),
    Trigger.district_approve: ((Case.members,),),
}


def loading(path: tuple, loader: Callable = joinedload):
    """The loader option of a READS path: `loader` for its collections, its single rows joined."""
    option = None
    for step in path:
        load = loader if step.property.uselist else joinedload
        option = load(step) if option is None else getattr(option, load.__name__)(step)
    return option


@contextmanager
def checking(session: Session, cases: list[Case], actor: Actor) -> Iterator[None]:
    """For a page of cases asked each which moves `actor` has open (the API's lists): what the guards of the
    actor's moves read is loaded for the whole page in a few queries (READS, and who else holds the cases' ID
    numbers), and the look-ups they share (a tariff, a standard, a budget) are read once, not once a case."""
    with remembering(session):
        paths = dict.fromkeys(path for trigger, reads in READS.items()
                              if actor.role in BY_TRIGGER[trigger].roles for path in reads)
        options = [loading(path, selectinload) for path in paths]
        if cases and options:
            session.scalars(select(Case).where(Case.id.in_([case.id for case in cases])).options(*options)).all()
        if any(actor.role in BY_TRIGGER[trigger].roles for trigger in (Trigger.document, Trigger.district_approve)):
            digests = [key for case in cases for key in case.digests]
            case_holders(session, digests)
            archive_numbers_held(session, digests)
        yield


def work_reasons(session: Session, case: Case, trigger: Trigger, now: dt.datetime) -> list[Reason]:
    """What the case still lacks for `trigger`: papers and fields, duplicates, caps and budget."""
    transition = BY_TRIGGER[trigger]
    reasons = money_reasons(session, case, transition.spends) if transition.spends else []
    return reasons + GUARDS[trigger](session, case, now) if trigger in GUARDS else reasons


def blockers(session: Session, case: Case, trigger: str, actor: Actor, now: dt.datetime, *,
             comment: str | None = None, payment_reference: str | None = None,
             inputs: bool = True) -> list[Reason]:
    """Every reason `actor` may not fire `trigger` on `case` now; empty when it may.

    With inputs=False the comment and payment reference are not asked for: the screens use that to tell which
    buttons to show before anything is typed.
    """
    trigger = Trigger(trigger)
    turn = turn_reasons(case, trigger, actor, now)
    if turn and turn[0].rule in ("role", "state"):
        return turn
    # The deadline first, then what is to be typed, then the rest of the turn, then the work.
    reasons = [r for r in turn if r.rule == "deadline"]
    if inputs:
        reasons += input_reasons(BY_TRIGGER[trigger], comment, payment_reference)
    return reasons + [r for r in turn if r.rule != "deadline"] + work_reasons(session, case, trigger, now)


def available(session: Session, case: Case, actor: Actor, now: dt.datetime) -> tuple[list[str], dict[str, str]]:
    """The triggers `actor` may fire now, and for the others of their role from this state, why not."""
    allowed, blocked = [], {}
    for transition in triggers_from(State(case.state)):
        if actor.role not in transition.roles:
            continue
        reasons = blockers(session, case, transition.trigger, actor, now, inputs=False)
        if reasons:
            blocked[transition.trigger.value] = Joined(r.message for r in reasons)
        else:
            allowed.append(transition.trigger.value)
    return allowed, blocked


# ---------------------------------------------------------------- drafts and objections

def new_draft_reasons(campaign: Campaign, now: dt.datetime) -> list[Reason]:
    """Why no case can be opened in `campaign` now (the rule is Campaign.open_for_drafts)."""
    if campaign.open_for_drafts(now):
        return []
    if campaign.past_deadline(now):
        return [deadline_reason(campaign)]
    return [Reason("campaign", N_("活动尚未开始（%(day)s起可以新建案件）", day=campaign.starts_on.isoformat()))]


def draft_reasons(case: Case, now: dt.datetime, what: str = N_("修改")) -> list[Reason]:
    """Why a draft's fields and papers cannot change now (empty when they can)."""
    if case.state != State.drafted:
        return [Reason("state", N_("案件当前为「%(state)s」，只有已起草的案件可以%(what)s", state=State(case.state).label, what=what))]
    return [deadline_reason(case.campaign)] if case.campaign.past_deadline(now) else []


def objection_reasons(case: Case, now: dt.datetime, what: str = N_("登记异议")) -> list[Reason]:
    """Why no objection can be written down (or, `what` says, decided) for this case now (empty when it can)."""
    if case.state != State.publicized:
        return [Reason("state", N_("只有公示中的案件可以%(what)s", what=what))]
    return [deadline_reason(case.campaign)] if case.campaign.past_deadline(now) else []

