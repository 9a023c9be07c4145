"""One scheduler acts at a time, another takes over when it dies, and a pass does nothing twice."""

import datetime as dt

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import runner
from workflows.infra.clock import LOCAL
from workflows.models import AuditEvent
from workflows.states import GRASSROOTS, State

from ..factories import Factory

DEADLINE = dt.datetime(2018, 1, 26, 0, 0, tzinfo=LOCAL)


def test_a_lease_keeps_one_scheduler_acting_and_expires_when_it_dies(committed, clock):
    """SQLite's way (the lease works on any database; PostgreSQL uses the advisory lock below)."""
    first = runner.LeaseLeadership(committed, clock, holder="a")
    second = runner.LeaseLeadership(committed, clock, holder="b")
    assert first.acquire() and not second.acquire()
    clock.advance(seconds=30)
    assert first.acquire() and not second.acquire()  # renewed at each tick
    clock.advance(seconds=44)  # "a" died after its last renewal: the lease is not out yet...
    assert not second.acquire()
    clock.advance(seconds=2)  # ...and now it is: within a minute of the death
    assert second.acquire() and not first.acquire()
    second.release()
    assert first.acquire()


@pytest.mark.postgres
def test_on_postgresql_the_advisory_lock_passes_on_when_its_holder_goes(committed):
    first, second = runner.AdvisoryLeadership(committed), runner.AdvisoryLeadership(committed)
    try:
        assert first.acquire() and not second.acquire()
        assert first.acquire()
        first.connection.invalidate()  # the process died: its connection, and the lock, are gone
        first.connection = None
        assert second.acquire()
    finally:
        first.release()
        second.release()


def test_only_the_leader_sweeps_and_the_pass_is_safe_twice(committed, clock, uploads):
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        for state in GRASSROOTS + (State.entered,):
            make.case(state)
        session.commit()
    clock.set(DEADLINE + dt.timedelta(seconds=1))
    leader, other = runner.leadership(committed, clock), runner.leadership(committed, clock)
    if committed.dialect.name == "sqlite":
        leader.holder, other.holder = "leader", "other"
    try:
        assert runner.tick(committed, clock, leader) is True
        assert runner.tick(committed, clock, other) is False
        assert runner.tick(committed, clock, leader) is True
    finally:
        leader.release()
        other.release()
    with Session(committed) as session:
        forfeits = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "forfeit"))
    assert forfeits == len(GRASSROOTS)


def test_a_job_waits_at_each_future_deadline_and_missed_runs_are_not_dropped(committed, clock, uploads):
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        past = make.campaign(deadline=DEADLINE - dt.timedelta(days=30), starts_on=dt.date(2017, 11, 1))
        future = make.campaign()
        session.commit()
    background = BackgroundScheduler(timezone=dt.timezone.utc)
    runner.schedule(background, committed, clock, runner.leadership(committed, clock))
    jobs = {job.id: job for job in background.get_jobs()}
    assert set(jobs) == {"tick", f"deadline-{future.id}"}
    assert f"deadline-{past.id}" not in jobs
    assert jobs[f"deadline-{future.id}"].trigger.run_date == DEADLINE
    assert all(job.misfire_grace_time is None and job.coalesce for job in jobs.values())
