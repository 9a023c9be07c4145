"""The case form: a cadre opens a draft (cases.new) or changes one (cases.edit).

A POST either adds or removes a household row (the form comes back with what was typed, nothing is saved: this is
how rows work without JavaScript) or saves through the verb. A refusal shows the form again, every value as typed,
each message beside its input and all of them at the top.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from workflows import rules, verbs
from workflows.errors import DomainError, Forbidden, Invalid, NotFound
from workflows.inputs import parse_number
from workflows.models import Campaign, Case
from workflows.rules import DRAFTERS, require_role
from workflows.rules.fields import FIELD_LABELS
from workflows.rules.recognition import CONDITIONAL_DOCUMENTS
from workflows.states import State
from workflows.vocab import REQUIRED_DOCUMENTS

from ..current import actor, clock
from ..db import db
from ..requests import seen_version
from ..respond import perform
from . import bp
from .forms import (
    MAX_ROWS,
    CaseForm,
    HouseholdFields,
    case_data,
    choices,
    drop_empty_rows,
    held_elsewhere,
    initial_data,
    input_errors,
    kept_numbers,
    labelled_errors,
    member_prototype,
)


def open_campaigns() -> list[Campaign]:
    """Campaigns a case may be opened in now: started, deadline not passed (create_case refuses any other)."""
    now = clock().now()
    return list(db().scalars(select(Campaign).where(Campaign.open_for_drafts(now)).order_by(Campaign.deadline)))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    me = actor()
    require_role(me, DRAFTERS, "新建案件")
    campaigns = open_campaigns()
    form = CaseForm()
    form.campaign.choices = choices((str(c.id), c.name) for c in campaigns)
    if request.method == "GET" and len(campaigns) == 1:
        form.campaign.data = str(campaigns[0].id)

    def create(data: dict[str, Any]) -> Case:
        campaign_id = parse_number(form.campaign.data)
        if campaign_id is None:
            raise Invalid({"campaign": _("请选择活动")})
        return verbs.create_case(db(), me, clock(), campaign_id, data)

    if request.method == "POST":
        return _submit(form, None, create, campaigns=campaigns)
    return _page(form, None, campaigns=campaigns)


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
@login_required
def edit(case_id: int):
    me = actor()
    if request.method == "GET":
        try:
            # The verb itself says whether this person may change the case now (role, union, state, deadline):
            # given nothing to change, it changes and writes nothing.
            case = verbs.edit_case(db(), me, clock(), case_id, None, {})
            problems = {}
        except Invalid as error:  # stored values that no longer pass: shown beside their inputs
            case, problems = verbs.get_case(db(), me, case_id), input_errors(error.fields)
        except (NotFound, Forbidden):
            raise
        except DomainError as error:  # not a draft any more, or past the deadline
            flash(error.message, "error")
            return redirect(url_for("cases.show", case_id=case_id))
        form = CaseForm(data=initial_data(case))
        form.version.data = str(case.version)
        return _page(form, case, errors=problems)

    case = verbs.get_case(db(), me, case_id)
    form = CaseForm()
    # A version that is not a number was not sent by this form: treat it as stale rather than skip the check.
    seen = seen_version(form.version.data)
    return _submit(form, case, lambda data: verbs.edit_case(db(), me, clock(), case_id, seen, data))


def row_action(form: HouseholdFields) -> bool:
    """The buttons that add or remove a household row without JavaScript; True if one was pressed."""
    members = form.household.members
    if "add_member" in request.form:
        if len(members.entries) < MAX_ROWS:
            members.append_entry()
        return True
    if "remove_member" in request.form:
        index = parse_number(request.form["remove_member"])
        if index is not None and index < len(members.entries):
            members.pop_entry(index)
        return True
    return False


def _submit(form: CaseForm, case: Case | None, save: Callable[[dict[str, Any]], Case], **context: Any):
    if row_action(form):
        return _page(form, case, **context)
    drop_empty_rows(form)  # before building the input, so that error keys count rows as the form shows them
    before = case.version if case is not None else None

    def refused(error: DomainError):
        return refusal_page(form, error, lambda **shown: _page(form, case, **shown, **context))
    saved = perform(lambda: save(case_data(form, case)), refused)
    if case is None and (saved.archive.created_at != saved.created_at or len(saved.archive.cases) > 1):
        # The household was archived already (its archive was not opened with this draft): say so, and that the
        # archive's data were not taken over.
        flash(_("「%(name)s」一户已有户档案#%(archive)s：本申请已记入该档案，内容按您填写的保存，"
                "请与档案核对（也可在档案页点「申请本活动帮扶」，从档案带入）",
                name=saved.applicant_name, archive=saved.archive_id), "info")
    elif case is None:
        flash(_("已新建「%(name)s」的困难职工档案和本活动的帮扶申请", name=saved.applicant_name), "success")
    elif saved.version != before:
        flash(_("修改已保存"), "success")
    else:
        flash(_("没有需要保存的修改"), "info")
    for warning in amount_notes(saved)["warnings"]:  # saved, but `document` will refuse it: say so now
        flash(_("帮扶金额：%(warning)s", warning=warning), "warning")
    return redirect(url_for("cases.show", case_id=saved.id))


def refusal_page(form, error: DomainError, page: Callable[..., Any]):
    """The form again after a refusal: Invalid's messages beside their inputs (400); an ID number already in
    another household's archive beside the input that holds it (409); anything else (a stale version, a closed
    campaign, a record no longer editable) at the top (409)."""
    if isinstance(error, Invalid):
        return page(errors=input_errors(error.fields), status=400)
    placed = held_elsewhere(form, error)
    rest = "；".join(reason.message for reason in getattr(error, "reasons", []) if reason.message not in
                    placed.values()) if placed else error.message
    return page(errors=placed, problem=rest or None, stale=error.code == "stale", status=409)


def _page(form: CaseForm, case: Case | None, *, errors: dict[str, str] | None = None, problem: str | None = None,
          stale: bool = False, status: int = 200, campaigns: list[Campaign] | None = None):
    errors = errors or {}
    return render_template("cases/form.html", form=form, case=case, campaigns=campaigns, errors=errors,
                           summary=labelled_errors(form, errors), problem=problem, stale=stale,
                           kept=kept_numbers(form, case), prototype=member_prototype(), needed=set(FIELD_LABELS),
                           needs=document_needs(case), amount=amount_notes(case)), status


def amount_notes(case: Case | None) -> dict[str, Any]:
    """Beside the amount of a saved draft: the campaign's tariff for the household, and what is wrong with the
    amount as saved (over a cap, or not the tariff without a reason): the rule `document` refuses with."""
    if case is None:
        return {"tariff": None, "warnings": []}
    warnings = rules.tariffs.amount_reasons(db(), case) if case.state == State.drafted else []
    return {"tariff": rules.tariffs.tariff_for(db(), case), "warnings": [reason.message for reason in warnings]}


def document_needs(case: Case | None) -> dict[str, Any]:
    """What the form says `document` will need: every case's papers, those some households need and when, and for
    a saved draft what it still lacks (the rules' own words)."""
    missing = None
    if case is not None and case.state == State.drafted:
        missing = [reason.message for reason in rules.document_needs(db(), case, clock().now())]
    return {"missing": missing, "papers": [kind.label for kind in REQUIRED_DOCUMENTS],
            "conditional": [([kind.label for kind in kinds], when) for kinds, _applies, when in CONDITIONAL_DOCUMENTS]}
