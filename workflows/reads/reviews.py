"""The annual review as people read it: a union's worklist (the archives due, those the six-months rule proposes
for 脱困, the proposals waiting for the head), the inbox's counts, the archive page's pending proposal, the year's
spot check with its findings, and the district's progress report. Each costs a fixed number of queries, whatever
the number of archives: the rules of rules/reviews.py compiled to SQL, or evaluated on rows read in one go.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from workflows.actors import Actor
from workflows.archive_states import Status
from workflows.infra.clock import LOCAL, from_db, to_db
from workflows.models import Account, Archive, ArchiveIncome, ArchiveReview, SpotCheck, SpotCheckItem, Union
from workflows.reads.worklists import MAX_PER_PAGE
from workflows.rules import reviews as rules
from workflows.rules.recognition import Recognition, area_of, net_monthly
from workflows.vocab import SpotCheckOutcome, UnionKind


def _latest():
    """Each archive's latest review: (archive_id, id)."""
    return select(ArchiveReview.archive_id, func.max(ArchiveReview.id).label("id")) \
        .group_by(ArchiveReview.archive_id).subquery()


def _pending(query):
    """`query` over the reviews that are pending proposals, joined with their archive (rules.pending_proposal)."""
    latest = _latest()
    return query.join(latest, latest.c.id == ArchiveReview.id) \
        .join(Archive, Archive.id == ArchiveReview.archive_id) \
        .where(rules.pending_proposal(Archive.status, ArchiveReview.outcome))


@dataclass
class DueRow:
    archive: Archive
    since: dt.datetime               # what the twelve months count from (stored, naive UTC)
    counted_from: str                # 上次复核, 台账导入 or 建档
    last_review: ArchiveReview | None
    recognition: Recognition


@dataclass
class ProposedRow:
    """The six-months rule's proposal: six months above every hardship line were completed at `since` (stored,
    naive UTC)."""
    archive: Archive
    since: dt.datetime
    recognition: Recognition


@dataclass
class PendingRow:
    archive: Archive
    review: ArchiveReview


@dataclass
class Worklist:
    due: list[DueRow]
    due_total: int
    page: int
    per_page: int
    proposed: list[ProposedRow] = field(default_factory=list)
    pending: list[PendingRow] = field(default_factory=list)

    @property
    def total(self) -> int:  # the pager's name
        return self.due_total


# Where an archive's twelve months are counted from (the screens translate them: app/i18n.domain_labels).
COUNTED_FROM = {"review": "上次复核", "import": "台账导入", "creation": "建档"}


def counted_from(archive: Archive) -> str:
    if archive.reviewed_at is not None:
        return COUNTED_FROM["review"]
    return COUNTED_FROM["import" if archive.imported_at is not None else "creation"]


