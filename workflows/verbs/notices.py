"""Proof of the public notice (DOMAIN.md): where and when a union posted its notice list of a campaign, with a photo
or scan of it, kept like a summary's file. A case of the union is entered only once one is recorded
(rules/guards.py EXTRA[enter])."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Forbidden, Invalid, NotFound, Reason
from workflows.infra import audit
from workflows.infra.clock import Clock, local_date, to_db
from workflows.infra.uploads import Uploads
from workflows.inputs import line_problem, parse_day
from workflows.models import Campaign, NoticePosting, Union
from workflows.states import UNION_ROLES, Action
from workflows.texts import N_
from workflows.verbs.documents import check_quota
from workflows.vocab import UnionKind

PLACE = 200


def record_notice(session: Session, actor: Actor, clock: Clock, uploads: Uploads, campaign_id: int, place: Any,
                  posted_on: Any, file_name: str, content: bytes) -> NoticePosting:
    """A cadre or head records where and when their union's list was posted, with the photo or scan."""
    if actor.role not in UNION_ROLES:
        raise Forbidden(Reason("role", N_("只有基层工会干部、基层工会负责人可以登记公示张贴情况")))
    union = session.get(Union, actor.union_id) if actor.union_id is not None else None
    if union is None or union.kind != UnionKind.grassroots:
        raise Forbidden(Reason("role", N_("只有基层工会可以登记公示张贴情况")))
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise Invalid({"campaign": N_("没有这个活动")})
    now = clock.now()
    problems: dict[str, str] = {}
    place = place.strip() if isinstance(place, str) else ""
    if not place:
        problems["place"] = N_("请填写张贴地点")
    elif len(place) > PLACE:
        problems["place"] = N_("太长，最多%(limit)s个字", limit=PLACE)
    elif problem := line_problem(place):
        problems["place"] = problem
    day = parse_day(posted_on)
    if day is None:
        problems["posted_on"] = N_("请填写张贴日期，格式如 2018-01-05")
    elif day > local_date(now):
        problems["posted_on"] = N_("张贴日期不能晚于今天")
    filename, wrong = uploads.problems(file_name, content)
    problems |= wrong
    if problems:
        raise Invalid(problems)
    check_quota(session, actor, now, uploads, None, len(content))  # the day's uploads count the lists' photos too
    stored = uploads.save(session, content)
    posting = NoticePosting(campaign_id=campaign.id, union_id=union.id, place=place, posted_on=day,
                            file_id=stored.id, file_name=filename, file_type=stored.content_type,
                            file_sha256=stored.sha256, file_size=stored.size, recorded_by_id=actor.id,
                            recorded_at=to_db(now))
    session.add(posting)
    session.flush()
    audit.record(session, actor, now, Action.record_notice, comment="登记公示张贴情况", changes=audit.created({
        "campaign": campaign.name, "union": union.code, "place": place, "posted_on": day,
        "file": f"{filename}（SHA-256 {stored.sha256}）"}))
    return posting


def postings(session: Session, campaign_id: int, union_id: int | None = None) -> list[NoticePosting]:
    """The postings of a campaign (of one union, when given), the latest first."""
    query = select(NoticePosting).where(NoticePosting.campaign_id == campaign_id)
    if union_id is not None:
        query = query.where(NoticePosting.union_id == union_id)
    return list(session.scalars(query.order_by(NoticePosting.posted_on.desc(), NoticePosting.id.desc())))


def posting_for_download(session: Session, actor: Actor, posting_id: int) -> NoticePosting:
    """A posting's photo, for those who read the union's notice list (its own people, the district)."""
    rules.require_role(actor, rules.NOTICE_READERS, N_("查看公示张贴照片"))
    posting = session.get(NoticePosting, posting_id)
    if posting is None or (actor.role in UNION_ROLES and posting.union_id != actor.union_id):
        raise NotFound(N_("找不到该记录"))
    return posting
