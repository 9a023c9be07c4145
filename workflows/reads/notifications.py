"""A person's notifications, newest first, and how many are unread: for the list, the header and the API."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.actors import Actor
from workflows.errors import NotFound
from workflows.models import Notification
from workflows.texts import N_


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    total: int
    page: int
    per_page: int


def unread(session: Session, actor: Actor) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.account_id == actor.id, Notification.read_at.is_(None)))


def listing(session: Session, actor: Actor, page: int = 1, per_page: int = 30,
            unread_only: bool = False) -> NotificationPage:
    """A page of the person's notifications; past the last page (its last unread one was just marked read), the
    last page there is."""
    where = [Notification.account_id == actor.id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Notification).where(*where))
    page = min(max(page, 1), max(1, -(-total // per_page)))
    items = session.scalars(select(Notification).where(*where).order_by(Notification.id.desc())
                            .limit(per_page).offset((page - 1) * per_page)).all()
    return NotificationPage(list(items), total, page, per_page)


def mine(session: Session, actor: Actor, notification_id: int) -> Notification:
    """One of the person's own notifications; anyone else's is not found."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.account_id != actor.id:
        raise NotFound(N_("找不到该通知"))
    return notification
