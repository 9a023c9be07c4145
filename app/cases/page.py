"""The case page (being written)."""

from __future__ import annotations

from . import bp


@bp.get("/<int:case_id>")
def show(case_id: int):
    return ""


@bp.post("/<int:case_id>/claim")
def claim(case_id: int):
    return ""


@bp.post("/<int:case_id>/release")
def release(case_id: int):
    return ""
