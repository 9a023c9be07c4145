"""Audit verification over a long chain, on SQLite and PostgreSQL: audit.verify beside a tight loop hashing the same
canonical bytes in the same run, its peak memory, and a check from a checkpoint beside the full walk.

    .venv/bin/python bench/audit_verify.py [--events N] [--more M] [--pg URL] [--only sqlite|postgresql] [--check]
                                                                                    (or: make bench-audit-verify)

Aims (from the issue): verification at least 0.5x the rate of the tight loop, memory flat. The verdict is printed;
with --check the script also exits with status 1 when an aim is missed.

The data: N audit events (default 1,000,000), about eight a case (created, two documents added, an edit, four
transitions; a withdrawal comment now and then), with `changes` as the verbs write them (names, masked numbers,
phone numbers, amounts), chained with the application's own workflows.infra.audit.event_hash, written straight
into a fresh database at the head revision (executemany on SQLite, COPY on PostgreSQL) with the JSON as
SQLAlchemy stores it. The PostgreSQL database is created for the run and dropped afterwards.

Part 1, in a child process per database: audit.verify of the whole chain (wall and CPU time; the child's peak
resident memory before and after the walk, ru_maxrss, so its growth shows), then the floor: the same events'
canonical bytes, made again from the same generator in chunks outside the timing, hashed and compared with their
stored hashes in a plain loop (sha256(bytes).hexdigest() == hash). The ratio is the tight loop's time over
verify's. Part 2: a checkpoint is recorded at the head, M more events (default 1,000) are appended, and
checkpoints.verify (from the checkpoint) is timed beside checkpoints.verify(full=True).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path: take it off before anything is imported, so that no
# file of bench/ can shadow a library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import resource
import subprocess
import tempfile
import time
from contextlib import contextmanager

RATIO_AIM = 0.5
CHUNK = 20_000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国秀英志强丽华明军桂芳玉兰海燕文"
TRANSITIONS = (("document", "drafted", "documented"), ("approve", "documented", "grassroots_approved"),
               ("publicize", "grassroots_approved", "publicized"), ("enter", "publicized", "entered"))
COLUMNS = ("seq", "occurred_at", "actor_id", "actor", "role", "case_id", "archive_id", "action", "from_state",
           "to_state", "comment", "changes", "prev_hash", "hash")


def events(first: int, count: int, prev: str, seed: int = 16):
    """`count` events from sequence number `first`, chained from `prev`: the fields as hashed, with their hash."""
    from workflows.infra.audit import canonical

    rng = random.Random(seed * 1_000_003 + first)
    moment = dt.datetime(2026, 11, 1, 1, 0) + dt.timedelta(seconds=7 * first)
    for seq in range(first, first + count):
        moment += dt.timedelta(seconds=rng.randrange(1, 14), microseconds=rng.randrange(1_000_000))
        case, step = seq // 8 + 1, seq % 8
        actor_id = case % 4000 + 10
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        phone = f"1{rng.randrange(30, 90)}{rng.randrange(10 ** 8):08d}"
        comment, role = None, "cadre"
        if step == 0:
            action, before, after = "create", None, "drafted"
            changes = {"applicant_name": [None, name], "id_number": [None, f"1101{'*' * 10}{seq % 10000:04d}"],
                       "phone": [None, phone], "annual_income": [None, f"{rng.randrange(8000, 40000)}.00"]}
        elif step in (1, 2):
            action, before, after = "add_document", "drafted", "drafted"
            changes = {"document": [None, ("申请书.pdf", "户口簿.jpg")[step - 1]]}
        elif step == 3:
            action, before, after = "edit", "drafted", "drafted"
            changes = {"phone": [phone, f"1{rng.randrange(30, 90)}{rng.randrange(10 ** 8):08d}"],
                       "housing": ["租住公房", "自有住房"]}
        else:
            action, before, after = TRANSITIONS[step - 4]
            changes, role = {}, "head" if step == 5 else "cadre"
            if rng.random() < 0.05:
                comment = "情况属实，同意\n经入户核实"
        fields = {"seq": seq, "occurred_at": moment, "actor_id": actor_id, "actor": f"{role}{actor_id}", "role": role,
                  "case_id": case, "archive_id": case, "action": action, "from_state": before, "to_state": after,
                  "comment": comment, "changes": changes, "prev_hash": prev}
        # event_hash(fields), with the bytes it hashes kept for the tight loop
        fields["canonical"] = data = canonical(fields)
        prev = fields["hash"] = hashlib.sha256(data).hexdigest()
        yield fields


def append(engine, count: int) -> tuple[int, str]:
    """Append `count` events to the chain, raw (no ORM), moving the head; returns the new head."""
    import sqlalchemy as sa

    with engine.begin() as connection:
        seq, prev = connection.execute(sa.text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    raw = engine.raw_connection()
    sqlite = engine.dialect.name == "sqlite"
    conn = raw.driver_connection
    try:
        if sqlite:
            conn.execute("PRAGMA synchronous=OFF")  # only while building: a crash means running it again
            conn.execute("BEGIN")
        batch: list[tuple] = []
        last = (seq, prev)
        for fields in events(seq + 1, count, prev):
            row = [fields[c] for c in COLUMNS]
            row[11] = json.dumps(fields["changes"])  # as SQLAlchemy's JSON type stores it
            if sqlite:
                row[1] = fields["occurred_at"].isoformat(sep=" ", timespec="microseconds")
            batch.append(tuple(row))
            last = (fields["seq"], fields["hash"])
            if len(batch) >= CHUNK:
                _write(conn, sqlite, batch)
        _write(conn, sqlite, batch)
        head = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1"
        if sqlite:
            conn.execute(head, last)
            conn.execute("COMMIT")
        else:
            conn.execute(head.replace("?", "%s"), last)
            conn.commit()
    finally:
        raw.close()
    return last


def _write(conn, sqlite: bool, batch: list[tuple]) -> None:
    if sqlite:
        conn.executemany(f"INSERT INTO audit_events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                         batch)
    else:
        with conn.cursor() as cursor, cursor.copy(f"COPY audit_events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)
    batch.clear()


@contextmanager
def database(kind: str, pg: str):
    """A fresh, empty database URL of `kind`, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
            yield f"sqlite:///{folder}/audit.db"
        return
    from workflows.infra.db import scratch_database

    with scratch_database(pg, "bench_audit") as url:
        yield url


