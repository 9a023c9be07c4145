"""The annual review (年度复核, DOMAIN.md "Recognition and the annual review"): which archives are due, which review
is a proposal still waiting for the union's head, the six-months-above-the-standard rule that proposes 脱困, and the
district's spot check (抽查): its size and its draw, which anyone holding the recorded seed can repeat.

Nothing here changes anything. `due` and `pending_proposal` are each one expression for one archive and for SQL
(the style of infra/expr.py): the review form asks them of an archive, the worklist, the inbox's count and the
progress report compile them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.archive_states import BY_TRIGGER, ArchiveTrigger, Status
from workflows.errors import Reason
from workflows.infra.clock import LOCAL, UTC, from_db, to_db
from workflows.infra.expr import at_or_before, every, is_sql, one_of
from workflows.models import LivingStandard
from workflows.rules.recognition import Recognition, area_chain
from workflows.states import Role
from workflows.texts import N_
from workflows.vocab import ClosingReason, ReviewOutcome

# Who reviews is rules.REVIEWERS (the union's cadres and heads); the district's reviewers draw and check the spot
# check; they and the auditors read it and the progress report.
SPOT_CHECKERS = (Role.reviewer,)
SPOT_CHECK_READERS = (Role.reviewer, Role.auditor)
PROGRESS_READERS = (Role.reviewer, Role.auditor)

REVIEW_MONTHS = 12
ABOVE_MONTHS = 6
MIN_RATE, MAX_RATE = Decimal("0.30"), Decimal("1")
PROPOSALS = (ReviewOutcome.propose_exit, ReviewOutcome.propose_deregister)
# The archive move that carries out each proposal (archive_states.MOVES: the head's or a reviewer's).
CARRIED_OUT_BY = {ReviewOutcome.propose_exit: ArchiveTrigger.exit,
                  ReviewOutcome.propose_deregister: ArchiveTrigger.deregister}
# What a review may propose as the reason of a 注销 (a merge is the merge's own).
PROPOSED_REASONS = tuple(r for r in ClosingReason if r != ClosingReason.merged)


# ---------------------------------------------------------------- calendar months, in the union's time zone

def shift_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same local wall time `months` calendar months later (earlier when negative), on the last day of a
    shorter month; aware in, aware out."""
    local = moment.astimezone(LOCAL)
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def review_cutoff(now: dt.datetime) -> dt.datetime:
    """Twelve months before `now`, as stored (naive UTC): an archive last reviewed then or earlier is due."""
    return to_db(shift_months(now, -REVIEW_MONTHS))


# ---------------------------------------------------------------- due: one expression for an archive and for SQL

def first_set(*values: Any) -> Any:
    """The first of `values` that is set: COALESCE in SQL."""
    if any(is_sql(v) for v in values):
        return func.coalesce(*values)
    return next((v for v in values if v is not None), None)


def review_start(archive: Any) -> Any:
    """Where the twelve months count from: the last review, else the import from the union's ledger, else the
    archive's creation."""
    return first_set(archive.reviewed_at, archive.imported_at, archive.created_at)


def due(archive: Any, now: dt.datetime) -> Any:
    """Due for its annual review: active (在档), and not reviewed for twelve months. `archive` is an Archive (a
    bool) or the class (SQL)."""
    return every(archive.status == Status.active, at_or_before(review_start(archive), review_cutoff(now)))


def reviewed_recently(archive: Any, now: dt.datetime) -> Any:
    """Reviewed within the last twelve months (the report's figure; never due at the same time)."""
    cutoff = review_cutoff(now)
    if is_sql(archive.reviewed_at):
        return archive.reviewed_at > cutoff
    return archive.reviewed_at is not None and archive.reviewed_at > cutoff


def pending_proposal(status: Any, outcome: Any) -> Any:
    """A proposal waits for the union's head (to exit or deregister the archive, or to leave it) while its review is
    the archive's latest and the archive is still active. `status` is the archive's, `outcome` its latest review's:
    values, or columns."""
    return every(status == Status.active, one_of(outcome, PROPOSALS))


def handles_proposals(role: str) -> bool:
    """Whether `role` carries proposals out: it may make every move that carries one out (the union's head)."""
    return all(role in BY_TRIGGER[trigger].roles for trigger in CARRIED_OUT_BY.values())


