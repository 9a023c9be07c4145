"""How many transitions per second the service verbs sustain, on SQLite and on PostgreSQL, and how far that is from
the raw writes on the same database.

    .venv/bin/python bench/transition_rate.py [--cases N] [--database-url URL ...] [--no-synchronous-commit]
                                              [--check] [--profile FILE]
    (or: make bench-transition-rate)

Goal (from the issue): at least 1,000 transitions/s through the verbs on each database. The verdict is printed; with
--check the script also exits with status 1 when the goal is missed on one of them.

--database-url may be given several times, one run each: `sqlite` is a fresh SQLite file in a temporary folder; a
postgresql+psycopg:// URL names a server, on which the run creates two fresh databases (one for the services, one
for the floor) and drops them afterwards. Default: both, the server being SONGNUAN_TEST_DATABASE_URL's or
127.0.0.1:5432. --no-synchronous-commit shows PostgreSQL's figures without the wait for each commit's WAL flush.

Part 1, the services: on a fresh database (schema by workflows.infra.migrate.upgrade on
workflows.infra.db.make_engine), N cases go the whole way, one verb per session and per commit as a web request
would do it, each sending the version its page showed: create_case, add_document for each required document (four
for a case that is not medical: the bank account is a field), then fire document (cadre), approve (the head, a
second account), publicize, enter (cadre; the union's notice list is posted beforehand), district_approve (reviewer)
and disburse (finance). The six fire calls per case are the transitions counted; creations and documents are timed
and reported apart.

Part 2, the floor: on a second fresh database with the same schema, the same database writes made with the driver
alone (sqlite3, or psycopg): per transition one UPDATE of the case's state and version, one INSERT of a hash-chained
audit row (and for district_approve the archive's update and its event, as the services write), one commit. On
SQLite the same journal settings (WAL, synchronous=NORMAL, foreign keys and secure_delete on) and BEGIN IMMEDIATE
like the services' writing sessions; on PostgreSQL the server's defaults, as the services run.

The ratio of the two rates is the cost of everything the services add: the ORM, the rules and their queries,
the audit head, the checks.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import json
import os
import pstats
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, insert, make_url, select

from workflows import verbs
from workflows.actors import CONSOLE
from workflows.identity import id_check_digit, luhn_complete
from workflows.infra import audit
from workflows.infra.clock import LOCAL, FixedClock, to_db
from workflows.infra.db import make_engine, scratch_database, session_factory
from workflows.infra.migrate import upgrade
from workflows.infra.uploads import Uploads
from workflows.inputs import parse_deadline
from workflows.models import Account, Archive, Campaign, Case, Union
from workflows.rules import required_documents
from workflows.states import BY_TRIGGER, State

GOAL = 1000  # transitions per second through the verbs
_TEST_SERVER = os.environ.get("SONGNUAN_TEST_DATABASE_URL", "")
DEFAULT_SERVER = _TEST_SERVER if _TEST_SERVER.startswith("postgresql") else \
    "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = dt.datetime(2030, 1, 8, 9, 0, tzinfo=LOCAL)
DEADLINE = "2031-01-25"  # far ahead: nothing is ever late
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
# Who fires each transition, in order, from a draft with every document attached.
ROAD = (("cadre", "document"), ("head", "approve"), ("cadre", "publicize"), ("cadre", "enter"),
        ("reviewer", "district_approve"), ("finance", "disburse"))


@dataclass(frozen=True)
class Person:
    """An actor as a web request holds it once signed in: nothing attached to any session."""

    id: int
    username: str
    role: str
    union_id: int | None


def id_number(k: int, region: str = "110105") -> str:
    """The k-th of distinct valid resident ID numbers (1,000 per birth date)."""
    born = dt.date(1960, 1, 1) + dt.timedelta(days=k // 1000)
    first17 = f"{region}{born:%Y%m%d}{k % 1000:03d}"
    return first17 + id_check_digit(first17)


def case_data(n: int) -> dict:
    return {
        "applicant": {"name": "王建国", "gender": "male", "id_number": id_number(2 * n), "phone": "13912345678",
                      "employer": "华光机械厂"},
        "worker_group": "hardship_worker",
        "category": "deep",
        "causes": {"primary": "illness", "secondary": "schooling"},
        "household": {"annual_income": "24000", "housing": "租住公房",
                      "members": [{"name": "李秀英", "relation": "配偶", "id_number": id_number(2 * n + 1),
                                   "monthly_income": "800", "health": "良好", "occupation": "无业"}]},
        "aid": {"kind": "funds", "amount": "1000", "medical": False},
        "bank_account": luhn_complete(f"622202{n:012d}"),
    }


# ---------------------------------------------------------------- part 1: the services

@dataclass
class Timing:
    cases: int = 0
    creations: float = 0.0
    documents: int = 0
    documenting: float = 0.0
    transitions: int = 0
    firing: float = 0.0
    firing_cpu: float = 0.0  # this process's CPU time in the fire calls: near `firing` unless the machine is busy

    def rate(self) -> float:
        return self.transitions / self.firing


def set_up(Session, clock: FixedClock, uploads: Uploads) -> tuple[int, dict[str, Person]]:
    """The organisation, four accounts and a campaign, as an administrator would set them up; the union's notice
    list posted (a case is entered only after that)."""
    with Session() as session:
        verbs.create_union(session, CONSOLE, clock, "QZGH", "某区总工会")
        verbs.create_union(session, CONSOLE, clock, "HG", "华光机械厂工会", "QZGH")
        people = {}
        for role in ("cadre", "head", "reviewer", "finance"):
            account = verbs.create_account(session, CONSOLE, clock, f"bench_{role}", role, "bench-password",
                                                  "HG" if role in ("cadre", "head") else None)
            people[role] = Person(account.id, account.username, account.role, account.union_id)
        campaign = verbs.create_campaign(session, CONSOLE, clock, name="压力测试送温暖",
                                                deadline=parse_deadline(DEADLINE), publicity_days=0,
                                                starts_on=NOW.date() - dt.timedelta(days=30),
                                                ends_on=dt.date(2031, 2, 28))
        verbs.record_notice(session, people["cadre"], clock, uploads, campaign.id, "厂区公告栏", NOW.date(),
                            "notice.pdf", PDF)
        session.commit()
        return campaign.id, people


def run_services(url: str, folder: Path, cases: int, profiler: cProfile.Profile | None) -> Timing:
    engine = make_engine(url)
    upgrade(engine)
    Session = session_factory(engine, writes=True)  # as a request that writes: BEGIN IMMEDIATE on SQLite
    clock = FixedClock(NOW)
    uploads = Uploads(folder / "uploads")
    campaign_id, people = set_up(Session, clock, uploads)
    timing = Timing()
    tick = time.perf_counter

    for n in range(cases):
        # Each request sends the version of the case that the page it came from showed, as the forms do.
        start = tick()
        with Session() as session:  # one request
            case = verbs.create_case(session, people["cadre"], clock, campaign_id, case_data(n))
            session.commit()
            case_id, archive_id, version = case.id, case.archive_id, case.version
            kinds = required_documents(case)
        with Session() as session:  # the home visit, before the first public notice
            verbs.record_visit(session, people["cadre"], clock, archive_id, NOW.date(), "干部甲", "属实")
            session.commit()
        timing.creations += tick() - start
        start = tick()
        for kind in kinds:
            with Session() as session:
                document = verbs.add_document(session, people["cadre"], clock, uploads, case_id, kind,
                                                 f"{kind}.pdf", PDF, version=version)
                session.commit()
            version = document.case.version
        timing.documenting += tick() - start
        timing.documents += len(kinds)
        start, start_cpu = tick(), time.process_time()
        if profiler:
            profiler.enable()
        for role, trigger in ROAD:
            with Session() as session:
                reference = f"ICBC-{n:06d}" if trigger == "disburse" else None
                version = verbs.fire(session, people[role], clock, case_id, trigger, version,
                                        payment_reference=reference).version
                session.commit()
        if profiler:
            profiler.disable()
        timing.firing += tick() - start
        timing.firing_cpu += time.process_time() - start_cpu
        timing.transitions += len(ROAD)
        timing.cases += 1

    with Session() as session:  # the work really happened, and the trail holds
        disbursed = session.scalar(select(func.count()).select_from(Case).where(Case.state == State.disbursed))
        verification = audit.verify(session)
    engine.dispose()
    if disbursed != cases or not verification.ok:
        sys.exit(f"bench broken: {disbursed} of {cases} cases disbursed; audit {verification.as_dict()}")
    return timing


# ---------------------------------------------------------------- part 2: the driver alone

class Driver:
    """The database's own driver with nothing above it: sqlite3 tuned as make_engine tunes it, or psycopg."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.db = sqlite3.connect(make_url(url).database, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "secure_delete=ON"):
                self.db.execute(f"PRAGMA {pragma}")
        else:
            import psycopg
            self.db = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(
                hide_password=False))

    def begin(self) -> None:
        if self.sqlite:
            self.db.execute("BEGIN IMMEDIATE")  # as the services' writing sessions do
        # psycopg opens a transaction at the first statement

    def execute(self, sql: str, params: tuple) -> int:
        return self.db.execute(sql if self.sqlite else sql.replace("?", "%s"), params).rowcount

    def commit(self) -> None:
        if self.sqlite:
            self.db.execute("COMMIT")
        else:
            self.db.commit()

    def stamp(self, moment: dt.datetime):
        return moment.isoformat(sep=" ") if self.sqlite else moment