def worklist(session: Session, actor: Actor, now: dt.datetime, page: int = 1, per_page: int = 50) -> Worklist:
    """The actor's union's annual review, as of `now`: the archives due (a page of them, the longest waiting first,
    each with its last review), the active archives the six-months rule proposes for 脱困 (unless a review since has
    seen it, or a proposal is pending), and the proposals waiting for the head. Ten queries."""
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    union_id = actor.union_id
    mine = Archive.union_id == union_id
    year = now.astimezone(LOCAL).year
    due_where = select(Archive).where(mine, rules.due(Archive, now))
    total = session.scalar(select(func.count()).select_from(due_where.with_only_columns(Archive.id).subquery()))
    archives = list(session.scalars(due_where.options(selectinload(Archive.members))
                                    .order_by(rules.review_start(Archive), Archive.id)
                                    .limit(per_page).offset((page - 1) * per_page)))
    last = {r.archive_id: r for r in session.scalars(
        select(ArchiveReview).where(ArchiveReview.id.in_(
            select(func.max(ArchiveReview.id)).where(ArchiveReview.archive_id.in_([a.id for a in archives]))
            .group_by(ArchiveReview.archive_id))).options(joinedload(ArchiveReview.reviewed_by)))} if archives else {}
    pending = [PendingRow(archive, review) for review, archive in session.execute(
        _pending(select(ArchiveReview, Archive)).where(mine).options(joinedload(ArchiveReview.reviewed_by))
        .order_by(ArchiveReview.reviewed_at, ArchiveReview.id))]

    # The six-months rule, over every active archive of the union: their income histories and standards at once.
    # The area whose standard applies: the 户口所在地, else where the head's ID was issued (recognition.area_of).
    active = [(archive_id, area_of(hukou_area, id_number)[0], reviewed_at)
              for archive_id, hukou_area, id_number, reviewed_at in session.execute(
                  select(Archive.id, Archive.hukou_area, Archive.id_masked, Archive.reviewed_at)
                  .where(mine, Archive.status == Status.active))]
    lookup = rules.standards(session, {area for _, area, _ in active}
                             | {area_of(a.hukou_area, a.id_number)[0] for a in archives})
    histories: dict[int, list] = defaultdict(list)
    for archive_id, since, net in session.execute(
            select(ArchiveIncome.archive_id, ArchiveIncome.since, ArchiveIncome.net_monthly)
            .join(Archive, Archive.id == ArchiveIncome.archive_id).where(mine, Archive.status == Status.active)):
        histories[archive_id].append((since, net))
    waiting = {row.archive.id for row in pending}
    proposed: dict[int, dt.datetime] = {}
    for archive_id, area, reviewed_at in active:
        if archive_id in waiting:
            continue
        since = rules.above_standard_since(histories.get(archive_id, []), area, now, lookup)
        if since is not None and (reviewed_at is None or from_db(reviewed_at) < since):
            proposed[archive_id] = since
    found = {a.id: a for a in session.scalars(select(Archive).where(Archive.id.in_(list(proposed)))
                                                .options(selectinload(Archive.members)))} if proposed else {}

    def recognition(archive: Archive) -> Recognition:
        area, guessed = area_of(archive.hukou_area, archive.id_number)
        return Recognition(year, area, net_monthly(archive), lookup(year, area), guessed)

    return Worklist(
        due=[DueRow(a, rules.review_start(a), counted_from(a), last.get(a.id), recognition(a)) for a in archives],
        due_total=total or 0, page=page, per_page=per_page,
        proposed=[ProposedRow(found[i], to_db(since), recognition(found[i]))
                  for i, since in sorted(proposed.items(), key=lambda item: (item[1], item[0]))],
        pending=pending)


@dataclass(frozen=True)
class Counts:
    due: int
    proposals: int


def counts(session: Session, actor: Actor, now: dt.datetime) -> Counts:
    """For the inbox: how many of the union's archives are due, and how many proposals wait. One query."""
    mine = Archive.union_id == actor.union_id
    due = select(func.count(Archive.id)).where(mine, rules.due(Archive, now)).scalar_subquery()
    waiting = _pending(select(func.count()).select_from(ArchiveReview)).where(mine).scalar_subquery()
    found = session.execute(select(due, waiting)).one()
    return Counts(found[0] or 0, found[1] or 0)


def last_review(session: Session, archive: Archive) -> ArchiveReview | None:
    return session.scalar(select(ArchiveReview).where(ArchiveReview.archive_id == archive.id)
                          .options(joinedload(ArchiveReview.reviewed_by))
                          .order_by(ArchiveReview.id.desc()).limit(1))


def pending_of(session: Session, archive: Archive) -> ArchiveReview | None:
    """The archive's proposal waiting for the head, if any (its page shows it beside the moves)."""
    review = last_review(session, archive)
    return review if review is not None and rules.pending_proposal(archive.status, review.outcome) else None


def exit_proposed_since(session: Session, archive: Archive, now: dt.datetime) -> dt.datetime | None:
    """The six-months rule for one archive (the review form says so)."""
    history = session.execute(select(ArchiveIncome.since, ArchiveIncome.net_monthly)
                              .where(ArchiveIncome.archive_id == archive.id)).all()
    area = area_of(archive.hukou_area, archive.id_number)[0]
    return rules.above_standard_since(history, area, now, rules.standards(session, [area]))


# ---------------------------------------------------------------- the spot check

@dataclass
class SpotItem:
    item: SpotCheckItem
    archive: Archive
    checked_by: str | None


@dataclass
class SpotList:
    check: SpotCheck
    drawn_by: str
    unions: list[tuple[Union, list[SpotItem]]]

    @property
    def items(self) -> list[SpotItem]:
        return [item for _, items in self.unions for item in items]


