"""Engines and sessions. Nothing is created at import time: callers build what they need from a URL."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, **kwargs) -> Engine:
    # A database error's message lists the statement's parameters, full ID and bank numbers among them; it is
    # logged, so it must not carry them.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


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
