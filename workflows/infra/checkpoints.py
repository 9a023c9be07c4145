"""Verification checkpoints: a successful verification records the last event it walked and that event's hash, so
that the next one walks only the events written since, instead of the whole chain on every visit.

What a check from a checkpoint proves: the checkpointed event still has the hash it had (so nothing before it was
rewritten and re-chained up to it), nothing at or before it was cut out, and every event after it holds. What it
cannot prove: that no event before the checkpoint was changed in place since (its hash column left as it was) —
only a full walk finds that; and the checkpoints live in the same database as the chain, so someone able to rewrite
both is caught only by a digest kept outside it (audit.digest).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.infra import audit
from workflows.infra.clock import to_db
from workflows.models import AuditCheckpoint, AuditEvent


def latest(session: Session) -> AuditCheckpoint | None:
    """The checkpoint furthest along the chain (the newest of those, if two verifications ended at one event)."""
    return session.scalars(select(AuditCheckpoint)
                           .order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.id.desc()).limit(1)).first()


def _holds(session: Session, point: AuditCheckpoint, pinned: tuple[int, str] | None) -> bool:
    """Whether the chain up to `point` is still as verified: its event has its hash, every number up to it is
    there once, and a pinned event (a digest's) at or before it has the pinned hash."""
    events = AuditEvent.__table__.c
    wanted = {point.seq: point.hash} | (dict([pinned]) if pinned and pinned[0] <= point.seq else {})
    found = dict(session.execute(select(events.seq, events.hash).where(events.seq.in_(wanted))).all())
    if found != wanted:
        return False
    below = session.execute(select(func.count(), func.min(events.seq)).where(events.seq <= point.seq)).one()
    return tuple(below) == (point.seq, 1)


def verify(session: Session, digest: str | None = None, *, full: bool = False) -> audit.Verification:
    """From the last checkpoint, or the whole chain when `full` or when there is none. The checkpoint is pinned in
    a full walk (as a digest is): a chain rewritten and re-chained up to it is caught either way. When the chain
    no longer holds up to the checkpoint, the whole chain is walked, so that the first bad event is named."""
    pinned = audit.parse_digest(digest) if digest else None  # a malformed digest is refused before any walk
    point = latest(session)
    if point is None:
        return audit.verify(session, digest)
    if not full and _holds(session, point, pinned):
        return audit.verify(session, digest, since=(point.seq, point.hash))
    return audit.verify(session, digest, pins={point.seq: point.hash})


def record(session: Session, result: audit.Verification, verified_by: str, now: dt.datetime) -> AuditCheckpoint | None:
    """Remember where a successful verification ended, in the caller's transaction. A failed one records nothing;
    nor does one that walked no new event (every visit to the page would add a row), unless it was a full walk."""
    if not result.ok or result.last is None or (not result.full and result.last[0] == result.since):
        return None
    point = AuditCheckpoint(seq=result.last[0], hash=result.last[1], from_seq=result.since, events=result.events,
                            full=result.full, verified_at=to_db(now), verified_by=verified_by[:64])
    session.add(point)
    session.flush()
    return point
