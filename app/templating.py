"""What every page's template is given: the header (its areas and the unread count), the labels of stored codes,
and the filters for times, deadlines and masked numbers."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from workflows import archive_states, vocab
from workflows.identity import mask_id, mask_numbers
from workflows.infra.clock import LOCAL, from_db
from workflows.money import yuan
from workflows.reads import notifications
from workflows.rules import deadline_text
from workflows.states import Role, State
from workflows.vocab import label_of

from .areas import navigation
from .db import db
from .respond import page_address


def page_context() -> dict[str, Any]:
    """What the page header shows: the areas of the signed-in person's role and their unread notifications; and
    the address a page answering a POST takes (app.respond.page_address)."""
    if not current_user.is_authenticated:
        return {"nav": [], "unread": 0, "page_address": page_address()}
    nav = [(area.endpoint, area.label) for area in navigation(current_user.role, current_app.view_functions)]
    return {"nav": nav, "unread": notifications.unread(db(), current_user), "page_address": page_address()}


class Labels:
    """The Chinese label of a stored code, for templates: labels.state(case.state) → 公示中; "—" when unset."""

    KINDS = {"state": State, "role": Role, "worker_group": vocab.WorkerGroup, "category": vocab.Category,
             "cause": vocab.Cause, "aid_kind": vocab.AidKind, "gender": vocab.Gender,
             "document_kind": vocab.DocumentKind, "union_kind": vocab.UnionKind,
             "objection_status": vocab.ObjectionStatus, "archive_status": archive_states.Status,
             "archive_type": vocab.ArchiveType, "model_worker": vocab.ModelWorker, "political": vocab.Political,
             "marital": vocab.Marital, "hukou": vocab.Hukou, "work_status": vocab.WorkStatus,
             "employer_nature": vocab.EmployerNature, "housing_type": vocab.HousingType,
             "insurance": vocab.Insurance, "application_kind": vocab.ApplicationKind,
             "closing_reason": vocab.ClosingReason}

    def __getattr__(self, name: str):
        if name not in self.KINDS:
            raise AttributeError(name)
        kind = self.KINDS[name]
        if kind is vocab.Cause:  # a code of the first cause list (an old event, an old record) by its national one
            return lambda code: label_of(kind, vocab.OLD_CAUSES.get(code, code)) or "—"
        return lambda code: label_of(kind, code) or "—"

    def state(self, code: str | None) -> str:
        """A case's state, or an archive's status (the trail names both; their codes differ)."""
        kind = archive_states.Status if code in archive_states.Status.__members__.values() else State
        return label_of(kind, code) or "—"

    def causes(self, codes) -> str:
        """Several causes (a case's or an archive's secondary ones), each by its label in the reader's language."""
        return _("、").join(_(self.cause(code)) for code in codes or [] if code) or "—"


def localtime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (naive UTC) as the union office's local time."""
    return from_db(value).astimezone(LOCAL).strftime(fmt) if value else "—"


def init_templates(app) -> None:
    app.context_processor(page_context)
    app.jinja_env.globals.update(labels=Labels(), get_locale=get_locale, yuan=yuan)
    app.jinja_env.filters.update(localtime=localtime, mask_id=mask_id, masked=mask_numbers, deadline=deadline_text)


