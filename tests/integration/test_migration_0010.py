"""Revision 0010 (personal numbers sealed at rest) on the demo as revision 0009 held it: nothing lost, no full number
left in any column, the chain still verifies, the lookups find the migrated numbers, and the downgrade gives the rows
back.

The fixture tests/fixtures/demo_0009.json was made as demo_0006.json was (see test_migration_0007.py), from a
worktree of commit a006e61 (the last at revision 0009), on 2026-12-07.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.errors import Refused
from workflows.identity import mask_account, mask_id
from workflows.infra import audit
from workflows.infra.clock import UTC, FixedClock
from workflows.infra.migrate import alembic_config, upgrade
from workflows.infra.sealing import digest
from workflows.models import Account, Archive, AuditEvent, Case, Union
from workflows.reads import worklists

from .test_migration_0007 import _key, _rows, _upgrade, at_revision
from .test_personal_numbers_at_rest import file_text

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_0009.json"
SEALED = {"archives": ("id_number", "bank_account"), "cases": ("id_number", "bank_account"),
          "archive_members": ("id_number",), "members": ("id_number",), "payment_lines": ("bank_account",)}


def _tables() -> dict[str, list[dict]]:
    return json.loads(FIXTURE.read_text())["tables"]


def _numbers(tables: dict[str, list[dict]]) -> set[str]:
    return {row[column] for table, columns in SEALED.items() for row in tables[table] for column in columns
            if row[column]}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    with at_revision("0009", _tables(), tmp_path_factory.mktemp("migration")) as (engine, loaded):
        _upgrade(engine, "head")
        yield engine, loaded


def test_nothing_is_lost(migrated):
    engine, loaded = migrated
    now = _rows(engine)  # the numbers opened, archive_numbers' digests given back as numbers
    for name, rows in loaded.items():
        assert len(now[name]) == len(rows), name
        key = _key(engine, name)
        after = {tuple(r[k] for k in key): r for r in now[name]}
        for row in rows:
            for column, value in row.items():
                assert after[tuple(row[k] for k in key)][column] == value, (name, column)


def test_no_full_number_is_left_in_any_column(migrated):
    engine, loaded = migrated
    numbers = _numbers(loaded)
    assert len(numbers) > 100
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        stored = " ".join(str(value) for table in meta.tables.values()
                          for row in connection.execute(sa.select(table)) for value in row)
        for table, columns in SEALED.items():
            for column in columns:
                values = connection.execute(sa.text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"))
                assert all(re.fullmatch(r"s1:test1:[A-Za-z0-9+/=]+", value) for value, in values), (table, column)
    assert not [number for number in numbers if number in stored]
    # Nor in the database's files: SQLite's free pages (secure_delete zeroes what an update frees), PostgreSQL's
    # table files (DROP COLUMN alone leaves the old values in every row; the migration rewrites the tables).
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            files = [engine.url.database]
        else:
            connection.exec_driver_sql("CHECKPOINT")
            base = connection.exec_driver_sql("SELECT current_setting('data_directory')").scalar()
            files = [f"{base}/{connection.exec_driver_sql(f'SELECT pg_relation_filepath({table!r})').scalar()}"
                     for table in SEALED]
    for path in files:
        raw = file_text(path)
        assert raw and not [number for number in numbers if number in raw], path


@pytest.mark.sqlite  # PostgreSQL's tables are rewritten by the migration itself (the test above)
def test_a_sqlite_file_keeps_no_number_of_a_row_deleted_before_the_upgrade(tmp_path):
    with at_revision("0009", _tables(), tmp_path) as (engine, loaded):
        gone = loaded["members"][0]["id_number"]
        with engine.begin() as connection:  # as the application deleted rows before revision 0010
            connection.exec_driver_sql("PRAGMA secure_delete=OFF")
            connection.execute(sa.text("DELETE FROM members WHERE id = :id"), {"id": loaded["members"][0]["id"]})
        upgrade(engine)  # as `songnuan init-db` upgrades
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        raw = file_text(engine.url.database)
        assert raw and gone not in raw


def test_each_number_has_its_digest_and_mask(migrated):
    engine, _ = migrated
    with Session(engine) as session:
        for model in (Archive, Case):
            for row in session.scalars(sa.select(model)):
                assert (row.id_digest, row.id_masked) == (digest(row.id_number), mask_id(row.id_number))
                assert row.bank_masked == mask_account(row.bank_account)
                assert all((m.id_digest, m.id_masked) == (digest(m.id_number), mask_id(m.id_number))
                           for m in row.members)


def test_the_chain_still_verifies(migrated):
    engine, loaded = migrated
    with Session(engine) as session:
        verification = audit.verify(session)
    assert verification.ok and verification.events == len(loaded["audit_events"])


@pytest.fixture
def work(migrated):
    engine, _ = migrated
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        latest = session.scalar(sa.select(sa.func.max(AuditEvent.occurred_at)))
        yield session, FixedClock(latest.replace(tzinfo=UTC))
        session.close()
        outer.rollback()


def test_a_migrated_number_still_blocks_a_second_archive(work):
    session, clock = work
    archive = session.scalars(sa.select(Archive).where(Archive.members.any()).order_by(Archive.id)).first()
    other = session.scalar(sa.select(Account).where(Account.role == "cadre", Account.union_id != archive.union_id))
    holder = session.get(Union, archive.union_id)
    for number in (archive.id_number, archive.members[0].id_number):
        with pytest.raises(Refused) as refused:
            verbs.create_archive(session, other, clock, {
                "applicant": {"name": "王建国", "gender": "male", "id_number": number}})
        assert refused.value.rule == "archive_duplicate"
        assert holder.name in refused.value.message and mask_id(number) in refused.value.message
        assert number not in refused.value.message


def test_a_migrated_case_is_found_by_the_last_four_digits_only(work):
    session, _ = work
    case = session.scalars(sa.select(Case).where(Case.id_number.is_not(None)).order_by(Case.id)).first()

    def found(q: str) -> set[int]:
        return set(session.scalars(sa.select(Case.id).where(worklists.name_or_number(Case, q))))

    assert case.id in found(case.id_number[-4:])
    # Neither a run from the middle nor the whole number: guessing the birth date behind a mask would be an oracle.
    assert case.id not in found(case.id_number[6:14]) and case.id not in found(case.id_number)


def test_the_downgrade_gives_back_the_0009_rows(tmp_path):
    with at_revision("0009", _tables(), tmp_path) as (engine, loaded):
        _upgrade(engine, "head")
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0009")
        now = _rows(engine)
        for name, rows in loaded.items():
            key = sa.inspect(engine).get_pk_constraint(name)["constrained_columns"]
            assert {tuple(r[k] for k in key): r for r in now[name]} == {tuple(r[k] for k in key): r for r in rows}, \
                name
