"""The Alembic migration is the only way a database gets its schema: it must match the models exactly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from workflows.models import Base


def test_migration_matches_the_models(engine):
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_the_chain_has_its_head_row_and_sqlite_runs_in_wal(engine):
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_head WHERE id = 1")).scalar() == 1
        if engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    assert {"cases", "members", "documents", "objections", "audit_events", "unions", "accounts", "campaigns"} \
        <= set(inspect(engine).get_table_names())


def test_a_database_error_never_carries_a_personal_number_into_the_log(engine):
    # The unexpected-error handler logs the exception, and SQLAlchemy's message would otherwise list the
    # statement's parameters: a full ID number among them.
    number = "110105197506011234"
    with engine.connect() as connection:
        with pytest.raises(DBAPIError) as caught:
            connection.execute(text("SELECT no_such_column FROM cases WHERE id_number = :n"), {"n": number})
    assert number not in str(caught.value)
