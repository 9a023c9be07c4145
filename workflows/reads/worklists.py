"""The lists people work from: the inbox (what I can do now) and the case list (what I may see).

At a province's size (a million cases) a page reads only what it shows: keyset pagination (the page links carry
the last row's sort key, `after`, so a deep page costs what the first does), counts bounded at COUNT_LIMIT (exact
below it, "1,000+" above), and the page's cases with their union and campaign in one query, however many rows are
shown. The inbox is ordered by the campaign's deadline, then the longest waiting: one branch per (campaign, state)
of the role's tasks, each walking the index ix_cases_state_campaign_updated (or its union's twin) in order and
stopping at the page's size, merged in one UNION ALL. What is a task comes from the task table (states.TASKS),
when it is due from rules.tasks. `page=` alone still works (OFFSET), as API.md promises.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, false, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, contains_eager, joinedload

from workflows.actors import Actor
from workflows.identity import normalize_id
from workflows.infra import search
from workflows.models import Campaign, Case, Union
from workflows.rules import task_clause, task_label
from workflows.states import tasks_of

MAX_PER_PAGE = 100
COUNT_LIMIT = 1000  # counts above this are shown as "1,000+": counting further would scan the whole list


class Chosen:
    """A list's filters that say how many of them are set (the screens show it, and that an empty list is the
    filters' doing)."""

    @property
    def chosen(self) -> int:
        return sum(1 for value in vars(self).values() if value)


@dataclass
class Filters(Chosen):
    state: str | None = None
    union: str | None = None        # a union's code
    campaign: int | None = None
    worker_group: str | None = None
    category: str | None = None
    aid_kind: str | None = None
    q: str | None = None            # part of a name, or the last four digits of the ID number
    claimed_by_me: bool = False


