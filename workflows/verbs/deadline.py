"""The deadline sweep: every case still in the grassroots stages once its campaign's deadline has passed is
forfeited by the system (逾期未报，视为自动放弃), its version bumped and its audit event chained.

Set-based and in batches: each batch is one transaction that locks a slice of the due cases (skipping rows a person
is changing right now; they come round in the next slice), forfeits them with one UPDATE and chains their events
with one bump of the audit head. A case a person moved on in the meantime no longer matches and is left alone.
Safe to run twice, or in several processes at once: what is forfeited is no longer due. If a batch fails, its
cases are retried one by one through the ordinary verb, so that one bad record is logged and skipped and never
stops the sweep.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflows.actors import SYSTEM
from workflows.errors import DomainError
from workflows.infra import audit
from workflows.infra.clock import Clock, to_db
from workflows.models import Campaign, Case
from workflows.states import FORFEIT_REASON, GRASSROOTS, State, Trigger
from workflows.verbs.transitions import fire

log = logging.getLogger(__name__)
BATCH = 1000


@dataclass
class SweepResult:
    forfeited: int = 0
    skipped: list[int] = field(default_factory=list)  # cases that could not be forfeited (logged)


def due_campaigns(session: Session, now: dt.datetime) -> list[int]:
    """Campaigns past their deadline that still hold cases in the grassroots stages."""
    return list(session.scalars(
        select(Campaign.id).where(Campaign.past_deadline(now))
        .where(select(Case.id).where(Case.campaign_id == Campaign.id, Case.state.in_(GRASSROOTS)).exists())
        .order_by(Campaign.deadline)))


def sweep(sessions: Callable[[], Session], clock: Clock, batch: int = BATCH) -> SweepResult:
    """Forfeit everything due at `clock.now()`; `sessions` makes one writing session per batch."""
    now = clock.now()
    result = SweepResult()
    with sessions() as session:
        campaigns = due_campaigns(session, now)
    for campaign_id in campaigns:
        while True:
            done, ids = _forfeit_batch(sessions, campaign_id, now, batch, exclude=result.skipped)
            if done is None:  # the batch failed as a whole: one case at a time
                done = _one_by_one(sessions, clock, ids, result)
            result.forfeited += done
            if not ids:
                break
    return result


def _due(session: Session, campaign_id: int, limit: int, exclude: list[int]) -> list[tuple[int, str, int]]:
    query = select(Case.id, Case.state, Case.archive_id).where(Case.campaign_id == campaign_id, Case.state.in_(GRASSROOTS))
    if exclude:
        query = query.where(Case.id.not_in(exclude))
    # PostgreSQL: lock the slice, passing over rows a person holds; on SQLite the writing session holds the
    # database's write lock already (BEGIN IMMEDIATE).
    return list(session.execute(query.order_by(Case.id).limit(limit).with_for_update(skip_locked=True)).all())


def _forfeit_batch(sessions, campaign_id: int, now: dt.datetime, limit: int,
                   exclude: list[int]) -> tuple[int | None, list[int]]:
    """(cases forfeited, ids looked at); (None, ids) when the batch failed and nothing of it was kept."""
    ids: list[int] = []
    try:
        with sessions() as session, session.begin():
            due = _due(session, campaign_id, limit, exclude)
            ids = [case_id for case_id, _, _ in due]
            if not ids:
                return 0, []
            at = to_db(now)  # once per batch, not once per case
            event = audit.row(SYSTEM, now, Trigger.forfeit, to_state=State.forfeited, comment=FORFEIT_REASON)
            forfeited = set(session.scalars(
                update(Case).where(Case.id.in_(ids), Case.state.in_(GRASSROOTS))
                .values(state=State.forfeited, version=Case.version + 1, updated_at=at, claimed_by_id=None)
                .returning(Case.id).execution_options(synchronize_session=False)))
            audit.append_many(session, [
                {**event, "case_id": case_id, "archive_id": archive_id, "from_state": state,
                 "changes": {"state": [state, event["to_state"]]}}
                for case_id, state, archive_id in due if case_id in forfeited])
            return len(forfeited), ids
    except Exception:  # noqa: BLE001 - any failure of the batch: retried case by case below, each logged
        log.exception("deadline sweep: batch of campaign %s failed; retrying its cases one by one", campaign_id)
        return None, ids


def _one_by_one(sessions, clock: Clock, ids: list[int], result: SweepResult) -> int:
    done = 0
    for case_id in ids:
        try:
            with sessions() as session, session.begin():
                fire(session, SYSTEM, clock, case_id, Trigger.forfeit, None)
            done += 1
        except DomainError as error:
            log.info("deadline sweep: case %s left alone: %s", case_id, error.message)
            result.skipped.append(case_id)
        except Exception:  # noqa: BLE001 - one bad record must not stop the sweep
            log.exception("deadline sweep: case %s could not be forfeited; skipped", case_id)
            result.skipped.append(case_id)
    return done
