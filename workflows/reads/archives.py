"""The household archives as people read them: the list, the carry-over of a campaign, an archive's applications
and its timeline (its own events and its cases', so that history follows a transfer and a merge)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from workflows.actors import Actor
from workflows.archive_states import Status
from workflows.infra import search
from workflows.models import Archive, ArchiveMember, AuditEvent, Campaign, Case, Union
from workflows.reads.trail import Entry, entry
from workflows.reads.worklists import (MAX_PER_PAGE, Chosen, Page, after_key, bounded_count, decode_cursor,
                                       encode_cursor, name_or_number, union_id)
from workflows.rules import DRAFTERS, campaign_year
from workflows.states import State

LISTING_KEY = "ti"  # the list's cursor (decode_cursor): the archive's last change and its id


@dataclass
class ArchiveFilters(Chosen):
    status: str | None = None
    union: str | None = None         # a union's code
    category: str | None = None
    worker_group: str | None = None
    q: str | None = None             # part of a name, or the last four ID digits, of the head or a member


def _base(actor: Actor):
    return select(Archive).join(Union, Archive.union_id == Union.id).where(Archive.visible_to(actor))


def listing(session: Session, actor: Actor, filters: ArchiveFilters | None = None, page: int = 1,
            per_page: int = 20, after: str | None = None) -> Page:
    """The archives `actor` may see, the most recently changed first (Page.items are archives). As the case list:
    `after` (a page link's cursor) starts after that archive, the count is bounded, the page is one query with
    each archive's union (ix_archives_union_updated, ix_archives_updated walked in order)."""
    filters = filters or ArchiveFilters()
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    where = select(Archive).where(Archive.visible_to(actor))  # no join: the page walks ix_archives_(union_)updated
    for name in ("status", "category", "worker_group"):
        if value := getattr(filters, name):
            where = where.where(getattr(Archive, name) == value)
    if filters.union:
        where = where.where(Archive.union_id == union_id(filters.union))
    if q := (filters.q or "").strip():
        # The head, or any member of the household (the same rule, on the members).
        member = exists().where(ArchiveMember.archive_id == Archive.id,
                                name_or_number(ArchiveMember, q))
        where = where.where(or_(name_or_number(Archive, q), member))
        if (owners := search.narrowed(Archive.id, search.ARCHIVE, q, actor)) is not None:
            where = where.where(owners)
    key = decode_cursor(after, LISTING_KEY)
    listed = where.where(after_key((Archive.updated_at, Archive.id), key, descending=True)) if key else where
    found = session.scalars(listed.options(joinedload(Archive.union))
                            .order_by(Archive.updated_at.desc(), Archive.id.desc())
                            .limit(per_page + 1).offset(0 if key else (page - 1) * per_page)).all()
    total, more = bounded_count(session, where, id_column=Archive.id)
    last = found[per_page - 1] if len(found) > per_page else None
    items = list(found[:per_page])
    members_found: dict[int, list[str]] = {}
    if q and items:
        for archive_id, name in session.execute(
                select(ArchiveMember.archive_id, ArchiveMember.name)
                .where(ArchiveMember.archive_id.in_([a.id for a in items]), name_or_number(ArchiveMember, q))
                .order_by(ArchiveMember.archive_id, ArchiveMember.position)):
            members_found.setdefault(archive_id, []).append(name)
    return Page(items, total, page, per_page, more=more, members_found=members_found,
                after=encode_cursor(last.updated_at, last.id) if last else None)


def _applied(campaign_id: int):
    """The archive has an application in the campaign (a withdrawn one does not count: it may apply again)."""
    return exists().where(Case.archive_id == Archive.id, Case.campaign_id == campaign_id,
                          Case.state != State.withdrawn)


def carry_over(session: Session, actor: Actor, campaign_id: int) -> list[Archive]:
    """Carry-over: the active archives of the actor's union not yet applied for in the campaign, by name."""
    return list(session.scalars(
        _base(actor).where(Archive.union_id == actor.union_id, Archive.status == Status.active,
                           ~_applied(campaign_id))
        .options(selectinload(Archive.members), joinedload(Archive.last_helped_campaign))
        .order_by(Archive.applicant_name, Archive.id)))


def carry_over_count(session: Session, actor: Actor, campaign_ids: list[int]) -> int:
    """How many of the union's active archives still wait for an application in any of the open campaigns."""
    if not campaign_ids or actor.union_id is None:
        return 0
    pending = or_(*(~_applied(c) for c in campaign_ids))
    return session.scalar(select(func.count(Archive.id)).where(
        Archive.union_id == actor.union_id, Archive.status == Status.active, pending)) or 0


@dataclass(frozen=True)
class Waiting:
    """The carry-over as a cadre's task: how many of the union's active archives wait for an application in the
    open campaigns, and the campaign to start with (the first, by deadline, in which some wait)."""

    count: int
    campaign: int


def waiting(session: Session, actor: Actor, now) -> Waiting | None:
    """For a drafter while a campaign takes drafts (None otherwise): what the inbox shows of the carry-over."""
    if actor.role not in DRAFTERS:
        return None
    campaigns = list(session.scalars(select(Campaign.id).where(Campaign.open_for_drafts(now))
                                     .order_by(Campaign.deadline)))
    if not campaigns:
        return None
    count = carry_over_count(session, actor, campaigns)
    first = next((c for c in campaigns if count and len(campaigns) > 1 and carry_over_count(session, actor, [c])),
                 campaigns[0])
    return Waiting(count, first)


@dataclass(frozen=True)
class Application:
    case: int
    campaign: int
    campaign_name: str
    year: int
    state: str
    kind: str
    amount: Decimal | None
    union: str


def applications(session: Session, archive: Archive) -> list[Application]:
    """The archive's applications, the latest campaign first."""
    rows = session.execute(select(Case, Campaign, Union.name).join(Campaign, Case.campaign_id == Campaign.id)
                           .join(Union, Case.union_id == Union.id).where(Case.archive_id == archive.id)
                           .order_by(Campaign.deadline.desc(), Case.id.desc())).all()
    return [Application(case.id, campaign.id, campaign.name, campaign_year(campaign), case.state,
                        case.application_kind, case.aid_amount, union) for case, campaign, union in rows]


def timeline(session: Session, archive: Archive) -> list[Entry]:
    """The archive's events and its applications' events, oldest first."""
    cases = select(Case.id).where(Case.archive_id == archive.id)
    rows = session.scalars(select(AuditEvent).where(
        or_(AuditEvent.archive_id == archive.id, AuditEvent.case_id.in_(cases))).order_by(AuditEvent.seq))
    return [entry(event) for event in rows]
