"""Notifications: the list of what the system told this person (reminders, returns, notices closed), read or not.

The header shows the unread count (app.web.page_context); opening a notification's case marks it read.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select, update

from workflows.infra.clock import to_db
from workflows.errors import NotFound
from workflows.models import Notification

from ..db import db
from ..current import actor, clock
from ..listing import page_number
from ..requests import safe_next

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PER_PAGE = 30


@bp.get("/")
@login_required
def index():
    me = actor()
    unread_only = request.args.get("unread") == "1"
    where = [Notification.account_id == me.id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = db().scalar(select(func.count()).select_from(Notification).where(*where))
    # Past the last page (the last unread one on it was just marked read): the last page there is.
    page = min(page_number(request.args), max(1, -(-total // PER_PAGE)))
    items = db().scalars(select(Notification).where(*where).order_by(Notification.id.desc())
                         .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return render_template("notifications/index.html", items=items, total=total, page=page, per_page=PER_PAGE,
                           unread_only=unread_only)


def _mine(notification_id: int) -> Notification:
    notification = db().get(Notification, notification_id)
    if notification is None or notification.account_id != actor().id:
        raise NotFound("找不到该通知")
    return notification


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    """Mark one as read and go to what it is about: its case, or back to the list as it was (its page and
    filter: the person is working down it)."""
    notification = _mine(notification_id)
    if notification.read_at is None:
        notification.read_at = to_db(clock().now())
    db().commit()
    if notification.case_id and request.form.get("open") == "1":
        return redirect(url_for("cases.show", case_id=notification.case_id))
    return redirect(safe_next(request.form.get("next"), url_for("notifications.index")))


@bp.post("/read-all")
@login_required
def read_all():
    db().execute(update(Notification).where(Notification.account_id == actor().id, Notification.read_at.is_(None))
                 .values(read_at=to_db(clock().now())))
    db().commit()
    flash(_("已全部标记为已读"), "success")
    return redirect(url_for("notifications.index"))
