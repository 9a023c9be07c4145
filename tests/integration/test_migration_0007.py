"""Revision 0007 (household archives) on a database of before archives: nothing lost, every case in its household's
archive, and the application working on what the migration made.

The fixture tests/fixtures/demo_0006.json is `songnuan demo` as revision 0006 held it. It was made from a worktree of
ede29e8, the last commit before archives (`git worktree add /tmp/old ede29e8`, then in /tmp/old with
PYTHONPATH=/tmp/old SONGNUAN_DATABASE_URL=sqlite:////tmp/old.db: `python -c 'from app.cli import main; main()'
init-db`, then `... demo`), by dumping every table but alembic_version in foreign-key order, one row a line,
datetimes and dates as ISO strings and Decimals as strings. The demo ran on 2026-12-04, so its open campaign closes
on 2027-01-25; the test's clock stands an hour after the demo's last event, whatever day the test runs.

Each check runs twice: on the demo as it is (no household in it spans two cases), and on the demo with three
households spanning cases across the two winters (the same worker again; the spouse of last winter's applicant; two
applicants sharing a child's number) and some secondary causes, made by changing the fixture's rows before loading.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.errors import Refused
from workflows.infra import audit
from workflows.infra.clock import UTC, FixedClock
from workflows.infra.db import make_engine
from workflows.infra.migrate import alembic_config
from workflows.infra.sealing import keyring
from workflows.models import Account, Archive, AuditEvent, Base, Campaign, Case, Union
from workflows.vocab import OLD_CAUSES, Cause

from ..conftest import TEST_URL, _fresh_postgres_database

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_0006.json"
COMMITTED = {"district_approved", "disbursed"}


@contextmanager
def _empty_database(tmp_path: Path):
    if TEST_URL and TEST_URL.startswith("postgresql"):
        with _fresh_postgres_database(TEST_URL) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'migration.db'}"


def _upgrade(engine: sa.Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _typed(column: sa.Column, value):
    """A fixture value back as the column's Python type (the JSON keeps times and money as strings)."""
    if value is None:
        return None
    if isinstance(column.type, sa.DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(column.type, sa.Date):
        return dt.date.fromisoformat(value)
    if isinstance(column.type, sa.Numeric) and not isinstance(column.type, sa.Float):
        return Decimal(value)
    return value


def _with_households(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """The demo with households spanning cases of both winters, and secondary causes of the first code list."""
    tables = copy.deepcopy(tables)
    cases, members = tables["cases"], tables["members"]
    people = {case["id"]: [m for m in members if m["case_id"] == case["id"]] for case in cases}

    def pick(campaign_id, union_id, states):
        return next(c for c in cases if c["campaign_id"] == campaign_id and c["union_id"] == union_id
                    and c["state"] in states)

    first, current = sorted({c["campaign_id"] for c in cases})
    unions = sorted({c["union_id"] for c in cases})
    # The same worker applies again this winter.
    paid, again = pick(first, unions[0], {"disbursed"}), pick(current, unions[0], {"drafted"})
    again["id_number"] = paid["id_number"]
    # Last winter's applicant (given up at the deadline) is the spouse in this winter's application, with their child.
    gone, spouse = pick(first, unions[2], {"forfeited"}), pick(current, unions[2], {"withdrawn"})
    spouse["id_number"] = people[gone["id"]][0]["id_number"]
    people[spouse["id"]][0]["id_number"] = gone["id_number"]
    people[spouse["id"]][1]["id_number"] = people[gone["id"]][1]["id_number"]
    # Two applicants naming one child: one household through a member alone.
    parent, other = pick(first, unions[1], {"disbursed"}), pick(current, unions[1], {"entered"})
    people[other["id"]][1]["id_number"] = people[parent["id"]][1]["id_number"]
    for case, cause in zip(cases[::5], ["unemployment", "illness", "schooling", "disability", "other"]):
        case["secondary_cause"] = cause
    return tables


def _components(cases: list[dict], numbers: dict[int, set[str]]) -> list[set[int]]:
    """The households, computed here on its own: the cases joined, directly or through others, by a shared number."""
    holders: dict[str, set[int]] = {}
    for case in cases:
        for number in numbers[case["id"]]:
            holders.setdefault(number, set()).add(case["id"])
    left, found = {case["id"] for case in cases}, []
    while left:
        todo, group = [left.pop()], set()
        while todo:
            case_id = todo.pop()
            group.add(case_id)
            for number in numbers[case_id]:
                for other in holders[number] - group:
                    left.discard(other)
                    todo.append(other)
        found.append(group)
    return found


@contextmanager
def at_revision(revision: str, tables: dict[str, list[dict]], tmp_path: Path):
    """A fresh database at `revision` holding `tables`: (engine, the rows as loaded, by table)."""
    with _empty_database(tmp_path) as url:
        engine = make_engine(url)
        try:
            _upgrade(engine, revision)
            old = sa.MetaData()
            old.reflect(engine)
            loaded: dict[str, list[dict]] = {}
            with engine.begin() as connection:
                connection.execute(old.tables["audit_head"].delete())  # the migration's genesis row
                for name, rows in tables.items():
                    table = old.tables[name]
                    loaded[name] = [{k: _typed(table.c[k], v) for k, v in row.items()} for row in rows]
                    if rows:
                        connection.execute(table.insert(), loaded[name])
                if engine.dialect.name == "postgresql":  # as a database that made its own rows would stand
                    for name, rows in tables.items():
                        if rows and "id" in old.tables[name].c and isinstance(old.tables[name].c.id.type, sa.Integer):
                            connection.execute(sa.text(
                                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"))
            yield engine, loaded
        finally:
            engine.dispose()


def _fixture(kind: str) -> dict[str, list[dict]]:
    tables = json.loads(FIXTURE.read_text())["tables"]
    return _with_households(tables) if kind == "households" else tables


@pytest.fixture(scope="module", params=["demo", "households"])
def migrated(request, tmp_path_factory):
    """The fixture's rows at 0006, upgraded to head: (engine, the rows as loaded, by table)."""
    with at_revision("0006", _fixture(request.param), tmp_path_factory.mktemp("migration")) as (engine, loaded):
        _upgrade(engine, "head")
        yield engine, loaded


def _rows(engine: sa.Engine) -> dict[str, dict]:
    """Every table's rows, the personal numbers opened as the application reads them (revision 0010 seals them;
    archive_numbers then holds their digests, given back here as the numbers), so that the tests of the earlier
    revisions compare what the rows say."""
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        tables = {name: [dict(r._mapping) for r in connection.execute(sa.select(table).order_by(*table.primary_key))]
                  for name, table in meta.tables.items()}
    ring, numbers = keyring(), {}
    for rows in tables.values():
        for row in rows:
            for column, value in row.items():
                if column in ("id_number", "bank_account") and isinstance(value, str) and value.startswith("s1:"):
                    row[column] = numbers[ring.digest(row[column])] = ring.open(value)
    for row in tables.get("archive_numbers", []):
        if "id_digest" in row:
            row["id_number"] = numbers[row.pop("id_digest")]
    return tables


def _key(engine: sa.Engine, table: str) -> list[str]:
    """The table's primary key, as `_rows` gives its rows (archive_numbers by the number, not its digest)."""
    return [k.replace("id_digest", "id_number")
            for k in sa.inspect(engine).get_pk_constraint(table)["constrained_columns"]]


def _numbers(cases, members) -> dict[int, set[str]]:
    found = {case["id"]: {case["id_number"]} - {None} for case in cases}
    for member in members:
        if member["id_number"]:
            found[member["case_id"]].add(member["id_number"])
    return found


def test_nothing_is_lost_and_only_the_causes_change(migrated):
    engine, loaded = migrated
    now = _rows(engine)
    for name in ("cases", "members", "documents", "objections", "audit_events"):
        assert len(now[name]) == len(loaded[name]) > 0, name
    for name, rows in loaded.items():
        assert len(now[name]) == len(rows), name
        key = sa.inspect(engine).get_pk_constraint(name)["constrained_columns"]
        after = {tuple(r[k] for k in key): r for r in now[name]}
        for row in rows:
            migrated_row = after[tuple(row[k] for k in key)]
            for column, value in row.items():
                if name == "cases" and column in ("primary_cause", "secondary_cause"):
                    continue
                assert migrated_row[column] == value, (name, row[key[0]], column)
    assert all(event["archive_id"] is None for event in now["audit_events"])


def test_the_migrated_database_has_the_models_schema(migrated):
    engine, _ = migrated
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_server_default": True})
        assert compare_metadata(context, Base.metadata) == []


def test_the_old_cause_codes_become_national_codes(migrated):
    engine, loaded = migrated
    now = {case["id"]: case for case in _rows(engine)["cases"]}
    national = {c.value for c in Cause}
    for old in loaded["cases"]:
        case = now[old["id"]]
        assert case["primary_cause"] == OLD_CAUSES.get(old["primary_cause"], old["primary_cause"])
        secondary = old["secondary_cause"]
        assert case["secondary_causes"] == ([OLD_CAUSES.get(secondary, secondary)] if secondary else [])
        assert {case["primary_cause"], *case["secondary_causes"]} <= national
    for archive in _rows(engine)["archives"]:
        assert {archive["primary_cause"], *archive["secondary_causes"]} <= national | {None}


def test_every_household_has_one_archive_holding_its_numbers(migrated, request):
    engine, loaded = migrated
    now = _rows(engine)
    cases, archives = now["cases"], {a["id"]: a for a in now["archives"]}
    numbers = _numbers(cases, now["members"])
    assert all(case["archive_id"] in archives for case in cases)
    # Cases sharing an ID number share one archive, and only the cases so joined do.
    households = _components(cases, numbers)
    assert len(archives) == len(households)
    for group in households:
        assert len({case["archive_id"] for case in cases if case["id"] in group}) == 1
    spanning = [group for group in households if len(group) > 1]
    assert len(spanning) == {"demo": 0, "households": 3}[request.node.callspec.params["migrated"]]

    by_archive: dict[int, list[dict]] = {}
    for case in sorted(cases, key=lambda c: (c["created_at"], c["id"])):
        by_archive.setdefault(case["archive_id"], []).append(case)
    held = {}
    for row in now["archive_numbers"]:
        assert row["id_number"] not in held  # one archive per number (the primary key says it too)
        held[row["id_number"]] = row["archive_id"]
    members = {}
    for member in now["archive_members"]:
        members.setdefault(member["archive_id"], []).append(member)
    for archive_id, group in by_archive.items():
        archive, latest = archives[archive_id], group[-1]
        # The archive has the household as its latest application gave it, and every number any of them named.
        for name in ("applicant_name", "id_number", "phone", "employer", "bank_account", "annual_income", "housing",
                     "union_id", "primary_cause"):
            assert archive[name] == latest[name], name
        own = {archive["id_number"]} - {None} | {m["id_number"] for m in members.get(archive_id, []) if m["id_number"]}
        assert own == set().union(*(numbers[c["id"]] for c in group))
        assert {n for n, a in held.items() if a == archive_id} == own  # its live numbers, each held once
        helped = [c for c in group if c["state"] in COMMITTED]
        assert archive["status"] == ("active" if helped else "pending")
        assert (archive["last_helped_campaign_id"] is None) == (not helped)
        for i, case in enumerate(group):
            before = any(c["state"] in COMMITTED for c in group[:i])
            assert case["application_kind"] == ("existing" if before else "new")
    assert set(held.values()) <= set(archives)


def test_the_audit_chain_still_verifies(migrated):
    engine, loaded = migrated
    with Session(engine) as session:
        result = audit.verify(session)
    assert result.ok, result.message
    assert result.events == len(loaded["audit_events"])
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT seq, hash FROM audit_head")).one() == (
            loaded["audit_head"][0]["seq"], loaded["audit_head"][0]["hash"])


@pytest.fixture
def work(migrated):
    """A session on the migrated database whose work is rolled back, and a clock just after the demo's last event."""
    engine, loaded = migrated
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    last = max(event["occurred_at"] for event in loaded["audit_events"])
    yield session, FixedClock(last.replace(tzinfo=UTC) + dt.timedelta(hours=1)), len(loaded["audit_events"])
    session.close()
    outer.rollback()
    connection.close()


def test_a_union_applies_for_its_active_archive_in_the_open_campaign(work):
    session, clock, events = work
    campaign = session.scalar(sa.select(Campaign).where(Campaign.open_for_drafts(clock.now())))
    assert campaign is not None
    applied = sa.select(Case.archive_id).where(Case.campaign_id == campaign.id)
    archive = session.scalars(sa.select(Archive).where(Archive.status == "active", Archive.id.not_in(applied))
                              .order_by(Archive.id)).first()
    cadre = session.scalar(sa.select(Account).where(Account.role == "cadre", Account.union_id == archive.union_id))

    [case] = verbs.apply_for(session, cadre, clock, campaign.id, [archive.id])
    session.flush()
    assert (case.archive_id, case.application_kind, case.state) == (archive.id, "existing", "drafted")
    assert (case.id_number, case.bank_account, case.numbers) == (archive.id_number, archive.bank_account,
                                                                 archive.numbers)
    with pytest.raises(Refused) as again:
        verbs.apply_for(session, cadre, clock, campaign.id, [archive.id])
    assert again.value.rule == "applied"
    result = audit.verify(session)
    assert result.ok and result.events == events + 1
    assert session.scalar(sa.select(AuditEvent.archive_id).order_by(AuditEvent.seq.desc()).limit(1)) \
        == archive.id


def test_an_archived_number_blocks_a_second_archive_naming_its_union(work):
    session, clock, _ = work
    archive = session.scalars(sa.select(Archive).where(Archive.members.any()).order_by(Archive.id)).first()
    holder = session.get(Union, archive.union_id)
    other = session.scalar(sa.select(Account).where(Account.role == "cadre", Account.union_id != archive.union_id))
    member = archive.members[0]
    for number in (archive.id_number, member.id_number):
        with pytest.raises(Refused) as refused:
            verbs.create_archive(session, other, clock, {
                "applicant": {"name": "王建国", "gender": "male", "id_number": number}})
        assert refused.value.rule == "archive_duplicate"
        assert holder.name in refused.value.message and f"档案#{archive.id}" in refused.value.message


def test_the_downgrade_gives_back_the_rows_of_0006(tmp_path):
    with at_revision("0006", _fixture("households"), tmp_path) as (engine, loaded):
        _upgrade(engine, "head")
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        now = _rows(engine)
        assert "archives" not in now
        for name, rows in loaded.items():
            key = sa.inspect(engine).get_pk_constraint(name)["constrained_columns"]
            by_key = {tuple(r[k] for k in key): r for r in now[name]}
            assert by_key == {tuple(r[k] for k in key): r for r in rows}, name