@dataclass
class Page:
    items: list[Case]
    total: int                      # exact up to COUNT_LIMIT; COUNT_LIMIT when `more`
    page: int
    per_page: int
    groups: dict[str, int] = field(default_factory=dict)  # inbox only: task label → count (bounded alike)
    tasks: dict[int, str] = field(default_factory=dict)   # inbox only: case id → the label of its task
    more: bool = False              # more than COUNT_LIMIT rows: `total` is a lower bound
    after: str | None = None        # the cursor of the next page (None on the last page)
    capped: frozenset[str] = frozenset()  # inbox only: the groups whose count is COUNT_LIMIT and more
    # The archive list searched: archive id → the names of its members the search found (why it is listed when
    # its head's name does not show the words searched for).
    members_found: dict[int, list[str]] = field(default_factory=dict)

    @property
    def pages(self) -> int | None:
        """How many pages there are, when the count is exact."""
        return None if self.more else max((self.total + self.per_page - 1) // self.per_page, 1)


# ---------------------------------------------------------------- cursors and bounded counts

# The shapes of each list's cursor (decode_cursor): the inbox's deadline, moment and id; the case list's id.
INBOX_KEY, CASES_KEY = "tti", "i"


def encode_cursor(*values) -> str:
    """A row's sort key as the page links carry it: integers and moments (to the microsecond), joined by '.'."""
    return ".".join(v.strftime("%Y%m%d%H%M%S%f") if isinstance(v, dt.datetime) else str(int(v)) for v in values)


def decode_cursor(text: str | None, shape: str) -> tuple | None:
    """The key `encode_cursor` wrote, each part of `shape` ('i' an integer, 't' a moment); None when `text` is
    missing or not such a key (a garbled link starts from the first page, as a garbled page number does)."""
    parts = (text or "").split(".")
    if not text or len(parts) != len(shape) or len(text) > 80:
        return None
    values = []
    for kind, part in zip(shape, parts):
        if not re.fullmatch(r"[0-9]{1,10}" if kind == "i" else r"[0-9]{20}", part):
            return None
        if kind == "i" and int(part) >= 2**31:  # beyond the id columns (32-bit on PostgreSQL): no such row
            return None
        try:
            values.append(int(part) if kind == "i" else dt.datetime.strptime(part, "%Y%m%d%H%M%S%f"))
        except ValueError:
            return None
    return tuple(values)


def after_key(columns, key, descending: bool = False):
    """Rows after `key` in the order of `columns` (all ascending, or all descending), as SQL either database can
    walk an index with: the first column bounded (a range on the index), the rest as the tie-break."""
    first, value = columns[0], key[0]
    if len(columns) == 1:
        return first < value if descending else first > value
    rest = after_key(columns[1:], key[1:], descending)
    return and_(first <= value if descending else first >= value,
                or_(first < value if descending else first > value, rest))


def bounded_counts(session: Session, *wheres: Select, id_column=Case.id) -> list[tuple[int, bool]]:
    """How many rows each of `wheres` selects, counting no further than COUNT_LIMIT: (count, whether there are
    more) each, all in one query."""
    counts = [select(func.count()).select_from(where.with_only_columns(id_column).order_by(None)
                                               .limit(COUNT_LIMIT + 1).subquery()).scalar_subquery()
              for where in wheres]
    found = session.execute(select(*counts)).one()
    return [(min(n, COUNT_LIMIT), n > COUNT_LIMIT) for n in found]


def bounded_count(session: Session, where: Select, id_column=Case.id) -> tuple[int, bool]:
    [found] = bounded_counts(session, where, id_column=id_column)
    return found


# ---------------------------------------------------------------- filters

def _filtered(query: Select, filters: Filters, actor: Actor) -> Select:
    if filters.state:
        query = query.where(Case.state == filters.state)
    if filters.union:  # by its id: a join of the unions would lead the planner away from the page's index
        query = query.where(Case.union_id == union_id(filters.union))
    if filters.campaign:
        query = query.where(Case.campaign_id == filters.campaign)
    for name in ("worker_group", "category", "aid_kind"):
        if value := getattr(filters, name):
            query = query.where(getattr(Case, name) == value)
    if filters.claimed_by_me:
        query = query.where(Case.claimed_by_id == actor.id)
    if q := (filters.q or "").strip():
        query = query.where(name_or_number(Case, q))
        if (owners := search.narrowed(Case.id, search.CASE, q, actor)) is not None:
            query = query.where(owners)
    return query


def name_or_number(row, q: str):
    """Part of the name, or the last four digits of the ID number, as the screens ask for them: never a run of
    digits inside it, nor the whole number, either of which would let someone who sees only masks recover whole
    numbers a search at a time (the mask shows all but the birth date: a few thousand guesses of the whole number,
    none of them a reveal in the trail). `row` is the class searched (a case, an archive or a member of either):
    the last four are looked for in its stored mask (its number is sealed, sealing.py)."""
    name = row.name if hasattr(row, "relation") else row.applicant_name
    last4 = normalize_id(q)
    by_number = row.id_masked.endswith(last4) if re.fullmatch(r"[0-9]{3}[0-9X]", last4) else false()
    return or_(name.contains(q, autoescape=True), by_number)


def union_id(code: str):
    """The id of the union of `code`, as SQL: a filter that keeps the lists on their own table's indexes."""
    return select(Union.id).where(Union.code == code).scalar_subquery()


def _base(actor: Actor, with_campaign: bool = False) -> Select:
    """The cases `actor` may see; joined with their campaign for the task checks (they read its deadline)."""
    query = select(Case).where(Case.visible_to(actor))
    return query.join(Campaign, Case.campaign_id == Campaign.id) if with_campaign else query


def _sizes(page: int, per_page: int) -> tuple[int, int]:
    return max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)


# ---------------------------------------------------------------- the inbox

INBOX_ORDER = "deadline, updated_at, id"  # the cursor's parts: 't.t.i'


