"""Audit review (auditors; read-only): every event, filtered; an event's changes; a case's history; the
verification of the chain; the reveal log; exports of a filtered view. Only GET routes: nothing here writes."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from workflows.rules import require_role
from workflows.states import Role

from ..extensions import login
from ..current import actor

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.before_request
def _auditors_only():
    """One gate for every screen of the blueprint, so that no view can be added without it: anonymous people go
    to sign-in, every role but the auditor gets 403."""
    if not current_user.is_authenticated:
        return login.unauthorized()
    require_role(actor(), (Role.auditor,), "查看审计记录")
    return None


from . import exports, views  # noqa: E402,F401  (the views register on bp)
