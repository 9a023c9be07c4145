"""Revision 0011 (audit verification checkpoints) on the demo as revision 0010 held it: nothing lost, no checkpoint
yet, the chain verifies in full and then from the checkpoint that recorded, and the downgrade drops the table alone.

The fixture tests/fixtures/demo_0010.json was made as demo_0006.json was (see test_migration_0007.py), from a
worktree of commit 210731a (the last at revision 0010), with the tests' SONGNUAN_DATA_KEYS and SONGNUAN_INDEX_KEY
(tests/conftest.py) set, so that its sealed numbers open here; on 2026-12-07.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from workflows.infra import audit, checkpoints
from workflows.infra.migrate import alembic_config
from workflows.models import AuditCheckpoint

from .test_migration_0007 import _upgrade, at_revision

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_0010.json"


def _tables() -> dict[str, list[dict]]:
    return json.loads(FIXTURE.read_text())["tables"]


def _rows(engine: sa.Engine) -> dict[str, list[dict]]:
    """Every table's rows as stored (the sealed numbers sealed: the revision touches none of them)."""
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        return {name: [dict(r._mapping) for r in connection.execute(sa.select(table).order_by(*table.primary_key))]
                for name, table in meta.tables.items()}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    with at_revision("0010", _tables(), tmp_path_factory.mktemp("migration")) as (engine, loaded):
        _upgrade(engine, "head")
        yield engine, loaded


def test_nothing_is_lost(migrated):
    engine, loaded = migrated
    now = _rows(engine)
    for name, rows in loaded.items():
        assert len(now[name]) == len(rows), name
        key = sa.inspect(engine).get_pk_constraint(name)["constrained_columns"]
        after = {tuple(r[k] for k in key): r for r in now[name]}
        for row in rows:
            for column, value in row.items():
                assert after[tuple(row[k] for k in key)][column] == value, (name, column)
    assert now["audit_checkpoints"] == []


def test_the_chain_verifies_in_full_then_from_its_checkpoint(migrated):
    engine, loaded = migrated
    events = len(loaded["audit_events"])
    assert events > 500
    with Session(engine) as session:
        first = checkpoints.verify(session)
    assert first == audit.Verification(True, events)
    with Session(engine) as session, session.begin():
        point = checkpoints.record(session, first, "tester", dt.datetime(2026, 12, 7, tzinfo=dt.UTC))
        assert (point.seq, point.full) == (events, True)
    with Session(engine) as session:
        assert checkpoints.verify(session) == audit.Verification(True, 0, since=events)
        assert checkpoints.verify(session, full=True) == audit.Verification(True, events)


def test_the_downgrade_drops_the_checkpoints_alone(migrated, tmp_path):
    with at_revision("0010", _tables(), tmp_path) as (engine, loaded):
        _upgrade(engine, "0011")
        with engine.begin() as connection:
            connection.execute(sa.insert(AuditCheckpoint.__table__).values(
                seq=1, hash="0" * 64, from_seq=0, events=1, full=True, verified_at=dt.datetime(2026, 12, 7),
                verified_by="tester"))
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0010")
        assert "audit_checkpoints" not in sa.inspect(engine).get_table_names()
        assert {name: len(rows) for name, rows in _rows(engine).items() if name != "alembic_version"} == \
            {name: len(rows) for name, rows in loaded.items()}
