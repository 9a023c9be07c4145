"""Disbursement: finance's batches, the payment export, payment references (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("finance", __name__, url_prefix="/finance")
