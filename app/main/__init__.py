"""/healthz: what a load balancer or a monitor asks."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ..db import db

bp = Blueprint("main", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db().execute(text("SELECT 1"))
    except DBAPIError:
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}
