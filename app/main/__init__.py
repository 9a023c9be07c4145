"""The start page, until the web application (issue 4) brings sign-in and the inboxes, and /healthz."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from workflows.models import Campaign, Case, Union
from workflows.states import State

from ..db import db

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    session = db()
    campaigns = session.scalars(select(Campaign).order_by(Campaign.deadline.desc())).all()
    counts = session.execute(
        select(Case.campaign_id, Union.name, Case.state, func.count())
        .join(Union, Case.union_id == Union.id).group_by(Case.campaign_id, Union.name, Case.state)
    ).all()
    table: dict[int, dict[str, dict[str, int]]] = {}
    for campaign_id, union, state, count in counts:
        table.setdefault(campaign_id, {}).setdefault(union, {})[state] = count
    return render_template("main/index.html", campaigns=campaigns, table=table, states=list(State))


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (what a load balancer or monitor asks)."""
    try:
        db().execute(text("SELECT 1"))
    except DBAPIError:
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}
