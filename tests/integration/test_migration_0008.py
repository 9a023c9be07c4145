"""Revision 0008 (recognition and the annual review) on the demo as revision 0007 held it: nothing lost, the chain
still verifies, each archive's income history starts, and the application works on what the migration made.

The fixture tests/fixtures/demo_0007.json was made as demo_0006.json was (see test_migration_0007.py), from a
worktree of d493b2c, the last commit at revision 0007, on 2026-12-07.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.infra import audit
from workflows.infra.clock import UTC, FixedClock
from workflows.models import Account, Archive, ArchiveIncome, Base, Case
from workflows.states import State

from .test_migration_0007 import _key, _rows, _upgrade, at_revision

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_0007.json"
NEW_HOUSEHOLD_COLUMNS = {"spending_illness", "spending_disability", "spending_schooling", "compensation",
                         "category_reason", "exclusions"}


def _at_0007(tmp_path: Path):
    return at_revision("0007", json.loads(FIXTURE.read_text())["tables"], tmp_path)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    with _at_0007(tmp_path_factory.mktemp("migration")) as (engine, loaded):
        _upgrade(engine, "head")
        yield engine, loaded


def test_nothing_is_lost_or_changed(migrated):
    engine, loaded = migrated
    now = _rows(engine)
    for name in ("archives", "cases", "members", "archive_members", "documents", "audit_events"):
        assert len(now[name]) == len(loaded[name]) > 0, name
    for name, rows in loaded.items():
        assert len(now[name]) == len(rows), name
        key = _key(engine, name)
        after = {tuple(r[k] for k in key): r for r in now[name]}
        for row in rows:
            for column, value in row.items():
                assert after[tuple(row[k] for k in key)][column] == value, (name, column)
    for name in ("archives", "cases"):
        for row in now[name]:
            assert row["exclusions"] == [] and row["category_reason"] is None and row["spending_illness"] is None


def test_the_chain_still_verifies_and_the_schema_is_the_models(migrated):
    engine, loaded = migrated
    with Session(engine) as session:
        verification = audit.verify(session)
    assert verification.ok and verification.events == len(loaded["audit_events"])
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_each_archive_starts_its_income_history(migrated):
    engine, loaded = migrated
    with Session(engine) as session:
        incomes = {i.archive_id: i for i in session.scalars(sa.select(ArchiveIncome))}
        archives = session.scalars(sa.select(Archive)).all()
        assert set(incomes) == {a.id for a in archives}
        for archive in archives:
            expected = None if archive.annual_income is None else \
                (archive.annual_income / 12 / archive.household_size).quantize(Decimal("0.01"))
            assert incomes[archive.id].net_monthly == expected, archive.id
            assert incomes[archive.id].since == archive.updated_at


def test_the_application_works_on_the_migrated_data(migrated):
    engine, loaded = migrated
    last = max(e["occurred_at"] for e in loaded["audit_events"])
    clock = FixedClock(last.replace(tzinfo=UTC) + dt.timedelta(hours=1))
    with Session(engine) as session, session.begin():
        admin = session.scalar(sa.select(Account).where(Account.role == "admin"))
        verbs.set_standard(session, admin, clock, clock.now().year, "110000", "1100")
        draft = session.scalar(sa.select(Case).where(Case.state == State.drafted).order_by(Case.id))
        cadre = session.scalar(sa.select(Account).where(Account.role == "cadre", Account.union_id == draft.union_id))
        verbs.record_visit(session, cadre, clock, draft.archive_id, clock.now().date(), "周丽华", "入户核实")
        edited = verbs.edit_case(session, cadre, clock, draft.id, draft.version,
                                 {"household": {"spending": {"illness": "3000"}}, "exclusions": ["private_car"]})
        assert edited.spending_illness == Decimal("3000") and edited.exclusions == ["private_car"]
    with Session(engine) as session:
        assert audit.verify(session).ok


def test_the_downgrade_gives_back_the_0007_rows(tmp_path):
    with _at_0007(tmp_path) as (engine, loaded):
        _upgrade(engine, "head")
        from alembic import command

        from workflows.infra.migrate import alembic_config

        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0007")
        now = _rows(engine)
        assert "living_standards" not in now and "archive_incomes" not in now
        for name, rows in loaded.items():
            assert len(now[name]) == len(rows), name
        assert not NEW_HOUSEHOLD_COLUMNS & set(now["cases"][0])
