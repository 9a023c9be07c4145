"""The household-archive migration (revision 0007) over a large database of before archives: its time and peak
memory, beside baselines measured in the same run on the same database.

    .venv/bin/python bench/migration.py [--cases N] [--url URL] [--documents D] [--events E] [--seed S]

The data: on an empty database (by default a fresh SQLite file in a temporary folder; --url names another, which
must be empty, e.g. a scratch PostgreSQL database), the schema at revision 0006 by Alembic, then rows written with
SQLAlchemy Core on the tables as reflected at 0006, executemany in batches of 5,000: a district and 20 grassroots
unions with a cadre each, five winters' campaigns (the last one still open) and N cases (default 100,000), with their
members, D documents each (default 4) and E audit events each (default 8; dummy random hashes, as the migration reads
no event: the chain does not verify). A database named by --url is left as migrated: drop it afterwards.

The cases are households' applications, as the migration will find them: each household (a worker, a spouse in
seven of ten, up to two children, sometimes an elderly parent, one in twenty of them without an ID number) applies in
one to five consecutive winters (45 % once, 25 % twice, 15 %, 10 %, 5 %), each time naming the others as members (one
may be left out in a given year). In one repeat application in ten the spouse applies instead of the worker, who is
then a member: the household is joined through a member's number. One household in thirty moves to another union in
a later winter. Causes are the first code list's (illness, disability, disaster, schooling, unemployment, other),
with a secondary cause in three cases of ten. The past winters' cases are mostly paid (85 %), the others forfeited,
withdrawn or approved; the open winter's are spread over every state. All ID numbers are valid and distinct across
households, so the households the migration must find are known: checked afterwards.

Part 1, the migration: `alembic command.upgrade(config, "head")` in one transaction, as workflows.infra.migrate
.upgrade does it, run in a child process of its own; its time is measured in the child around the upgrade and its
commit. Its peak memory is the child's peak resident set size (getrusage RUSAGE_CHILDREN, the first child waited for).

The baselines, each in this run:
- insert (the ratio printed first): the time the build took to insert the cases and their members, the same Core
  executemany in batches of 5,000. The migration writes about as much (an archive per household, its members and
  numbers, an update of every case) and rebuilds cases on SQLite, so this says how many plain writes of the data it
  costs.
- read: one Core SELECT of every case and every member, all rows fetched: the floor of any migration that reads the
  households in Python, as this one does.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path: take it off before anything is imported, so that no
# file of bench/ can shadow a library.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import tempfile
import time
from decimal import Decimal

import sqlalchemy as sa

BATCH = 5000
UNIONS = 20
WINTERS = (2026, 2027, 2028, 2029, 2030)  # the campaigns; the last one is under way
OLD_CAUSES = ("illness", "disability", "disaster", "schooling", "unemployment", "other")
PAST_STATES = (("disbursed", 85), ("forfeited", 8), ("withdrawn", 4), ("district_approved", 3))
OPEN_STATES = (("drafted", 20), ("documented", 15), ("grassroots_approved", 10), ("publicized", 15),
               ("entered", 15), ("district_approved", 10), ("disbursed", 10), ("forfeited", 3), ("withdrawn", 2))
ENTERED = {"entered", "district_approved", "disbursed", "forfeited"}
REGIONS = ("110105", "110108", "310115", "440305", "420106", "510107", "320102", "330106", "370102", "610113")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = ("建国", "秀英", "桂兰", "志强", "海燕", "国华", "丽娟", "永红", "德明", "春梅", "卫东", "淑芬", "文斌")
KINDS = ("application", "id_copy", "hukou", "income_proof", "stamped_file")


def _engine(url: str) -> sa.Engine:
    from workflows.infra.db import make_engine
    return make_engine(url)


def _migrate(engine: sa.Engine, revision: str) -> None:
    from alembic import command

    from workflows.infra.migrate import alembic_config
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


# ---------------------------------------------------------------- the data

class People:
    def __init__(self, rng: random.Random) -> None:
        self.rng, self.used = rng, set()

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def number(self, born_from: int, born_to: int) -> str:
        from workflows.identity import id_check_digit
        while True:
            born = dt.date(born_from, 1, 1) + dt.timedelta(days=self.rng.randrange((born_to - born_from) * 365))
            first17 = f"{self.rng.choice(REGIONS)}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
            if first17 not in self.used:
                self.used.add(first17)
                return first17 + id_check_digit(first17)


def _pick(rng: random.Random, weighted) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def households(rng: random.Random, cases: int):
    """The households and their applications, until `cases` applications: (applications, households, numbers)."""
    people = People(rng)
    applications, count = [], 0
    while len(applications) < cases:
        count += 1
        head = {"name": people.name(), "relation": "本人", "id_number": people.number(1965, 1992)}
        others = []
        if rng.random() < 0.7:
            others.append({"name": people.name(), "relation": "配偶", "id_number": people.number(1965, 1992)})
        for _ in range(rng.choice((0, 1, 1, 2))):
            others.append({"name": people.name(), "relation": "子女",
                           "id_number": None if rng.random() < 0.05 else people.number(2006, 2020)})
        if rng.random() < 0.2:
            others.append({"name": people.name(), "relation": "父母", "id_number": people.number(1940, 1960)})
        winters = rng.choices((1, 2, 3, 4, 5), (45, 25, 15, 10, 5))[0]
        first = rng.randrange(len(WINTERS) - winters + 1)
        union = rng.randrange(UNIONS)
        moves = rng.random() < 1 / 30 and winters > 1
        for k, w in enumerate(range(first, first + winters)):
            if moves and k == winters - 1:
                union = (union + 1 + rng.randrange(UNIONS - 1)) % UNIONS
            applicant, members = head, list(others)
            if k and others and others[0]["relation"] == "配偶" and rng.random() < 0.1:
                applicant, members = others[0], [{**head, "relation": "配偶"}, *others[1:]]
            if len(members) > 1 and rng.random() < 0.1:
                members.pop(rng.randrange(1, len(members)))  # one left out this year (never the linking spouse)
            applications.append({"household": count, "winter": w, "union": union, "applicant": applicant,
                                 "members": members})
    applications = applications[:cases]
    numbers = {n for a in applications for n in [a["applicant"]["id_number"], *(m["id_number"] for m in a["members"])]}
    return applications, len({a["household"] for a in applications}), len(numbers - {None})


def build(engine: sa.Engine, cases: int, documents: int, events: int, seed: int) -> dict:
    """Revision 0006, the organisation and the cases with Core. Returns the expectations and the insert timing."""
    _migrate(engine, "0006")
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    rng = random.Random(seed)
    start = dt.datetime(WINTERS[0] - 1, 11, 10, 1, 0)
    with engine.begin() as connection:
        connection.execute(t["unions"].insert(), [{"id": 1, "code": "QZGH", "name": "某区总工会", "kind": "district",
                                                   "parent_id": None}])
        connection.execute(t["unions"].insert(), [
            {"id": 2 + u, "code": f"JC{u + 1:03d}", "name": f"第{u + 1}基层工会", "kind": "grassroots", "parent_id": 1}
            for u in range(UNIONS)])
        connection.execute(t["accounts"].insert(), [
            {"id": 1 + u, "username": f"cadre{u + 1}", "password_hash": "scrypt:bench", "role": "cadre",
             "union_id": 2 + u, "display_name": f"干部{u + 1}", "email": None, "active": True, "created_at": start}
            for u in range(UNIONS)])
        connection.execute(t["campaigns"].insert(), [
            {"id": i + 1, "name": f"{year}年元旦春节送温暖", "starts_on": dt.date(year - 1, 11, 1),
             "ends_on": dt.date(year, 2, 28), "deadline": dt.datetime(year, 1, 25, 16),
             "report_deadline": dt.datetime(year, 1, 25, 16), "publicity_days": 5, "reminder_days": [7, 3, 1],
             "cap_per_payment": Decimal(2000), "cap_per_year": Decimal(5000), "budget": Decimal(10_000_000)}
            for i, year in enumerate(WINTERS)])

    applications, expected_households, expected_numbers = households(rng, cases)
    applications.sort(key=lambda a: (a["winter"], rng.random()))  # ids in the order they were created
    case_rows, member_rows, files = [], [], {}
    committed = set()
    for case_id, a in enumerate(applications, 1):
        year = WINTERS[a["winter"]]
        state = _pick(rng, OPEN_STATES if a["winter"] == len(WINTERS) - 1 else PAST_STATES)
        if state in ("district_approved", "disbursed"):
            committed.add(a["household"])
        created = dt.datetime(year - 1, 11, 10, 1) + dt.timedelta(minutes=rng.randrange(30 * 24 * 60))
        later = created + dt.timedelta(days=rng.randrange(5, 60))
        entered = state in ENTERED
        serial = files[(year, a["union"])] = files.get((year, a["union"]), 0) + 1
        primary = rng.choice(OLD_CAUSES)
        case_rows.append({
            "id": case_id, "version": rng.randrange(1, 14), "campaign_id": a["winter"] + 1, "union_id": 2 + a["union"],
            "state": state, "file_number": f"{year}-JC{a['union'] + 1:03d}-{serial:06d}" if entered else None,
            "applicant_name": a["applicant"]["name"], "gender": rng.choice(("male", "female")),
            "id_number": a["applicant"]["id_number"], "phone": f"139{rng.randrange(10**8):08d}",
            "employer": f"第{a['union'] + 1}工厂", "worker_group": rng.choice(("hardship_worker", "migrant_worker")),
            "category": rng.choice(("deep", "relative", "accident")), "primary_cause": primary,
            "secondary_cause": rng.choice([c for c in OLD_CAUSES if c != primary]) if rng.random() < 0.3 else None,
            "annual_income": Decimal(rng.randrange(12000, 36000)), "housing": "租住公房一间",
            "aid_kind": "funds", "aid_amount": Decimal(rng.choice((800, 1000, 1500, 2000))),
            "medical": primary == "illness", "bank_account": f"622202{rng.randrange(10**13):013d}",
            "created_by_id": 1 + a["union"], "documented_by_id": None, "approved_by_id": None,
            "claimed_by_id": None, "created_at": created, "updated_at": later,
            "publicized_at": created + dt.timedelta(days=2) if entered else None,
            "notice_closes_at": created + dt.timedelta(days=9) if entered else None,
            "entered_at": created + dt.timedelta(days=12) if entered else None,
            "payment_reference": f"ICBC-{year}-{case_id:07d}" if state == "disbursed" else None,
            "disbursed_at": later if state == "disbursed" else None})
        member_rows += [{"case_id": case_id, "position": i, "name": m["name"], "relation": m["relation"],
                         "id_number": m["id_number"], "monthly_income": Decimal(rng.choice((0, 800, 1500))),
                         "health": "良好", "occupation": "无业"} for i, m in enumerate(a["members"])]

    tick = time.perf_counter()
    with engine.begin() as connection:
        for rows, table in ((case_rows, t["cases"]), (member_rows, t["members"])):
            for i in range(0, len(rows), BATCH):
                connection.execute(table.insert(), rows[i:i + BATCH])
    inserting = time.perf_counter() - tick

    with engine.begin() as connection:
        batch = []
        for case in case_rows:
            batch += [{"id": "%032x" % rng.getrandbits(128), "case_id": case["id"], "kind": KINDS[k % len(KINDS)],
                       "filename": f"{KINDS[k % len(KINDS)]}.pdf", "content_type": "application/pdf", "size": 600,
                       "sha256": "%064x" % rng.getrandbits(256), "uploaded_by_id": case["created_by_id"],
                       "uploaded_at": case["created_at"]} for k in range(documents)]
            if len(batch) >= BATCH:
                connection.execute(t["documents"].insert(), batch)
                batch = []
        if batch:
            connection.execute(t["documents"].insert(), batch)
        batch, seq, prev = [], 0, "0" * 64
        for case in case_rows:
            for k in range(events):
                seq += 1
                digest = "%064x" % rng.getrandbits(256)
                batch.append({"seq": seq, "occurred_at": case["created_at"] + dt.timedelta(minutes=k),
                              "actor_id": case["created_by_id"], "actor": f"cadre{case['created_by_id']}",
                              "role": "cadre", "case_id": case["id"], "action": "create" if k == 0 else "document",
                              "from_state": None, "to_state": "drafted", "comment": None,
                              "changes": {"state": [None, "drafted"]}, "prev_hash": prev, "hash": digest})
                prev = digest
            if len(batch) >= BATCH:
                connection.execute(t["audit_events"].insert(), batch)
                batch = []
        if batch:
            connection.execute(t["audit_events"].insert(), batch)
        connection.execute(t["audit_head"].update().values(seq=seq, hash=prev))
        if engine.dialect.name == "postgresql":
            for name in ("unions", "accounts", "campaigns", "cases"):
                connection.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"))
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # as a database in use would stand
    return {"households": expected_households, "numbers": expected_numbers, "active": len(committed),
            "cases": len(case_rows), "members": len(member_rows), "documents": documents * len(case_rows),
            "events": events * len(case_rows), "inserting": inserting}


def read_all(engine: sa.Engine) -> float:
    """The read baseline: every case and every member, fetched with Core."""
    meta = sa.MetaData()
    meta.reflect(engine, only=["cases", "members"])
    tick = time.perf_counter()
    with engine.connect() as connection:
        connection.execute(sa.select(meta.tables["cases"])).all()
        connection.execute(sa.select(meta.tables["members"])).all()
    return time.perf_counter() - tick


def check(engine: sa.Engine, built: dict) -> dict:
    """The households found are the households built; nothing lost."""
    queries = {
        "cases": "SELECT count(*) FROM cases", "members": "SELECT count(*) FROM members",
        "documents": "SELECT count(*) FROM documents", "events": "SELECT count(*) FROM audit_events",
        "households": "SELECT count(*) FROM archives", "numbers": "SELECT count(*) FROM archive_numbers",
        "active": "SELECT count(*) FROM archives WHERE status = 'active'",
    }
    with engine.connect() as connection:
        found = {name: connection.exec_driver_sql(q).scalar() for name, q in queries.items()}
        found["unarchived"] = connection.exec_driver_sql(
            "SELECT count(*) FROM cases WHERE archive_id IS NULL OR archive_id NOT IN (SELECT id FROM archives)"
        ).scalar()
        found["old causes"] = connection.exec_driver_sql(
            "SELECT count(*) FROM cases WHERE primary_cause IN ('illness', 'disability', 'disaster', "
            "'unemployment')").scalar()
    wanted = {name: built[name] for name in queries} | {"unarchived": 0, "old causes": 0}
    if found != wanted:
        sys.exit(f"bench broken: after the migration {found}, wanted {wanted}")
    return found


# ---------------------------------------------------------------- the migration, in a child process

def child(url: str) -> None:
    engine = _engine(url)
    with engine.connect():  # the pool's connection opened (and its pragmas run) outside the timing
        pass
    start, start_cpu = time.perf_counter(), time.process_time()
    _migrate(engine, "head")
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    engine.dispose()
    print(json.dumps({"seconds": seconds, "cpu": cpu}))


def run_migration(url: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", url], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench broken: the migration's process failed:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["peak_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: kilobytes
    return figures


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the database (default 100,000)")
    parser.add_argument("--url", help="an empty database to build in (default: a temporary SQLite file)")
    parser.add_argument("--documents", type=int, default=4, help="documents per case (default 4)")
    parser.add_argument("--events", type=int, default=8, help="audit events per case (default 8)")
    parser.add_argument("--seed", type=int, default=2018, help="the data's random seed (default 2018)")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    if args.cases < 1:
        parser.error("need --cases >= 1")

    with tempfile.TemporaryDirectory(prefix="songnuan-bench-migration-") as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = _engine(url)
        try:
            if sa.inspect(engine).get_table_names():
                sys.exit(f"{engine.url.render_as_string()} is not empty: give an empty database")
            tick = time.perf_counter()
            built = build(engine, args.cases, args.documents, args.events, args.seed)
            building = time.perf_counter() - tick
            reading = read_all(engine)
            engine.dispose()
            figures = run_migration(url)
            found = check(engine, built)
        finally:
            engine.dispose()

    seconds = figures["seconds"]
    where = engine.dialect.name + (" (WAL, synchronous=NORMAL)" if engine.dialect.name == "sqlite" else "")
    print(f"cases: {built['cases']:,} of {built['households']:,} households, members: {built['members']:,}, "
          f"documents: {built['documents']:,}, audit events: {built['events']:,} ({where}; built in {building:.1f} s)")
    print(f"  migration 0006 -> head (alembic upgrade, one transaction): {seconds:7.2f} s  "
          f"{built['cases'] / seconds:9.0f} cases/s  (CPU {figures['cpu']:.2f} s, peak RSS "
          f"{figures['peak_kb'] / 1024:.0f} MB)")
    print(f"  baseline insert (the cases and members, Core executemany): {built['inserting']:7.2f} s")
    print(f"  baseline read (every case and member, Core SELECT):        {reading:7.2f} s")
    print(f"ratio migration / insert: {seconds / built['inserting']:.1f}x   "
          f"migration / read: {seconds / reading:.1f}x")
    print(f"found: {found['households']:,} archives ({found['active']:,} active), {found['numbers']:,} archived "
          f"numbers, every case in its household's archive, no old cause code left: as built")
    return 0


if __name__ == "__main__":
    sys.exit(main())
