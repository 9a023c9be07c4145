"""The request's database session, opened on first use and closed (rolled back if uncommitted) at teardown."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["songnuan"]["sessions"]()
    return g.db
