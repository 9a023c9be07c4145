"""Revision 0012 (the lists' indexes) on the demo as revision 0010 held it, upgraded to 0011 and then to 0012:
nothing lost, the chain still verifies, the lists read the same rows through the new indexes, and the downgrade
gives back the index it replaced."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from workflows.infra import audit
from workflows.infra.clock import UTC
from workflows.infra.migrate import alembic_config
from workflows.models import Account
from workflows.reads import archives, worklists

from .test_migration_0007 import _upgrade, at_revision

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo_0010.json"
NEW = {"cases": {"ix_cases_state_campaign_updated", "ix_cases_union_state_campaign_updated"},
       "archives": {"ix_archives_updated", "ix_archives_union_updated"}}


def _tables() -> dict[str, list[dict]]:
    return json.loads(FIXTURE.read_text())["tables"]


def _rows(engine: sa.Engine) -> dict[str, list[dict]]:
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as connection:
        return {name: [dict(r._mapping) for r in connection.execute(sa.select(table).order_by(*table.primary_key))]
                for name, table in meta.tables.items() if name != "alembic_version"}


def _indexes(engine: sa.Engine, table: str) -> set[str]:
    return {index["name"] for index in sa.inspect(engine).get_indexes(table)}


def _lists(engine: sa.Engine) -> dict[str, list[int]]:
    """What each person's inbox, case list and archive list show, every page (by the cursor)."""
    now = dt.datetime(2027, 1, 10, 10, 0, tzinfo=UTC)
    shown = {}
    with Session(engine) as session:
        for account in session.scalars(sa.select(Account).order_by(Account.id)):
            for name, read in (("inbox", lambda after: worklists.inbox(session, account, now, per_page=3, after=after)),
                               ("cases", lambda after: worklists.cases(session, account, per_page=3, after=after)),
                               ("archives", lambda after: archives.listing(session, account, per_page=3,
                                                                           after=after))):
                ids, after = [], None
                while True:
                    page = read(after)
                    ids += [item.id for item in page.items]
                    if not (after := page.after):
                        break
                shown[f"{account.username} {name}"] = ids
    return shown


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    with at_revision("0010", _tables(), tmp_path_factory.mktemp("migration")) as (engine, loaded):
        _upgrade(engine, "0011")
        before, lists = _rows(engine), _lists(engine)
        _upgrade(engine, "0012")
        yield engine, before, lists


def test_nothing_is_lost_and_the_chain_verifies(migrated):
    engine, before, _ = migrated
    assert _rows(engine) == before
    assert len(before["audit_events"]) > 500
    with Session(engine) as session:
        assert audit.verify(session).ok


def test_the_lists_show_the_same_through_the_new_indexes(migrated):
    engine, _, lists = migrated
    for table, names in NEW.items():
        assert names <= _indexes(engine, table)
    assert "ix_cases_union_state" not in _indexes(engine, "cases")
    assert sum(map(len, lists.values())) > 100  # the demo's people see something
    assert _lists(engine) == lists


def test_the_downgrade_gives_back_the_index_it_replaced(tmp_path):
    with at_revision("0010", _tables(), tmp_path) as (engine, _):
        _upgrade(engine, "0012")
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0011")
        assert "ix_cases_union_state" in _indexes(engine, "cases")
        assert not (NEW["cases"] | NEW["archives"]) & (_indexes(engine, "cases") | _indexes(engine, "archives"))
