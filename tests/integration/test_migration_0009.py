"""Revision 0009 (money as the bank and the unions see it) on the demo as revision 0008 held it: nothing lost, the
chain still verifies, the new columns empty, and the application works on what the migration made.

The fixture tests/fixtures/demo_0008.json was made as demo_0006.json was (see test_migration_0007.py), from a
worktree of the commit tagged issue12-done (the last at revision 0008), on 2026-12-07.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

from workflows.infra import audit
from workflows.infra.migrate import alembic_config
from workflows.models import Base

from .test_migration_0007 import _rows, _upgrade, at_revision

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_0008.json"
NEW_CASE_COLUMNS = {"amount_reason", "goods_items", "goods_value", "returned_at", "return_reason",
                    "account_corrected_by_id", "account_corrected_at"}


def _at_0008(tmp_path: Path):
    return at_revision("0008", json.loads(FIXTURE.read_text())["tables"], tmp_path)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    with _at_0008(tmp_path_factory.mktemp("migration")) as (engine, loaded):
        _upgrade(engine, "0009")
        yield engine, loaded


def test_nothing_is_lost_or_changed(migrated):
    engine, loaded = migrated
    now = _rows(engine)
    for name in ("archives", "cases", "documents", "summaries", "audit_events", "living_standards", "home_visits"):
        assert len(now[name]) == len(loaded[name]), name
    for name, rows in loaded.items():
        assert len(now[name]) == len(rows), name
        key = sa.inspect(engine).get_pk_constraint(name)["constrained_columns"]
        after = {tuple(r[k] for k in key): r for r in now[name]}
        for row in rows:
            for column, value in row.items():
                assert after[tuple(row[k] for k in key)][column] == value, (name, column)
    assert all(row[column] is None for row in now["cases"] for column in NEW_CASE_COLUMNS)
    assert all(row["goods_in_budget"] is False for row in now["campaigns"])
    assert now["payment_batches"] == [] and now["tariffs"] == [] and now["notice_postings"] == []


def test_the_chain_still_verifies(migrated):
    engine, loaded = migrated
    with Session(engine) as session:
        verification = audit.verify(session)
    assert verification.ok and verification.events == len(loaded["audit_events"])


def test_the_head_schema_is_the_models(tmp_path):
    with _at_0008(tmp_path) as (engine, _loaded):
        _upgrade(engine, "head")
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_the_downgrade_gives_back_the_0008_rows(tmp_path):
    with _at_0008(tmp_path) as (engine, loaded):
        _upgrade(engine, "0009")
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0008")
        now = _rows(engine)
        assert "payment_batches" not in now and "tariffs" not in now
        for name, rows in loaded.items():
            assert len(now[name]) == len(rows), name
        assert not NEW_CASE_COLUMNS & set(now["cases"][0])
