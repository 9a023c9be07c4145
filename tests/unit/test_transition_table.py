"""The transition table, tried in full: every trigger of workflows.states.TRANSITIONS, from every state, by every role.

Nothing here restates the table: the expected outcome of each combination is derived from TRANSITIONS itself, and
from who may see a case at all (DOMAIN.md, "Roles"). A person who may not see a case is told it does not exist
(NotFound) before anything else is checked, so that the existence of another union's case is never revealed; a
person who sees it but whose role may not fire the trigger is Forbidden (rule "role"); the right role in the wrong
state is Refused (rule "state"). Allowed moves land in the table's destination with exactly one audit event.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from workflows import rules, verbs
from workflows.actors import SYSTEM
from workflows.errors import Forbidden, Invalid, NotFound, Refused
from workflows.infra.clock import LOCAL
from workflows.infra.machine import MachineError, step
from workflows.models import AuditEvent
from workflows.states import (
    BY_TRIGGER,
    CLAIM_STATES,
    FINAL,
    FORFEIT_REASON,
    GRASSROOTS,
    NEEDS_PAYMENT,
    TASK_ROLES,
    TRANSITIONS,
    TRIGGERS,
    Role,
    State,
    Trigger,
    path_to,
    triggers_from,
)

# The seed campaign's deadline, 2018-01-25 end of day, Beijing time.
DEADLINE = dt.datetime(2018, 1, 26, 0, 0, tzinfo=LOCAL)
COMMENT = "测试理由"


def sees(role: Role, state: State) -> bool:
    """Whether `role` may see a case of its own union in `state`, built along the factory's path (DOMAIN.md, Roles).

    The factory's forfeited case was rejected by the district after it was entered, so reviewers see it; its
    withdrawn case never reached the district.
    """
    if role in (Role.cadre, Role.head, Role.auditor, Role.system):
        return True
    if role == Role.reviewer:
        return state in (State.entered, State.district_approved, State.disbursed, State.forfeited,
                         State.payment_returned)
    if role == Role.finance:
        return state in (State.district_approved, State.disbursed, State.payment_returned)
    return False  # admin: manages unions, accounts and campaigns; no action on cases


def expected(trigger: str, state: State, role: Role) -> str:
    transition = BY_TRIGGER[trigger]
    if not sees(role, state):
        return "not_found"
    if role not in transition.roles:
        return "role"
    if state not in transition.sources:
        return "state"
    return "allowed"


PAIRS = [(t.trigger, state) for t in TRANSITIONS for state in State]


def actor_for(make, role: Role, case):
    if role == Role.system:
        return SYSTEM
    return make.person(role.value, case.union)


def event_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent))


def build(make, clock, start: dt.datetime, state: State, trigger: str):
    clock.set(start)
    case = make.case(state)
    if state == State.drafted:
        make.attach(case)  # a complete draft, so that `document` has nothing but the table to stop it
    if trigger == "forfeit":
        clock.set(DEADLINE)  # the only trigger that needs the deadline passed; before it, it is refused (test_guards)
    if state == State.payment_returned:
        make.correct_account(case)  # `reissue` needs the account corrected, by someone else (test_guards)
    return case


@pytest.mark.parametrize(("trigger", "state"), PAIRS, ids=[f"{t}-{s.value}" for t, s in PAIRS])
def test_every_trigger_from_every_state_by_every_role(session, make, clock, subtests, trigger, state):
    """One test per trigger and state, one subtest per role. Refusals change nothing, so the refused roles share
    one case; each allowed role gets a fresh case of its own."""
    start, shared = clock.now(), None
    for role in Role:
        outcome = expected(trigger, state, role)
        with subtests.test(role=role.value, expected=outcome):
            if outcome == "allowed":
                case = build(make, clock, start, state, trigger)
                check_allowed(session, make, clock, case, trigger, state, role)
            else:
                shared = shared or build(make, clock, start, state, trigger)
                check_refused(session, make, clock, shared, trigger, state, role, outcome)


def check_allowed(session, make, clock, case, trigger, state, role):
    actor = actor_for(make, role, case)
    version, events = case.version, event_count(session)
    allowed, blocked = rules.available(session, case, actor, clock.now())
    assert trigger in allowed, blocked.get(trigger)
    verbs.fire(session, actor, clock, case.id, trigger, version, comment=COMMENT, payment_reference="PAY-0001")
    destination = BY_TRIGGER[trigger].dest
    assert case.state == destination
    assert case.version == version + 1
    # One event of the move; an approval writes a second, on the household's archive (tested in test_archives).
    assert event_count(session) == events + 1 + BY_TRIGGER[trigger].updates_archive
    event = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                            .order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (event.case_id, event.action, event.from_state, event.to_state) == \
           (case.id, trigger, state.value, destination.value)
    assert (event.actor_id, event.role) == (actor.id, role.value)
    assert event.changes["state"] == [state.value, destination.value]
    if BY_TRIGGER[trigger].needs_comment or trigger == "forfeit":
        assert event.comment == COMMENT


def check_refused(session, make, clock, case, trigger, state, role, outcome):
    actor = actor_for(make, role, case)
    version, events = case.version, event_count(session)
    error = {"not_found": NotFound, "role": Forbidden, "state": Refused}[outcome]
    with pytest.raises(error) as caught:
        verbs.fire(session, actor, clock, case.id, trigger, version, comment=COMMENT,
                      payment_reference="PAY-0001")
    if outcome == "not_found":
        assert type(caught.value) is NotFound
    elif outcome == "role":
        assert caught.value.rule == "role"
        assert all(r.label in caught.value.message for r in BY_TRIGGER[trigger].roles)
    else:
        assert type(caught.value) is Refused  # not Forbidden: the role is right, the moment is not
        assert caught.value.rule == "state"
        assert state.label in caught.value.message
    if outcome != "not_found":
        allowed, blocked = rules.available(session, case, actor, clock.now())
        assert trigger not in allowed and trigger not in blocked  # no button, not even a greyed-out one
    assert (case.state, case.version, event_count(session)) == (state, version, events)


@pytest.mark.parametrize("role", [Role.cadre, Role.head])
@pytest.mark.parametrize("state", list(State))
def test_people_of_another_union_never_find_the_case(session, make, clock, state, role):
    case = make.case(state)
    stranger = make.person(role.value, make.union("另一家工会"))
    version, events = case.version, event_count(session)
    for transition in TRANSITIONS:
        with pytest.raises(NotFound):
            verbs.fire(session, stranger, clock, case.id, transition.trigger, version, comment=COMMENT,
                          payment_reference="PAY-0001")
    assert (case.state, case.version, event_count(session)) == (state, version, events)


def test_a_case_forfeited_before_entry_stays_out_of_the_reviewers_sight(session, make, clock):
    case = make.case(State.drafted)
    clock.set(DEADLINE)
    verbs.fire(session, SYSTEM, clock, case.id, "forfeit", case.version)
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (event.comment, event.actor, event.role) == (FORFEIT_REASON, "system", "system")
    with pytest.raises(NotFound):
        verbs.get_case(session, make.person("reviewer"), case.id)


def test_an_unknown_trigger_is_invalid(session, make, clock):
    case = make.case(State.drafted)
    with pytest.raises(Invalid) as caught:
        verbs.fire(session, make.person("cadre", case.union), clock, case.id, "approve_everything", case.version)
    assert "trigger" in caught.value.fields


# ---------------------------------------------------------------- the table as data

@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("trigger", [t.trigger for t in TRANSITIONS])
def test_the_shared_machine_follows_the_table(trigger, state):
    transition = BY_TRIGGER[trigger]
    if state in transition.sources:
        assert step(state.value, trigger) == transition.dest
    else:
        with pytest.raises(MachineError):
            step(state.value, trigger)


def test_final_states_are_final_and_every_other_state_is_reachable_and_can_end():
    for state in FINAL:
        assert triggers_from(state) == []
    reachable, frontier = {State.drafted}, [State.drafted]
    while frontier:
        for transition in triggers_from(frontier.pop()):
            if transition.dest not in reachable:
                reachable.add(transition.dest)
                frontier.append(transition.dest)
    assert reachable == set(State)
    for state in set(State) - set(FINAL):
        assert triggers_from(state), state
    # What the deadline sweep forfeits is exactly the grassroots stages, and nothing there outlives the deadline.
    assert set(BY_TRIGGER["forfeit"].sources) == set(GRASSROOTS)


def test_every_key_of_the_guards_and_effects_is_a_trigger_of_the_table():
    """What a move checks and writes hangs off its row: a key naming no trigger would be a rule nobody runs."""
    for table in (rules.GUARDS, rules.EXTRA, verbs.transitions.EFFECTS):
        assert table and set(table) <= set(TRIGGERS), table
        assert all(isinstance(key, Trigger) for key in table)


def test_the_deadline_bounds_every_move_of_people_into_or_within_the_grassroots_stages():
    """DOMAIN.md: once the deadline has passed, nothing moves a case into or within the grassroots stages (nor
    submits it: `enter`, `withdraw`); only the system's forfeit waits for it."""
    for t in TRANSITIONS:
        touches = bool(set(t.sources) & set(GRASSROOTS)) or t.dest in GRASSROOTS
        if Role.system in t.roles:
            assert t.after_deadline and not t.before_deadline
        else:
            assert t.before_deadline == touches, t.trigger


def test_the_facts_derived_from_the_rows():
    assert CLAIM_STATES == {Role.reviewer: State.entered, Role.finance: State.district_approved}
    assert [t.trigger for t in TRANSITIONS if t.spends] == [Trigger.district_approve, Trigger.disburse]
    assert NEEDS_PAYMENT == (Trigger.disburse,)
    assert {t.trigger for t in TRANSITIONS if t.tells_drafter} == {Trigger.return_, Trigger.district_return,
                                                                    Trigger.bounce}
    assert TASK_ROLES == (Role.cadre, Role.head, Role.reviewer, Role.finance)
    # The factories' way to each state is along the table, by the first role of each row.
    for state in State:
        here = State.drafted
        for role, trigger in path_to(state):
            assert here in BY_TRIGGER[trigger].sources and role == BY_TRIGGER[trigger].roles[0]
            here = BY_TRIGGER[trigger].dest
        assert here == state
