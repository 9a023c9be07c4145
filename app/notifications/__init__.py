"""Notifications: the list of what the system told this person (reminders, returns, notices closed), read or not.

The header shows the unread count (app.templating.page_context); opening a notification's case marks it read.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from workflows import verbs
from workflows.reads import notifications

from ..current import actor, clock
from ..db import db
from ..listing import page_number
from ..requests import safe_next
from ..respond import perform

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PER_PAGE = 30


@bp.get("/")
@login_required
def index():
    unread_only = request.args.get("unread") == "1"
    listed = notifications.listing(db(), actor(), page_number(request.args), PER_PAGE, unread_only)
    return render_template("notifications/index.html", items=listed.items, total=listed.total, page=listed.page,
                           per_page=PER_PAGE, unread_only=unread_only)


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    """Mark one as read and go to what it is about: its case, or back to the list as it was (its page and
    filter: the person is working down it)."""
    notification = perform(lambda: verbs.mark_read(db(), actor(), clock(), notification_id))
    if notification.case_id and request.form.get("open") == "1":
        return redirect(url_for("cases.show", case_id=notification.case_id))
    return redirect(safe_next(request.form.get("next"), url_for("notifications.index")))


@bp.post("/read-all")
@login_required
def read_all():
    perform(lambda: verbs.mark_all_read(db(), actor(), clock()))
    flash(_("已全部标记为已读"), "success")
    return redirect(url_for("notifications.index"))