# ---------------------------------------------------------------- part 1, in a child process

def child(url: str, count: int) -> None:
    from sqlalchemy.orm import Session

    from workflows.infra import audit
    from workflows.infra.db import make_engine

    engine = make_engine(url)
    with engine.connect():  # the pool's connection opened (and its pragmas run) outside the timing
        pass
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        result = audit.verify(session)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if not result.ok or result.events != count:
        sys.exit(f"bench broken: verify said {result.as_dict()}, wanted {count} events")
    # The floor: the same canonical bytes, made outside the timing, chunk by chunk; only the hashing is timed.
    from workflows.infra.audit import GENESIS

    floor_wall = floor_cpu = 0.0
    made = events(1, count, GENESIS)
    sha256 = hashlib.sha256
    while chunk := [(f["canonical"], f["hash"]) for f, _ in zip(made, range(CHUNK))]:
        start, start_cpu = time.perf_counter(), time.process_time()
        for data, stored in chunk:
            if sha256(data).hexdigest() != stored:
                sys.exit("bench broken: the floor's bytes do not hash to the stored hash")
        floor_wall += time.perf_counter() - start
        floor_cpu += time.process_time() - start_cpu
    engine.dispose()
    print(json.dumps({"wall": wall, "cpu": cpu, "floor_wall": floor_wall, "floor_cpu": floor_cpu,
                      "rss_before": before / 1024, "rss_peak": peak / 1024}))


