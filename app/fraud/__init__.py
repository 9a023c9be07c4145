"""Anti-fraud views for the district (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("fraud", __name__, url_prefix="/fraud")
