"""The archive list (everything this person may see, filtered, a page at a time, numbers masked) and the carry-over
of a campaign (结转申请): the union's active archives not yet applied for, applied for many at once."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from workflows import verbs
from workflows.archive_states import Status
from workflows.errors import DomainError, Invalid
from workflows.inputs import parse_number
from workflows.models import Campaign, Case, Union
from workflows.reads import archives
from workflows.reads.archives import ArchiveFilters
from workflows.rules import DRAFTERS, require_role
from workflows.states import UNION_ROLES
from workflows.vocab import Category, UnionKind, WorkerGroup

from ..cases.edit import open_campaigns
from ..current import actor, clock
from ..db import db
from ..listing import page_number, union_options
from ..respond import error_text, perform, status_of
from . import bp

MAX_CREATED = 500  # drafts listed after a carry-over (the ids travel in the address)


def read_filters(args) -> ArchiveFilters:
    """The list's filters from the query string; unknown values are ignored."""
    def pick(name: str, allowed) -> str | None:
        value = args.get(name, "")
        return value if value in {item.value for item in allowed} else None

    return ArchiveFilters(status=pick("status", Status), union=(args.get("union") or "").strip()[:32] or None,
                          category=pick("category", Category), worker_group=pick("worker_group", WorkerGroup),
                          q=(args.get("q") or "").strip()[:50] or None)


def filter_choices(me) -> dict[str, Any]:
    unions = [] if me.role in UNION_ROLES else db().execute(
        select(Union.code, Union.name).where(Union.kind == UnionKind.grassroots).order_by(Union.code)).all()
    return {"unions": unions, "union_options": union_options(unions), "statuses": list(Status),
            "categories": list(Category),
            "worker_groups": list(WorkerGroup)}


@bp.get("/")
@login_required
def index():
    me = actor()
    filters = read_filters(request.args)
    page = archives.listing(db(), me, filters, page=page_number(request.args), after=request.args.get("after"))
    drafting = me.role in DRAFTERS
    return render_template("archives/index.html", page=page, filters=filters, choices=filter_choices(me),
                           may_create=drafting, may_carry_over=drafting and bool(open_campaigns()))


# ---------------------------------------------------------------- carry-over

def _campaign_choice(campaigns: list[Campaign], value: str | None) -> Campaign | None:
    """The open campaign asked for; or the first (the nearest deadline) in which households are waiting, or the
    first; None when none is open."""
    asked = parse_number(value)
    chosen = next((c for c in campaigns if c.id == asked), None)
    found = None if chosen or not campaigns else archives.waiting(db(), actor(), clock().now())
    return chosen or next((c for c in campaigns if found and c.id == found.campaign), campaigns[0] if campaigns else None)


def _created(value: str | None) -> list[Case]:
    """The drafts a carry-over just made (named in the address after it), those this person may see."""
    ids = [i for i in map(parse_number, (value or "").split(",")[:MAX_CREATED]) if i is not None]
    if not ids:
        return []
    return list(db().scalars(select(Case).where(Case.id.in_(ids), Case.visible_to(actor())).order_by(Case.id)))


def _carry_over_page(campaign_value: str | None, *, status: int = 200, error: str | None = None,
                     selected: set[int] | None = None, select_all: bool = False, created: list[Case] | None = None):
    me = actor()
    campaigns = open_campaigns()
    campaign = _campaign_choice(campaigns, campaign_value)
    rows = archives.carry_over(db(), me, campaign.id) if campaign else []
    return render_template("archives/carry_over.html", campaigns=campaigns, campaign=campaign, rows=rows,
                           error=error, selected=selected or set(), select_all=select_all,
                           created=created or []), status


@bp.get("/carry-over")
@login_required
def carry_over():
    require_role(actor(), DRAFTERS, "结转申请")
    return _carry_over_page(request.args.get("campaign"), select_all=request.args.get("all") == "1",
                            created=_created(request.args.get("created")))


@bp.post("/carry-over")
@login_required
def apply_many():
    """Apply for every ticked archive at once: one draft each, from the archive's data; all or none."""
    me = actor()
    require_role(me, DRAFTERS, "结转申请")
    campaign = (request.form.get("campaign") or "").strip()
    ticked = [i for i in map(parse_number, request.form.getlist("archive")) if i is not None]

    def run() -> list[Case]:
        if (campaign_id := parse_number(campaign)) is None:
            raise Invalid({"campaign": _("请选择活动")})
        return verbs.apply_for(db(), me, clock(), campaign_id, ticked)

    def refused(error: DomainError):
        return _carry_over_page(campaign, status=status_of(error), error=error_text(error), selected=set(ticked))

    cases = perform(run, refused)
    flash(_("已为 %(n)s 户起草本活动的申请：资料取自档案，请逐一核对，并填写帮扶方式和金额", n=len(cases)), "success")
    return redirect(url_for("archives.carry_over", campaign=campaign,
                            created=",".join(str(case.id) for case in cases[:MAX_CREATED])))


def carry_over_tile(me) -> dict[str, Any] | None:
    """For the inbox of a cadre while a campaign takes drafts: how many of the union's active archives still wait
    for this year's application (None otherwise)."""
    found = archives.waiting(db(), me, clock().now())
    return {"count": found.count, "campaign": found.campaign} if found else None
