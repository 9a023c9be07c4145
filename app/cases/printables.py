"""The printables: the hardship worker file of a case (困难职工档案, to be stamped by the union) and a union's public
notice list (公示名单). Both show personal numbers masked only; printing reveals nothing, so it is not audited."""

from __future__ import annotations

import datetime as dt

from flask import render_template, request
from flask_login import login_required
from sqlalchemy import select

from workflows import verbs
from workflows.errors import NotFound
from workflows.identity import mask_id
from workflows.infra.clock import LOCAL, from_db
from workflows.models import Campaign, Case, Union
from workflows.reads import reports
from workflows.rules import NOTICE_READERS, require_role
from workflows.states import NOTICED, UNION_ROLES
from workflows.vocab import UnionKind

from ..current import actor, clock
from ..db import db
from . import bp


def mask_name(name: str | None) -> str:
    """张＊＊ for 张三丰: the first character, then one full-width star for every other one."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "＊" * max(len(name) - 1, 1)


def local_day(moment: dt.datetime | None) -> dt.date | None:
    return from_db(moment).astimezone(LOCAL).date() if moment else None


def notice_window(case: Case) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day of the case's public notice. The window closes at midnight after its last working
    day (verbs.transitions._publicize), so the last day shown is the day before; a zero-day window opens and closes at once."""
    opened, closes = case.publicized_at, case.notice_closes_at
    if opened is None or closes is None:
        return local_day(opened), local_day(closes)
    last = closes - dt.timedelta(microseconds=1) if closes > opened else closes
    return local_day(opened), local_day(last)


@bp.get("/<int:case_id>/print")
@login_required
def printable(case_id: int):
    """The hardship worker file as a paper form: A4, every field, numbers masked, room for the seal."""
    case = verbs.get_case(db(), actor(), case_id)
    members = [(member, mask_id(member.id_number)) for member in case.members]
    return render_template("cases/print.html", case=case, members=members,
                           printed_on=clock().now().astimezone(LOCAL).date())


def _campaign_id(value: str | None) -> int:
    """The campaign asked for, or the latest one."""
    value = (value or "").strip()
    if value.isdigit() and len(value) < 10:
        return int(value)
    latest = db().scalar(select(Campaign.id).order_by(Campaign.deadline.desc()).limit(1))
    if latest is None:
        raise NotFound("还没有送温暖活动")
    return latest


def notice_rows(campaign: Campaign, union: Union) -> list[Case]:
    """The cases of the list, in one query whatever their number (the template reads only their own columns)."""
    return list(db().scalars(select(Case).where(
        Case.campaign_id == campaign.id, Case.union_id == union.id, Case.state.in_(NOTICED),
    ).order_by(Case.publicized_at, Case.id)))


@bp.get("/notice")
@login_required
def notice_list():
    """A union's public notice list of a campaign; its own union for a cadre or head, any union for the district."""
    me = actor()
    require_role(me, NOTICE_READERS, "查看公示名单")
    union_code = (request.args.get("union") or "").strip()[:32] or None
    campaign, union = reports.scope(db(), me, _campaign_id(request.args.get("campaign")), union_code)
    if union is not None and union.kind != UnionKind.grassroots:
        raise NotFound("公示名单按基层工会打印，请选择一个基层工会")
    campaigns = db().execute(select(Campaign.id, Campaign.name).order_by(Campaign.deadline.desc())).all()
    unions = [] if me.role in UNION_ROLES else db().execute(
        select(Union.code, Union.name).where(Union.kind == UnionKind.grassroots).order_by(Union.code)).all()
    rows = [(case, notice_window(case)) for case in notice_rows(campaign, union)] if union else []
    return render_template("cases/notice.html", campaign=campaign, union=union, rows=rows, campaigns=campaigns,
                           unions=unions, mask_name=mask_name, today=clock().now().astimezone(LOCAL).date())
