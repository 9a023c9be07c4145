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
    """The successful checkpoint furthest along the chain (the newest of those, if two ended at one event)."""
    return session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.ok)
                           .order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.id.desc()).limit(1)).first()


def _failed_last(session: Session) -> bool:
    """Whether the newest verification found the chain broken: until a full walk succeeds, none starts from a
    checkpoint (a quick check would call green what a full walk has just found changed)."""
    newest = session.scalars(select(AuditCheckpoint.ok).order_by(AuditCheckpoint.id.desc()).limit(1)).first()
    return newest is False


def _pins(session: Session) -> dict[int, str]:
    """Every successful checkpoint's event and hash: each must still be as it was verified (as a digest's)."""
    return dict(session.execute(select(AuditCheckpoint.seq, AuditCheckpoint.hash).where(AuditCheckpoint.ok)
                                .order_by(AuditCheckpoint.id)).all())


def _holds(session: Session, point: AuditCheckpoint, pins: dict[int, str]) -> bool:
    """Whether the chain up to `point` is still as verified: every pinned event at or before it (the checkpoints',
    a digest's) has its hash, and every number up to it is there once."""
    events = AuditEvent.__table__.c
    wanted = {seq: value for seq, value in pins.items() if seq <= point.seq} | {point.seq: point.hash}
    found = dict(session.execute(select(events.seq, events.hash).where(events.seq.in_(wanted))).all())
    if found != wanted:
        return False
    below = session.execute(select(func.count(), func.min(events.seq)).where(events.seq <= point.seq)).one()
    return tuple(below) == (point.seq, 1)


def verify(session: Session, digest: str | None = None, *, full: bool = False) -> audit.Verification:
    """From the last checkpoint, or the whole chain when `full`, when there is none, or when the last verification
    failed. Every checkpoint is pinned (as a digest is): a chain rewritten and re-chained up to one is caught
    either way. When the chain no longer holds up to the checkpoint, the whole chain is walked, so that the first
    bad event is named."""
    given = audit.parse_digest(digest) if digest else None  # a malformed digest is refused before any walk
    point = latest(session)
    if point is None:
        return audit.verify(session, digest)
    pins = _pins(session)
    if not full and not _failed_last(session) and _holds(session, point, pins | dict([given] if given else [])):
        return audit.verify(session, digest, since=(point.seq, point.hash))
    return audit.verify(session, digest, pins=pins)


def record(session: Session, result: audit.Verification, verified_by: str, now: dt.datetime) -> AuditCheckpoint | None:
    """Remember a verification, in the caller's transaction: where a successful one ended, or where a failed one
    found the chain broken (a digest that does not match is the digest's problem, not the chain's: not recorded).
    A success that walked no new event records nothing (every visit to the page would add a row), unless it was a
    full walk."""
    if not result.ok:
        if result.problem == "digest":
            return None
        point = AuditCheckpoint(seq=result.first_bad or 0, hash="", from_seq=result.since, events=result.events,
                                full=result.full, verified_at=to_db(now), verified_by=verified_by[:64], ok=False)
    elif result.last is None or (not result.full and result.last[0] == result.since):
        return None
    else:
        point = AuditCheckpoint(seq=result.last[0], hash=result.last[1], from_seq=result.since, events=result.events,
                                full=result.full, verified_at=to_db(now), verified_by=verified_by[:64], ok=True)
    session.add(point)
    session.flush()
    return point