def _items():
    """Spot check items with their archive, their union (at the draw) and who checked them."""
    checker = Account.__table__.alias("checker")
    return select(SpotCheckItem, Archive, Union, checker.c.display_name) \
        .join(Archive, Archive.id == SpotCheckItem.archive_id).join(Union, Union.id == SpotCheckItem.union_id) \
        .outerjoin(checker, checker.c.id == SpotCheckItem.checked_by_id)


def spot_check(session: Session, year: int) -> SpotList | None:
    """The year's spot check, its items by union (by code), each with its archive and finding. Three queries."""
    check = session.scalar(select(SpotCheck).where(SpotCheck.year == year))
    if check is None:
        return None
    drawn_by = session.scalar(select(Account.display_name).where(Account.id == check.drawn_by_id)) or ""
    rows = session.execute(_items().where(SpotCheckItem.spot_check_id == check.id).order_by(Union.code, Archive.id))
    unions: dict[int, tuple[Union, list[SpotItem]]] = {}
    for item, archive, union, checked_by in rows:
        unions.setdefault(union.id, (union, []))[1].append(SpotItem(item, archive, checked_by))
    return SpotList(check, drawn_by, list(unions.values()))


def spot_item(session: Session, item_id: int) -> tuple[SpotItem, Union]:
    item, archive, union, checked_by = session.execute(_items().where(SpotCheckItem.id == item_id)).one()
    return SpotItem(item, archive, checked_by), union


def spot_check_years(session: Session) -> list[int]:
    return list(session.scalars(select(SpotCheck.year).order_by(SpotCheck.year.desc())))


# ---------------------------------------------------------------- the progress report

@dataclass
class Progress:
    union: Union | None              # None: the district's total
    active: int = 0
    reviewed: int = 0                # within the last twelve months
    due: int = 0
    proposals: int = 0
    drawn: int = 0                   # in the year's spot check
    checked: int = 0
    discrepancies: int = 0

    @property
    def reviewed_share(self) -> int | None:
        """Reviewed within twelve months, in whole percent of the active archives (None when there are none)."""
        return round(100 * self.reviewed / self.active) if self.active else None


def progress(session: Session, now: dt.datetime, year: int) -> list[Progress]:
    """Each union's review progress as of `now` (every grassroots union, and any other that keeps active
    archives), by code, with the district's total last; the spot check's figures are `year`'s. Four queries."""
    is_active = Archive.status == Status.active
    by_union: dict[int, Progress] = {}
    figures = session.execute(
        select(Archive.union_id, func.count(Archive.id),
               func.sum(case((rules.reviewed_recently(Archive, now), 1), else_=0)),
               func.sum(case((rules.due(Archive, now), 1), else_=0)))
        .where(is_active).group_by(Archive.union_id)).all()
    waiting = dict(session.execute(_pending(select(Archive.union_id, func.count()).select_from(ArchiveReview))
                                   .group_by(Archive.union_id)).all())
    spot = session.execute(
        select(SpotCheckItem.union_id, func.count(SpotCheckItem.id),
               func.sum(case((SpotCheckItem.outcome.is_not(None), 1), else_=0)),
               func.sum(case((SpotCheckItem.outcome == SpotCheckOutcome.discrepancy, 1), else_=0)))
        .join(SpotCheck, SpotCheck.id == SpotCheckItem.spot_check_id).where(SpotCheck.year == year)
        .group_by(SpotCheckItem.union_id)).all()
    keeping = {union_id for union_id, *_ in figures} | set(waiting) | {union_id for union_id, *_ in spot}
    unions = session.scalars(select(Union).where((Union.kind == UnionKind.grassroots) | Union.id.in_(keeping))
                             .order_by(Union.code))
    for union in unions:
        by_union[union.id] = Progress(union)
    for union_id, active, reviewed, due in figures:
        row = by_union[union_id]
        row.active, row.reviewed, row.due = active, int(reviewed or 0), int(due or 0)
    for union_id, count in waiting.items():
        by_union[union_id].proposals = count
    for union_id, drawn, checked, discrepancies in spot:
        row = by_union[union_id]
        row.drawn, row.checked, row.discrepancies = drawn, int(checked or 0), int(discrepancies or 0)
    rows = list(by_union.values())
    total = Progress(None)
    for row in rows:
        for name in ("active", "reviewed", "due", "proposals", "drawn", "checked", "discrepancies"):
            setattr(total, name, getattr(total, name) + getattr(row, name))
    return [*rows, total]


