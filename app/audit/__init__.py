"""Audit review (auditors; read-only): every event, filtered; an event's changes; a case's history; the
verification of the chain; the reveal log; exports of a filtered view. Only GET routes: nothing here writes but
the checkpoint a successful verification records (views.verify)."""

from __future__ import annotations

from flask import Blueprint

from ..areas import gate

bp = Blueprint("audit", __name__, url_prefix="/audit")
gate(bp)


from . import exports, views  # noqa: E402,F401  (the views register on bp)