def review_reasons(archive: Any) -> list[Reason]:
    """Why the archive cannot be reviewed now (empty when it can)."""
    if archive.status != Status.active:
        return [Reason("state", N_("档案当前为「%(status)s」，只有在档的档案需要年度复核", status=Status(archive.status).label))]
    return []


# ---------------------------------------------------------------- six months above the standard → 脱困

Standard = Callable[[int, str | None], LivingStandard | None]


def standards(session: Session, areas: Iterable[str | None]) -> Standard:
    """The standards of `areas` (every year), read in one query, looked up like recognition.standard_for: the
    county, then its city (XXXX00), then its province (XX0000)."""
    codes = sorted({code for area in areas for code in area_chain(area)})
    rows = session.scalars(select(LivingStandard).where(LivingStandard.area_code.in_(codes))) if codes else []
    found = {(s.year, s.area_code): s for s in rows}

    def lookup(year: int, area: str | None) -> LivingStandard | None:
        return next((found[(year, code)] for code in area_chain(area) if (year, code) in found), None)

    return lookup


def above_standard_since(history: Iterable[tuple[dt.datetime, Decimal | None]], area: str | None,
                         now: dt.datetime, standard: Standard) -> dt.datetime | None:
    """When the household completed six consecutive months above every hardship line (Recognition.above_line:
    twice the 低保标准 of its hukou area or more, by each year's standard), or None when, as of `now`, it has not:
    its income history must cover the whole last six months, and every value in effect during them be above the
    line for its year. `history` is the archive's ArchiveIncome rows as (since, net_monthly), `since` stored
    (naive UTC): each value is in effect from its `since` until the next one's."""
    entries = sorted((from_db(since) if since.tzinfo is None else since, net) for since, net in history)
    entries = [(since, net) for since, net in entries if since <= now]
    # Walk back from now while the household stays above the line: the run's start, as far back as it goes.
    run_start = now
    for i in range(len(entries) - 1, -1, -1):
        begin, net = entries[i]
        end = entries[i + 1][0] if i + 1 < len(entries) else now
        if end <= begin and i + 1 < len(entries):
            continue  # replaced at the same instant: never in effect
        last_year = (end - dt.timedelta(microseconds=1) if end > begin else end).astimezone(LOCAL).year
        for year in range(last_year, begin.astimezone(LOCAL).year - 1, -1):
            if not Recognition(year, area, net, standard(year, area)).above_line:
                return _completed(run_start, now)
            run_start = max(begin, dt.datetime(year, 1, 1, tzinfo=LOCAL))
    return _completed(run_start, now)


def _completed(run_start: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    done = shift_months(run_start, ABOVE_MONTHS).astimezone(UTC)
    return done if done <= now else None


def proposes_exit(history: Iterable[tuple[dt.datetime, Decimal | None]], area: str | None, now: dt.datetime,
                  standard: Standard) -> bool:
    return above_standard_since(history, area, now, standard) is not None


# ---------------------------------------------------------------- the spot check's draw

def sample_size(rate: Decimal, active: int) -> int:
    """At least `rate` of a union's active archives: ceil(rate × n)."""
    return math.ceil(Decimal(rate) * active)


def draw(seed: str, rate: Decimal, population: Mapping[str, Sequence[int]]) -> dict[str, list[int]]:
    """The list: one random.Random(seed), the unions taken by code, and from each ceil(rate × n) of its n active
    archives (ids ascending) by Random.sample; each union's drawn ids ascending. Anyone with the seed, the rate and
    the population (recorded with its digest) draws the same list."""
    rng = random.Random(seed)
    drawn = {}
    for code in sorted(population):
        ids = sorted(population[code])
        drawn[code] = sorted(rng.sample(ids, sample_size(rate, len(ids))))
    return drawn


def list_digest(lists: Mapping[str, Sequence[int]]) -> str:
    """SHA-256 of a list of archives by union, written one `CODE:ID` a line, unions by code, ids ascending."""
    text = "\n".join(f"{code}:{archive_id}" for code in sorted(lists) for archive_id in sorted(lists[code]))
    return hashlib.sha256(text.encode()).hexdigest()


def rate_reasons(rate: Decimal) -> str | None:
    """What is wrong with a spot check's rate, or None."""
    if not (MIN_RATE <= rate <= MAX_RATE):
        return N_("抽查比例须在30%到100%之间（0.30至1）")
    if rate != rate.quantize(Decimal("0.01")):
        return N_("抽查比例最多两位小数，如 0.35")
    return None