def inbox(session: Session, actor: Actor, now: dt.datetime, filters: Filters | None = None, page: int = 1,
          per_page: int = 20, after: str | None = None) -> Page:
    """The cases `actor` can move on now, the nearest deadline first, then the longest waiting. `after` (a page
    link's cursor) starts after that row; without it, `page` counts from the first row."""
    page, per_page = _sizes(page, per_page)
    if not tasks_of(actor.role):  # the task table gives this role nothing to do: nothing to ask the database
        return Page([], 0, page, per_page)
    filters = filters or Filters()
    where = _filtered(_base(actor, with_campaign=True).where(task_clause(actor, now)), filters, actor)
    key = decode_cursor(after, INBOX_KEY)
    skip = 0 if key else (page - 1) * per_page
    states = sorted({state for task in tasks_of(actor.role) for state in task.states
                     if not filters.state or state == filters.state})
    chosen = select(Campaign.id, Campaign.deadline).order_by(Campaign.deadline, Campaign.id)
    campaigns = session.execute(chosen.where(Campaign.id == filters.campaign) if filters.campaign else chosen).all()
    branches = []
    for campaign, deadline in campaigns:
        if key and deadline < key[0]:
            continue  # wholly before the cursor
        for state in states:
            branch = where.where(Case.campaign_id == campaign, Case.state == state)
            if key and deadline == key[0]:
                branch = branch.where(after_key((Case.updated_at, Case.id), key[1:]))
            # Each branch in the index's order, no more rows than the page can take from it.
            branches.append(select(branch.with_only_columns(literal(deadline).label("deadline"),
                                                            Case.updated_at.label("updated_at"),
                                                            Case.id.label("id"))
                                   .order_by(Case.updated_at, Case.id).limit(skip + per_page + 1).subquery()))
    label = task_label(actor, now)
    rows, last = [], None
    if branches:
        merged = (union_all(*branches) if len(branches) > 1 else branches[0]).subquery()
        # The page's cases, their task, union and campaign, in one query over the merged branches.
        found = session.execute(
            select(Case, label, merged.c.deadline, merged.c.updated_at.label("key_updated_at"))
            .join(merged, merged.c.id == Case.id).join(Campaign, Case.campaign_id == Campaign.id)
            .options(joinedload(Case.union), contains_eager(Case.campaign))
            .order_by(merged.c.deadline, merged.c.updated_at, merged.c.id).limit(per_page + 1).offset(skip)).all()
        rows = found[:per_page]
        last = found[per_page - 1] if len(found) > per_page else None
    # The groups partition the inbox (each case counts under its first task): the total is their sum.
    tasks = tasks_of(actor.role)
    counted = bounded_counts(session, *(where.where(Case.state.in_(task.states), label == task.label)
                                        for task in tasks))
    groups = {task.label: n for task, (n, _) in zip(tasks, counted) if n}
    capped = frozenset(task.label for task, (_, over) in zip(tasks, counted) if over)
    total, more = sum(groups.values()), bool(capped)
    return Page([row[0] for row in rows], total, page, per_page, groups, {row[0].id: row[1] for row in rows},
                more=more, capped=capped,
                after=encode_cursor(_naive(last.deadline), _naive(last.key_updated_at), last[0].id) if last else None)


def _naive(moment) -> dt.datetime:
    """A moment as read back from a UNION (SQLite hands back the text a DateTime column holds)."""
    return moment if isinstance(moment, dt.datetime) else dt.datetime.fromisoformat(moment)


# ---------------------------------------------------------------- the case list

def cases(session: Session, actor: Actor, filters: Filters | None = None, page: int = 1,
          per_page: int = 20, after: str | None = None) -> Page:
    """Every case `actor` may see, newest first. `after` (a page link's cursor, the last case's id) starts after
    that case; without it, `page` counts from the first."""
    page, per_page = _sizes(page, per_page)
    where = _filtered(_base(actor), filters or Filters(), actor)
    key = decode_cursor(after, CASES_KEY)
    listed = where.where(Case.id < key[0]) if key else where
    found = session.scalars(listed.options(joinedload(Case.union), joinedload(Case.campaign))
                            .order_by(Case.id.desc()).limit(per_page + 1)
                            .offset(0 if key else (page - 1) * per_page)).all()
    total, more = bounded_count(session, where)
    return Page(list(found[:per_page]), total, page, per_page, more=more,
                after=encode_cursor(found[per_page - 1].id) if len(found) > per_page else None)
