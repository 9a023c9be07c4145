"""A province's data at a chosen size, on SQLite or PostgreSQL, written set-based: what bench/inbox.py reads.

    .venv/bin/python bench/generate.py [--archives N] [--unions U] [--database-url URL]

Defaults: 2,000 grassroots unions under one district, 1,000,000 household archives (two members each), their
applications over three campaigns (two past, one open: about 1.2 cases an archive, every state present), two
document rows a case (metadata only, no files) and 8 or more audit events a case, chained as the app chains them
(workflows.infra.audit.event_hash), so `songnuan audit verify` holds.

The organisation's top (the district, the campaigns, the district's reviewer, finance and auditor) is made
through workflows.verbs; everything else is written set-based: executemany on SQLite, COPY on PostgreSQL, with
the values in the form the app reads back. Personal numbers are sealed by workflows.infra.sealing (the keyring of
this environment, as the app's) and their digests and masks computed by the same functions as the app's.

Accounts (password PASSWORD below): cadre1..cadreU and head1..headU of union JC0001.., reviewer, finance, auditor.
The target database must be empty (a fresh SQLite file, or a PostgreSQL database just created).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import datetime as dt
import json
import random
import time
from decimal import Decimal

PASSWORD = "bench-password-1"
DISTRICT = "QZGH"
CHUNK = 20_000  # rows a batch: memory stays flat whatever the size

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "建国华明丽芳军伟秀英敏静强磊洋勇艳杰娟涛超霞平刚桂兰玉珍海燕红云春梅志文斌宁"
AREAS = ("110105", "310104", "440106", "320102", "330106", "510107", "420106", "610113")
# The current campaign's cases by state (weights); the two past campaigns' cases are settled.
CURRENT = (("drafted", 14), ("documented", 12), ("grassroots_approved", 10), ("publicized", 10), ("entered", 14),
           ("district_approved", 10), ("disbursed", 24), ("withdrawn", 3), ("forfeited", 2),
           ("payment_returned", 1))
PAST = (("disbursed", 88), ("withdrawn", 5), ("forfeited", 6), ("payment_returned", 1))
PATH = ("drafted", "documented", "grassroots_approved", "publicized", "entered", "district_approved", "disbursed")
TRIGGER_TO = {"documented": "document", "grassroots_approved": "approve", "publicized": "publicize",
              "entered": "enter", "district_approved": "district_approve", "disbursed": "disburse"}


def _weighted(table, rng):
    states, weights = zip(*table)
    return lambda: rng.choices(states, weights)[0]


class Writer:
    """Rows into a table in batches: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine):
        self.sqlite = engine.dialect.name == "sqlite"
        self.raw = engine.raw_connection()
        self.conn = self.raw.driver_connection

    def ts(self, v: dt.datetime | None):
        """A naive UTC moment as the app's DateTime columns hold it (SQLite: text)."""
        return v.isoformat(sep=" ", timespec="microseconds") if self.sqlite and v is not None else v

    def money(self, v: Decimal | None):
        return float(v) if self.sqlite and v is not None else v

    def flag(self, v: bool):
        return int(v) if self.sqlite else v

    def write(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        cols = ", ".join(columns)
        if self.sqlite:
            self.conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(columns))})",
                                  rows)
        else:
            with self.conn.cursor() as cursor, cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def execute(self, sql: str, params=()) -> list:
        cursor = self.conn.execute(sql, params) if self.sqlite else self.conn.execute(sql.replace("?", "%s"), params)
        try:
            return cursor.fetchall()
        except Exception:  # a statement without rows
            return []

    def begin(self) -> None:
        if self.sqlite:
            self.conn.execute("PRAGMA synchronous=OFF")  # only while building: a crash means running it again
            self.conn.execute("PRAGMA cache_size=-1000000")  # up to 1 GB of pages while building
            self.conn.execute("BEGIN")
        else:
            self.conn.execute("SET synchronous_commit = off")
            self.conn.execute("SET maintenance_work_mem = '512MB'")

    def drop_indexes(self, tables: tuple[str, ...]) -> list[str]:
        """Drop the secondary indexes of `tables` (not those of a key or a constraint) and return the statements
        that make them again: one sort per index after the load instead of a random insert per row."""
        names = ", ".join(f"'{t}'" for t in tables)
        if self.sqlite:
            found = self.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                 f"AND tbl_name IN ({names})")
        else:
            found = self.execute(f"SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename IN ({names}) "
                                 f"AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                                 f"WHERE c.conname = i.indexname)")
        for name, _ in found:
            self.execute(f'DROP INDEX "{name}"')
        return [sql for _, sql in found]

    def commit(self) -> None:
        if self.sqlite:
            self.conn.execute("COMMIT")
        else:
            self.conn.commit()

    def close(self) -> None:
        self.raw.close()