def run_child(url: str, count: int) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", url, "--events", str(count)], capture_output=True,
                          text=True)
    if done.returncode:
        sys.exit(f"bench broken: the child failed\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- part 2: from a checkpoint

def checkpointed(url: str, more: int) -> dict:
    from sqlalchemy.orm import Session

    from workflows.infra import checkpoints
    from workflows.infra.clock import SystemClock
    from workflows.infra.db import make_engine

    engine = make_engine(url)
    with Session(engine) as session:
        full = checkpoints.verify(session, full=True)
    with Session(engine) as session, session.begin():
        checkpoints.record(session, full, "bench", SystemClock().now())
    append(engine, more)
    timings = {}
    for name, whole in (("from_checkpoint", False), ("full", True)):
        start = time.perf_counter()
        with Session(engine) as session:
            result = checkpoints.verify(session, full=whole)
        timings[name] = time.perf_counter() - start
        if not result.ok or result.since + result.events != full.events + more:
            sys.exit(f"bench broken: {name} said {result.as_dict()}")
        timings[f"{name}_events"] = result.events
    engine.dispose()
    return timings


def bench(kind: str, pg: str | None, count: int, more: int) -> dict:
    from workflows.infra.db import make_engine
    from workflows.infra.migrate import upgrade

    with database(kind, pg) as url:
        engine = make_engine(url)
        upgrade(engine)
        start = time.perf_counter()
        append(engine, count)
        built = time.perf_counter() - start
        engine.dispose()
        print(f"{kind}: {count:,} events built in {built:.1f} s", flush=True)
        walk = run_child(url, count)
        walk |= checkpointed(url, more)
    verify_rate, floor_rate = count / walk["wall"], count / walk["floor_wall"]
    ratio = walk["floor_wall"] / walk["wall"]
    print(f"  audit.verify, whole chain:     {walk['wall']:7.2f} s  {verify_rate:>11,.0f} events/s  "
          f"(CPU {walk['cpu']:.2f} s)")
    print(f"  tight loop, same bytes:        {walk['floor_wall']:7.2f} s  {floor_rate:>11,.0f} events/s  "
          f"(CPU {walk['floor_cpu']:.2f} s)")
    print(f"  ratio (tight loop time / verify time): {ratio:.2f}  (aim >= {RATIO_AIM}; by CPU time "
          f"{walk['floor_cpu'] / walk['cpu']:.2f})")
    print(f"  verify's peak memory: {walk['rss_peak']:.0f} MB, {walk['rss_peak'] - walk['rss_before']:+.0f} MB "
          f"over the {walk['rss_before']:.0f} MB before the walk")
    print(f"  after {more:,} more events: from the checkpoint {walk['from_checkpoint']:.3f} s "
          f"({walk['from_checkpoint_events']:,} events walked), full walk {walk['full']:.2f} s "
          f"({walk['full_events']:,} events): {walk['full'] / walk['from_checkpoint']:,.0f}x faster", flush=True)
    return {"ratio": ratio, "growth": walk["rss_peak"] - walk["rss_before"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the chain (default 1,000,000)")
    parser.add_argument("--more", type=int, default=1000, help="events appended after the checkpoint (default 1,000)")
    parser.add_argument("--pg", default=os.environ.get("SONGNUAN_TEST_DATABASE_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                        help="a database on the PostgreSQL server to create the run's database from "
                             "(default: SONGNUAN_TEST_DATABASE_URL, or postgres on 127.0.0.1:5432)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    parser.add_argument("--check", action="store_true", help="exit with status 1 if an aim is missed")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.events)
        return 0
    figures = {kind: bench(kind, args.pg, args.events, args.more)
               for kind in ((args.only,) if args.only else ("sqlite", "postgresql"))}
    missed = [f"{kind}: ratio {f['ratio']:.2f} < {RATIO_AIM}" for kind, f in figures.items() if f["ratio"] < RATIO_AIM]
    print("verdict: " + ("aims met" if not missed else "aim missed: " + "; ".join(missed)))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
