"""Revision 0013 (the name search's pieces) on the demo as revision 0010 held it, upgraded to 0012 and then to
0013: nothing lost, the chain still verifies, the pieces are what the application itself would write, and every
search by a piece of a name or a last four answers what reading every row answered before the revision."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from workflows.infra import audit, search
from workflows.infra.migrate import alembic_config
from workflows.models import Account, Archive, ArchiveMember, Case, NameGram
from workflows.reads import archives, worklists

from .test_migration_0007 import _upgrade, at_revision
from .test_migration_0012 import _rows, _tables


def _asked(engine: sa.Engine) -> list[str]:
    """Every two-character piece of every name, and every mask's last four, in the demo."""
    with Session(engine) as session:
        names = [*session.scalars(sa.select(Case.applicant_name)), *session.scalars(sa.select(Archive.applicant_name)),
                 *session.scalars(sa.select(ArchiveMember.name))]
        masks = [*session.scalars(sa.select(Case.id_masked)), *session.scalars(sa.select(ArchiveMember.id_masked))]
    return sorted({n[i:i + 2] for n in names for i in range(len(n) - 1)} | {m[-4:] for m in masks if m})


def _searches(engine: sa.Engine, asked: list[str]) -> dict[tuple[str, str], tuple[list[int], list[int]]]:
    """What the district reviewer and each union's cadre find, in the case list and the archive list."""
    shown = {}
    with Session(engine) as session:
        people = session.scalars(sa.select(Account).where(Account.role.in_(["reviewer", "cadre"]))
                                 .order_by(Account.id)).all()
        for person in people:
            for q in asked:
                cases = worklists.cases(session, person, worklists.Filters(q=q), per_page=100).items
                held = archives.listing(session, person, archives.ArchiveFilters(q=q), per_page=100).items
                shown[(person.username, q)] = ([c.id for c in cases], [a.id for a in held])
    return shown


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    with at_revision("0010", _tables(), tmp_path_factory.mktemp("migration")) as (engine, _):
        _upgrade(engine, "0012")
        asked = _asked(engine)
        with pytest.MonkeyPatch.context() as patch:  # before 0013 there are no pieces: every row is read
            patch.setattr(search, "owners_matching", lambda kind, q: None)
            before, found = _rows(engine), _searches(engine, asked)
        _upgrade(engine, "0013")
        yield engine, before, asked, found


def test_nothing_is_lost_and_the_chain_verifies(migrated):
    engine, before, _, _ = migrated
    after = _rows(engine)
    assert after.pop("name_grams") and after == before
    with Session(engine) as session:
        assert audit.verify(session).ok


def test_the_pieces_are_what_the_application_writes(migrated):
    engine = migrated[0]
    with engine.begin() as connection:
        filled = set(connection.execute(sa.select(NameGram.kind, NameGram.gram, NameGram.owner_id)))
        search.rebuild(connection)
        assert set(connection.execute(sa.select(NameGram.kind, NameGram.gram, NameGram.owner_id))) == filled
        connection.rollback()
    assert {kind for kind, _, _ in filled} == {"a", "c"}


def test_every_search_answers_as_before(migrated):
    engine, _, asked, found = migrated
    assert len(asked) > 50 and sum(bool(cases or held) for cases, held in found.values()) > 50
    assert _searches(engine, asked) == found


def test_the_downgrade_drops_the_pieces(tmp_path):
    with at_revision("0010", _tables(), tmp_path) as (engine, _):
        _upgrade(engine, "0013")
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0012")
        assert "name_grams" not in sa.inspect(engine).get_table_names()
