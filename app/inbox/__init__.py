"""The task inbox, each role's landing page: the cases this person can move on now, grouped by what is to be done."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request
from flask_login import login_required

from workflows.infra.clock import from_db
from workflows.rules import DRAFTERS
from workflows.reads import worklists
from workflows.states import CLAIM_STATES, GRASSROOTS, tasks_of

from ..archives.lists import carry_over_tile
from ..archives.reviews import review_tiles
from ..areas import gate
from ..cases.lists import filter_choices
from ..current import actor, clock
from ..db import db
from ..listing import page_number, read_filters

bp = Blueprint("inbox", __name__)
gate(bp)

AT_RISK = dt.timedelta(days=3)  # a grassroots task this close to the deadline is marked


def urgency(case, now: dt.datetime) -> tuple[str, int | None]:
    """("overdue" | "at-risk" | "", whole days left) for a case at a grassroots stage; ("", None) otherwise."""
    if case.state not in GRASSROOTS:
        return "", None
    left = from_db(case.campaign.deadline) - now
    mark = "overdue" if left <= dt.timedelta(0) else "at-risk" if left <= AT_RISK else ""
    return mark, left.days


def shown(count: int, more: bool) -> str:
    """A count as a tile shows it: 1,234, or 1,000+ when it was bounded (counting on would scan the list)."""
    return f"{count:,}+" if more else f"{count:,}"


@bp.get("/inbox")
@login_required
def index():
    me, now = actor(), clock().now()
    filters = read_filters(request.args)
    page = worklists.inbox(db(), me, now, filters, page=page_number(request.args), after=request.args.get("after"))
    # (label, state to filter by, count), in the order of the task table; a group with nothing in it is shown
    # (as 0) for the moves of the table, and left out for the other tasks (a head's objections).
    groups = [(task.label, task.states[0], shown(page.groups.get(task.label, 0), task.label in page.capped))
              for task in tasks_of(me.role) if task.trigger is not None or page.groups.get(task.label)]
    rows = [(case, *urgency(case, now)) for case in page.items]
    return render_template("inbox/index.html", page=page, rows=rows, groups=groups, filters=filters,
                           count_all=shown(page.total, page.more),
                           claims=me.role in CLAIM_STATES, choices=filter_choices(me),
                           carry_over=carry_over_tile(me), reviews=review_tiles(me), now=now,
                           may_create=me.role in DRAFTERS)  # a new application starts from the inbox too
