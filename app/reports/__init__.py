"""统计: the statistics table of a campaign (送温暖活动统计表) on screen and as .xlsx, and the campaign dashboard
with its charts. The figures are workflows.reports'; who may look at which union is reports.scope()'s (a cadre or
head their own union, another one is not found; the district's roles any union or the whole district)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, render_template, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from workflows.errors import NotFound
from workflows.infra.clock import LOCAL
from workflows.infra.uploads import header_name
from workflows.inputs import parse_number
from workflows.models import Campaign, Union
from workflows.reads import reports
from workflows.states import UNION_ROLES
from workflows.texts import N_
from workflows.vocab import WorkerGroup

from ..areas import gate
from ..current import actor, clock
from ..db import db
from ..exports import statistics_workbook
from . import charts

bp = Blueprint("reports", __name__, url_prefix="/reports")
gate(bp)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The SVG's own policy: its embedded <style> may apply, nothing may run or load. (In an <img> no script would run
# anyway; this covers the chart opened on its own.)
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
SECTIONS = (("by_worker_group", _l("职工类别")), ("by_category", _l("困难类别")), ("by_aid_kind", _l("帮扶方式")))


def _chosen() -> tuple[Campaign | None, Union | None, list[Campaign]]:
    """The campaign (the latest unless one is named) and union of the query string, as the actor may see them."""
    everything = reports.campaigns(db())
    given = request.args.get("campaign", "").strip()
    if not given:
        if not everything:
            return None, None, everything
        given = str(everything[0].id)
    if (campaign_id := parse_number(given)) is None:
        raise NotFound(N_("找不到该活动"))
    union_code = request.args.get("union", "").strip()[:32] or None
    campaign, union = reports.scope(db(), actor(), campaign_id, union_code)
    return campaign, union, everything


def _pickers(campaign: Campaign | None, union: Union | None, everything: list[Campaign]) -> dict[str, Any]:
    me = actor()
    return {"campaigns": everything, "campaign": campaign, "union": union,
            "unions": reports.pickable_unions(db(), me), "district_view": me.role not in UNION_ROLES,
            "args": {"campaign": campaign.id if campaign else None, "union": union.code if union else None}}


@bp.get("/")
@login_required
def index():
    """The statistics table on screen, laid out as the .xlsx: the unit and date, the table as the unions report it
    (a row per union and the totals), then how the cases stand: one block per breakdown, the stages per union."""
    campaign, union, everything = _chosen()
    context = _pickers(campaign, union, everything)
    if campaign is None:
        return render_template("reports/statistics.html", table=None, **context)
    table = reports.statistics(db(), campaign.id, union)
    return render_template("reports/statistics.html", table=table, sections=SECTIONS,
                           groups=[(group.value, group.label) for group in WorkerGroup],
                           sources=[(key, label) for key, _column, label in reports.SOURCES],
                           day=_shown_date(clock().now().astimezone(LOCAL).date()),
                           totals={key: _totals(table[key]) for key, _label in SECTIONS},
                           union_totals=_union_totals(table["by_union"]), **context)


def _shown_date(day) -> str:
    """The date the table is filled in, in the reader's language (the .xlsx keeps it in Chinese)."""
    return _("%(y)s年%(m)s月%(d)s日", y=day.year, m=day.month, d=day.day)


@bp.get("/statistics.xlsx")
@login_required
def workbook():
    """The same table as the .xlsx a union office hands in (the API's format=xlsx and `songnuan stats export`)."""
    campaign, union, _everything = _chosen()
    if campaign is None:
        raise NotFound(N_("找不到该活动"))
    table = reports.statistics(db(), campaign.id, union)
    data = statistics_workbook(table, campaign, union, clock().now())
    name = header_name(f"{campaign.name}活动统计表-{table['unit']}.xlsx", "download.xlsx")
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)


@bp.get("/dashboard")
@login_required
def dashboard():
    """The campaign in figures and pictures: the funnel, forfeited cases by union, amounts by aid kind and worker
    group, the budget; each chart with its figures in a table beside it."""
    campaign, union, everything = _chosen()
    context = _pickers(campaign, union, everything)
    if campaign is None:
        return render_template("reports/dashboard.html", table=None, **context)
    table = reports.statistics(db(), campaign.id, union)
    return render_template("reports/dashboard.html", table=table, funnel=reports.funnel(db(), campaign.id, union),
                           budget=reports.budget(db(), campaign, union),
                           forfeited=[row for row in table["by_union"] if row["forfeited"]],
                           totals={key: _totals(table[key]) for key in ("by_worker_group", "by_aid_kind")},
                           **context)


CHARTS = {
    "funnel": lambda campaign, union: charts.funnel(reports.funnel(db(), campaign.id, union)),
    "forfeited": lambda campaign, union: charts.forfeited(reports.by_union(db(), campaign.id, union)),
    "aid-kind": lambda campaign, union: charts.amounts(
        _("审定与发放金额（按帮扶方式）"), reports.statistics(db(), campaign.id, union)["by_aid_kind"]),
    "worker-group": lambda campaign, union: charts.amounts(
        _("审定与发放金额（按职工类别）"), reports.statistics(db(), campaign.id, union)["by_worker_group"]),
    "budget": lambda campaign, union: charts.budget(reports.budget(db(), campaign, union)),
}


@bp.get("/charts/<name>.svg")
@login_required
def chart(name: str):
    """One chart of the dashboard as an SVG image, for an <img> of the dashboard page."""
    if name not in CHARTS:
        raise NotFound(N_("找不到该图表"))
    campaign, union, _everything = _chosen()
    if campaign is None:
        raise NotFound(N_("找不到该活动"))
    response = Response(CHARTS[name](campaign, union), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    return response


def _totals(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"cases": sum(row["cases"] for row in rows.values()),
            "approved": sum((Decimal(row["approved"]) for row in rows.values()), Decimal(0)),
            "paid": sum((Decimal(row["paid"]) for row in rows.values()), Decimal(0)),
            "forfeited": sum(row["forfeited"] for row in rows.values())}


def _union_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts = ("cases", "in_progress", "entered", "district_approved", "disbursed", "payment_returned", "overdue",
              "rejected", "withdrawn")
    totals: dict[str, Any] = {key: sum(row[key] for row in rows) for key in counts}
    totals.update({key: sum((Decimal(row[key]) for row in rows), Decimal(0)) for key in ("approved", "paid")})
    return totals