def _id_number(i: int, rng) -> str:
    from workflows.identity import id_check_digit
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=i // 1000 % 14_000)
    first17 = f"{AREAS[i % len(AREAS)]}{birth:%Y%m%d}{i % 1000:03d}"
    return first17 + id_check_digit(first17)


def _name(rng) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def organisation(engine, unions: int, now: dt.datetime) -> dict:
    """The district, campaigns and district accounts through the verbs; the unions and their people as rows."""
    from workflows import verbs
    from workflows.actors import CONSOLE
    from workflows.infra.clock import FixedClock, to_db
    from workflows.infra.db import session_factory
    from sqlalchemy import select

    from workflows.models import Account, Union

    clock = FixedClock(now - dt.timedelta(days=800))
    with session_factory(engine, writes=True)() as session:
        verbs.create_union(session, CONSOLE, clock, DISTRICT, "某省总工会帮扶中心")
        district = {role: verbs.create_account(session, CONSOLE, clock, role, role, PASSWORD)
                    for role in ("reviewer", "finance", "auditor")}
        campaigns = []
        for years_ago in (2, 1, 0):
            deadline = now + dt.timedelta(days=20) - dt.timedelta(days=365 * years_ago)
            campaigns.append(verbs.create_campaign(session, CONSOLE, clock, name=f"{deadline.year}年送温暖",
                                                   deadline=deadline, publicity_days=5).id)
        session.commit()
        password_hash = session.get(Account, district["reviewer"].id).password_hash
        district_id = session.scalar(select(Union.id).where(Union.code == DISTRICT))
        facts = {"campaigns": campaigns, "district": {r: a.id for r, a in district.items()},
                 "password_hash": password_hash, "district_id": district_id, "created": to_db(clock.now())}
    return facts


