"""What every page's template is given: the header (its areas and the unread count), the labels of stored codes,
and the filters for times, deadlines and masked numbers."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_login import current_user

from workflows import vocab
from workflows.identity import mask_id, mask_numbers
from workflows.infra.clock import LOCAL, from_db
from workflows.money import yuan
from workflows.reads import notifications
from workflows.rules import deadline_text
from workflows.states import Role, State
from workflows.vocab import label_of

from .areas import navigation
from .db import db


def page_context() -> dict[str, Any]:
    """What the page header shows: the areas of the signed-in person's role and their unread notifications."""
    if not current_user.is_authenticated:
        return {"nav": [], "unread": 0}
    nav = [(area.endpoint, area.label) for area in navigation(current_user.role, current_app.view_functions)]
    return {"nav": nav, "unread": notifications.unread(db(), current_user)}


class Labels:
    """The Chinese label of a stored code, for templates: labels.state(case.state) → 公示中; "—" when unset."""

    def __getattr__(self, name: str):
        kinds = {"state": State, "role": Role, "worker_group": vocab.WorkerGroup, "category": vocab.Category,
                 "cause": vocab.Cause, "aid_kind": vocab.AidKind, "gender": vocab.Gender,
                 "document_kind": vocab.DocumentKind, "union_kind": vocab.UnionKind,
                 "objection_status": vocab.ObjectionStatus}
        if name not in kinds:
            raise AttributeError(name)
        return lambda code: label_of(kinds[name], code) or "—"


def localtime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (naive UTC) as the union office's local time."""
    return from_db(value).astimezone(LOCAL).strftime(fmt) if value else "—"


def init_templates(app) -> None:
    app.context_processor(page_context)
    app.jinja_env.globals.update(labels=Labels(), get_locale=get_locale, yuan=yuan)
    app.jinja_env.filters.update(localtime=localtime, mask_id=mask_id, masked=mask_numbers, deadline=deadline_text)


