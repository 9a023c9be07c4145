"""活动总结: each grassroots union hands in its campaign summary and statistics by the report deadline; the
district sees who has handed in and who has not. The rules are workflows.summaries'."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from workflows import verbs
from workflows.errors import DomainError, Invalid, NotFound
from workflows.infra.uploads import TooLarge, UnsupportedType
from workflows.models import Campaign
from workflows.money import plain
from workflows.reads import summaries
from workflows.rules import past_report_deadline, require_role
from workflows.states import UNION_ROLES
from workflows.texts import N_
from workflows.verbs.summaries import FUNDS

from ..areas import gate
from ..cases.documents import send_stored
from ..current import actor, clock, uploads
from ..db import db
from ..respond import perform, status_of

bp = Blueprint("summaries", __name__, url_prefix="/summaries")
gate(bp)
# The sources of money the form asks for (in 元) and the district's table shows: key, column, label.
FUND_LABELS = tuple((key, column, label) for (key, column, _), label in zip(FUNDS, (
    _l("上级工会拨付"), _l("本级工会"), _l("党政支持"), _l("社会募集"), _l("职工捐款"))))


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(N_("找不到该活动"))
    return campaign


@bp.get("/")
@login_required
def index():
    """A union's people see their summary per campaign; the district sees, per campaign, who has handed in."""
    me = actor()
    campaigns = db().scalars(select(Campaign).order_by(Campaign.deadline.desc())).all()
    if me.role in UNION_ROLES:
        mine = {c.id: summaries.for_union(db(), c.id, me.union_id) for c in campaigns}
        return render_template("summaries/union.html", campaigns=campaigns, mine=mine, now=clock().now())
    chosen = request.args.get("campaign", "")
    campaign = next((c for c in campaigns if str(c.id) == chosen), campaigns[0] if campaigns else None)
    rows = summaries.status(db(), campaign.id) if campaign else []
    return render_template("summaries/district.html", campaigns=campaigns, campaign=campaign, rows=rows,
                           handed_in=sum(1 for r in rows if r.summary is not None), fund_fields=FUND_LABELS)


@bp.route("/<int:campaign_id>", methods=["GET", "POST"])
@login_required
def edit(campaign_id: int):
    me = actor()
    require_role(me, UNION_ROLES, "提交活动总结")
    campaign = _campaign(campaign_id)
    current = summaries.for_union(db(), campaign.id, me.union_id)
    text, errors, status = (current.text if current else ""), {}, 200
    funds = {key: (plain(getattr(current, column)) if current and getattr(current, column) is not None else "")
             for key, column, _label in FUNDS}
    if request.method == "POST":
        text = request.form.get("text", "")
        funds = {key: request.form.get(f"funds.{key}", "")[:32] for key, _column, _label in FUNDS}
        upload = request.files.get("file")
        file = (upload.filename or "", upload.read()) if upload and upload.filename else None

        def refused(error: DomainError):
            errors = error.fields if isinstance(error, Invalid) else {"form": error.message}
            if isinstance(error, (TooLarge, UnsupportedType)):  # about the file: said beside it
                errors = {"file": error.message}
            return _form(campaign, current, text, funds, errors, status_of(error))
        perform(lambda: verbs.submit_summary(db(), me, clock(), uploads(), campaign.id, text, file, funds=funds),
                refused)
        flash(_("活动总结已提交"), "success")
        return redirect(url_for("summaries.index"))
    return _form(campaign, current, text, funds, errors, status)


def _form(campaign, current, text: str, funds: dict[str, str], errors: dict[str, str], status: int):
    return render_template("summaries/form.html", campaign=campaign, current=current, text=text, errors=errors,
                           funds=funds, fund_fields=FUND_LABELS, max_text=verbs.summaries.MAX_TEXT,
                           past=past_report_deadline(campaign, clock().now())), status


@bp.get("/file/<int:summary_id>")
@login_required
def download(summary_id: int):
    summary = summaries.file_for_download(db(), actor(), summary_id)
    return send_stored(summary.file_id, summary.file_type, summary.file_name)
