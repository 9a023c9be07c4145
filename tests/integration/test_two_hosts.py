"""Two hosts (issue 16): two `songnuan serve` and two `songnuan scheduler` processes over one PostgreSQL database and
one S3 bucket (moto's server on loopback), as several machines run them behind a load balancer.

All four start at once. The acting scheduler is killed with SIGKILL half-way through its deadline sweep; the
standby takes the advisory lock at its next tick and finishes the sweep while work goes through both servers (a
cadre's papers uploaded through host A and downloaded through host B, moves made on both). Then host A (its
gunicorn master and worker: the machine is gone) is killed with SIGKILL too, and host B serves everything, the
papers uploaded through A included, and takes the rest of the moves. Every overdue case is forfeited once, every
move the clients saw succeed has exactly one audit event and nothing else moved, every paper is in the bucket once,
and the chain verifies.

The overdue cases belong to the factory's campaign, whose deadline (2018-01-25) is long past on the real clock the
schedulers run on, so nothing waits for a deadline; the cases moved through the servers belong to a campaign whose
deadline is ahead of the real clock (the servers run on it too).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.demo import season_year
from workflows import verbs
from workflows.actors import CONSOLE
from workflows.infra.clock import UTC, FixedClock
from workflows.inputs import parse_deadline
from workflows.models import AuditEvent, Case, Document
from workflows.states import TRIGGERS, State

from ..factories import PDF, PNG, Factory
from .test_scheduler_processes import (
    SONGNUAN,
    assert_forfeited_once,
    environment,
    forfeits,
    named,
    overdue_cases,
    scalar,
    still_due,
    waiting_on_locks,
    wait_for,
)
from .test_serve import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # real processes over PostgreSQL's advisory lock

OVERDUE = 600    # a sweep of 60 batches of 10, killed half-way
CASES = 3        # moved through the servers, each from drafted to district_approved


def seed_live_work(engine, uploads) -> tuple[dict[str, str], list[int]]:
    """A union of the live campaign with a cadre and a head, a reviewer, each with an API token; drafts (by a
    colleague of the cadre) of visited households without their papers, and the union's notice list posted.
    Returns (tokens by role, case ids)."""
    clock = FixedClock(dt.datetime.now(UTC) - dt.timedelta(hours=1))
    with Session(engine, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        campaign = make.campaign(deadline=parse_deadline(f"{season_year(clock.now())}-01-25"),
                                 starts_on=clock.now().date() - dt.timedelta(days=30))
        union = make.union("两地工会")
        tokens = {}
        for role in ("cadre", "head", "reviewer"):
            account = verbs.create_account(session, CONSOLE, clock, f"two_{role}", role, "two-hosts-password",
                                           union.code if role != "reviewer" else None)
            tokens[role] = verbs.issue_token(session, clock, account)
        cases = [make.draft(union, campaign).id for _ in range(CASES)]
        make.notice(campaign, union)
        session.commit()
    return tokens, cases


class Host:
    """One `songnuan serve` (one worker: the test is of hosts, not of workers), in a process group of its own (its
    master and worker die together, as on a machine that is gone)."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.port, self.log = free_port(), log  # its log: where a failure's 500 is explained
        self.base = f"http://127.0.0.1:{self.port}"
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [str(SONGNUAN), "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", "1"],
                env=named(env, name), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.http = requests.Session()

    def wait_until_up(self) -> None:
        wait_for(f"{self.base} to answer", self.answers, 60, [self.process])

    def answers(self) -> bool:
        try:
            return urllib.request.urlopen(f"{self.base}/healthz", timeout=2).status == 200
        except (OSError, urllib.error.URLError):
            return False

    def call(self, method: str, path: str, token: str, **kwargs) -> requests.Response:
        return self.http.request(method, f"{self.base}/api/v1{path}", headers={"Authorization": f"Bearer {token}"},
                                 timeout=30, **kwargs)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def scheduler(name: str, env: dict[str, str], tmp_path: Path) -> subprocess.Popen:
    """A `songnuan scheduler`, its database connections named `name`, its output in a file (never a pipe that
    nobody reads while it runs)."""
    with (tmp_path / f"{name}.log").open("w") as out:
        return subprocess.Popen([str(SONGNUAN), "scheduler"], env=named(env, name), stdout=out,
                                stderr=subprocess.STDOUT)


