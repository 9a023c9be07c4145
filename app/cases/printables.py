"""The printables: the hardship worker file of a case (困难职工档案, to be stamped by the union) and a union's public
notice list (公示名单). Both show personal numbers masked only; printing reveals nothing, so it is not audited."""

from __future__ import annotations

import datetime as dt
import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from workflows import verbs
from workflows.errors import NotFound
from workflows.identity import mask_id
from workflows.infra.clock import LOCAL, from_db
from workflows.inputs import parse_number
from workflows.models import Campaign, Case, Union
from workflows.reads import reports
from workflows.rules import NOTICE_READERS, require_role
from workflows.rules.timing import on_notice_list
from workflows.states import NOTICED, UNION_ROLES
from workflows.texts import N_
from workflows.verbs import notices
from workflows.vocab import UnionKind

from ..current import actor, clock, uploads
from ..db import db
from ..respond import error_text, perform, status_of
from . import bp
from .documents import download_name


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
    if (chosen := parse_number(value)) is not None:
        return chosen
    latest = db().scalar(select(Campaign.id).order_by(Campaign.deadline.desc()).limit(1))
    if latest is None:
        raise NotFound(N_("还没有送温暖活动"))
    return latest


def notice_rows(campaign: Campaign, union: Union, now: dt.datetime) -> list[Case]:
    """The cases of the list: those whose notice is open or just closed (rules.timing.on_notice_list), in one query
    whatever their number (the template reads only their own columns)."""
    return list(db().scalars(select(Case).where(
        Case.campaign_id == campaign.id, Case.union_id == union.id, Case.state.in_(NOTICED),
        on_notice_list(Case, now),
    ).order_by(Case.publicized_at, Case.id)))


@bp.get("/notice")
@login_required
def notice_list():
    """A union's public notice list of a campaign; its own union for a cadre or head, any union for the district."""
    return notice_page(request.args.get("campaign"))


def notice_page(campaign_choice: str | None, *, status: int = 200, posting_error: str | None = None,
                typed: dict[str, str] | None = None):
    """The list, the postings recorded for it and, for the union's people, the form that records one."""
    me = actor()
    require_role(me, NOTICE_READERS, "查看公示名单")
    union_code = (request.args.get("union") or "").strip()[:32] or None
    campaign, union = reports.scope(db(), me, _campaign_id(campaign_choice), union_code)
    if union is not None and union.kind != UnionKind.grassroots:
        raise NotFound(N_("公示名单按基层工会打印，请选择一个基层工会"))
    campaigns = db().execute(select(Campaign.id, Campaign.name).order_by(Campaign.deadline.desc())).all()
    unions = [] if me.role in UNION_ROLES else db().execute(
        select(Union.code, Union.name).where(Union.kind == UnionKind.grassroots).order_by(Union.code)).all()
    rows = [(case, notice_window(case)) for case in notice_rows(campaign, union, clock().now())] if union else []
    return render_template("cases/notice.html", campaign=campaign, union=union, rows=rows, campaigns=campaigns,
                           unions=unions, mask_name=mask_name, today=clock().now().astimezone(LOCAL).date(),
                           postings=notices.postings(db(), campaign.id, union.id) if union else [],
                           may_post=me.role in UNION_ROLES, posting_error=posting_error, typed=typed or {}), status


@bp.post("/notice/postings")
@login_required
def record_notice():
    """Proof of the notice: where and when the union posted the list, with a photo or scan (enter waits for it)."""
    typed = {name: request.form.get(name, "") for name in ("campaign", "place", "posted_on")}
    choice = typed["campaign"].strip()
    photo = request.files.get("file")
    content = photo.stream.read(uploads().max_bytes + 1) if photo else b""

    def record():  # a campaign that is no number is none: the verb asks who first, then names it
        campaign_id = parse_number(choice) or 0
        return verbs.record_notice(db(), actor(), clock(), uploads(), campaign_id, typed["place"],
                                   typed["posted_on"], (photo.filename or "") if photo else "", content)

    def refused(error):
        return notice_page(choice, status=status_of(error), posting_error=error_text(error), typed=typed)
    perform(record, refused)
    flash(_("已登记公示张贴情况"), "success")
    return redirect(url_for("cases.notice_list", campaign=choice) + "#postings")


@bp.get("/notice/postings/<int:posting_id>")
@login_required
def notice_photo(posting_id: int):
    posting = notices.posting_for_download(db(), actor(), posting_id)
    data = uploads().read(posting.file_id)
    return send_file(io.BytesIO(data), mimetype=posting.file_type, as_attachment=True,
                     download_name=download_name(posting.file_name, posting.file_type))
