"""A person marks what the system told them as read: one notification, or all of them. Not audited: it changes
nothing of a case, only the person's own list."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from workflows.actors import Actor
from workflows.infra.clock import Clock, to_db
from workflows.models import Notification
from workflows.reads.notifications import mine


def mark_read(session: Session, actor: Actor, clock: Clock, notification_id: int) -> Notification:
    notification = mine(session, actor, notification_id)
    notification.read_at = notification.read_at or to_db(clock.now())
    session.flush()
    return notification


def mark_all_read(session: Session, actor: Actor, clock: Clock) -> int:
    """Returns how many were unread."""
    return session.execute(update(Notification).where(Notification.account_id == actor.id,
                                                      Notification.read_at.is_(None))
                           .values(read_at=to_db(clock.now()))).rowcount
