"""Fixtures shared by every depth of test.

The database is SQLite in a temporary folder, or the one named by SONGNUAN_TEST_DATABASE_URL (PostgreSQL in CI).
Its schema comes from the Alembic migration, once per run. Each test gets a session inside a transaction that is
rolled back at the end; tests that need real commits (threads, processes, the CLI) use `committed` instead, which
empties the tables afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from contextlib import ExitStack

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from workflows.infra.clock import LOCAL, FixedClock
from workflows.infra.db import make_engine, scratch_database
from workflows.infra.migrate import upgrade
from workflows.infra.uploads import Uploads
from workflows.models import Base

from .factories import Factory
from .storage import CREDENTIALS, S3Place, new_bucket, running_s3

TEST_URL = os.environ.get("SONGNUAN_TEST_DATABASE_URL")
# Fixed keys for the personal numbers at rest (workflows/infra/sealing.py), inherited by the processes the tests
# start (the CLI, servers, schedulers), so that every one of them opens what another sealed.
os.environ.setdefault("SONGNUAN_DATA_KEYS", "test1:" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
os.environ.setdefault("SONGNUAN_INDEX_KEY", "aW5kZXgta2V5LW9mLXRoZS10ZXN0cy0zMi1ieXRlcyE=")
# The seed notice: cases due at the district by 2018-01-25 (end of day, Beijing time). Tests start early in January.
START = dt.datetime(2018, 1, 8, 9, 0, tzinfo=LOCAL)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _fresh_postgres_database(url: str):
    """A database of its own for this run, on the server SONGNUAN_TEST_DATABASE_URL names, dropped afterwards:
    two runs at once (two developers, or CI beside a developer) never see each other's rows."""
    return scratch_database(url, "songnuan_test")


@pytest.fixture(scope="session")
def engine(tmp_path_factory) -> Engine:
    with ExitStack() as stack:
        if TEST_URL and TEST_URL.startswith("postgresql"):
            url = stack.enter_context(_fresh_postgres_database(TEST_URL))
        else:
            url = TEST_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Session:
    """A session whose work is rolled back after the test, commits included (they become savepoints)."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    yield session
    session.close()
    outer.rollback()
    connection.close()


def empty_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "audit_head":
                connection.execute(table.delete())
        connection.execute(text("UPDATE audit_head SET seq = 0, hash = :genesis"), {"genesis": "0" * 64})
        if is_postgres(engine):  # start ids from 1 again, for readable failures
            for table in Base.metadata.sorted_tables:
                for column in table.primary_key.columns:
                    if column.autoincrement is True or (column.autoincrement == "auto" and column.type.python_type is int):
                        connection.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), 1, false) "
                            f"WHERE pg_get_serial_sequence('{table.name}', '{column.name}') IS NOT NULL"))


@pytest.fixture
def committed(engine: Engine) -> Engine:
    """The engine itself, for tests whose work must really commit; the tables are emptied afterwards."""
    empty_tables(engine)
    yield engine
    empty_tables(engine)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def uploads(tmp_path) -> Uploads:
    return Uploads(tmp_path / "uploads")


@pytest.fixture(scope="session")
def s3_server() -> str:
    """The endpoint URL of a real S3 API (moto's server) on a free loopback port, one per test process (so one per
    xdist worker), started when a test first asks for it."""
    with running_s3() as endpoint_url:
        yield endpoint_url


@pytest.fixture(scope="session")
def s3_bucket(s3_server: str) -> str:
    return new_bucket(s3_server)


@pytest.fixture
def s3(s3_server: str, s3_bucket: str, monkeypatch) -> S3Place:
    """An empty place on the test S3 server (a prefix of its own in the process's bucket), and boto3's credentials
    in this process's environment. A test that starts other processes gives them `s3.env` (the SONGNUAN_S3_*
    settings and the credentials): they all keep their uploads there."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return S3Place(s3_server, s3_bucket, f"test-{secrets.token_hex(6)}/")


@pytest.fixture
def make(session: Session, clock: FixedClock, uploads: Uploads) -> Factory:
    return Factory(session, clock, uploads)


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL's locking and are deselected on SQLite; tests marked `sqlite` are of
    SQLite's own behaviour, and tests marked `layout` of how pages look in a browser (which no database changes),
    and both are deselected on PostgreSQL (CI runs the suite on both)."""
    others = {"sqlite", "layout"} if TEST_URL and TEST_URL.startswith("postgresql") else {"postgres"}
    left = [item for item in items if others & set(item.keywords)]
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = [item for item in items if not others & set(item.keywords)]
