"""A person's transition racing the deadline sweep on the same cases, on PostgreSQL, round after round.

The person's request began a moment before the deadline (their clock says 23:59:59) and the sweep runs a moment
after it: a cadre enters or withdraws publicized cases while the sweep forfeits them in small batches. Whoever
writes second finds the case changed (the person: a stale version, or a state that no longer allows it; the
sweep: a row that is locked, or no longer due), so each case ends forfeited or moved on, never both, with exactly
the one audit event that says which, and the chain verifies.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.errors import Conflict, Refused
from workflows.infra import audit
from workflows.infra.clock import LOCAL, FixedClock, to_db
from workflows.infra.db import session_factory
from workflows.models import AuditEvent, Case
from workflows.states import FORFEIT_REASON, State

from ..factories import Factory

pytestmark = pytest.mark.postgres

DEADLINE = dt.datetime(2018, 1, 26, 0, 0, tzinfo=LOCAL)  # the factory campaign's: 2018-01-25 24:00
ROUNDS = 20
CASES = 40  # per round
MOVES = {"enter": State.entered, "withdraw": State.withdrawn}


def publicized_cases(engine, campaign_id: int, union_id: int, cadre_id: int, archive_id: int, n: int) -> list[int]:
    """Cases whose public notice is over, ready to be entered (inserted directly: the race is what is tested; one
    archive for all, which neither move looks at)."""
    at = to_db(DEADLINE - dt.timedelta(days=3))
    with engine.begin() as connection:
        return list(connection.scalars(text("""
            INSERT INTO cases (version, campaign_id, union_id, archive_id, application_kind, secondary_causes, state,
                               applicant_name, medical, created_by_id, created_at, updated_at, publicized_at,
                               notice_closes_at)
            SELECT 1, :campaign, :union, :archive, 'new', CAST('[]' AS json), 'publicized', '李秀英' || n, false,
                   :cadre, :at, :at, :at, :at
            FROM generate_series(1, :n) AS n RETURNING id"""),
            {"campaign": campaign_id, "union": union_id, "cadre": cadre_id, "archive": archive_id, "at": at,
             "n": n}))


def test_a_case_ends_forfeited_or_moved_on_never_both(committed, clock, uploads):
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        union, campaign = make.default_union(), make.default_campaign()
        cadre = make.person("cadre", union)
        archive_id = verbs.create_archive(session, cadre, clock, {"applicant": {"name": "李秀英"}}).id
        session.commit()
    sessions = session_factory(committed, writes=True)
    before, after = FixedClock(DEADLINE - dt.timedelta(seconds=1)), FixedClock(DEADLINE + dt.timedelta(seconds=1))
    rng = random.Random(5)
    moved: dict[int, str] = {}        # case → the trigger a person fired and committed
    stale: set[int] = set()           # cases a person read, and found changed when writing
    forfeited_by_sweep = 0
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def person(ids: list[int], start: threading.Barrier) -> None:
        start.wait()
        for case_id in ids:
            trigger = rng.choice(list(MOVES))
            with sessions() as session:
                try:
                    verbs.fire(session, cadre, before, case_id, trigger, None, comment="本人申请撤回")
                    session.commit()
                except Conflict:  # read it before the sweep (or the other person) wrote it
                    outcome = "stale"
                    with lock:
                        stale.add(case_id)
                except Refused:   # read it after: no longer publicized
                    outcome = "refused"
                else:
                    outcome = "moved"
                    with lock:
                        moved[case_id] = trigger
            with lock:
                outcomes[outcome] += 1

    def sweep(start: threading.Barrier) -> None:
        nonlocal forfeited_by_sweep
        start.wait()
        result = verbs.sweep(sessions, after, batch=4)
        assert result.skipped == []
        with lock:
            forfeited_by_sweep += result.forfeited

    all_ids: list[int] = []
    for _ in range(ROUNDS):
        ids = publicized_cases(committed, campaign.id, union.id, cadre.id, archive_id, CASES)
        all_ids += ids
        shuffled = rng.sample(ids, len(ids))
        start = threading.Barrier(3)
        # One person works from the front (where the sweep starts), one in no particular order.
        threads = [threading.Thread(target=sweep, args=(start,)),
                   threading.Thread(target=person, args=(ids, start)),
                   threading.Thread(target=person, args=(shuffled, start))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # A case a person held while the sweep passed is caught by the next pass, as the next tick would.
        forfeited_by_sweep += verbs.sweep(sessions, after).forfeited

    with Session(committed) as session:
        final = dict(session.execute(select(Case.id, Case.state).where(Case.id.in_(all_ids))).all())
        trail: dict[int, list[AuditEvent]] = {}
        for event in session.scalars(select(AuditEvent).where(AuditEvent.case_id.in_(all_ids))
                                     .order_by(AuditEvent.seq)):
            trail.setdefault(event.case_id, []).append(event)

        for case_id in all_ids:
            [event] = trail[case_id]  # one transition each: forfeited or moved on, never both
            assert event.from_state == State.publicized and event.to_state == final[case_id], case_id
            if case_id in moved:
                assert (event.action, final[case_id]) == (moved[case_id], MOVES[moved[case_id]])
                assert event.actor == cadre.username
            else:
                assert (event.action, final[case_id], event.actor, event.comment) == \
                    ("forfeit", State.forfeited, "system", FORFEIT_REASON)
        assert forfeited_by_sweep == sum(state == State.forfeited for state in final.values())
        verification = audit.verify(session)
        assert verification.ok, verification.as_dict()
    # Both sides won some, and the rounds did race: cases a person had read as publicized were forfeited by the
    # sweep before the person's write, which then found a stale version.
    assert moved and forfeited_by_sweep, outcomes
    lost_to_the_sweep = {case_id for case_id in stale if final[case_id] == State.forfeited}
    assert lost_to_the_sweep, outcomes
