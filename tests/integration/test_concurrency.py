"""Real threads racing on a real database: optimistic versions decide who wins, the audit head serialises appenders.

Every thread has its own session and connection and commits like a web request would. A loser must see
workflows.errors.Conflict and nothing else: no raw SQLAlchemy or driver error, no deadlock, no second event.
The threads are bounded everywhere (barrier, lock and statement timeouts, join), so a bug fails the test instead
of hanging it, and every exception raised in a thread is reported with its traceback.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.errors import Conflict, Refused
from workflows.infra import audit
from workflows.infra.clock import FixedClock
from workflows.models import AuditEvent, Case
from workflows.states import BY_TRIGGER, State

from .conftest import BARRIER_TIMEOUT, THREADS

pytestmark = pytest.mark.postgres

JOIN_TIMEOUT = 120     # seconds the whole race may take at most


# ---------------------------------------------------------------- plumbing

@dataclass
class Outcome:
    name: str
    result: object = None
    error: BaseException | None = None
    trace: str = ""


@dataclass
class Race:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def winners(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is None]

    @property
    def conflicts(self) -> list[Outcome]:
        return [o for o in self.outcomes if isinstance(o.error, Conflict)]

    def unexpected(self) -> str:
        """Every error that is not a Conflict, with its traceback, for the assertion message."""
        return "\n".join(f"--- {o.name}: {o.error!r}\n{o.trace}" for o in self.outcomes
                         if o.error is not None and not isinstance(o.error, Conflict))


def race(jobs: list[tuple[str, Callable[[threading.Barrier], object]]]) -> Race:
    """Run each job in its own thread; each job receives the shared barrier and calls `wait()` on it at the start
    line. Returns every thread's outcome; fails if a thread is still running after JOIN_TIMEOUT."""
    barrier = threading.Barrier(len(jobs), timeout=BARRIER_TIMEOUT)
    outcomes = [Outcome(name) for name, _ in jobs]

    def run(outcome: Outcome, job: Callable[[threading.Barrier], object]) -> None:
        try:
            outcome.result = job(barrier)
        except BaseException as error:  # noqa: BLE001 -- reported to the main thread, never swallowed
            outcome.error, outcome.trace = error, traceback.format_exc()
            if not isinstance(error, Conflict):
                barrier.abort()  # a thread that cannot reach the start line must not leave the others waiting

    threads = [threading.Thread(target=run, args=(outcome, job), name=outcome.name, daemon=True)
               for outcome, (_, job) in zip(outcomes, jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    hung = [t.name for t in threads if t.is_alive()]
    assert not hung, f"threads still running after {JOIN_TIMEOUT}s: {hung}"
    return Race(outcomes)


def firing(engine: Engine, actor, clock: FixedClock, case_id: int, trigger: str, *, fresh: bool = False,
           **kwargs) -> Callable[[threading.Barrier], object]:
    """A job: load the case, wait at the start line, fire `trigger` with the version loaded, commit.

    With fresh=False the thread keeps its session (and the case it loaded) across the barrier, so a loser's stale
    object reaches flush and the version column has to catch it. With fresh=True it only remembers the version,
    as a form does, and fires in a new session after the barrier, like the next web request.
    """
    def job(barrier: threading.Barrier) -> object:
        with Session(engine) as session:
            version = session.get(Case, case_id).version
            if fresh:
                session.close()
            barrier.wait()
            try:
                case = verbs.fire(session, actor, clock, case_id, trigger, version, **kwargs)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            return trigger, case.version
    return job


def events(engine: Engine, case_id: int, *actions: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                             AuditEvent.action.in_(actions))))


def load(engine: Engine, case_id: int) -> Case:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(Case, case_id)


def chain(engine: Engine) -> tuple[list[int], audit.Verification]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq))), audit.verify(session)


# ---------------------------------------------------------------- the races

@pytest.mark.parametrize("fresh", [False, True], ids=["held-session", "fresh-session"])
def test_twenty_cadres_enter_one_case_once(racers, setup, clock, fresh):
    session, make = setup
    case = make.case(State.publicized)
    cadre = make.person("cadre", case.union)
    session.commit()
    case_id, version = case.id, case.version

    outcome = race([(f"enter-{i}", firing(racers, cadre, clock, case_id, "enter", fresh=fresh))
                    for i in range(THREADS)])

    assert not outcome.unexpected(), outcome.unexpected()
    assert len(outcome.winners) == 1
    assert len(outcome.conflicts) == THREADS - 1
    after = load(racers, case_id)
    assert after.state == State.entered
    assert after.version == version + 1
    assert outcome.winners[0].result == ("enter", version + 1)
    entered = events(racers, case_id, "enter")
    assert len(entered) == 1
    assert (entered[0].from_state, entered[0].to_state) == (State.publicized, State.entered)
    seqs, verification = chain(racers)
    assert seqs == list(range(1, len(seqs) + 1))
    assert verification.ok, verification.message


