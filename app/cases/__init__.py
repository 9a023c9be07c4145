"""The case screens: the list, the form, the case page with its documents and actions, the printables."""

from __future__ import annotations

from flask import Blueprint

from ..areas import gate

bp = Blueprint("cases", __name__, url_prefix="/cases")
gate(bp)

from . import documents, drafts, edit, lists, page, printables  # noqa: E402,F401  (the views register on bp)
