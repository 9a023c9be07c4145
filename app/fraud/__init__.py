"""Anti-fraud views for the district (reviewers and auditors): the findings of workflows.reads.fraud, numbers masked."""

from __future__ import annotations

from flask import Blueprint

from ..areas import gate

bp = Blueprint("fraud", __name__, url_prefix="/fraud")
gate(bp)

from . import views  # noqa: E402,F401  (the views register on bp)
