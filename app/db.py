"""The request's database session, opened on first use and closed (rolled back if uncommitted) at teardown."""

from __future__ import annotations

from flask import current_app, g, request
from sqlalchemy.orm import Session

READS = ("GET", "HEAD", "OPTIONS")


def db() -> Session:
    """One session per request; a request that may write gets a writing session (see workflows.db)."""
    if "db" not in g:
        kind = "sessions" if request.method in READS else "writing_sessions"
        g.db = current_app.extensions["songnuan"][kind]()
    return g.db