def test_approve_races_withdraw(racers, setup, clock):
    session, make = setup
    cases = [make.case(State.documented) for _ in range(5)]
    head, cadre = make.person("head", cases[0].union), make.person("cadre", cases[0].union)
    session.commit()
    winners: dict[str, int] = {"approve": 0, "withdraw": 0}

    for case in cases:
        jobs = []
        for i in range(THREADS // 2):
            jobs.append((f"approve-{case.id}-{i}", firing(racers, head, clock, case.id, "approve", fresh=i % 2 == 1)))
            jobs.append((f"withdraw-{case.id}-{i}", firing(racers, cadre, clock, case.id, "withdraw",
                                                           fresh=i % 2 == 0, comment="本人申请撤回")))
        outcome = race(jobs)

        assert not outcome.unexpected(), outcome.unexpected()
        assert len(outcome.winners) == 1, [o.name for o in outcome.winners]
        assert len(outcome.conflicts) == THREADS - 1
        won, new_version = outcome.winners[0].result
        winners[won] += 1
        written = events(racers, case.id, "approve", "withdraw")
        assert [e.action for e in written] == [won]
        after = load(racers, case.id)
        assert after.state == written[0].to_state == \
            {"approve": State.grassroots_approved, "withdraw": State.withdrawn}[won]
        assert after.version == case.version + 1 == new_version
        if won == "approve":
            assert after.approved_by_id == head.id
        else:
            assert written[0].comment == "本人申请撤回"

    seqs, verification = chain(racers)
    assert seqs == list(range(1, len(seqs) + 1))
    assert verification.ok, verification.message
    assert sum(winners.values()) == len(cases)


# From `documented` to the end, with who does each step.
ROAD = [("head", "approve"), ("cadre", "publicize"), ("cadre", "enter"), ("reviewer", "district_approve"),
        ("finance", "disburse")]


def test_different_cases_all_go_through_and_the_chain_has_no_gap(racers, setup, clock):
    session, make = setup
    # Two unions, so that the threads also differ in who acts.
    unions = [make.union("华光机械厂工会"), make.union("红星纺织厂工会")]
    cases = [make.case(State.documented, union=unions[i % 2]) for i in range(THREADS)]
    for union in unions:  # each union's notice list is posted: `enter` waits for it
        make.notice(make.default_campaign(), union)
    people = {(union.id, role): make.person(role, union) for union in unions for role, _ in ROAD}
    session.commit()
    before = len(chain(racers)[0])

    def drive(case_id: int, union_id: int) -> Callable[[threading.Barrier], object]:
        def job(barrier: threading.Barrier) -> object:
            barrier.wait()
            version = None
            for role, trigger in ROAD:
                with Session(racers) as session:
                    kwargs = {"payment_reference": f"PAY-{case_id}-{trigger}"} if trigger == "disburse" else {}
                    case = verbs.fire(session, people[union_id, role], clock, case_id, trigger, version, **kwargs)
                    session.commit()
                    version = case.version
            return version
        return job

    outcome = race([(f"case-{case.id}", drive(case.id, case.union_id)) for case in cases])

    errors = "\n".join(f"--- {o.name}: {o.error!r}\n{o.trace}" for o in outcome.outcomes if o.error)
    assert not errors, errors
    for case in cases:
        after = load(racers, case.id)
        assert after.state == State.disbursed
        assert after.version == case.version + len(ROAD)
        assert [e.action for e in sorted(events(racers, case.id, *(t for _, t in ROAD)), key=lambda e: e.seq)] == \
            [t for _, t in ROAD]
    seqs, verification = chain(racers)
    # Each move one event, and each district approval one more, on the household's archive.
    written = sum(1 + BY_TRIGGER[t].updates_archive for _, t in ROAD)
    assert seqs == list(range(1, before + THREADS * written + 1))
    assert verification.ok, verification.message
    with Session(racers) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == len(seqs)


@pytest.mark.parametrize("trigger", ["district_approve", "disburse"])
def test_two_approvals_cannot_both_spend_the_last_of_the_budget(racers, setup, clock, trigger):
    # Room in the budget for one of the two amounts only: the second decision must see the first one's money.
    session, make = setup
    campaign = make.campaign(budget=1500)
    before = State.entered if trigger == "district_approve" else State.district_approved
    cases = []
    for _ in range(2):
        cases.append(make.case(State.entered, campaign=campaign, aid={"kind": "funds", "amount": "1000"}))
    if trigger == "disburse":  # approved while the budget still counted only paid money, then both paid at once
        campaign.budget = 2000
        for case in cases:
            make.fire(case, "district_approve", make.person("reviewer"))
        campaign.budget = 1500
    actor = make.person("reviewer" if trigger == "district_approve" else "finance")
    session.commit()
    assert {c.state for c in cases} == {before}

    kwargs = {"payment_reference": "PAY-RACE"} if trigger == "disburse" else {}
    outcome = race([(f"{trigger}-{case.id}", firing(racers, actor, clock, case.id, trigger, **kwargs))
                    for case in cases])

    assert len(outcome.winners) == 1, [o.name for o in outcome.winners]
    loser = next(o for o in outcome.outcomes if o.error is not None)
    assert isinstance(loser.error, Refused) and loser.error.rule == "budget", loser.trace
    assert sorted(load(racers, c.id).state for c in cases) == sorted([before, State(BY_TRIGGER[trigger].dest)])
