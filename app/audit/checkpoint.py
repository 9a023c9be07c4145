"""Recording a verification's checkpoint from a request (the auditors' page and the API's GET)."""

from __future__ import annotations

from flask import current_app

from workflows.infra import audit, checkpoints
from workflows.models import AuditCheckpoint

from ..current import clock


def remember(result: audit.Verification, verified_by: str) -> AuditCheckpoint | None:
    """Record the checkpoint of a verification (a failed one too: see checkpoints.record) in a short writing transaction of its own, after the walk.
    The GET that verified is not marked `writes` (app.db): on SQLite its session would then hold the write lock from
    its first statement, through a walk that may read millions of events, and every save would queue behind it."""
    with current_app.extensions["songnuan"]["writing_sessions"]() as session, session.begin():
        return checkpoints.record(session, result, verified_by, clock().now())