class Desk:
    """The people at work, and what they saw: each move answered 200, by case."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens
        self.moved: list[tuple[int, str, str]] = []
        self.papers: dict[str, bytes] = {}  # document id -> the bytes uploaded

    def move(self, host: Host, role: str, case_id: int, trigger: str) -> None:
        token = self.tokens[role]
        page = host.call("GET", f"/cases/{case_id}", token)
        assert page.status_code == 200, page.text
        assert trigger in page.json()["triggers"], (trigger, page.json()["blocked"])
        response = host.call("POST", f"/cases/{case_id}/transitions", token,
                             json={"trigger": trigger, "version": page.json()["version"]})
        assert response.status_code == 200, response.text
        self.moved.append((case_id, trigger, response.json()["state"]))
        # The same move again with the version seen: the other host's answer is the same 409.
        again = host.call("POST", f"/cases/{case_id}/transitions", token,
                          json={"trigger": trigger, "version": page.json()["version"]})
        assert again.status_code == 409 and again.json()["error"] == "stale", again.text

    def attach_papers(self, host: Host, case_id: int) -> None:
        token = self.tokens["cadre"]
        page = host.call("GET", f"/cases/{case_id}", token)
        assert page.status_code == 200, page.text
        missing = page.json()["missing_documents"]
        assert missing
        for n, kind in enumerate(missing):
            content = (PDF if n % 2 else PNG) + f"case {case_id} {kind}".encode()
            response = host.call("POST", f"/cases/{case_id}/documents", token, data={"kind": kind},
                                 files={"file": (f"{kind}.{'pdf' if n % 2 else 'png'}", content)})
            assert response.status_code == 201, response.text
            self.papers[response.json()["id"]] = content

    def read_papers(self, host: Host, case_id: int) -> None:
        """Every paper of the case, through `host`: the bytes that were uploaded, whichever host took them."""
        documents = host.call("GET", f"/cases/{case_id}", self.tokens["cadre"]).json()["documents"]
        assert documents and all(document["id"] in self.papers for document in documents)
        for document in documents:
            response = host.call("GET", f"/cases/{case_id}/documents/{document['id']}", self.tokens["cadre"])
            assert response.status_code == 200, response.text
            assert response.content == self.papers[document["id"]]


def test_two_hosts_one_killed_with_the_acting_scheduler_the_survivors_carry_on(committed, clock, uploads, tmp_path,
                                                                                s3):
    before = overdue_cases(committed, clock, uploads, OVERDUE)
    tokens, cases = seed_live_work(committed, uploads)
    env = environment(committed, tmp_path, SONGNUAN_SCHEDULER_TICK="1", SONGNUAN_SWEEP_BATCH="10", **s3.env)
    env.pop("SONGNUAN_UPLOAD_DIR")  # the bucket, not a folder: the hosts share nothing but the database and it
    env.update({name: os.environ[name] for name in ("SONGNUAN_DATA_KEYS", "SONGNUAN_INDEX_KEY")})  # as the seed's
    desk = Desk(tokens)
    a = b = acting = standby = None
    try:
        with committed.connect() as gate:
            gate.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))  # nobody appends yet
            try:
                # Everything starts at once. The scheduler that takes the advisory lock first acts: it locks its
                # first batch and waits at the audit head; the other asks for the lock at its first tick, and does
                # not get it.
                a, b = Host("host-a", env, tmp_path / "host-a.log"), Host("host-b", env, tmp_path / "host-b.log")
                schedulers = {name: scheduler(name, env, tmp_path) for name in ("scheduler-1", "scheduler-2")}
                wait_for("a scheduler at the head", lambda: waiting_on_locks(committed) == 1, 60,
                         list(schedulers.values()))
                acting_name = scalar(committed, "SELECT application_name FROM pg_stat_activity "
                                                "WHERE datname = current_database() AND wait_event_type = 'Lock'")
                (standby_name,) = set(schedulers) - {acting_name}
                acting, standby = schedulers[acting_name], schedulers[standby_name]
                wait_for("the standby's first try", lambda: scalar(
                    committed, "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                               "AND query LIKE '%pg_try_advisory_lock%'", name=standby_name), 60, [standby])
                a.wait_until_up()
                b.wait_until_up()
                assert forfeits(committed) == 0
            finally:
                gate.rollback()  # let the acting one go

        # The acting scheduler killed half-way through its sweep: its open batch rolls back, the lock is free.
        wait_for("half the sweep", lambda: forfeits(committed) >= OVERDUE // 2, 60, [acting])
        acting.send_signal(signal.SIGKILL)
        acting.wait(timeout=10)
        assert acting.returncode == -signal.SIGKILL
        wait_for("the killed scheduler's connections to close", lambda: scalar(
            committed, "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name",
            name=acting_name) == 0, 10)
        done_by_the_dead = forfeits(committed)
        assert 0 < done_by_the_dead < OVERDUE, "the kill did not land in the middle of the sweep"

        # Both hosts at work while the standby takes over: the papers go up through A and come back through B;
        # moves on both.
        for n, case_id in enumerate(cases):
            desk.attach_papers(a, case_id)
            desk.read_papers(b, case_id)
            first, second = (a, b) if n % 2 else (b, a)
            desk.move(first, "cadre", case_id, "document")
            desk.move(second, "head", case_id, "approve")

        # Host A gone (master and workers at once); host B alone serves every paper, those uploaded through A
        # included, and takes the rest of the road to the district.
        a.kill()
        assert a.process.returncode == -signal.SIGKILL and not a.answers()
        for case_id in cases:
            desk.read_papers(b, case_id)
            desk.move(b, "cadre", case_id, "publicize")
            desk.move(b, "cadre", case_id, "enter")
            desk.move(b, "reviewer", case_id, "district_approve")
        wait_for("the standby to finish the sweep", lambda: still_due(committed) == 0, 60, [standby])
        standby.send_signal(signal.SIGTERM)
        standby.wait(timeout=30)
    finally:
        for host in (a, b):
            if host is not None:
                host.stop()
        for process in (acting, standby):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    told = (tmp_path / f"{standby_name}.log").read_text()
    assert told.count("this process now acts") == 1, told
    # The sweep, exactly once: each overdue case forfeited once, by the dead scheduler or the standby.
    assert_forfeited_once(committed, before)
    with Session(committed) as session:
        # Each move the clients saw has its one event; no other move was made; the cases are where they were led.
        events = session.execute(select(AuditEvent.case_id, AuditEvent.action, AuditEvent.to_state).where(
            AuditEvent.case_id.in_(cases), AuditEvent.action.in_([str(t) for t in TRIGGERS]))).all()
        assert Counter(events) == Counter(desk.moved)
        assert len(desk.moved) == len(cases) * 5
        assert {case.state for case in session.scalars(select(Case).where(Case.id.in_(cases)))} == \
            {State.district_approved}
        # Every paper in the bucket once, under its document's id, and nowhere else.
        stored = session.scalars(select(Document.id).where(Document.case_id.in_(cases))).all()
    assert sorted(stored) == sorted(desk.papers)
    assert sorted(key for key in s3.objects() if key.removeprefix(s3.prefix) in desk.papers) == \
        sorted(s3.prefix + key for key in desk.papers)
    verify = subprocess.run([str(SONGNUAN), "audit", "verify"], env=env, capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
