"""Writers on different cases at once, as the threads of a development server do: on SQLite they queue at BEGIN
IMMEDIATE rather than fail with "database is locked" after reading, and the audit chain stays gapless."""

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.infra import audit
from workflows.infra.db import session_factory
from workflows.models import AuditEvent
from workflows.states import State

from ..factories import Factory


def _publicized_cases(committed, clock, uploads, n):
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        cases = [make.case(State.publicized) for _ in range(n)]
        cadres = {case.id: make.person("cadre", case.union) for case in cases}
        session.commit()
    return cases, cadres


def test_a_writer_that_read_first_is_not_failed_by_another_writers_commit(committed, clock, uploads):
    (first, second), cadres = _publicized_cases(committed, clock, uploads, 2)
    sessions = session_factory(committed, writes=True)
    read, outcome = threading.Event(), []

    def other_writer():
        try:
            with sessions() as session:
                current = verbs.get_case(session, cadres[second.id], second.id)  # reads first...
                read.set()
                verbs.fire(session, cadres[second.id], clock, second.id, "enter", current.version)  # ...writes
                session.commit()
            outcome.append("ok")
        except Exception as error:
            outcome.append(repr(error))

    with sessions() as session:
        current = verbs.get_case(session, cadres[first.id], first.id)
        thread = threading.Thread(target=other_writer)
        thread.start()
        # The other writer either read already (deferred BEGIN) or waits for us at BEGIN IMMEDIATE.
        read.wait(timeout=1)
        verbs.fire(session, cadres[first.id], clock, first.id, "enter", current.version)
        session.commit()
    thread.join(timeout=60)
    assert outcome == ["ok"]


def test_many_writers_on_different_cases_all_succeed(committed, clock, uploads):
    cases, cadres = _publicized_cases(committed, clock, uploads, 8)
    sessions = session_factory(committed, writes=True)
    start, errors = threading.Barrier(len(cases)), []

    def enter(case):
        try:
            start.wait(timeout=30)
            with sessions() as session:
                current = verbs.get_case(session, cadres[case.id], case.id)
                verbs.fire(session, cadres[case.id], clock, case.id, "enter", current.version)
                session.commit()
        except Exception as error:  # reported below, with its type
            errors.append(repr(error))

    threads = [threading.Thread(target=enter, args=(case,)) for case in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with Session(committed) as session:
        entered = session.scalars(select(AuditEvent.case_id).where(AuditEvent.action == "enter")).all()
        assert sorted(entered) == sorted(case.id for case in cases)
        assert audit.verify(session).ok
