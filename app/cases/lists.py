"""The case list: everything this person may see, filtered, a page at a time, and as CSV (numbers masked)."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, render_template, request
from flask_login import login_required
from sqlalchemy import select

from workflows.infra.clock import LOCAL
from workflows.models import Campaign, Union
from workflows.reads import worklists
from workflows.rules import DRAFTERS, NOTICE_READERS
from workflows.states import UNION_ROLES, State
from workflows.vocab import AidKind, Category, UnionKind, WorkerGroup, label_of

from ..current import actor, clock
from ..db import db
from ..exports import csv_safe
from ..listing import page_number, read_filters, union_options
from ..templating import localtime
from . import bp

EXPORT_LIMIT = 10_000


def filter_choices(me) -> dict[str, Any]:
    """The options of the filter bar: two small queries, whatever the number of cases."""
    unions = [] if me.role in UNION_ROLES else db().execute(
        select(Union.code, Union.name).where(Union.kind == UnionKind.grassroots).order_by(Union.code)).all()
    campaigns = db().execute(select(Campaign.id, Campaign.name).order_by(Campaign.deadline.desc())).all()
    return {"unions": unions, "union_options": union_options(unions), "campaigns": campaigns, "states": list(State),
            "worker_groups": list(WorkerGroup),
            "categories": list(Category), "aid_kinds": list(AidKind)}


@bp.get("/")
@login_required
def index():
    me = actor()
    filters = read_filters(request.args)
    page = worklists.cases(db(), me, filters, page=page_number(request.args), after=request.args.get("after"))
    return render_template("cases/index.html", page=page, filters=filters, choices=filter_choices(me),
                           may_create=me.role in DRAFTERS, may_print_notice=me.role in NOTICE_READERS)


def _row(case) -> list[str]:
    return [csv_safe(v) for v in (case.file_number or "", case.union.name, case.campaign.name, case.applicant_name,
            case.masked_id_number or "", label_of(WorkerGroup, case.worker_group) or "",
            label_of(Category, case.category) or "", label_of(AidKind, case.aid_kind) or "",
            "" if case.aid_amount is None else f"{case.aid_amount:.2f}", label_of(State, case.state),
            localtime(case.updated_at))]


HEADER = ["档案编号", "基层工会", "活动", "姓名", "身份证号（遮蔽）", "职工类别", "困难类别", "帮扶方式", "金额（元）",
          "状态", "最后更新"]


@bp.get("/export.csv")
@login_required
def export_csv():
    """What the list shows under the same filters, every page of it, numbers masked. UTF-8 with a BOM, so that
    the Excel of a union office opens the Chinese correctly."""
    me = actor()
    filters = read_filters(request.args)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    written, after = 0, None
    while written < EXPORT_LIMIT:  # page after page by the cursor: each costs what the first does
        page = worklists.cases(db(), me, filters, per_page=worklists.MAX_PER_PAGE, after=after)
        writer.writerows(_row(case) for case in page.items[:EXPORT_LIMIT - written])
        written, after = written + len(page.items), page.after
        if after is None:
            break
    stamp = clock().now().astimezone(LOCAL).strftime("%Y%m%d-%H%M")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=cases-{stamp}.csv"})
