"""Real `songnuan` processes on PostgreSQL (issue 5), and the environment settings they are run with.

1. The acting `songnuan scheduler` is killed (SIGKILL) in the middle of a sweep over many overdue cases: a standby
   scheduler takes the advisory lock at its next tick and finishes the sweep. Every case is forfeited once, with
   one audit event, and the chain verifies. The timings come from the environment (SONGNUAN_SCHEDULER_TICK=1,
   SONGNUAN_SWEEP_BATCH=10: a sweep of hundreds of transactions). The cases belong to the factory's campaign,
   whose deadline (2018-01-25) is long past on the real clock, so nothing waits for a deadline.
2. Three `songnuan sweep --now` processes at once over 5,000 overdue cases, with reminders due for another
   campaign: each case forfeited once, each reminder decided once, and each reminder e-mailed once, as counted
   by a real SMTP server on loopback (aiosmtpd, in a thread of the test).

To make the processes overlap for sure, the test holds the audit head's row lock while they start: each of them
stops at its first append (the head) until the test lets go.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from scheduler import jobs, runner
from workflows import verbs
from workflows.infra import audit
from workflows.infra.clock import to_db
from workflows.infra.db import make_engine
from workflows.inputs import parse_deadline
from workflows.models import Account, AuditEvent, Case, Notification
from workflows.states import FORFEIT_REASON, GRASSROOTS, State
from workflows.verbs import deadline

from ..factories import Factory

pytestmark = pytest.mark.slow  # real scheduler processes

SONGNUAN = Path(sys.executable).with_name("songnuan")  # .venv/bin/songnuan beside .venv/bin/python
GRASSROOTS_STATES = [state.value for state in GRASSROOTS]


# ---------------------------------------------------------------- helpers

def overdue_cases(engine: Engine, clock, uploads, overdue: int, not_due: int = 0) -> dict[int, tuple[str, int]]:
    """`overdue` cases in the grassroots stages of the factory's campaign and `not_due` entered ones; two made
    through the verbs (so the chain has real events first), the rest by one INSERT ... SELECT. Returns every
    case's (state, version)."""
    with Session(engine, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        drafted = make.case(State.drafted)
        make.case(State.publicized)
        session.commit()
    with engine.begin() as connection:
        connection.execute(text("""
            INSERT INTO cases (version, campaign_id, union_id, archive_id, application_kind, secondary_causes, state,
                               applicant_name, medical, created_by_id, created_at, updated_at, entered_at)
            SELECT 1, :campaign, :union, :archive, 'new', CAST('[]' AS json),
                   CASE WHEN n <= :overdue THEN (CAST(:grassroots AS text[]))[1 + n % 4] ELSE 'entered' END,
                   '王建国' || n, false, :cadre, :at, :at, CASE WHEN n > :overdue THEN :at END
            FROM generate_series(1, :total) AS n"""),
            {"campaign": drafted.campaign_id, "union": drafted.union_id, "cadre": drafted.created_by_id,
             "archive": drafted.archive_id,  # one archive for all: the sweep does not look at them
             "grassroots": GRASSROOTS_STATES, "overdue": overdue - 2, "total": overdue - 2 + not_due,
             "at": to_db(clock.now())})
    with Session(engine) as session:
        cases = {id_: (state, version) for id_, state, version in session.execute(
            select(Case.id, Case.state, Case.version))}
    assert sum(state in GRASSROOTS_STATES for state, _ in cases.values()) == overdue
    return cases


def environment(engine: Engine, tmp_path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("SONGNUAN_")}
    env.update(SONGNUAN_DATABASE_URL=engine.url.render_as_string(hide_password=False),
               SONGNUAN_UPLOAD_DIR=str(tmp_path / "uploads"), SONGNUAN_SECRET_KEY="test", PYTHONUNBUFFERED="1",
               **extra)
    return env


def named(env: dict[str, str], name: str) -> dict[str, str]:
    """The same environment, the process's database connections named `name` in pg_stat_activity."""
    return {**env, "SONGNUAN_DATABASE_URL": env["SONGNUAN_DATABASE_URL"] + f"?application_name={name}"}


def songnuan(*args: str, env: dict[str, str]) -> subprocess.Popen:
    assert SONGNUAN.exists(), f"{SONGNUAN} is missing: install the project into the virtualenv (make test)"
    return subprocess.Popen([str(SONGNUAN), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def scalar(engine: Engine, sql: str, **params):
    """One value, read in a transaction of its own (pg_stat_activity keeps its first answer within one)."""
    with engine.connect() as connection:
        return connection.scalar(text(sql), params)


def waiting_on_locks(engine: Engine) -> int:
    return scalar(engine, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                          "AND wait_event_type = 'Lock'")


def forfeits(engine: Engine) -> int:
    return scalar(engine, "SELECT count(*) FROM audit_events WHERE action = 'forfeit'")


def still_due(engine: Engine) -> int:
    return scalar(engine, "SELECT count(*) FROM cases WHERE state = ANY(:states)", states=GRASSROOTS_STATES)


def wait_for(what: str, condition: Callable[[], bool], seconds: float,
             processes: list[subprocess.Popen] = ()) -> None:
    """Poll `condition` (no fixed sleep: it returns as soon as it holds); fail after `seconds` or when one of
    `processes` has exited meanwhile."""
    deadline = time.monotonic() + seconds
    while not condition():
        for process in processes:
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(f"waiting for {what}: {process.args[1]} exited with {process.returncode}\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds} s")
        time.sleep(0.005)


def assert_forfeited_once(engine: Engine, before: dict[int, tuple[str, int]]) -> None:
    """Each overdue case forfeited by the system once (one version more, one event); the others untouched;
    the audit chain whole."""
    with Session(engine) as session:
        after = {id_: (state, version) for id_, state, version in session.execute(
            select(Case.id, Case.state, Case.version))}
        for case_id, (state, version) in before.items():
            if state in GRASSROOTS_STATES:
                assert after[case_id] == (State.forfeited, version + 1), case_id
            else:
                assert after[case_id] == (state, version), case_id
        events = session.execute(select(AuditEvent.case_id, AuditEvent.from_state, AuditEvent.to_state,
                                        AuditEvent.actor, AuditEvent.comment)
                                 .where(AuditEvent.action == "forfeit")).all()
        assert sorted(e.case_id for e in events) == sorted(
            case_id for case_id, (state, _) in before.items() if state in GRASSROOTS_STATES)
        assert all((e.from_state, e.to_state, e.actor, e.comment) ==
                   (before[e.case_id][0], State.forfeited.value, "system", FORFEIT_REASON) for e in events)
        verification = audit.verify(session)
        assert verification.ok, verification.as_dict()
        assert verification.events == session.scalar(select(func.count()).select_from(AuditEvent))


def stop(process: subprocess.Popen) -> tuple[str, str]:
    """SIGTERM, as an operator stops a scheduler; what it printed."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


# ---------------------------------------------------------------- the timings the tests set

@pytest.mark.parametrize(("value", "seconds"), [(None, 15), ("", 15), ("1", 1), ("120", 120), ("0", 15),
                                                 ("-5", 15), ("1.5", 15), ("soon", 15)])
def test_scheduler_timings_come_from_the_environment_or_sane_defaults(monkeypatch, value, seconds):
    if value is None:
        monkeypatch.delenv("SONGNUAN_SCHEDULER_TICK", raising=False)
    else:
        monkeypatch.setenv("SONGNUAN_SCHEDULER_TICK", value)
    assert runner._seconds("SONGNUAN_SCHEDULER_TICK", 15) == seconds
    assert runner.LEASE >= 3 * dt.timedelta(seconds=runner.TICK)  # a live leader renews it in time


@pytest.mark.parametrize(("value", "batch"), [(None, deadline.BATCH), ("10", 10), ("0", deadline.BATCH),
                                               ("many", deadline.BATCH)])
def test_the_sweeps_batch_size_comes_from_the_environment(monkeypatch, value, batch):
    if value is None:
        monkeypatch.delenv("SONGNUAN_SWEEP_BATCH", raising=False)
    else:
        monkeypatch.setenv("SONGNUAN_SWEEP_BATCH", value)
    assert jobs.batch_size() == batch


def test_the_triggers_never_ask_the_host_for_its_time_zone(committed, clock, uploads, monkeypatch):
    """Every time here is UTC-aware; asking tzlocal imports tzdata lazily, which an import hook such as pygal's
    turns into an ImportWarning, an error under `filterwarnings = error`."""
    import apscheduler.triggers.date
    import apscheduler.triggers.interval

    def refuse():
        raise AssertionError("the host's time zone was asked for")

    for module in (apscheduler.triggers.date, apscheduler.triggers.interval):
        monkeypatch.setattr(module, "get_localzone", refuse)
    with Session(committed) as session:
        Factory(session, clock, uploads).campaign()  # a deadline ahead: a job waits for it
        session.commit()
    background = BackgroundScheduler(timezone=dt.timezone.utc)
    runner.schedule(background, committed, clock, runner.leadership(committed, clock))
    assert sorted(job.id.split("-")[0] for job in background.get_jobs()) == ["deadline", "tick"]


@pytest.mark.postgres
def test_a_released_advisory_lock_is_free_for_another_process_at_once(committed):
    """Released, the lock must not stay with the connection that goes back to the pool (it did: a process that
    had once led, the web server's `songnuan run` or a test's engine, kept every scheduler from acting)."""
    elsewhere = make_engine(committed.url.render_as_string(hide_password=False))  # another process's connections
    leader, other = runner.AdvisoryLeadership(committed), runner.AdvisoryLeadership(elsewhere)
    try:
        assert leader.acquire()
        leader.release()
        assert other.acquire() and not leader.acquire()
        other.release()
        assert leader.acquire() and not other.acquire()
    finally:
        leader.release()
        other.release()
        elsewhere.dispose()
    assert scalar(committed, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                             "(SELECT oid FROM pg_database WHERE datname = current_database())") == 0


# ---------------------------------------------------------------- 1. a scheduler killed mid-sweep

OVERDUE_KILLED = 3000


@pytest.mark.postgres
def test_a_standby_scheduler_finishes_the_sweep_of_one_killed_in_the_middle(committed, clock, uploads, tmp_path):
    before = overdue_cases(committed, clock, uploads, OVERDUE_KILLED, not_due=100)
    env = environment(committed, tmp_path, SONGNUAN_SCHEDULER_TICK="1", SONGNUAN_SWEEP_BATCH="10")
    acting = standby = None
    try:
        with committed.connect() as gate:
            gate.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))  # nobody appends yet
            try:
                acting = songnuan("scheduler", env=named(env, "scheduler-acting"))
                # It took the advisory lock, locked its first batch and now waits at the head.
                wait_for("the acting scheduler at the head", lambda: waiting_on_locks(committed) == 1, 30, [acting])
                standby = songnuan("scheduler", env=named(env, "scheduler-standby"))
                # The standby has asked for the lock at its first tick, and did not get it.
                wait_for("the standby's first try", lambda: scalar(
                    committed, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scheduler-standby' "
                               "AND query LIKE '%pg_try_advisory_lock%'"), 30, [standby])
                assert forfeits(committed) == 0
            finally:
                gate.rollback()  # let the acting one go
        wait_for("the first batch to commit", lambda: forfeits(committed) > 0, 30, [acting])
        acting.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        acting.communicate(timeout=10)
        assert acting.returncode == -signal.SIGKILL
        # Its connections are gone (their open batch rolled back, the advisory lock free): count what it did.
        wait_for("the killed scheduler's connections to close", lambda: scalar(
            committed, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'scheduler-acting'") == 0, 10)
        done_by_the_dead = forfeits(committed)
        assert 0 < done_by_the_dead < OVERDUE_KILLED, "the kill did not land in the middle of the sweep"
        assert still_due(committed) == OVERDUE_KILLED - done_by_the_dead  # no half-done batch

        # Within a minute; in practice about a tick.
        wait_for("the standby to finish", lambda: still_due(committed) == 0, 60, [standby])
        took_over_in = time.monotonic() - killed
        _, told = stop(standby)
        standby = None
    finally:
        for process in (acting, standby):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()

    assert took_over_in < 60
    assert told.count("this process now acts") == 1, told
    assert sum(map(int, re.findall(r"sweep: (\d+) forfeited", told))) == OVERDUE_KILLED - done_by_the_dead, told
    assert_forfeited_once(committed, before)
    verify = subprocess.run([str(SONGNUAN), "audit", "verify"], env=env, capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr


# ---------------------------------------------------------------- 2. three sweeps, reminders and e-mail

OVERDUE = 5000
NOT_DUE = 300
PROCESSES = 3
UNIONS = 30             # of the campaign whose reminders are due; a cadre and a head each, with addresses
HANDED_IN = range(0, UNIONS, 3)  # these unions have handed in their summary already
NOW = "2018-01-26T00:00:01+08:00"  # one second after the factory campaign's deadline


def reminders_due(engine: Engine, clock, uploads) -> int:
    """A second campaign, due three days after NOW, whose unions still have drafts and summaries to hand in, and
    two reviewers with addresses (the entered cases wait for them). Returns how many e-mails are due."""
    with Session(engine, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        campaign = make.campaign(deadline=parse_deadline("2018-01-28"))  # 3-day reminder due at NOW
        for i in range(UNIONS):
            union = make.union(f"第{i}基层工会")
            for role in ("cadre", "head"):
                make.person(role, union).email = f"{role}{i}@example.org"
            make.draft(union, campaign)
            if i in HANDED_IN:
                verbs.submit_summary(session, make.person("cadre", union), clock, uploads, campaign.id, "活动总结。")
        for i in range(2):
            make.account("reviewer").email = f"reviewer{i}@example.org"
        session.commit()
    return UNIONS * 2 + (UNIONS - len(HANDED_IN)) * 2 + 2  # deadline, summary, review_waiting


@pytest.mark.postgres
def test_three_sweeps_at_once_forfeit_once_and_mail_each_reminder_once(committed, clock, uploads, tmp_path,
                                                                       mailbox):
    before = overdue_cases(committed, clock, uploads, OVERDUE, not_due=NOT_DUE)
    emails_due = reminders_due(committed, clock, uploads)
    env = environment(committed, tmp_path, SONGNUAN_SMTP_URL=mailbox.url)

    processes = []
    try:
        with committed.connect() as gate:
            gate.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
            try:
                processes = [songnuan("sweep", "--now", NOW, env=env) for _ in range(PROCESSES)]
                wait_for("three sweeps at the head", lambda: waiting_on_locks(committed) == PROCESSES, 40, processes)
            finally:
                gate.rollback()
            outputs = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()

    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, f"exit {process.returncode}\n{out}\n{err}"
    reports = [{name: int(value) for name, value in re.findall(r"\b(\w+)=(\d+)", out)} for out, _ in outputs]
    assert sum(r["forfeited"] for r in reports) == OVERDUE, reports
    assert_forfeited_once(committed, before)

    with Session(committed) as session:
        mailed = session.execute(select(Notification.id, Notification.kind, Notification.emailed_at)
                                 .join(Account, Account.id == Notification.account_id)
                                 .where(Account.email.is_not(None))).all()
        decided = session.scalar(select(func.count()).select_from(Notification))
    # Each reminder decided once, however many processes decided at once...
    assert sum(r["reminders_queued"] for r in reports) == decided
    assert sorted({kind for _, kind, _ in mailed}) == ["deadline", "review_waiting", "summary"]
    assert len(mailed) == emails_due
    # ...and e-mailed once: what the server received, what the processes said, what the database holds.
    ids = [message["Message-ID"] for message in mailbox.messages]
    assert sorted(ids) == sorted(f"<notification-{id_}@example.org>" for id_, _, _ in mailed)
    assert sum(r["emails_sent"] for r in reports) == emails_due
    assert all(emailed_at is not None for _, _, emailed_at in mailed)
