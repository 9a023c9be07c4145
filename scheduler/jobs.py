"""The scheduled work. Every job sweeps the database for what is due, so running it twice does nothing twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from workflows import deadline, reminders
from workflows.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Report:
    forfeited: int
    skipped: int
    reminders_queued: int


def run_once(sessions: Callable[[], Session], clock: Clock) -> Report:
    """One pass: forfeit what the deadline has made due, then queue the reminders due now."""
    swept = deadline.sweep(sessions, clock)
    with sessions() as session, session.begin():
        queued = reminders.queue(session, clock.now())
    if swept.forfeited or swept.skipped or queued:
        log.info("sweep: %s forfeited, %s skipped, %s reminders queued", swept.forfeited, len(swept.skipped), queued)
    return Report(swept.forfeited, len(swept.skipped), queued)
