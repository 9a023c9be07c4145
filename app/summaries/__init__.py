"""活动总结: each grassroots union hands in its campaign summary; the district sees who has not (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("summaries", __name__, url_prefix="/summaries")


@bp.get("/")
def index():
    return ""
