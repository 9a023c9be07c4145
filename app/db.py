"""The request's database session, opened on first use and closed (rolled back if uncommitted) at teardown."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, g, request
from sqlalchemy.orm import Session

READS = ("GET", "HEAD", "OPTIONS")
View = TypeVar("View", bound=Callable)


def writes(view: View) -> View:
    """Mark a GET that writes (an audited download) as a request that may write, as a POST is: put it beneath the
    route's decorator. On SQLite a reading session that then writes fails (SQLITE_BUSY_SNAPSHOT, a 500) when another
    request committed a write after it first read; a writing one holds the write lock from its first statement."""
    view.writes = True  # type: ignore[attr-defined]
    return view


def reads(view: View) -> View:
    """Mark a POST that only reads (a check of what a form would say, sent as the cadre types) as a reading
    request: a writing session would take SQLite's write lock and queue every pause of typing behind real saves."""
    view.writes = False  # type: ignore[attr-defined]
    return view


def writing() -> bool:
    """Whether this request may write: any but a GET, HEAD or OPTIONS unless marked `reads`, and the GETs marked
    `writes`."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "writes", request.method not in READS)


def db() -> Session:
    """One session per request; a request that may write gets a writing session (see workflows.db)."""
    if "db" not in g:
        g.db = current_app.extensions["songnuan"]["writing_sessions" if writing() else "sessions"]()
    return g.db
