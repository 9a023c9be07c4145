"""The scheduled work. Every job sweeps the database for what is due, so running it twice does nothing twice.

SONGNUAN_SWEEP_BATCH (default workflows.verbs.deadline.BATCH, 1000) is how many cases one transaction of the deadline
sweep forfeits: smaller batches hold fewer row locks for less time; tests use a small one to see a sweep that
takes many transactions.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from workflows import verbs
from workflows.infra.clock import Clock
from workflows.verbs import deadline

from . import mail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    forfeited: int
    skipped: int
    reminders_queued: int
    emails_sent: int = 0
    emails_failed: int = 0


def batch_size() -> int:
    value = os.environ.get("SONGNUAN_SWEEP_BATCH", "").strip()
    if value.isdigit() and int(value) >= 1:
        return int(value)
    if value:
        log.warning("sweep: SONGNUAN_SWEEP_BATCH=%r is not a positive whole number; using %s", value, deadline.BATCH)
    return deadline.BATCH


def run_once(sessions: Callable[[], Session], clock: Clock, smtp_url: str | None = None) -> Report:
    """One pass: forfeit what the deadline has made due, queue the reminders due now, and (with an SMTP server)
    e-mail the notifications waiting for it, once those decisions have committed."""
    swept = verbs.sweep(sessions, clock, batch_size())
    with sessions() as session, session.begin():
        queued = verbs.queue_reminders(session, clock.now())
    if swept.forfeited or swept.skipped or queued:
        log.info("sweep: %s forfeited, %s skipped, %s reminders queued", swept.forfeited, len(swept.skipped), queued)
    sent, failed = mail.deliver(sessions, clock, smtp_url) if smtp_url else (0, 0)
    return Report(swept.forfeited, len(swept.skipped), queued, sent, failed)
