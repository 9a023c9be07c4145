"""The outbox: every notification is written here, in the transaction that decides it, and is read in the
application at once. Its three parts: this queue; the deciders (a verb's own, such as a return telling the
drafter, and the reminders of workflows/verbs/reminders.py); the delivery by e-mail after commit
(scheduler/mail.py). Each notification has a unique key, so a decision taken twice stores one notification."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.infra.clock import to_db
from workflows.models import Notification


def notify(session: Session, *, key: str, account_id: int, kind: str, text: str, now: dt.datetime,
           case_id: int | None = None) -> Notification | None:
    """Queue a notification unless one with `key` exists already; returns the new one or None."""
    if session.scalar(select(Notification.id).where(Notification.key == key)) is not None:
        return None
    notification = Notification(key=key, account_id=account_id, case_id=case_id, kind=kind, text=text,
                                created_at=to_db(now))
    session.add(notification)
    return notification
