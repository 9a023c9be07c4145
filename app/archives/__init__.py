"""The household archive screens (一户一档): the list, the archive page with its moves, the archive form, and the
carry-over of a new campaign (结转申请)."""

from __future__ import annotations

from flask import Blueprint

from ..areas import gate

bp = Blueprint("archives", __name__, url_prefix="/archives")
gate(bp)

from . import edit, imports, lists, page, reviews  # noqa: E402,F401  (the views register on bp)
