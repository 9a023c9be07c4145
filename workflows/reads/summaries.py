"""Who has handed in a summary, and who may read one."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from workflows.actors import Actor
from workflows.errors import Forbidden, NotFound, Reason
from workflows.models import Account, Summary, Union
from workflows.rules import DISTRICT_READERS
from workflows.states import UNION_ROLES
from workflows.texts import N_
from workflows.vocab import UnionKind


class Row(NamedTuple):
    """One line of the district's "who has handed in" table."""
    union: Union
    summary: Summary | None


def status(session: Session, campaign_id: int) -> list[Row]:
    """Every grassroots union with its summary for the campaign, or None, in union code order: one query."""
    rows = session.execute(
        select(Union, Summary)
        .outerjoin(Summary, and_(Summary.union_id == Union.id, Summary.campaign_id == campaign_id))
        .outerjoin(Account, Account.id == Summary.submitted_by_id)
        .options(contains_eager(Summary.submitted_by))
        .where(Union.kind == UnionKind.grassroots)
        .order_by(Union.code))
    return [Row(union, summary) for union, summary in rows]


def for_union(session: Session, campaign_id: int, union_id: int) -> Summary | None:
    return session.scalar(select(Summary).where(Summary.campaign_id == campaign_id, Summary.union_id == union_id)
                          .options(joinedload(Summary.submitted_by)))


def may_read(actor: Actor, summary: Summary) -> bool:
    """The union's own cadres and heads, and the district's reviewers and auditors."""
    if actor.role in UNION_ROLES:
        return actor.union_id == summary.union_id
    return actor.role in DISTRICT_READERS


def require_overview(actor: Actor) -> None:
    """The district's table of who has handed in: reviewers and auditors."""
    if actor.role not in DISTRICT_READERS:
        raise Forbidden(Reason("role", N_("只有帮扶中心审核员和审计可以查看各工会的活动总结提交情况")))


def file_for_download(session: Session, actor: Actor, summary_id: int) -> Summary:
    """The summary whose file `actor` may download (Uploads.read(summary.file_id) is the file). Another union's
    people are told it does not exist; roles that never read summaries are told they may not."""
    summary = session.get(Summary, summary_id)
    if summary is None or (actor.role in UNION_ROLES and actor.union_id != summary.union_id):
        raise NotFound(N_("找不到该活动总结"))
    if not may_read(actor, summary):
        raise Forbidden(Reason("role", N_("只有本工会人员、帮扶中心审核员和审计可以下载活动总结")))
    if not summary.file_id:
        raise NotFound(N_("该活动总结没有附件"))
    return summary
