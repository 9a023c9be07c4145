"""The audit screens. Each reads its filters, asks workflows.reads.trail (or workflows.infra.audit for the chain) and renders;
none writes but the checkpoint of a successful verification (see verify), and every text of an event reaches the
template already masked (trail.Entry)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from sqlalchemy import select

from workflows.errors import Invalid, NotFound
from workflows.infra import audit, checkpoints
from workflows.models import Campaign, Union
from workflows.reads import trail
from workflows.states import Role
from workflows.texts import N_
from workflows.vocab import UnionKind

from ..current import actor
from ..db import db
from ..listing import page_number
from . import bp
from .checkpoint import remember

# The problems after which the event named is still there to look at; a removed one is gone, and a truncated
# chain names the first event missing.
STILL_THERE = ("changed", "inserted", "moved")


def choices() -> dict[str, Any]:
    """The options of the filter bar: two small queries, however long the trail."""
    return {
        "campaigns": db().execute(select(Campaign.id, Campaign.name).order_by(Campaign.deadline.desc())).all(),
        "unions": db().execute(select(Union.code, Union.name).where(Union.kind == UnionKind.grassroots)
                               .order_by(Union.code)).all(),
        "roles": list(Role), "actions": trail.actions(),
    }


def read_filters() -> tuple[trail.EventFilters | None, dict[str, str]]:
    try:
        return trail.parse_filters(request.args), {}
    except Invalid as error:
        return None, error.fields


def _list(template: str, query, **context: Any):
    """A filtered list: the page, or the filter bar with its messages (400) and no rows when a filter is wrong,
    rather than rows the auditor did not ask for."""
    filters, errors = read_filters()
    page = query(db(), filters, page_number(request.args)) if filters else None
    return render_template(template, page=page, errors=errors, choices=choices(), **context), 400 if errors else 200


@bp.get("/")
def index():
    """Every event, filtered, newest first unless asked otherwise."""
    return _list("audit/index.html", trail.events)


@bp.get("/reveals")
def reveals():
    """Every reveal of a full ID or bank number: who, when, which case, which number."""
    return _list("audit/reveals.html", trail.reveals)


@bp.get("/events/<int:seq>")
def event(seq: int):
    entry = trail.event(db(), seq)
    if entry is None:
        raise NotFound(N_("找不到该审计事件，它可能已被删除；请核验审计链"))
    before, after = trail.neighbours(db(), seq)
    return render_template("audit/event.html", e=entry, before=before, after=after)


@bp.get("/cases/<int:case_id>")
def case(case_id: int):
    """One case's whole history, oldest first, even when the case row itself is gone."""
    history = trail.case_history(db(), case_id)
    if history.case is None and not history.items:
        raise NotFound(N_("找不到该案件的审计记录"))
    return render_template("audit/case.html", history=history)


@bp.get("/verify")
def verify():
    """Check the chain from the last checkpoint, or walk it all (?full=1); optionally against a digest kept outside
    the database, which also catches a tail cut off after it was taken. A success records a checkpoint."""
    digest = (request.args.get("digest") or "").strip()
    full = request.args.get("full") == "1"
    error = None
    if digest:
        try:
            audit.parse_digest(digest)
        except ValueError as problem:
            error = problem.args[0]  # a Text: shown in the reader's language
    point = checkpoints.latest(db())
    # A malformed digest verifies nothing: a result without the check asked for would read as a pass.
    result = None if error else checkpoints.verify(db(), digest or None, full=full)
    context: dict[str, Any] = {"result": result, "digest": digest, "error": error, "head": audit.digest(db()),
                               "point": point, "full": full,
                               # asked from the checkpoint, but the chain no longer held up to it
                               "fell_back": result is not None and not full and point is not None and result.full}
    if result is not None:
        recorded = remember(result, actor().username)
        if recorded is not None and recorded.ok:
            context["point"] = recorded  # the card tells of this very run
    if result is not None and not result.ok:
        seq = result.first_bad
        context["link"] = seq if result.problem in STILL_THERE and trail.exists(db(), seq) else None
        context["before"], context["after"] = trail.neighbours(db(), seq)
    return render_template("audit/verify.html", **context), 400 if error else 200

