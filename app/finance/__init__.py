"""Disbursement: finance's batches, the payment export, payment references."""

from __future__ import annotations

from flask import Blueprint

from ..areas import gate

bp = Blueprint("finance", __name__, url_prefix="/finance")
gate(bp)

from . import batches, views  # noqa: E402,F401  (the views register on bp)
