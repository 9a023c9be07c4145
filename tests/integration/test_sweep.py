"""The deadline sweep with an injected clock: nothing before the deadline, everything due after it, once."""

import datetime as dt
import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.infra import audit
from workflows.infra.clock import LOCAL
from workflows.infra.db import session_factory
from workflows.models import AuditEvent, Case
from workflows.states import FORFEIT_REASON, GRASSROOTS, State
from workflows.verbs import deadline

from ..factories import Factory

DEADLINE = dt.datetime(2018, 1, 26, 0, 0, tzinfo=LOCAL)  # 2018-01-25 24:00, the seed's
SECOND = dt.timedelta(seconds=1)


@pytest.fixture
def world(committed, clock, uploads):
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        cases = {state: make.case(state) for state in State}
        session.commit()
        yield make, cases


def states(engine) -> dict[int, tuple[str, int]]:
    with Session(engine) as session:
        return {id_: (state, version) for id_, state, version in session.execute(
            select(Case.id, Case.state, Case.version))}


def forfeit_events(engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == "forfeit")
                                    .order_by(AuditEvent.seq)))


def test_one_second_before_the_deadline_nothing_is_forfeited(committed, world, clock):
    before = states(committed)
    clock.set(DEADLINE - SECOND)
    result = verbs.sweep(session_factory(committed, writes=True), clock)
    assert result.forfeited == 0 and states(committed) == before


def test_one_second_after_everything_due_is_forfeited_once(committed, world, clock):
    _, cases = world
    before = states(committed)
    clock.set(DEADLINE + SECOND)
    sessions = session_factory(committed, writes=True)
    result = verbs.sweep(sessions, clock, batch=2)  # several batches
    assert result.forfeited == len(GRASSROOTS) and result.skipped == []
    after = states(committed)
    for state, case in cases.items():
        if state in GRASSROOTS:
            assert after[case.id] == (State.forfeited, before[case.id][1] + 1)
        else:  # entered and later are the district's: never forfeited by the sweep
            assert after[case.id] == before[case.id]
    events = forfeit_events(committed)
    assert sorted(e.case_id for e in events) == sorted(cases[s].id for s in GRASSROOTS)
    assert {(e.actor, e.role, e.comment, e.to_state) for e in events} == \
        {("system", "system", FORFEIT_REASON, State.forfeited.value)}
    assert {e.case_id: e.from_state for e in events} == {cases[s].id: s.value for s in GRASSROOTS}
    # A second run, later: nothing more to do.
    clock.advance(days=3)
    assert verbs.sweep(sessions, clock).forfeited == 0
    assert len(forfeit_events(committed)) == len(GRASSROOTS)
    with Session(committed) as session:
        assert audit.verify(session).ok


def test_after_downtime_across_the_deadline_the_first_run_catches_up(committed, world, clock):
    clock.set(DEADLINE + dt.timedelta(days=9))  # nothing ran for nine days
    sessions = session_factory(committed, writes=True)
    assert verbs.sweep(sessions, clock).forfeited == len(GRASSROOTS)
    assert verbs.sweep(sessions, clock).forfeited == 0


def test_a_case_moved_on_in_the_meantime_is_left_alone(committed, world, clock):
    make, cases = world
    publicized = cases[State.publicized]
    with Session(committed, expire_on_commit=False) as session:
        verbs.fire(session, make.person("cadre", publicized.union), clock, publicized.id, "enter",
                      publicized.version)
        session.commit()
    clock.set(DEADLINE + SECOND)
    result = verbs.sweep(session_factory(committed, writes=True), clock)
    assert result.forfeited == len(GRASSROOTS) - 1
    assert states(committed)[publicized.id][0] == State.entered


def test_one_bad_record_is_logged_and_skipped(committed, world, clock, monkeypatch, caplog):
    _, cases = world
    bad = cases[State.documented]
    real_fire, real_append_many = verbs.fire, deadline.audit.append_many

    def failing_batch(session, rows):  # the set-based write of many events fails as a whole...
        if len(rows) > 1:
            raise RuntimeError("disk full")
        return real_append_many(session, rows)

    def fire(session, actor, clock_, case_id, trigger, version, **kwargs):  # ...and so does one case
        if case_id == bad.id:
            raise RuntimeError("corrupt record")
        return real_fire(session, actor, clock_, case_id, trigger, version, **kwargs)

    monkeypatch.setattr(deadline.audit, "append_many", failing_batch)
    monkeypatch.setattr(deadline, "fire", fire)
    clock.set(DEADLINE + SECOND)
    with caplog.at_level(logging.ERROR, logger=deadline.log.name):
        result = verbs.sweep(session_factory(committed, writes=True), clock)
    assert result.forfeited == len(GRASSROOTS) - 1 and result.skipped == [bad.id]
    assert states(committed)[bad.id][0] == State.documented
    assert any(str(bad.id) in record.getMessage() for record in caplog.records)
    with Session(committed) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "forfeit")) == len(GRASSROOTS) - 1
        assert audit.verify(session).ok