def seed_raw(url: str, cases: int) -> None:
    """The same tables and indexes as the services', and N drafted cases of one union to move."""
    engine = make_engine(url)
    upgrade(engine)
    now = to_db(NOW)
    with engine.begin() as connection:
        connection.execute(insert(Union.__table__), {"id": 1, "code": "HG", "name": "华光机械厂工会",
                                                     "kind": "grassroots"})
        connection.execute(insert(Account.__table__), {"id": 1, "username": "bench_cadre", "password_hash": "-",
                                                       "role": "cadre", "union_id": 1, "display_name": "",
                                                       "active": True, "created_at": now})
        connection.execute(insert(Campaign.__table__), {
            "id": 1, "name": "raw", "starts_on": dt.date(2029, 12, 1), "ends_on": dt.date(2031, 2, 28),
            "deadline": now + dt.timedelta(days=365), "report_deadline": now + dt.timedelta(days=365),
            "publicity_days": 0, "reminder_days": [7, 3, 1]})
        connection.execute(insert(Archive.__table__), [
            {"id": n + 1, "version": 1, "union_id": 1, "status": "pending", "applicant_name": "王建国",
             "secondary_causes": [], "single_parent": False, "zero_employment": False, "created_at": now,
             "updated_at": now} for n in range(cases)])
        connection.execute(insert(Case.__table__), [
            {"id": n + 1, "version": 1, "campaign_id": 1, "union_id": 1, "archive_id": n + 1,
             "application_kind": "new", "state": "drafted", "applicant_name": "王建国", "secondary_causes": [],
             "medical": False, "created_by_id": 1, "created_at": now, "updated_at": now} for n in range(cases)])
    engine.dispose()


