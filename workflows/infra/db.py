"""Engines and sessions. Nothing is created at import time: callers build what they need from a URL."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, func, make_url, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from workflows.errors import Conflict, DomainError
from workflows.texts import N_

log = logging.getLogger(__name__)

# The SQLSTATEs of a write another transaction made impossible meanwhile: a unique key taken, a referenced row
# removed (or one referring to it added), and PostgreSQL's serialization failures and deadlocks.
LOST_RACE = {"23505", "23503", "40001", "40P01"}
RACE_MESSAGE = N_("操作未能完成：有人同时进行了相同或相冲突的操作，请刷新页面查看最新情况后再试")


def make_engine(url: str, **kwargs) -> Engine:
    # A database error's message lists the statement's parameters, full ID and bank numbers among them; it is
    # logged, so it must not carry them.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database on the server `server_url` names, dropped afterwards: a
    benchmark's or a test run's own, so that two runs at once never see each other's rows."""
    server = make_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # WAL lets readers go on while one writer writes; the busy timeout makes writers queue, not fail.
        # NORMAL synchronous is durable across application crashes in WAL mode.
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # What an update or delete frees is zeroed, not left in the file: a number sealed since (revision 0010) or
        # a removed row cannot be read back from the file's free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # pysqlite's own transaction handling defers BEGIN past SELECTs; SQLAlchemy's documented fix. A writing
        # unit of work begins IMMEDIATE: it queues for the write lock up front (busy timeout) instead of reading
        # a snapshot first and failing with "database is locked" when another writer committed meanwhile.
        mode = "IMMEDIATE" if connection.get_execution_options().get("writes") else ""
        connection.exec_driver_sql(f"BEGIN {mode}")


def session_factory(engine: Engine, writes: bool = False) -> sessionmaker[Session]:
    """Sessions for reading, or (writes=True) for a unit of work that will write: on SQLite those serialise at
    BEGIN; on PostgreSQL the option changes nothing (row locks and versions do the work)."""
    return sessionmaker(engine.execution_options(writes=True) if writes else engine, expire_on_commit=False)


def lost_race(error: BaseException) -> bool:
    """Whether `error` is the database refusing a write that a concurrent transaction made impossible (two people
    doing the same thing at once), rather than a bug: a NOT NULL or CHECK violation is not one."""
    if isinstance(error, StaleDataError):  # a versioned row changed meanwhile
        return True
    if not isinstance(error, DBAPIError):
        return False
    code = getattr(error.orig, "sqlstate", None)  # psycopg
    if code is not None:
        return code in LOST_RACE
    # SQLite serialises its writers, so there this is a duplicate that no check before it saw.
    return isinstance(error, IntegrityError) and str(error.orig).startswith(
        ("UNIQUE constraint failed", "FOREIGN KEY constraint failed"))


def race_refusal(error: BaseException) -> Conflict | None:
    """The refusal a person reads (409) for a write that lost a race, or None for any other error. The database's
    message is never shown, nor logged whole (it may quote a key's values): only its code and constraint."""
    if not lost_race(error):
        return None
    diag = getattr(getattr(error, "orig", None), "diag", None)
    log.warning("a concurrent write was refused: %s %s %s", type(error).__name__,
                getattr(getattr(error, "orig", None), "sqlstate", ""), getattr(diag, "constraint_name", "") or "")
    return Conflict(RACE_MESSAGE)


@contextmanager
def unique(session: Session, refusal: DomainError) -> Iterator[None]:
    """Flush the block's writes in a savepoint: where another transaction took the same unique key since the
    verb checked it (and committed first), they are undone and `refusal` is raised, with the verb's own words,
    instead of the database's error; the session stays usable."""
    try:
        with session.begin_nested():
            yield
    except IntegrityError as error:
        if not lost_race(error):
            raise
        raise refusal from None


def locks_rows(session: Session) -> bool:
    """Whether SELECT ... FOR UPDATE takes row locks here (PostgreSQL). On SQLite it is a plain SELECT, and needs
    none: the writing session's BEGIN IMMEDIATE serialises every writer already."""
    return session.get_bind().dialect.name == "postgresql"


def take_turns(session: Session, kind: str, value: object) -> None:
    """Transactions doing `kind` of work for one `value` (an account's uploads, a name's sign-ins) take turns until
    they end, so that each counts what the one before it committed: on PostgreSQL by a transaction-level advisory
    lock; on SQLite the writing session's BEGIN IMMEDIATE serialises every writer already."""
    if locks_rows(session):
        key = int.from_bytes(hashlib.sha256(f"songnuan:{kind}:{value}".encode()).digest()[:8], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(key)))
