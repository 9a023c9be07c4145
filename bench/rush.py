"""The rush: the last day before the deadline, on a real `songnuan serve` (gunicorn, several workers) on PostgreSQL.

    .venv/bin/python bench/rush.py [--clients 50] [--duration 30] [--workers 4] [--unions 10] [--cases 40]
                                   [--server postgresql+psycopg://postgres@127.0.0.1:5432/test] [--check]
                                                                                            (or: make bench-rush)

Aims (from the issue): zero errors but the intended conflicts (409), zero lost or doubled transitions, p95 under
500 ms for every endpoint, and transitions at least 0.3x the trivial endpoint's request rate. The verdict is
printed; with --check the script also exits with status 1 when an aim is missed. A broken invariant (a lost or
doubled transition, a state without its event, a chain that does not verify) always exits with status 1.

The data: a fresh database of its own on the given PostgreSQL server (dropped afterwards), schema by Alembic;
through the service verbs (tests/factories.py), a district with --unions grassroots unions and --cases cases each
in a campaign whose deadline is ahead of the real clock (the server runs on it): about a third drafted with their
papers, the rest documented, grassroots-approved, publicized or entered, so that every role finds work. Each
client has an account of its own (a password, signed in through POST /api/v1/tokens before the clock starts):
per four clients a pair of cadres of one union, that union's head and a reviewer; consecutive reviewers are
paired too.

One run, one server, two phases of --duration seconds each with the same --clients threads (requests, one
Session a thread):
1. the trivial endpoint: every client GETs /healthz (one SELECT 1) as fast as it is answered;
2. the rush: every client loops over its inbox (GET /api/v1/inbox), picks at random a case it can move forward,
   opens the case page (GET /api/v1/cases/{id}), a cadre attaches a small PDF to a draft (POST .../documents),
   and fires the move with the version the page showed (POST .../transitions); with nothing to move it reads the
   case list and a case page. A pair's leader's first move, and every fifth after it (--race-every), is a race:
   both clients of the pair fire the same move with the same version at once (a barrier releases them), and one
   must win, the other get 409 (or both, when a third client moved the case first).

Figures: per endpoint, requests/s, p50/p95/p99 (ms, as the client saw them), and status counts; 409s on moves
and uploads are the intended conflicts (the case moved under the client), any other non-2xx is an error.
Transitions/s (the successful ones) divided by /healthz's requests/s is the ratio.

Afterwards, from the database: each transition a client saw succeed has exactly one audit event (case, trigger,
state reached), no transition event lacks a success the clients saw (or a request that timed out), each case's
state is the state its last event left it in, and workflows.infra.audit.verify walks the whole chain.

The machine is shared with the clients: 50 threads of this process compete with the server's workers for the
cores, on the trivial endpoint as in the rush.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path: take it off (no file of bench/ may shadow a library)
# and put the repository's root there instead (the verbs, and the factories of the tests).
ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import base64
import datetime as dt
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

# The keys that seal personal numbers: the same in this process (which seeds) and in the server (which opens).
os.environ.setdefault("SONGNUAN_DATA_KEYS", "rush:" + base64.b64encode(secrets.token_bytes(32)).decode())
os.environ.setdefault("SONGNUAN_INDEX_KEY", base64.b64encode(secrets.token_bytes(32)).decode())

import requests
from sqlalchemy import make_url, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.demo import season_year
from tests.factories import PDF, Factory
from workflows import verbs
from workflows.actors import CONSOLE
from workflows.infra import audit
from workflows.infra.clock import UTC, FixedClock
from workflows.infra.db import make_engine
from workflows.infra.migrate import upgrade
from workflows.infra.uploads import Uploads
from workflows.inputs import parse_deadline
from workflows.models import AuditEvent, Case
from workflows.states import TRIGGERS, State

SONGNUAN = Path(sys.executable).with_name("songnuan")
P95_AIM_MS = 500
RATIO_AIM = 0.3
PASSWORD = "rush-password-2018"
# What each role moves forward, and from where (the transition table's forward path).
FORWARD = {"cadre": ("document", "publicize", "enter"), "head": ("approve",), "reviewer": ("district_approve",)}
# The seeded cases of a union, by state: a third drafted (papers attached), the rest spread along the path.
SEEDED = (State.drafted,) * 4 + (State.documented,) * 2 + (State.grassroots_approved,) * 2 + \
         (State.publicized,) * 2 + (State.entered,) * 2


# ---------------------------------------------------------------- the database and its data

@contextmanager
def fresh_database(server_url: str):
    """A database of its own on the server, dropped afterwards (the same way as tests/conftest.py)."""
    server = make_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"songnuan_rush_{os.getpid()}_{secrets.token_hex(4)}"
    for attempt in range(10):  # CREATE DATABASE fails while another session is copying template1 (another run's)
        try:
            with server.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            break
        except OperationalError as error:
            if "is being accessed by other users" not in str(error) or attempt == 9:
                raise
            time.sleep(1)
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@dataclass(frozen=True)
class Persona:
    slot: int
    username: str
    role: str
    union: str | None
    partner: int | None = None  # the slot of the pair's follower, on the leader
    leads: bool = False


def personas(clients: int, unions: list[str]) -> list[Persona]:
    """Per four clients: two cadres of one union (a pair), its head, a reviewer; reviewers pair up in turn."""
    out: list[Persona] = []
    pending_reviewer: int | None = None
    for slot in range(clients):
        cycle, place = divmod(slot, 4)
        union = unions[cycle % len(unions)]
        role = ("cadre", "cadre", "head", "reviewer")[place]
        partner, leads = None, False
        if place == 0 and slot + 1 < clients:
            partner, leads = slot + 1, True
        elif place == 3:
            if pending_reviewer is None and slot + 4 < clients:
                pending_reviewer, partner, leads = slot, slot + 4, True
            else:
                pending_reviewer = None
        out.append(Persona(slot, f"rush_{role}_{slot}", role, union if role != "reviewer" else None, partner, leads))
    return out


def seed(url: str, upload_dir: Path, unions: int, cases: int, clients: int) -> tuple[list[Persona], int]:
    """The organisation, the campaign, the cases and the clients' accounts; returns the personas and the audit
    head's sequence once all of it is written."""
    engine = make_engine(url)
    upgrade(engine)
    now = dt.datetime.now(UTC)
    clock = FixedClock(now - dt.timedelta(hours=2))  # the morning's work, done before the rush
    uploads = Uploads(upload_dir)
    with Session(engine, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        campaign = make.campaign(name="最后一天送温暖", deadline=parse_deadline(f"{season_year(now)}-01-25"),
                                 starts_on=(now - dt.timedelta(days=30)).date())
        made = [make.union(f"第{n + 1}基层工会") for n in range(unions)]
        session.commit()
        for union in made:
            make.notice(campaign, union)  # their notice lists are posted: publicized cases may be entered
            for n in range(cases):
                state = SEEDED[n % len(SEEDED)]
                if state == State.drafted:
                    make.attach(make.draft(union, campaign))
                else:
                    make.case(state, union, campaign)
                clock.advance(seconds=1)
            session.commit()
        people = personas(clients, [union.code for union in made])
        for person in people:
            verbs.create_account(session, CONSOLE, clock, person.username, person.role, PASSWORD, person.union)
        session.commit()
        head = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    engine.dispose()
    return people, head


# ---------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, upload_dir: Path, port: int, workers: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "SONGNUAN_DATABASE_URL": url, "SONGNUAN_UPLOAD_DIR": str(upload_dir),
           "SONGNUAN_SECRET_KEY": secrets.token_hex(16),
           # A cadre attaches many papers on the last day: the daily quota is not what is measured here.
           "SONGNUAN_UPLOAD_DAILY_FILES": "0", "SONGNUAN_UPLOAD_DAILY_MB": "0"}
    with log.open("wb") as out:
        server = subprocess.Popen([str(SONGNUAN), "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # bounded: 60 s for gunicorn and its workers to start
        if server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode}:\n" + "\n".join(server_failures(log)))
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.kill()
    sys.exit("the server did not answer within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# ---------------------------------------------------------------- the clients

@dataclass
class Tally:
    """What the clients saw, per endpoint; shared by the threads under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    moved: list[tuple[int, str, str]] = field(default_factory=list)  # (case, trigger, state reached)
    unanswered: list[tuple[int, str]] = field(default_factory=list)  # moves whose answer never came
    races: dict[tuple[int, str, int], list] = field(default_factory=lambda: defaultdict(list))  # the statuses

    def note(self, endpoint: str, seconds: float, status: int | str) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)
            self.statuses[endpoint][status] += 1


class Client:
    def __init__(self, base: str, tally: Tally, token: str | None = None) -> None:
        self.base, self.tally, self.http = base, tally, requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, endpoint: str, method: str, path: str, **kwargs) -> requests.Response | None:
        start = time.perf_counter()
        try:
            response = self.http.request(method, self.base + path, timeout=30, **kwargs)
        except requests.RequestException as error:
            self.tally.note(endpoint, time.perf_counter() - start, type(error).__name__)
            return None
        self.tally.note(endpoint, time.perf_counter() - start, response.status_code)
        return response

    def fire(self, case_id: int, trigger: str, version: int) -> int | None:
        response = self.call("transition", "POST", f"/api/v1/cases/{case_id}/transitions",
                             json={"trigger": trigger, "version": version})
        if response is None:
            with self.tally.lock:
                self.tally.unanswered.append((case_id, trigger))
            return None
        if response.status_code == 200:
            with self.tally.lock:
                self.tally.moved.append((case_id, trigger, response.json()["state"]))
        return response.status_code


@dataclass
class Pair:
    """A leader's proposals of a race to its follower, and the barrier that releases both requests at once. The
    follower closes the pair when its time is up, having answered every proposal made before."""

    proposals: list = field(default_factory=list)
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    barrier: threading.Barrier = field(default_factory=lambda: threading.Barrier(2))

    def propose(self, proposal: tuple[int, str, int]) -> bool:
        with self.lock:
            if not self.closed:
                self.proposals.append(proposal)
            return not self.closed

    def take(self, closing: bool) -> tuple[int, str, int] | None:
        with self.lock:
            if self.proposals:
                return self.proposals.pop()
            self.closed = self.closed or closing
            return None


def sign_in(base: str, username: str) -> str:
    response = requests.post(f"{base}/api/v1/tokens", json={"username": username, "password": PASSWORD}, timeout=60)
    response.raise_for_status()
    return response.json()["token"]


def hammer_healthz(base: str, clients: int, duration: float) -> tuple[Tally, float]:
    tally = Tally()
    stop_at = time.monotonic() + duration

    def loop() -> None:
        client = Client(base, tally)
        while time.monotonic() < stop_at:
            client.call("healthz", "GET", "/healthz")

    took = run_threads([loop] * clients, duration)
    return tally, took


def run_threads(loops: list, duration: float) -> float:
    threads = [threading.Thread(target=loop, daemon=True) for loop in loops]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 60)  # bounded: the last requests have 30 s to answer
    took = time.monotonic() - start
    if any(thread.is_alive() for thread in threads):
        sys.exit("clients still running a minute after the end of the phase")
    return took


def rush(base: str, people: list[Persona], tokens: dict[int, str], duration: float, seed: int,
         race_every: int) -> tuple[Tally, float]:
    tally = Tally()
    stop_at = time.monotonic() + duration
    pairs = {person.slot: Pair() for person in people if person.leads}
    follower_of = {person.partner: person.slot for person in people if person.leads}

    def race(client: Client, pair: Pair, proposal: tuple[int, str, int]) -> None:
        try:
            pair.barrier.wait(timeout=60)  # bounded: the follower answers at its next turn, or when its time is up
        except threading.BrokenBarrierError:  # the other never came: no race, and nothing fired
            return
        status = client.fire(*proposal)
        with tally.lock:
            tally.races[proposal].append(status)

    def loop(person: Persona) -> None:
        rng = random.Random(seed * 1000 + person.slot)
        client = Client(base, tally, tokens[person.slot])
        pair = pairs.get(person.slot) or pairs.get(follower_of.get(person.slot))
        moves = 0
        while True:
            over = time.monotonic() >= stop_at
            if pair is not None and not person.leads:  # a follower answers a proposal first
                proposal = pair.take(closing=over)
                if proposal is not None:
                    race(client, pair, proposal)
                    continue
            if over:
                break
            inbox = client.call("inbox", "GET", "/api/v1/inbox")
            if inbox is None or inbox.status_code != 200:
                continue
            movable = [(item["id"], trigger) for item in inbox.json()["items"] for trigger in item["triggers"]
                       if trigger in FORWARD[person.role]]
            if not movable:  # nothing to move: what a person does then, read
                listed = client.call("case_list", "GET", "/api/v1/cases")
                if listed is not None and listed.status_code == 200 and listed.json()["items"]:
                    client.call("case_page", "GET", f"/api/v1/cases/{rng.choice(listed.json()['items'])['id']}")
                continue
            case_id, trigger = rng.choice(movable)
            if trigger == "document":  # the last paper, scanned this morning
                client.call("upload", "POST", f"/api/v1/cases/{case_id}/documents", data={"kind": "hardship_proof"},
                            files={"file": ("困难证明.pdf", PDF, "application/pdf")})
            page = client.call("case_page", "GET", f"/api/v1/cases/{case_id}")
            if page is None or page.status_code != 200:
                continue
            case = page.json()
            if trigger not in case["triggers"]:
                continue  # moved meanwhile
            moves += 1
            proposal = (case_id, trigger, case["version"])
            if person.leads and (moves - 1) % race_every == 0 and pair.propose(proposal):
                race(client, pair, proposal)
            else:
                client.fire(*proposal)

    took = run_threads([lambda person=person: loop(person) for person in people], duration)
    return tally, took


# ---------------------------------------------------------------- the figures

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


CONFLICT_ENDPOINTS = ("transition", "upload")


def table(tally: Tally, took: float) -> tuple[list[str], int, float]:
    """The lines of the table, the number of errors, the worst p95 (ms)."""
    lines = [f"  {'endpoint':<12}{'requests':>9}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
             f"  statuses"]
    errors, worst = 0, 0.0
    for endpoint in sorted(tally.latencies):
        values = tally.latencies[endpoint]
        statuses = tally.statuses[endpoint]
        failed = sum(count for status, count in statuses.items()
                     if not (isinstance(status, int) and (200 <= status < 300 or
                                                          (status == 409 and endpoint in CONFLICT_ENDPOINTS))))
        errors += failed
        p95 = percentile(values, 0.95)
        worst = max(worst, p95)
        lines.append(f"  {endpoint:<12}{len(values):>9}{len(values) / took:>9.1f}{percentile(values, 0.5):>9.1f}"
                     f"{p95:>9.1f}{percentile(values, 0.99):>9.1f}{failed:>8}  "
                     + " ".join(f"{status}:{count}" for status, count in sorted(statuses.items(), key=str)))
    return lines, errors, worst


def check_database(url: str, seeded_head: int, tally: Tally) -> list[str]:
    """The invariants, from the database; the problems found (none when all hold)."""
    problems: list[str] = []
    engine = make_engine(url)
    with Session(engine) as session:
        events = session.execute(select(AuditEvent.case_id, AuditEvent.action, AuditEvent.to_state)
                                 .where(AuditEvent.seq > seeded_head, AuditEvent.action.in_([str(t) for t in TRIGGERS]))
                                 ).all()
        written = Counter((case_id, action, to_state) for case_id, action, to_state in events)
        seen = Counter(tally.moved)
        for key, count in seen.items():
            if count != 1:
                problems.append(f"transition {key} answered 200 {count} times")
            if written[key] != 1:
                problems.append(f"transition {key}: {written[key]} audit events")
        unanswered = Counter(tally.unanswered)
        for (case_id, action, to_state), count in written.items():
            if (case_id, action, to_state) not in seen and unanswered[(case_id, action)] < count:
                problems.append(f"an audit event of {action} on case {case_id} that no client saw succeed")
        # Each case's state is where its last event left it (an action that does not move writes the state too).
        last = dict(session.execute(text(
            "SELECT DISTINCT ON (case_id) case_id, to_state FROM audit_events "
            "WHERE case_id IS NOT NULL AND to_state IS NOT NULL ORDER BY case_id, seq DESC")).all())
        for case_id, state in session.execute(select(Case.id, Case.state)):
            if last.get(case_id) != state:
                problems.append(f"case {case_id} is {state}, its last event says {last.get(case_id)}")
        verification = audit.verify(session)
        if not verification.ok:
            problems.append(f"the chain does not verify: {verification.as_dict()}")
        count = verification.events
    engine.dispose()
    print(f"database: {len(written)} transition events for {len(seen)} transitions seen, "
          f"{len(tally.unanswered)} unanswered; chain of {count} events {'verifies' if verification.ok else 'BROKEN'}")
    return problems


def server_failures(log: Path) -> list[str]:
    """What the server's log (JSON lines) tells of its errors: each message, and the end of its traceback."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"level": "ERROR" if "Traceback" in line or "Error" in line else "", "message": line}
        if entry.get("level") in ("ERROR", "CRITICAL"):
            out.append(entry.get("message", ""))
            out += ["    " + text for text in str(entry.get("exc_info", "")).splitlines()[-6:]]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of each phase")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--unions", type=int, default=10)
    parser.add_argument("--cases", type=int, default=40, help="cases per union")
    parser.add_argument("--race-every", type=int, default=5, help="every n-th move of a pair's leader is a race")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--server", default=os.environ.get("SONGNUAN_TEST_DATABASE_URL",
                                                          "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
                        help="a PostgreSQL URL: a fresh database is made on its server and dropped afterwards")
    parser.add_argument("--check", action="store_true", help="exit 1 when an aim is missed")
    args = parser.parse_args(argv)
    if not args.server.startswith("postgresql"):
        parser.error("--server must be a PostgreSQL URL")

    folder = Path(tempfile.mkdtemp(prefix="songnuan-rush-"))
    try:
        with fresh_database(args.server) as url:
            start = time.perf_counter()
            people, seeded_head = seed(url, folder / "uploads", args.unions, args.cases, args.clients)
            print(f"seeded {args.unions} unions x {args.cases} cases, {len(people)} accounts, "
                  f"{seeded_head} audit events in {time.perf_counter() - start:.1f} s")
            port = free_port()
            server = start_server(url, folder / "uploads", port, args.workers, folder / "server.log")
            base = f"http://127.0.0.1:{port}"
            try:
                tokens = {person.slot: sign_in(base, person.username) for person in people}
                load = [os.getloadavg()[0]]
                trivial, trivial_took = hammer_healthz(base, args.clients, args.duration)
                busy, busy_took = rush(base, people, tokens, args.duration, args.seed, args.race_every)
                load.append(os.getloadavg()[0])
            finally:
                stop_server(server)
            problems = check_database(url, seeded_head, busy)
            failures = server_failures(folder / "server.log")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\n{args.clients} clients, {args.workers} workers, {args.duration:g} s a phase, on loopback "
          f"(this machine's {os.cpu_count()} cores shared by the clients, the server and PostgreSQL; load average "
          f"{load[0]:.1f} before the phases, {load[1]:.1f} after)")
    print(f"phase 1, the trivial endpoint ({trivial_took:.1f} s):")
    lines, trivial_errors, _ = table(trivial, trivial_took)
    print("\n".join(lines))
    print(f"phase 2, the rush ({busy_took:.1f} s):")
    lines, errors, worst = table(busy, busy_took)
    print("\n".join(lines))
    healthz_rate = len(trivial.latencies["healthz"]) / trivial_took
    moves_rate = len(busy.moved) / busy_took
    conflicts = sum(busy.statuses[e][409] for e in CONFLICT_ENDPOINTS)
    # Two pairs may race on the same case and version at once: one of the four must win, all the others get 409.
    outcomes = Counter("other" if any(status not in (200, 409) for status in statuses) else min(statuses.count(200), 2)
                       for statuses in busy.races.values())
    print(f"transitions: {len(busy.moved)} ({moves_rate:.1f}/s); intended conflicts (409): {conflicts}")
    print(f"races: {len(busy.races)}: one won, the others 409: {outcomes[1]}; all 409 (moved by a third): "
          f"{outcomes[0]}; more than one won: {outcomes[2]}; other (an error or no answer): {outcomes['other']}")
    ratio = moves_rate / healthz_rate if healthz_rate else 0.0
    print(f"ratio transitions/s / healthz requests/s: {ratio:.3f} (aim >= {RATIO_AIM}); "
          f"all rush requests/s / healthz: {sum(map(len, busy.latencies.values())) / busy_took / healthz_rate:.3f}")
    if outcomes[2]:
        problems.append(f"{outcomes[2]} races won by more than one client")
    aims = {"no errors": errors + trivial_errors == 0, f"p95 < {P95_AIM_MS} ms": worst < P95_AIM_MS,
            f"ratio >= {RATIO_AIM}": ratio >= RATIO_AIM, "nothing lost or doubled": not problems}
    print("aims: " + ", ".join(f"{name}: {'met' if met else 'MISSED'}" for name, met in aims.items()))
    if failures:
        print("the server's log of its failures (the first 40 lines):")
        print("\n".join(failures[:40]))
    for problem in problems[:20]:
        print("  " + problem)
    if problems:
        return 1
    return 1 if args.check and not all(aims.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
