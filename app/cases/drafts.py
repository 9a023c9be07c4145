"""A draft on the screens besides its form: the one a second new case of the same household opens instead
(workflows.rules.drafts.open_draft), and deleting it (its drafter, before it was ever handed in)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from workflows import rules, verbs
from workflows.errors import DomainError, Invalid, NotFound
from workflows.models import Case
from workflows.rules.drafts import delete_reasons
from workflows.verbs.applications import DraftExists

from ..current import actor, clock, uploads
from ..db import db
from ..requests import seen_version
from ..respond import perform
from . import bp
from .page import _refused


def draft_exists(error: DraftExists):
    """Back, then Save again: nothing new was made, and what was typed was not saved. The draft saved before opens
    in its form, and keep.js (app/static/keep.js) puts over it what was just typed: the address names the page it
    was kept under (keep-from), which also tells keep.js not to drop it. A draft this person may not change opens
    on its page, what was typed still kept for the new-case page."""
    sent_from = request.full_path.rstrip("?")
    try:  # the verb says whether this person may change it now; given nothing to change, it writes nothing
        verbs.edit_case(db(), actor(), clock(), error.case_id, None, {})
    except Invalid:
        pass  # stored values that no longer pass: the form shows them beside their inputs
    except DomainError:
        flash(_("该身份证号码在本活动中已有草稿（案件#%(id)s），没有重复新建；您不能修改该草稿，"
                "刚才填写的内容没有保存，仍保留在新建页", id=error.case_id), "warning")
        return redirect(url_for("cases.show", case_id=error.case_id, **{"keep-from": sent_from}))
    flash(_("已有该身份证号码的草稿（案件#%(id)s），没有重复新建，已为您打开它的修改页；刚才填写的内容如已自动填入，请核对后保存",
            id=error.case_id), "warning")
    return redirect(url_for("cases.edit", case_id=error.case_id, **{"keep-from": sent_from}))


@bp.app_template_global("may_delete_draft")
def may_delete_draft(case: Case) -> bool:
    """Whether the case page offers this person to delete the draft (the verb's own rules)."""
    me = actor()
    return me.role in rules.DRAFTERS and not delete_reasons(db(), case, me, clock().now())


@bp.post("/<int:case_id>/delete")
@login_required
def delete_draft(case_id: int):
    name = verbs.get_case(db(), actor(), case_id).applicant_name  # a case the person may not see stays a 404
    perform(lambda: verbs.delete_draft(db(), actor(), clock(), uploads(), case_id,
                                       seen_version(request.form.get("version"))),
            _refused(case_id, "delete-draft"), passing=(NotFound,))
    flash(_("已删除草稿：%(name)s（户档案保留）", name=name), "success")
    return redirect(url_for("cases.index"))
