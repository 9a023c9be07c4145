"""The one scheduler process, and what keeps it one.

Several `songnuan scheduler` processes may run for availability; only the leader acts. On PostgreSQL the leader
holds a session-level advisory lock on a connection of its own: if the process dies, the connection closes, the
lock is free and another process takes it at its next tick. SQLite has no such lock, so there the leader holds a
lease row that it renews every tick and that another process may take once it has expired.

APScheduler keeps its jobs in memory (a job store is never shared between schedulers): a tick every
TICK seconds catches up whatever is due, including a deadline passed while everything was down, and a job at
each campaign's deadline acts at the instant itself. Missed runs are coalesced and never dropped.

Timings, in whole seconds, from the environment (read once, when the module is imported):
SONGNUAN_SCHEDULER_TICK (default 15) between catch-up passes, which is also how soon a standby process notices
that the leader is gone; SONGNUAN_SCHEDULER_LEASE (default 45, and never under three ticks, since the leader
renews it once a tick) for the SQLite lease. Defaults: a dead leader is replaced within a minute.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from app import logs, metrics
from workflows.infra.clock import Clock, from_db, to_db
from workflows.infra.db import session_factory
from workflows.models import Campaign, SchedulerLease

from .jobs import run_once

log = logging.getLogger(__name__)


def _seconds(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        log.warning("scheduler: %s=%r is not a whole number of seconds; using %s", name, value, default)
        return default
    return int(value)


TICK = _seconds("SONGNUAN_SCHEDULER_TICK", 15)  # seconds between catch-up passes
# A dead leader's lease runs out within a minute (by default); it outlasts three ticks of a live one.
LEASE = dt.timedelta(seconds=max(_seconds("SONGNUAN_SCHEDULER_LEASE", 45), 3 * TICK))
LOCK_KEY = 0x536F6E676E75616E     # "Songnuan": the advisory lock's number


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class AdvisoryLeadership:
    """PostgreSQL: leader while holding the advisory lock on its own connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.connection = engine, None

    def acquire(self) -> bool:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:  # the connection, and the lock with it, is gone: try to take it again
                log.warning("scheduler: lost the advisory lock's connection")
                self.connection = None
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
            self.connection = connection
            log.info("scheduler: this process now acts (advisory lock taken)")
            return True
        connection.close()
        return False

    def release(self) -> None:
        """Unlock explicitly: closing the Connection only returns it to the engine's pool, where its database
        session, and the lock with it, would live on and keep every other process from acting."""
        if self.connection is not None:
            connection, self.connection = self.connection, None
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            except DBAPIError:
                connection.invalidate()  # broken: its session, and the lock, are gone with it
            connection.close()


class LeaseLeadership:
    """SQLite: leader while holding an unexpired lease, renewed at every tick."""

    def __init__(self, engine: Engine, clock: Clock, holder: str | None = None) -> None:
        self.sessions = session_factory(engine, writes=True)
        self.clock, self.holder = clock, holder or holder_name()

    def acquire(self) -> bool:
        now = to_db(self.clock.now())
        with self.sessions() as session, session.begin():
            taken = session.execute(
                update(SchedulerLease).where(SchedulerLease.id == 1)
                .where((SchedulerLease.holder == self.holder) | (SchedulerLease.expires_at <= now))
                .values(holder=self.holder, expires_at=now + LEASE)).rowcount
            if taken:
                return True
            if session.scalar(select(SchedulerLease.id)) is None:
                session.add(SchedulerLease(id=1, holder=self.holder, expires_at=now + LEASE))
                try:
                    session.flush()
                except IntegrityError:  # another process created it first
                    return False
                return True
        return False

    def release(self) -> None:
        with self.sessions() as session, session.begin():
            session.execute(update(SchedulerLease).where(SchedulerLease.holder == self.holder)
                            .values(expires_at=to_db(self.clock.now())))


def leadership(engine: Engine, clock: Clock):
    return AdvisoryLeadership(engine) if engine.dialect.name == "postgresql" else LeaseLeadership(engine, clock)


def tick(engine: Engine, clock: Clock, leader, smtp_url: str | None = None) -> bool:
    """One pass if this process is the leader; whether it acted. Each tick has a run id that every line it logs
    carries (taking the lead included), and a pass ends with a line of what it did (JSON under `songnuan
    scheduler`)."""
    run = logs.RUN_ID.set(logs.new_run_id())
    try:
        if not leader.acquire():
            return False
        sessions = session_factory(engine, writes=True)
        metrics.count_transitions(sessions)  # the forfeits
        started = time.perf_counter()
        try:
            report = run_once(sessions, clock, smtp_url)
        except Exception as error:
            metrics.count_pass(None)
            # The traceback is APScheduler's to log (the job raised); this line ties the failure to the run.
            log.error("scheduler: the pass failed: %s", type(error).__name__,
                      extra={"duration_ms": _ms_since(started)})
            raise
        metrics.count_pass(report)
        log.info("scheduler: pass done", extra={**asdict(report), "duration_ms": _ms_since(started)})
        return True
    finally:
        logs.RUN_ID.reset(run)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def schedule(scheduler: BaseScheduler, engine: Engine, clock: Clock, leader, smtp_url: str | None = None) -> None:
    """The catch-up tick, and a job at each future campaign deadline (refreshed at every tick); notifications are
    e-mailed through `smtp_url` when it is set."""
    one_at_a_time = threading.Lock()  # the tick and a deadline job may fall due together

    def job() -> None:
        with one_at_a_time:
            if tick(engine, clock, leader, smtp_url):
                _deadline_jobs(scheduler, engine, clock, job)

    # Triggers in UTC, given: without a zone APScheduler asks tzlocal for the host's, a lookup that imports
    # tzdata lazily (and fails under an import hook such as pygal's when warnings are errors).
    scheduler.add_job(job, IntervalTrigger(seconds=TICK, timezone=dt.timezone.utc), id="tick", replace_existing=True,
                      coalesce=True, max_instances=1, misfire_grace_time=None,
                      next_run_time=dt.datetime.now(dt.timezone.utc))
    _deadline_jobs(scheduler, engine, clock, job)


def _deadline_jobs(scheduler: BaseScheduler, engine: Engine, clock: Clock, job: Callable[[], None]) -> None:
    with Session(engine) as session:
        deadlines = session.execute(select(Campaign.id, Campaign.deadline)
                                    .where(Campaign.deadline > to_db(clock.now()))).all()
    for campaign_id, deadline in deadlines:
        scheduler.add_job(job, DateTrigger(from_db(deadline), timezone=dt.timezone.utc), id=f"deadline-{campaign_id}",
                          replace_existing=True, coalesce=True, misfire_grace_time=None)