def run_raw(url: str, cases: int) -> tuple[int, float, float]:
    seed_raw(url, cases)
    db = Driver(url)
    states = [State.drafted.value] + [BY_TRIGGER[trigger].dest.value for _, trigger in ROAD]
    seq, prev = 0, audit.GENESIS
    stamp = db.stamp(to_db(NOW))
    text_stamp = to_db(NOW).isoformat(sep=" ")
    count = 0
    tick = time.perf_counter
    start, start_cpu = tick(), time.process_time()
    for n in range(cases):
        case_id = n + 1
        for i, (role, trigger) in enumerate(ROAD):
            before, after = states[i], states[i + 1]
            db.begin()
            updated = db.execute("UPDATE cases SET state = ?, version = ?, updated_at = ? "
                                 "WHERE id = ? AND version = ?", (after, i + 2, stamp, case_id, i + 1))
            if updated != 1:
                raise RuntimeError("raw update missed its row")
            seq += 1
            changes = json.dumps({"state": [before, after]})
            digest = hashlib.sha256(f"{seq}|{text_stamp}|{case_id}|{trigger}|{changes}|{prev}".encode()).hexdigest()
            db.execute("INSERT INTO audit_events (seq, occurred_at, actor_id, actor, role, case_id, action, "
                       "from_state, to_state, comment, changes, prev_hash, hash) "
                       "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
                       (seq, stamp, f"bench_{role}", role, case_id, trigger, before, after, changes, prev, digest))
            prev = digest
            if BY_TRIGGER[trigger].updates_archive:  # as the services do: the archive takes the approval
                db.execute("UPDATE archives SET status = 'active', version = version + 1, last_helped_at = ? "
                           "WHERE id = ?", (stamp, case_id))
                seq += 1
                digest = hashlib.sha256(f"{seq}|{text_stamp}|{case_id}|activate|{prev}".encode()).hexdigest()
                db.execute("INSERT INTO audit_events (seq, occurred_at, actor_id, actor, role, case_id, archive_id, "
                           "action, from_state, to_state, comment, changes, prev_hash, hash) "
                           "VALUES (?, ?, 1, ?, ?, NULL, ?, 'activate', 'pending', 'active', NULL, '{}', ?, ?)",
                           (seq, stamp, f"bench_{role}", role, case_id, prev, digest))
                prev = digest
            db.commit()
            count += 1
    elapsed, cpu = tick() - start, time.process_time() - start_cpu
    db.db.close()
    return count, elapsed, cpu