def build(url: str, archives: int = 1_000_000, unions: int = 2000, *, seed: int = 16, quiet: bool = False,
          now: dt.datetime | None = None) -> dict:
    """Everything, into the empty database at `url`. Returns what the benchmark needs to know of it."""
    from workflows.identity import mask_id
    from workflows.infra import sealing, search
    from workflows.infra.audit import event_hash
    from workflows.infra.clock import UTC
    from workflows.infra.db import make_engine
    from workflows.infra.migrate import upgrade

    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    start = time.perf_counter()
    now = (now or dt.datetime.now(UTC)).replace(microsecond=0)
    naive_now = now.astimezone(UTC).replace(tzinfo=None)
    engine = make_engine(url)
    upgrade(engine)
    facts = organisation(engine, unions, now)
    rng = random.Random(seed)
    ring = sealing.keyring()
    w = Writer(engine)
    w.begin()
    try:
        seq, prev = w.execute("SELECT seq, hash FROM audit_head WHERE id = 1")[0]
        union_ids = [facts["district_id"] + 1 + n for n in range(unions)]
        first_account = w.execute("SELECT max(id) FROM accounts")[0][0] + 1
        cadre = {u: first_account + 2 * n for n, u in enumerate(union_ids)}
        head = {u: first_account + 2 * n + 1 for n, u in enumerate(union_ids)}
        code = {u: f"JC{n + 1:04d}" for n, u in enumerate(union_ids)}
        w.write("unions", ("id", "code", "name", "kind", "parent_id"),
                [(u, code[u], f"第{n + 1}基层工会", "grassroots", facts["district_id"]) for n, u in enumerate(union_ids)])
        ts, money, flag = w.ts, w.money, w.flag
        created = ts(facts["created"])
        accounts = []
        for n, u in enumerate(union_ids):
            accounts.append((cadre[u], f"cadre{n + 1}", facts["password_hash"], "cadre", u, f"干部{n + 1}", flag(True), created))
            accounts.append((head[u], f"head{n + 1}", facts["password_hash"], "head", u, f"负责人{n + 1}", flag(True), created))
        w.write("accounts", ("id", "username", "password_hash", "role", "union_id", "display_name", "active",
                             "created_at"), accounts)
        reviewer = facts["district"]["reviewer"]
        finance = facts["district"]["finance"]
        campaigns = facts["campaigns"]
        deadlines = {c: naive_now + dt.timedelta(days=20) - dt.timedelta(days=365 * k)
                     for c, k in zip(campaigns, (2, 1, 0))}
        current_state, past_state = _weighted(CURRENT, rng), _weighted(PAST, rng)

        archive_cols = ("id", "version", "union_id", "status", "applicant_name", "gender", "id_number", "id_digest",
                        "id_masked", "phone", "worker_group", "category", "primary_cause", "secondary_causes",
                        "annual_income", "single_parent", "zero_employment", "created_by_id", "created_at",
                        "updated_at")
        member_cols = ("id", "{owner}", "position", "name", "relation", "id_number", "id_digest", "id_masked",
                       "monthly_income")
        case_cols = ("id", "version", "campaign_id", "union_id", "archive_id", "application_kind", "state",
                     "file_number", "applicant_name", "gender", "id_number", "id_digest", "id_masked", "phone",
                     "worker_group", "category", "primary_cause", "secondary_causes", "annual_income", "aid_kind",
                     "aid_amount", "medical", "created_by_id", "documented_by_id", "approved_by_id", "claimed_by_id",
                     "created_at", "updated_at", "publicized_at", "notice_closes_at", "entered_at",
                     "payment_reference", "disbursed_at", "returned_at", "return_reason")
        doc_cols = ("id", "case_id", "kind", "filename", "content_type", "size", "sha256", "uploaded_by_id",
                    "uploaded_at")
        event_cols = ("seq", "occurred_at", "actor_id", "actor", "role", "case_id", "archive_id", "action",
                      "from_state", "to_state", "comment", "changes", "prev_hash", "hash")
        groups = ("hardship_worker", "migrant_worker", "model_worker", "other")
        categories = ("deep", "relative", "accident")
        causes = ("illness", "disability", "schooling", "accident", "unemployment")
        username = {}
        for n, u in enumerate(union_ids):
            username[cadre[u]], username[head[u]] = f"cadre{n + 1}", f"head{n + 1}"
        username[reviewer], username[finance] = "reviewer", "finance"
        role_of = {reviewer: "reviewer", finance: "finance", **{a: "cadre" for a in cadre.values()},
                   **{a: "head" for a in head.values()}}

        remake = w.drop_indexes(("archives", "archive_members", "cases", "members", "documents", "audit_events"))
        case_id = member_id = case_member_id = 0
        counts = {"archives": 0, "archive_members": 0, "cases": 0, "members": 0, "documents": 0, "events": 0}
        by_state: dict[str, int] = {}
        for lo in range(1, archives + 1, CHUNK):
            hi = min(lo + CHUNK, archives + 1)
            a_rows, am_rows, c_rows, m_rows, d_rows, e_rows = [], [], [], [], [], []

            def event(at, actor_id, cid, aid, action, frm, to, changes=None, comment=None):
                nonlocal seq, prev
                seq += 1
                fields = {"seq": seq, "occurred_at": at, "actor_id": actor_id, "actor": username[actor_id],
                          "role": role_of[actor_id],
                          "case_id": cid, "archive_id": aid, "action": action, "from_state": frm, "to_state": to,
                          "comment": comment, "changes": changes or {}, "prev_hash": prev}
                prev = event_hash(fields)
                e_rows.append((seq, ts(at), actor_id, fields["actor"], fields["role"], cid, aid, action, frm, to,
                               comment, json.dumps(fields["changes"], ensure_ascii=False), fields["prev_hash"], prev))

            for i in range(lo, hi):
                u = union_ids[i % unions]
                name = _name(rng)
                number = _id_number(i, rng)
                sealed, digest, masked = ring.seal(number), ring.digest(number), mask_id(number)
                made = naive_now - dt.timedelta(days=900 - i % 60, minutes=i % 1440)
                household = (name, "女" if i % 2 else "男", sealed, digest, masked, f"139{i:08d}"[:11],
                             groups[i % 4], categories[i % 3], causes[i % 5], "[]",
                             money(Decimal(12000 + i % 30000)))
                a_rows.append((i, 1, u, "active" if i % 50 else "pending", *household[:10], household[10],
                               flag(False), flag(False), cadre[u], ts(made), ts(made)))
                spouse = _id_number(i + 7_000_000, rng)
                spouse_sealed, spouse_digest = ring.seal(spouse), ring.digest(spouse)
                people = ((_name(rng), "配偶", spouse_sealed, spouse_digest, mask_id(spouse), money(Decimal(1500))),
                          (_name(rng), "子女", None, None, None, None))
                for k, person in enumerate(people):
                    member_id += 1
                    am_rows.append((member_id, i, k, *person))
                event(made, cadre[u], None, i, "create_archive", None, "pending",
                      {"applicant_name": [None, name], "id_number": [None, masked]})
                # Applications: the current campaign for 70%, last year's for 30%, the year before's for 20%
                # (drawn, not by the archive's number: every union gets its share of each).
                draw = rng.randrange(10)
                for campaign, share, table in ((campaigns[0], draw < 2, past_state),
                                               (campaigns[1], 3 <= draw < 6, past_state),
                                               (campaigns[2], draw < 6 or draw == 9, current_state)):
                    if not share:
                        continue
                    case_id += 1
                    state = table()
                    by_state[state] = by_state.get(state, 0) + 1
                    deadline = deadlines[campaign]
                    t = deadline - dt.timedelta(days=40 - i % 30, minutes=i % 997)
                    reached = (PATH.index(state) if state in PATH else
                               PATH.index("disbursed") if state == "payment_returned" else
                               rng.randrange(0, 4) if state in ("withdrawn", "forfeited") else 0)
                    stamps = {}
                    step = dt.timedelta(hours=7)
                    c_at = t
                    event(t, cadre[u], case_id, i, "create", None, "drafted",
                          {"applicant_name": [None, name], "id_number": [None, masked]})
                    for kind in ("application", "household_ids"):
                        t += dt.timedelta(minutes=13)
                        d_rows.append((f"{case_id:016x}{kind[:4].encode().hex()}{0:08x}"[:32], case_id, kind,
                                       f"{kind}.pdf", "application/pdf", 20_000 + i % 5000,
                                       f"{(case_id * 2654435761) % (1 << 256):064x}", cadre[u], ts(t)))
                        event(t, cadre[u], case_id, i, "add_document", "drafted", "drafted",
                              {"document": [None, f"{kind}.pdf"]})
                    t += dt.timedelta(minutes=30)
                    event(t, cadre[u], case_id, i, "edit", "drafted", "drafted", {"phone": [None, household[5]]})
                    for to in PATH[1:reached + 1]:
                        t += step
                        stamps[to] = t
                        actor = (cadre[u] if to in ("documented", "publicized", "entered") else head[u]
                                 if to == "grassroots_approved" else reviewer if to == "district_approved"
                                 else finance)
                        event(t, actor, case_id, i, TRIGGER_TO[to], PATH[PATH.index(to) - 1], to)
                    if state in ("withdrawn", "forfeited", "payment_returned"):
                        t += step
                        frm = PATH[reached]
                        action = {"withdrawn": "withdraw", "forfeited": "forfeit", "payment_returned": "bounce"}[state]
                        event(t, finance if state == "payment_returned" else cadre[u], case_id, i, action, frm, state,
                              comment="银行退票：户名不符" if state == "payment_returned" else "本人申请撤回")
                    entered = stamps.get("entered")
                    paid = stamps.get("disbursed")
                    amount = money(Decimal(500 + 100 * (i % 16)))
                    year = deadline.year
                    c_rows.append((
                        case_id, 1, campaign, u, i, "new" if campaign == campaigns[0] else "existing", state,
                        f"{year}-{code[u]}-{case_id:07d}" if entered else None, *household[:10], household[10],
                        "funds", amount, flag(False), cadre[u],
                        cadre[u] if reached >= 1 else None, head[u] if reached >= 2 else None,
                        reviewer if state == "entered" and i % 3 == 0 else None,
                        ts(c_at), ts(t), ts(stamps.get("publicized")),
                        ts(stamps["publicized"] + dt.timedelta(days=5)) if "publicized" in stamps else None,
                        ts(entered), f"PAY{case_id:010d}" if paid else None, ts(paid),
                        ts(t) if state == "payment_returned" else None,
                        "户名不符" if state == "payment_returned" else None))
                    for k, person in enumerate(people):
                        case_member_id += 1
                        m_rows.append((case_member_id, case_id, k, *person))
            w.write("archives", archive_cols, a_rows)
            w.write("archive_members", tuple(c.replace("{owner}", "archive_id") for c in member_cols), am_rows)
            w.write("cases", case_cols, c_rows)
            w.write("members", tuple(c.replace("{owner}", "case_id") for c in member_cols), m_rows)
            w.write("documents", doc_cols, d_rows)
            w.write("audit_events", event_cols, e_rows)
            for key, rows in (("archives", a_rows), ("archive_members", am_rows), ("cases", c_rows),
                              ("members", m_rows), ("documents", d_rows), ("events", e_rows)):
                counts[key] += len(rows)
            say(f"  {hi - 1:>10,} archives  {counts['cases']:>10,} cases  {counts['events']:>11,} events  "
                f"{time.perf_counter() - start:6.1f} s")
        w.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))
        tick = time.perf_counter()
        for sql in remake:
            w.execute(sql)
        say(f"  {len(remake)} indexes made again in {time.perf_counter() - tick:.1f} s")
        if not w.sqlite:
            for table, column in (("unions", "id"), ("accounts", "id"), ("archives", "id"), ("cases", "id"),
                                  ("archive_members", "id"), ("members", "id")):
                w.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                          f"(SELECT max({column}) FROM {table}))")
        w.commit()
        # The name search's pieces: the rows went in around the ORM, whose flushes keep them (infra/search.py).
        tick = time.perf_counter()
        with engine.begin() as connection:
            search.rebuild(connection)
        say(f"  the name search's pieces written in {time.perf_counter() - tick:.1f} s")
        w.execute("ANALYZE")  # the planner's statistics, as an operator's routine maintenance keeps them
        if not w.sqlite:
            w.commit()
    finally:
        w.close()
        engine.dispose()
    seconds = time.perf_counter() - start
    return {"url": url, "archives": archives, "unions": unions, "password": PASSWORD, "seconds": seconds,
            "counts": counts, "by_state": by_state, "campaigns": campaigns, "now": now}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archives", type=int, default=1_000_000, help="household archives (default 1,000,000)")
    parser.add_argument("--unions", type=int, default=2000, help="grassroots unions (default 2,000)")
    parser.add_argument("--database-url", default="sqlite:///instance/bench.db",
                        help="an empty database (default sqlite:///instance/bench.db)")
    parser.add_argument("--verify", action="store_true", help="verify the whole audit chain afterwards")
    args = parser.parse_args(argv)
    if args.archives < 1 or args.unions < 1:
        parser.error("need at least one archive and one union")
    facts = build(args.database_url, args.archives, args.unions)
    c = facts["counts"]
    print(f"built in {facts['seconds']:.1f} s: {c['archives']:,} archives ({c['archive_members']:,} members), "
          f"{c['cases']:,} cases ({c['members']:,} members, {c['documents']:,} documents), "
          f"{c['events']:,} audit events, {args.unions:,} unions")
    print("cases by state: " + ", ".join(f"{s} {n:,}" for s, n in sorted(facts["by_state"].items())))
    print(f"accounts: cadre1..cadre{args.unions}, head1..head{args.unions}, reviewer, finance, auditor; "
          f"password {PASSWORD}")
    if args.verify:
        from workflows.infra import audit
        from workflows.infra.db import make_engine, session_factory
        engine = make_engine(args.database_url)
        tick = time.perf_counter()
        with session_factory(engine)() as session:
            result = audit.verify(session)
        engine.dispose()
        print(f"audit chain: {result.as_dict()} in {time.perf_counter() - tick:.1f} s")
        if not result.ok:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
