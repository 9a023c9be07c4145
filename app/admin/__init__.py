"""Administration: the unions tree, accounts and campaigns (being written)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@login_required
def index():
    return render_template("errors/error.html", status=200, message="系统管理")