# ---------------------------------------------------------------- main

@contextmanager
def databases(url: str, folder: Path, synchronous_commit: bool = True) -> Iterator[tuple[str, str]]:
    """The URLs of two fresh databases, one for the services and one for the floor."""
    if url == "sqlite":
        yield f"sqlite:///{folder / 'services.db'}", f"sqlite:///{folder / 'raw.db'}"
        return
    if not url.startswith("postgresql"):
        raise SystemExit(f"--database-url: 'sqlite' or a postgresql+psycopg:// URL, not {url!r}")
    with scratch_database(url, "songnuan_bench_rate") as services, scratch_database(url, "songnuan_bench_raw") as raw:
        if synchronous_commit:
            yield services, raw
        else:  # the connections' own setting (libpq options), on both sides
            yield tuple(make_url(u).update_query_dict({"options": "-csynchronous_commit=off"})
                        .render_as_string(hide_password=False) for u in (services, raw))


def report(name: str, timing: Timing, raw_count: int, raw_seconds: float, raw_cpu: float) -> bool:
    raw_rate = raw_count / raw_seconds
    print(f"{name}: cases driven the whole way: {timing.cases} (one commit per verb)")
    print(f"  create_case        {timing.cases:7d} in {timing.creations:7.2f} s  "
          f"{timing.cases / timing.creations:8.0f} /s")
    print(f"  add_document       {timing.documents:7d} in {timing.documenting:7.2f} s  "
          f"{timing.documents / timing.documenting:8.0f} /s")
    print(f"  transitions (fire) {timing.transitions:7d} in {timing.firing:7.2f} s  {timing.rate():8.0f} /s"
          f"  (CPU {timing.firing_cpu:.2f} s: {timing.transitions / timing.firing_cpu:.0f} /s)")
    print(f"  raw driver, same writes: {raw_count:7d} in {raw_seconds:7.2f} s  {raw_rate:8.0f} /s"
          f"  (CPU {raw_cpu:.2f} s)")
    print(f"  ratio raw / services: {raw_rate / timing.rate():.1f}x")
    # This process's CPU alone (on PostgreSQL the server's work is elsewhere): steadier than the clock on a
    # machine shared with other work.
    print(f"  ratio of CPU time, services / raw: {timing.firing_cpu / max(raw_cpu, 1e-9):.1f}x")
    met = timing.rate() >= GOAL
    print(f"  goal {GOAL} transitions/s through the verbs: {'met' if met else 'NOT met'}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500, help="cases driven the whole way (default 500)")
    parser.add_argument("--database-url", action="append", metavar="URL",
                        help="'sqlite' (a temporary file) or a PostgreSQL server's URL, on which fresh databases are "
                             "made; may be given several times, one run each (default: sqlite, then "
                             f"{DEFAULT_SERVER})")
    parser.add_argument("--no-synchronous-commit", action="store_true",
                        help="PostgreSQL: commit without waiting for the WAL to reach the disk, on both sides, to see "
                             "the cost of the code apart from the disk's flush (a deployment keeps it on)")
    parser.add_argument("--check", action="store_true", help=f"exit with status 1 if the services stay below "
                                                                 f"{GOAL} transitions/s")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the transitions to FILE (one per "
                                                          "database: FILE.sqlite, FILE.postgresql) and print its "
                                                          "top functions")
    args = parser.parse_args(argv)
    if args.cases < 1:
        parser.error("--cases must be at least 1")

    all_met = True
    for url in args.database_url or ["sqlite", DEFAULT_SERVER]:
        name = "SQLite (WAL, synchronous=NORMAL)" if url == "sqlite" else \
            "PostgreSQL (synchronous_commit=off)" if args.no_synchronous_commit else "PostgreSQL"
        profiler = cProfile.Profile() if args.profile else None
        with tempfile.TemporaryDirectory(prefix="songnuan-bench-") as folder, \
                databases(url, Path(folder), not args.no_synchronous_commit) as (services_url, raw_url):
            timing = run_services(services_url, Path(folder), args.cases, profiler)
            raw_count, raw_seconds, raw_cpu = run_raw(raw_url, args.cases)
        all_met &= report(name, timing, raw_count, raw_seconds, raw_cpu)
        if profiler:
            path = f"{args.profile}.{'sqlite' if url == 'sqlite' else 'postgresql'}"
            profiler.dump_stats(path)
            pstats.Stats(path).sort_stats("cumulative").print_stats(40)
    return 0 if all_met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
