"""The deadline sweep over a large database on SQLite: its time and peak memory, beside the same forfeits done as
raw set-based SQL in the same run.

    .venv/bin/python bench/sweep.py [--cases N] [--overdue M] [--batch B] [--no-verify] [--check] [--profile FILE]
                                                                                            (or: make bench-sweep)

Aims (from the issue): the sweep within 5x of the raw SQL, and its peak memory under 300 MB. The verdict is
printed; with --check the script also exits with status 1 when an aim is missed.

The data: on a fresh SQLite file (schema by workflows.schema.upgrade), a district, five grassroots unions with a
cadre each and two campaigns are set up through workflows.verbs as the console operator; then N cases
(default 1,000,000) are written with one INSERT ... SELECT over a recursive CTE, not through the verbs. M of
them (default 100,000, spread evenly over the ids) are overdue: in the grassroots stages (drafted ... publicized)
of the campaign whose deadline has passed. Of the rest, about one in nine is in the same campaign but entered or
later (the district's, never forfeited), and the others are in a campaign whose deadline is a year ahead, in
every stage up to entered. The file is then copied, so both parts start from the same bytes.

Part 1, the sweep: workflows.deadline.sweep with writing sessions (BEGIN IMMEDIATE, as `songnuan sweep`) and a
clock one second past the deadline, run in a child process of its own. Its time is measured inside the child,
around the sweep call only; its peak memory is the child's peak resident set size (RSS), read in this process
with resource.getrusage(RUSAGE_CHILDREN).ru_maxrss once the child has ended (the child is the first this process
waits for, so the figure is its own). The child's RSS before the sweep (interpreter, SQLAlchemy, the app's
modules) is printed too, so the sweep's own growth shows.

Part 2, the floor: on the copy, with the sqlite3 module and the same settings (WAL, synchronous=NORMAL, foreign
keys on, BEGIN IMMEDIATE), one transaction: one INSERT ... SELECT writing every forfeit event (numbered from the
audit head, dummy hashes) and one UPDATE of every due case, plus the head's bump. The dummy hashes are random
(randomblob), like real SHA-256 values: audit_events.hash has a unique index, and random keys land all over it
while sequential ones only append to its end, which is cheaper than anything a real chain can do. The ratio is
taken against this floor; the same SQL with sequential dummy hashes (printf of the sequence number) runs on a
second copy and is printed for reference.

After both, the work is checked: M cases forfeited with a version bump and M forfeit events in each file, no
other case touched, and (unless --no-verify) audit.verify of the swept file's whole chain.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path: take it off before anything is imported, so that no
# file of bench/ can shadow a library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import cProfile
import datetime as dt
import json
import pstats
import resource
import shutil
import sqlite3
import subprocess
import tempfile
import time

TIME_AIM = 5.0      # the sweep may take at most this many times the raw SQL's time
MEMORY_AIM = 300    # MB of peak resident memory
PAST_DEADLINE = "2030-01-25"    # the overdue campaign: due at the end of that day, Beijing time
FUTURE_DEADLINE = "2031-01-25"  # the other campaign: a year ahead
UNIONS = 5
CREATED = "2029-12-01 09:00:00.000000"  # as SQLAlchemy writes a naive UTC DateTime on SQLite


def sweep_instant():
    from workflows.inputs import parse_deadline
    return parse_deadline(PAST_DEADLINE) + dt.timedelta(seconds=1)


# ---------------------------------------------------------------- the data

def build(path: Path, cases: int, overdue: int) -> dict:
    """The schema, the organisation through the verbs, the cases by raw SQL. Returns what was built."""
    from workflows import verbs
    from workflows.actors import CONSOLE
    from workflows.infra.clock import LOCAL, FixedClock
    from workflows.infra.db import make_engine, session_factory
    from workflows.infra.migrate import upgrade
    from workflows.inputs import parse_deadline

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    clock = FixedClock(dt.datetime(2029, 12, 1, 9, 0, tzinfo=LOCAL))
    with session_factory(engine, writes=True)() as session:
        verbs.create_union(session, CONSOLE, clock, "QZGH", "某区总工会")
        cadres = []
        for n in range(1, UNIONS + 1):
            verbs.create_union(session, CONSOLE, clock, f"JC{n:03d}", f"第{n}基层工会", "QZGH")
            cadres.append(verbs.create_account(session, CONSOLE, clock, f"cadre{n}", "cadre",
                                                      "bench-password", f"JC{n:03d}"))
        past = verbs.create_campaign(session, CONSOLE, clock, name="已截止的送温暖",
                                            deadline=parse_deadline(PAST_DEADLINE), publicity_days=0)
        future = verbs.create_campaign(session, CONSOLE, clock, name="未截止的送温暖",
                                              deadline=parse_deadline(FUTURE_DEADLINE),
                                              publicity_days=0)
        session.commit()
        unions = [(cadre.union_id, cadre.id) for cadre in cadres]
        past_id, future_id = past.id, future.id
    engine.dispose()

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")  # only while building: a crash here just means running it again
    db.execute("BEGIN")
    union_of = " ".join(f"WHEN {k} THEN {u}" for k, (u, _) in enumerate(unions))
    cadre_of = " ".join(f"WHEN {k} THEN {c}" for k, (_, c) in enumerate(unions))
    # `due`: 1 for M ids spread evenly over 1..N (where floor(i*M/N) steps up).
    # One household archive per case, of the case's union (ids alike).
    db.execute(f"""
        INSERT INTO archives (id, version, union_id, status, applicant_name, secondary_causes, single_parent,
                              zero_employment, created_at, updated_at)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :cases)
        SELECT i, 1, CASE i % {UNIONS} {union_of} END, 'pending', '王建国', '[]', 0, 0, :created, :created FROM n""",
               {"cases": cases, "created": CREATED})
    db.execute(f"""
        INSERT INTO cases (id, version, campaign_id, union_id, archive_id, application_kind, secondary_causes,
                           state, applicant_name, medical, created_by_id, created_at, updated_at)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :cases),
        d(i, due) AS (SELECT i, (i * :overdue) / :cases - ((i - 1) * :overdue) / :cases FROM n)
        SELECT i, 1,
               CASE WHEN due = 1 OR i % 9 = 1 THEN :past ELSE :future END,
               CASE i % {UNIONS} {union_of} END, i, 'new', '[]',
               CASE WHEN due = 1 THEN
                        CASE i % 4 WHEN 0 THEN 'drafted' WHEN 1 THEN 'documented'
                                   WHEN 2 THEN 'grassroots_approved' ELSE 'publicized' END
                    WHEN i % 9 = 1 THEN
                        CASE i % 3 WHEN 0 THEN 'entered' WHEN 1 THEN 'district_approved' ELSE 'disbursed' END
                    ELSE
                        CASE i % 5 WHEN 0 THEN 'drafted' WHEN 1 THEN 'documented' WHEN 2 THEN 'grassroots_approved'
                                   WHEN 3 THEN 'publicized' ELSE 'entered' END
               END,
               '王建国', 0, CASE i % {UNIONS} {cadre_of} END, :created, :created
        FROM d""", {"cases": cases, "overdue": overdue, "past": past_id, "future": future_id, "created": CREATED})
    db.execute("COMMIT")
    built = dict(db.execute("SELECT campaign_id = :past AND state IN ('drafted', 'documented', "
                            "'grassroots_approved', 'publicized'), count(*) FROM cases GROUP BY 1",
                            {"past": past_id}).fetchall())
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file, so a copy of it is complete
    db.close()
    if built.get(1, 0) != overdue or sum(built.values()) != cases:
        sys.exit(f"bench broken: built {built}, wanted {cases} cases of which {overdue} overdue")
    return {"past": past_id, "future": future_id}


def snapshot(path: Path) -> dict:
    """What the checks compare: the cases by campaign, state and version, and the forfeit events."""
    db = sqlite3.connect(path)
    try:
        cases = {(c, s, v): n for c, s, v, n in db.execute(
            "SELECT campaign_id, state, version, count(*) FROM cases GROUP BY 1, 2, 3")}
        events = db.execute("SELECT count(*), count(DISTINCT case_id) FROM audit_events "
                            "WHERE action = 'forfeit'").fetchone()
        head = db.execute("SELECT seq FROM audit_head").fetchone()[0]
        return {"cases": cases, "events": events, "head": head}
    finally:
        db.close()


def check(name: str, before: dict, after: dict, overdue: int, campaigns: dict) -> None:
    """Exactly the overdue cases went to forfeited with one version more and one forfeit event each."""
    grassroots = ("drafted", "documented", "grassroots_approved", "publicized")
    expected = dict(before["cases"])
    for (campaign, state, version), n in before["cases"].items():
        if campaign == campaigns["past"] and state in grassroots:
            del expected[(campaign, state, version)]
            key = (campaign, "forfeited", version + 1)
            expected[key] = expected.get(key, 0) + n
    problems = []
    if after["cases"] != expected:
        problems.append(f"cases {after['cases']} instead of {expected}")
    if after["events"] != (overdue, overdue):
        problems.append(f"{after['events'][0]} forfeit events over {after['events'][1]} cases, not {overdue}")
    if after["head"] != before["head"] + overdue:
        problems.append(f"audit head at {after['head']}, not {before['head'] + overdue}")
    if problems:
        sys.exit(f"bench broken ({name}): " + "; ".join(problems))


# ---------------------------------------------------------------- part 1: the sweep, in a child process

def child(path: str, batch: int, profile: str | None) -> None:
    """Runs in the child: one sweep, its figures printed as JSON on the last line."""
    from workflows import verbs
    from workflows.infra.clock import FixedClock
    from workflows.infra.db import make_engine, session_factory

    engine = make_engine(f"sqlite:///{path}")
    sessions = session_factory(engine, writes=True)  # as `songnuan sweep`: BEGIN IMMEDIATE on SQLite
    clock = FixedClock(sweep_instant())
    with engine.connect():  # the pool's connection opened (and its pragmas run) outside the timing
        pass
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    profiler = cProfile.Profile() if profile else None
    start, start_cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = verbs.sweep(sessions, clock, batch)
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    engine.dispose()
    if profiler:
        profiler.dump_stats(profile)
    print(json.dumps({"seconds": seconds, "cpu": cpu, "forfeited": result.forfeited,
                      "skipped": len(result.skipped), "before_kb": before_kb}))


def run_sweep(path: Path, batch: int, profile: str | None) -> dict:
    command = [sys.executable, __file__, "--child", str(path), "--batch", str(batch)]
    if profile:
        command += ["--profile", profile]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench broken: the sweep's process failed:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    # Linux: kilobytes. The largest of the children waited for so far, and the sweep's is the first.
    figures["peak_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return figures


# ---------------------------------------------------------------- part 2: raw set-based SQL

HASHES = {"random": ("lower(hex(randomblob(32)))", "lower(hex(randomblob(32)))"),
          "sequential": ("printf('%064x', :base + k - 1)", "printf('%064x', :base + k)")}


def run_raw(path: Path, reason: str, hashes: str = "random") -> tuple[int, float]:
    from workflows.infra.clock import to_db
    now = to_db(sweep_instant()).isoformat(sep=" ", timespec="microseconds")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    due = ("c.campaign_id IN (SELECT id FROM campaigns WHERE deadline <= :now) "
           "AND c.state IN ('drafted', 'documented', 'grassroots_approved', 'publicized')")
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    base = db.execute("SELECT seq FROM audit_head WHERE id = 1").fetchone()[0]
    written = db.execute(f"""
        INSERT INTO audit_events (seq, occurred_at, actor_id, actor, role, case_id, action, from_state, to_state,
                                  comment, changes, prev_hash, hash)
        SELECT :base + k, :now, NULL, 'system', 'system', id, 'forfeit', state, 'forfeited', :reason,
               json_object('state', json_array(state, 'forfeited')),
               {HASHES[hashes][0]}, {HASHES[hashes][1]}
        FROM (SELECT c.id, c.state, row_number() OVER (ORDER BY c.id) AS k FROM cases c WHERE {due})""",
                         {"base": base, "now": now, "reason": reason}).rowcount
    updated = db.execute(f"UPDATE cases AS c SET state = 'forfeited', version = version + 1, updated_at = :now, "
                         f"claimed_by_id = NULL WHERE {due}", {"now": now}).rowcount
    db.execute("UPDATE audit_head SET seq = seq + :n, hash = (SELECT hash FROM audit_events WHERE seq = "
               "audit_head.seq + :n) WHERE id = 1", {"n": written})
    db.execute("COMMIT")
    seconds = time.perf_counter() - start
    db.close()
    if written != updated:
        sys.exit(f"bench broken: raw SQL wrote {written} events for {updated} cases")
    return updated, seconds


# ---------------------------------------------------------------- main

def verify(path: Path):
    from workflows.infra import audit
    from workflows.infra.db import make_engine, session_factory
    engine = make_engine(f"sqlite:///{path}")
    try:
        with session_factory(engine)() as session:
            return audit.verify(session)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in the database (default 1,000,000)")
    parser.add_argument("--overdue", type=int, default=100_000, help="of which overdue (default 100,000)")
    parser.add_argument("--batch", type=int, help="the sweep's batch size (default: workflows.deadline.BATCH)")
    parser.add_argument("--no-verify", action="store_true", help="skip audit.verify of the whole chain afterwards")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if an aim is missed")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the sweep (in its process) to FILE "
                                                          "and print its top functions; slows the sweep down")
    parser.add_argument("--child", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from workflows.states import FORFEIT_REASON
    from workflows.verbs import deadline
    batch = args.batch or deadline.BATCH
    if args.child:
        child(args.child, batch, args.profile)
        return 0
    if not 1 <= args.overdue <= args.cases:
        parser.error("need 1 <= --overdue <= --cases")

    with tempfile.TemporaryDirectory(prefix="songnuan-bench-sweep-") as folder:
        swept, raw, sequential = (Path(folder) / name for name in ("sweep.db", "raw.db", "sequential.db"))
        tick = time.perf_counter()
        campaigns = build(swept, args.cases, args.overdue)
        shutil.copyfile(swept, raw)
        shutil.copyfile(swept, sequential)
        building = time.perf_counter() - tick
        before = snapshot(swept)

        figures = run_sweep(swept, batch, args.profile)
        raw_count, raw_seconds = run_raw(raw, FORFEIT_REASON)
        sequential_count, sequential_seconds = run_raw(sequential, FORFEIT_REASON, "sequential")

        if figures["forfeited"] != args.overdue or figures["skipped"]:
            sys.exit(f"bench broken: the sweep forfeited {figures['forfeited']} and skipped {figures['skipped']} "
                     f"of {args.overdue}")
        if raw_count != args.overdue or sequential_count != args.overdue:
            sys.exit(f"bench broken: the raw SQL forfeited {raw_count} and {sequential_count} of {args.overdue}")
        check("sweep", before, snapshot(swept), args.overdue, campaigns)
        check("raw SQL", before, snapshot(raw), args.overdue, campaigns)
        check("raw SQL, sequential hashes", before, snapshot(sequential), args.overdue, campaigns)
        verification = None
        if not args.no_verify:
            tick = time.perf_counter()
            verification = verify(swept)
            verifying = time.perf_counter() - tick
            if not verification.ok:
                sys.exit(f"bench broken: audit chain after the sweep: {verification.as_dict()}")

    ratio = figures["seconds"] / raw_seconds
    peak_mb = figures["peak_kb"] / 1024
    rate = args.overdue / figures["seconds"]
    print(f"cases: {args.cases:,}, of which overdue: {args.overdue:,} (SQLite, WAL, synchronous=NORMAL; "
          f"built in {building:.1f} s)")
    print(f"  sweep (workflows.deadline.sweep, batch {batch}): {figures['seconds']:7.2f} s  {rate:9.0f} cases/s  "
          f"(CPU {figures['cpu']:.2f} s){'  [profiled]' if args.profile else ''}")
    print(f"  raw SQL (one INSERT ... SELECT, one UPDATE):    {raw_seconds:7.2f} s  "
          f"{args.overdue / raw_seconds:9.0f} cases/s  (random dummy hashes, as real ones)")
    print(f"  the same, sequential dummy hashes:              {sequential_seconds:7.2f} s  "
          f"{args.overdue / sequential_seconds:9.0f} cases/s  (for reference)")
    print(f"ratio sweep / raw SQL: {ratio:.1f}x  (against sequential dummy hashes: "
          f"{figures['seconds'] / sequential_seconds:.1f}x)")
    print(f"peak memory of the sweep's process (RSS, getrusage RUSAGE_CHILDREN ru_maxrss): {peak_mb:.0f} MB "
          f"(before the sweep: {figures['before_kb'] / 1024:.0f} MB)")
    if verification is not None:
        print(f"audit chain after the sweep: ok, {verification.events:,} events verified in {verifying:.1f} s")
    else:
        print("audit chain after the sweep: not verified (--no-verify)")
    time_met, memory_met = ratio <= TIME_AIM, peak_mb < MEMORY_AIM
    print(f"aim within {TIME_AIM:.0f}x of the raw SQL: {'met' if time_met else 'NOT met'}")
    print(f"aim peak memory under {MEMORY_AIM} MB: {'met' if memory_met else 'NOT met'}")
    if args.profile:
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(30)
    return 0 if (time_met and memory_met) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
