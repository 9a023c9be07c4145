"""Audit review: every event, filtered; an event's changes; verification; the reveal log; exports (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
