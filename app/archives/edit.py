"""The archive form: a cadre opens the archive of a household of their union (archives.new); the union's people and
the reviewers correct one (archives.edit). Rows of members, refusals and numbers work as on the case form
(app/cases/edit.py): what was typed comes back with each message beside its input, an ID number already in another
household's archive included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from workflows import verbs
from workflows.errors import DomainError, Forbidden, Invalid, NotFound
from workflows.inputs import archive_input
from workflows.models import Archive
from workflows.rules import ARCHIVE_EDITORS, DRAFTERS, require_role

from ..cases.edit import refusal_page, row_action
from ..cases.forms import drop_empty_rows, initial_data, input_errors, kept_numbers, labelled_errors, member_prototype
from ..current import actor, clock
from ..db import db
from ..requests import seen_version
from ..respond import error_text, perform
from . import bp
from .forms import ArchiveForm, archive_data


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    me = actor()
    require_role(me, DRAFTERS, "新建档案")
    form = ArchiveForm()
    if request.method == "POST":
        return _submit(form, None, lambda data: verbs.create_archive(db(), me, clock(), data))
    return _page(form, None)


@bp.route("/<int:archive_id>/edit", methods=["GET", "POST"])
@login_required
def edit(archive_id: int):
    me = actor()
    if request.method == "GET":
        try:
            # The verb says whether this person may change the archive now; given nothing to change, it writes
            # nothing.
            archive = verbs.edit_archive(db(), me, clock(), archive_id, None, {})
            problems = {}
        except Invalid as error:  # stored values that no longer pass: shown beside their inputs
            archive, problems = verbs.get_archive(db(), me, archive_id), input_errors(error.fields)
        except (NotFound, Forbidden):
            raise
        except DomainError as error:  # deregistered
            flash(error_text(error), "error")
            return redirect(url_for("archives.show", archive_id=archive_id))
        form = ArchiveForm(data=initial_data(archive, archive_input))
        form.version.data = str(archive.version)
        return _page(form, archive, errors=problems)

    require_role(me, ARCHIVE_EDITORS, "修改档案")
    archive = verbs.get_archive(db(), me, archive_id)
    form = ArchiveForm()
    seen = seen_version(form.version.data)
    return _submit(form, archive, lambda data: verbs.edit_archive(db(), me, clock(), archive_id, seen, data))


def _submit(form: ArchiveForm, archive: Archive | None, save: Callable[[dict[str, Any]], Archive]):
    if row_action(form):
        return _page(form, archive)
    drop_empty_rows(form)
    before = archive.version if archive is not None else None
    saved = perform(lambda: save(archive_data(form, archive)),
                    lambda error: refusal_page(form, error, lambda **shown: _page(form, archive, **shown)))
    if archive is None:
        flash(_("已建立「%(name)s」的户档案（建档中）", name=saved.applicant_name), "success")
    elif saved.version != before:
        flash(_("修改已保存"), "success")
    else:
        flash(_("没有需要保存的修改"), "info")
    return redirect(url_for("archives.show", archive_id=saved.id))


def _page(form: ArchiveForm, archive: Archive | None, *, errors: dict[str, str] | None = None,
          problem: str | None = None, stale: bool = False, status: int = 200):
    errors = errors or {}
    return render_template("archives/form.html", form=form, archive=archive, errors=errors,
                           summary=labelled_errors(form, errors), problem=problem, stale=stale,
                           kept=kept_numbers(form, archive), prototype=member_prototype()), status
