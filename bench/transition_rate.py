"""How many transitions per second the service verbs sustain on SQLite, and how far that is from the raw writes.

    .venv/bin/python bench/transition_rate.py [--cases N] [--check] [--profile FILE]      (or: make bench)

Goal (from the issue): at least 1,000 transitions/s through the verbs. The verdict is printed; with --check
the script also exits with status 1 when the goal is missed.

Part 1, the services: on a fresh SQLite file (schema by workflows.infra.migrate.upgrade on workflows.infra.db.make_engine), N
cases go the whole way, one verb per session and per commit as a web request would do it, each sending the
version its page showed: create_case, add_document for each required document (four for a case that is not
medical: the bank account is a field), then fire document (cadre), approve (the head, a second account),
publicize, enter (cadre), district_approve (reviewer) and disburse (finance). The six fire calls per case are
the transitions counted; creations and documents are timed and reported apart.

Part 2, the floor: on a second fresh file, the same database writes made with the sqlite3 module and nothing
else: per transition one UPDATE of the case's state and version, one INSERT of a hash-chained audit row, one
commit; same journal settings (WAL, synchronous=NORMAL, foreign keys on) and BEGIN IMMEDIATE like the services'
writing sessions.

The ratio of the two rates is the cost of everything the services add: the ORM, the rules and their queries,
the audit head, the checks.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import hashlib
import json
import pstats
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from workflows import verbs
from workflows.actors import CONSOLE
from workflows.identity import id_check_digit, luhn_complete
from workflows.infra import audit
from workflows.infra.clock import LOCAL, FixedClock, to_db
from workflows.infra.db import make_engine, session_factory
from workflows.infra.migrate import upgrade
from workflows.infra.uploads import Uploads
from workflows.inputs import parse_deadline
from workflows.models import Case
from workflows.rules import required_documents
from workflows.states import BY_TRIGGER, State

GOAL = 1000  # transitions per second through the verbs
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


def set_up(Session, clock: FixedClock) -> tuple[int, dict[str, Person]]:
    """The organisation, four accounts and a campaign, as an administrator would set them up."""
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
        session.commit()
        return campaign.id, people


def run_services(folder: Path, cases: int, profiler: cProfile.Profile | None) -> Timing:
    engine = make_engine(f"sqlite:///{folder / 'services.db'}")
    upgrade(engine)
    Session = session_factory(engine, writes=True)  # as a request that writes: BEGIN IMMEDIATE on SQLite
    clock = FixedClock(NOW)
    uploads = Uploads(folder / "uploads")
    campaign_id, people = set_up(Session, clock)
    timing = Timing()
    tick = time.perf_counter

    if profiler:
        profiler.enable()
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
        for role, trigger in ROAD:
            with Session() as session:
                reference = f"ICBC-{n:06d}" if trigger == "disburse" else None
                version = verbs.fire(session, people[role], clock, case_id, trigger, version,
                                        payment_reference=reference).version
                session.commit()
        timing.firing += tick() - start
        timing.firing_cpu += time.process_time() - start_cpu
        timing.transitions += len(ROAD)
        timing.cases += 1
    if profiler:
        profiler.disable()

    with Session() as session:  # the work really happened, and the trail holds
        disbursed = session.scalar(select(func.count()).select_from(Case).where(Case.state == State.disbursed))
        verification = audit.verify(session)
    engine.dispose()
    if disbursed != cases or not verification.ok:
        sys.exit(f"bench broken: {disbursed} of {cases} cases disbursed; audit {verification.as_dict()}")
    return timing


# ---------------------------------------------------------------- part 2: raw sqlite3

def run_raw(folder: Path, cases: int) -> tuple[int, float]:
    path = folder / "raw.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)  # the same tables and indexes
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    now = to_db(NOW)
    db.execute("BEGIN")
    db.execute("INSERT INTO unions (id, code, name, kind) VALUES (1, 'HG', '华光机械厂工会', 'grassroots')")
    db.execute("INSERT INTO accounts (id, username, password_hash, role, union_id, display_name, active, "
               "created_at) VALUES (1, 'bench_cadre', '-', 'cadre', 1, '', 1, ?)", (now,))
    db.execute("INSERT INTO campaigns (id, name, starts_on, ends_on, deadline, report_deadline, publicity_days, "
               "reminder_days) VALUES (1, 'raw', '2029-12-01', '2031-02-28', ?, ?, 0, '[7, 3, 1]')",
               (now + dt.timedelta(days=365),) * 2)
    db.executemany("INSERT INTO archives (id, version, union_id, status, applicant_name, secondary_causes, "
                   "single_parent, zero_employment, created_at, updated_at) "
                   "VALUES (?, 1, 1, 'pending', '王建国', '[]', 0, 0, ?, ?)", [(n + 1, now, now) for n in range(cases)])
    db.executemany("INSERT INTO cases (id, version, campaign_id, union_id, archive_id, application_kind, state, "
                   "applicant_name, secondary_causes, medical, created_by_id, created_at, updated_at) "
                   "VALUES (?, 1, 1, 1, ?, 'new', 'drafted', '王建国', '[]', 0, 1, ?, ?)",
                   [(n + 1, n + 1, now, now) for n in range(cases)])
    db.execute("COMMIT")

    states = [State.drafted.value] + [BY_TRIGGER[trigger].dest.value for _, trigger in ROAD]
    seq, prev = 0, audit.GENESIS
    stamp = now.isoformat(sep=" ")
    count = 0
    tick = time.perf_counter
    start = tick()
    for n in range(cases):
        case_id = n + 1
        for i, (role, trigger) in enumerate(ROAD):
            before, after = states[i], states[i + 1]
            db.execute("BEGIN IMMEDIATE")  # as the services' writing sessions do
            updated = db.execute("UPDATE cases SET state = ?, version = ?, updated_at = ? "
                                 "WHERE id = ? AND version = ?", (after, i + 2, stamp, case_id, i + 1)).rowcount
            if updated != 1:
                raise RuntimeError("raw update missed its row")
            seq += 1
            changes = json.dumps({"state": [before, after]})
            digest = hashlib.sha256(f"{seq}|{stamp}|{case_id}|{trigger}|{changes}|{prev}".encode()).hexdigest()
            db.execute("INSERT INTO audit_events (seq, occurred_at, actor_id, actor, role, case_id, action, "
                       "from_state, to_state, comment, changes, prev_hash, hash) "
                       "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
                       (seq, stamp, f"bench_{role}", role, case_id, trigger, before, after, changes, prev, digest))
            prev = digest
            if BY_TRIGGER[trigger].updates_archive:  # as the services do: the archive takes the approval
                db.execute("UPDATE archives SET status = 'active', version = version + 1, last_helped_at = ? "
                           "WHERE id = ?", (stamp, case_id))
                seq += 1
                digest = hashlib.sha256(f"{seq}|{stamp}|{case_id}|activate|{prev}".encode()).hexdigest()
                db.execute("INSERT INTO audit_events (seq, occurred_at, actor_id, actor, role, case_id, archive_id, "
                           "action, from_state, to_state, comment, changes, prev_hash, hash) "
                           "VALUES (?, ?, 1, ?, ?, NULL, ?, 'activate', 'pending', 'active', NULL, '{}', ?, ?)",
                           (seq, stamp, f"bench_{role}", role, case_id, prev, digest))
                prev = digest
            db.execute("COMMIT")
            count += 1
    elapsed = tick() - start
    db.close()
    return count, elapsed


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500, help="cases driven the whole way (default 500)")
    parser.add_argument("--check", action="store_true", help=f"exit with status 1 if the services stay below "
                                                                 f"{GOAL} transitions/s")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the service part to FILE and "
                                                          "print its top functions")
    args = parser.parse_args(argv)
    if args.cases < 1:
        parser.error("--cases must be at least 1")
    profiler = cProfile.Profile() if args.profile else None

    with tempfile.TemporaryDirectory(prefix="songnuan-bench-") as folder:
        timing = run_services(Path(folder), args.cases, profiler)
        raw_count, raw_seconds = run_raw(Path(folder), args.cases)

    raw_rate = raw_count / raw_seconds
    print(f"cases driven the whole way: {timing.cases} (SQLite, WAL, synchronous=NORMAL, one commit per verb)")
    print(f"  create_case        {timing.cases:7d} in {timing.creations:7.2f} s  "
          f"{timing.cases / timing.creations:8.0f} /s")
    print(f"  add_document       {timing.documents:7d} in {timing.documenting:7.2f} s  "
          f"{timing.documents / timing.documenting:8.0f} /s")
    print(f"  transitions (fire) {timing.transitions:7d} in {timing.firing:7.2f} s  {timing.rate():8.0f} /s"
          f"  (CPU {timing.firing_cpu:.2f} s: {timing.transitions / timing.firing_cpu:.0f} /s)")
    print(f"raw sqlite3, same writes: {raw_count:7d} in {raw_seconds:7.2f} s  {raw_rate:8.0f} /s")
    print(f"ratio raw / services: {raw_rate / timing.rate():.1f}x")
    met = timing.rate() >= GOAL
    print(f"goal {GOAL} transitions/s through the verbs: {'met' if met else 'NOT met'}")

    if profiler:
        profiler.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)
    return 0 if met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
