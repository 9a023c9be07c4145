"""The case form: a cadre opens a draft (cases.new) or changes one (cases.edit).

A POST either adds or removes a household row (the form comes back with what was typed, nothing is saved: this is
how rows work without JavaScript) or saves through the verb. A refusal shows the form again, every value as typed,
each message beside its input and all of them at the top.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, get_template_attribute, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from workflows import rules, verbs
from workflows.errors import DomainError, Forbidden, Invalid, NotFound
from workflows.infra.clock import local_date
from workflows.inputs import CaseIn, case_input, parse, parse_number
from workflows.models import Archive, Campaign, Case, Member
from workflows.rules import DRAFTERS, require_role
from workflows.rules.banks import icbc_warning
from workflows.rules.fields import FIELD_LABELS, missing_documents, missing_fields
from workflows.rules.recognition import CONDITIONAL_DOCUMENTS
from workflows.states import State
from workflows.texts import Joined
from workflows.verbs import households
from workflows.verbs.cases import case_columns, merge
from workflows.vocab import REQUIRED_DOCUMENTS, DocumentKind

from ..current import actor, clock
from ..db import db, reads
from ..i18n import localise
from ..requests import seen_version
from ..respond import error_text, perform
from . import bp
from .drafts import DraftExists, draft_exists
from .forms import (
    MAX_ROWS,
    CaseForm,
    HouseholdFields,
    case_data,
    choices,
    drop_empty_rows,
    field_of,
    filled_rows,
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
            flash(error_text(error), "error")
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
        flash(_("帮扶金额：%(warning)s", warning=localise(warning)), "warning")
    if warning := icbc_warning(saved.bank_account):  # saved all the same: the BIN table may lack a new card
        flash(_("工商银行账号：%(warning)s", warning=localise(warning)), "warning")
    return redirect(url_for("cases.show", case_id=saved.id))


def refusal_page(form, error: DomainError, page: Callable[..., Any]):
    """The form again after a refusal: Invalid's messages beside their inputs (400); an ID number already in
    another household's archive beside the input that holds it (409); anything else (a stale version, a closed
    campaign, a record no longer editable) at the top (409)."""
    if isinstance(error, DraftExists):  # Back, then Save again: the draft saved before opens
        return draft_exists(error)
    if isinstance(error, Invalid):
        return page(errors=input_errors(error.fields), status=400)
    placed = held_elsewhere(form, error)
    rest = Joined(reason.message for reason in getattr(error, "reasons", []) if reason.message not in
                  placed.values()) if placed else error.message
    return page(errors=placed, problem=rest or None, stale=error.code == "stale", status=409)


def _page(form: CaseForm, case: Case | None, *, errors: dict[str, str] | None = None, problem: str | None = None,
          stale: bool = False, status: int = 200, campaigns: list[Campaign] | None = None):
    errors = errors or {}
    needs = document_needs(form, case, case.campaign if case else chosen_campaign(form, campaigns or []))
    return render_template("cases/form.html", form=form, case=case, campaigns=campaigns, errors=errors,
                           summary=labelled_errors(form, errors), problem=problem, stale=stale,
                           kept=kept_numbers(form, case), prototype=member_prototype(), needed=set(FIELD_LABELS),
                           needs=needs, marks={item["name"]: item["message"] for item in needs["fields"] if item["name"]},
                           amount=amount_notes(case)), status


def amount_notes(case: Case | None) -> dict[str, Any]:
    """Beside the amount of a saved draft: the campaign's tariff for the household, and what is wrong with the
    amount as saved (over a cap, or not the tariff without a reason): the rule `document` refuses with."""
    if case is None:
        return {"tariff": None, "warnings": []}
    warnings = rules.tariffs.amount_reasons(db(), case) if case.state == State.drafted else []
    return {"tariff": rules.tariffs.tariff_for(db(), case), "warnings": [reason.message for reason in warnings]}


def document_needs(form: CaseForm, case: Case | None, campaign: Campaign | None) -> dict[str, Any]:
    """What the form says `document` will need: every case's papers, those some households need and when, and what
    the draft as typed still lacks (typed_needs)."""
    return {**typed_needs(form, case, campaign), "papers": [kind.label for kind in REQUIRED_DOCUMENTS],
            "conditional": [([kind.label for kind in kinds], when) for kinds, _applies, when in CONDITIONAL_DOCUMENTS]}


# ---------------------------------------------------------------- what `document` will need, as typed

def chosen_campaign(form: CaseForm, campaigns: list[Campaign]) -> Campaign | None:
    wanted = parse_number(form.campaign.data)
    return next((c for c in campaigns if c.id == wanted), None)


@bp.route("/new/check", methods=["POST"])
@login_required
@reads
def check_new():
    """The needs of a new draft as typed (case-form.js asks as the cadre types): nothing is saved."""
    require_role(actor(), DRAFTERS, "新建案件")
    form = CaseForm()
    return _answer(typed_needs(form, None, chosen_campaign(form, open_campaigns())), None)


@bp.route("/<int:case_id>/check", methods=["POST"])
@login_required
@reads
def check(case_id: int):
    """The needs of a draft as typed over what it holds: nothing is saved."""
    me = actor()
    case = verbs.get_case(db(), me, case_id)
    require_role(me, DRAFTERS, "修改案件")
    if reasons := rules.draft_reasons(case, clock().now()):
        return jsonify(error=localise(Joined(reason.message for reason in reasons))), 409
    return _answer(typed_needs(CaseForm(), case, case.campaign), case)


def _answer(needs: dict[str, Any], case: Case | None):
    """The needs as data, and as the page shows them (the one template renders both)."""
    return jsonify({**needs, "html": str(get_template_attribute("cases/_fields.html", "needs_live")(needs, case))})


def typed_needs(form: CaseForm, case: Case | None, campaign: Campaign | None) -> dict[str, Any]:
    """What `document` would still need if the form were saved as it is: the same rules (rules.document_needs)
    asked of the draft as typed (typed_draft). `fields`: each input still empty or wrong, with its label and the
    id the list links to; `documents`: the papers not uploaded yet; `others`: the rules' other reasons, in their
    own words; `warnings` by input name (an account that does not look like ICBC's)."""
    if campaign is None:  # a new draft whose campaign is not chosen: its rules cannot be asked yet
        return {"ready": False, "fields": [_input(form, "campaign", _("请选择活动"))], "documents": [], "others": [],
                "warnings": {}}
    session = db()
    with session.no_autoflush:  # the draft is in no session, and no look-up may write what is pending
        draft, problems = typed_draft(form, case, campaign)
        reasons = rules.document_needs(session, draft, clock().now())
        missing = [(_missing_input(label, filled_rows(form)), _("未填写")) for label in missing_fields(draft)]
        documents = [_(DocumentKind(kind).label) for kind in missing_documents(draft)]
    fields = [_input(form, key, localise(message)) for key, message in problems.items()]
    fields += [_input(form, key, message) if key else {"name": None, "id": None, "label": localise(label),
                                                      "message": message} for (key, label), message in missing]
    # The missing fields and wrong values are the inputs listed above; the papers are listed apart.
    others = [localise(reason.message) for reason in reasons if reason.rule not in ("fields", "documents")]
    warning = icbc_warning(draft.bank_account)
    return {"ready": not (fields or documents or others), "fields": fields, "documents": documents,
            "others": others, "warnings": {form.bank_account.name: localise(warning)} if warning else {}}


def _input(form: CaseForm, key: str, message: str) -> dict[str, Any]:
    """An input of the form by its input key ("household.members.0.id_number" counting the rows as shown)."""
    field = _field(form, key)
    if field is None:
        return {"name": None, "id": None, "label": message, "message": ""}
    label = field.label.text
    if key.startswith("household.members."):
        label = _("家庭成员%(n)s：%(what)s", n=int(key.split(".")[2]) + 1, what=label)
    return {"name": field.name, "id": field.id, "label": str(label), "message": str(message)}


def _field(form: CaseForm, key: str):
    parts = field_of(key).split(".")
    if parts[:2] == ["household", "members"] and len(parts) == 4 and parts[2].isdigit():
        rows = form.household.members.entries  # by position: the rows' names keep the numbers they were sent with
        index = int(parts[2])
        return rows[index][parts[3]] if index < len(rows) and parts[3] in rows[index]._fields else None
    field: Any = form
    for part in parts:
        try:
            field = field[part]
        except (KeyError, TypeError):
            return None
    return field if hasattr(field, "label") else None


def _missing_input(label: str, rows: list[int]) -> tuple[str | None, str]:
    """The input key of a label missing_fields gives: its key in FIELD_LABELS, or a member's ID number (the
    label's number counts the members, 1 for the first)."""
    for key, known in FIELD_LABELS.items():
        if str(known) == str(label):
            return key, label
    number = getattr(label, "params", {}).get("number")
    return (_row_key(f"household.members.{number - 1}.id_number", rows) if isinstance(number, int) else None), label


def typed_draft(form: CaseForm, case: Case | None, campaign: Campaign) -> tuple[Case, dict[str, str]]:
    """The draft as the form holds it, unsaved: the saved case (if any) with what is typed laid over it as
    edit_case lays it; for a new one, in the archive create_case would take. A transient Case in no session (its
    relations set as loaded, so that nothing pulls it into one): the rules read it as they read a saved one, and
    nothing is written. Returns it, and the problems of the typed values by input key: those the schema refuses
    (left out of the draft) and those rules.field_problems finds."""
    session, now = db(), clock().now()
    data = case_data(form, case)
    rows = filled_rows(form)  # the form is shown again as it is: its empty rows are left out here only
    data["household"]["members"] = [data["household"]["members"][i] for i in rows]
    if case is not None:
        data = merge(case_input(case).model_dump(mode="json", warnings=False), data)
    parsed, problems = _lenient(data)
    problems.update(rules.field_problems(parsed, local_date(now)))
    problems = {_row_key(key, rows): message for key, message in problems.items()}
    draft = Case(state=State.drafted, **case_columns(parsed))
    draft.members = households.members(parsed, Member)
    if not (data.get("applicant") or {}).get("name"):
        draft.applicant_name = ""  # the schema's placeholder: missing_fields names the empty name
        problems.pop("applicant.name", None)
    set_committed_value(draft, "campaign", campaign)
    draft.campaign_id = campaign.id
    if case is not None:
        draft.id, draft.union_id, draft.archive_id = case.id, case.union_id, case.archive_id
        set_committed_value(draft, "archive", case.archive)
        set_committed_value(draft, "documents", list(case.documents))
    else:
        archive = _archive_of(parsed)
        draft.union_id, draft.archive_id = actor().union_id, archive.id
        set_committed_value(draft, "archive", archive)
        set_committed_value(draft, "documents", [])
        if (tariff := rules.tariffs.default_amount(session, draft)) is not None:  # as create_case does
            draft.aid_amount = tariff
    return draft, problems


def _row_key(key: str, rows: list[int]) -> str:
    """An input key counting the members (household.members.N) as one counting the form's rows."""
    parts = key.split(".")
    if parts[:2] == ["household", "members"] and len(parts) > 2 and parts[2].isdigit() and int(parts[2]) < len(rows):
        parts[2] = str(rows[int(parts[2])])
    return ".".join(parts)


def _archive_of(parsed: CaseIn) -> Archive:
    """The archive create_case would put a new draft in: the own union's live archive holding the applicant's
    number, or (a new household, or one another union holds: saving says so) a new one, here unsaved."""
    number = households.columns(parsed)["id_number"]
    for _number, _union, archive_id in rules.archive_holders(db(), [number] if number else []):
        archive = db().get(Archive, archive_id)
        if archive is not None and archive.union_id == actor().union_id:
            return archive
    return Archive(id_number=number)


def _lenient(data: dict[str, Any]) -> tuple[CaseIn, dict[str, str]]:
    """The input as the schema reads it, each value it refuses left out (and its message kept): a draft as typed
    half-way is still a draft whose needs can be told."""
    problems: dict[str, str] = {}
    if not (data.get("applicant") or {}).get("name"):
        data = merge(data, {"applicant": {"name": "-"}})  # saving needs it; the needs list names it
    for _attempt in range(20):
        try:
            return parse(CaseIn, data), problems
        except Invalid as error:
            for key, message in error.fields.items():
                problems.setdefault(key, message)
                _drop(data, key.split("."))
    return CaseIn(applicant={"name": "-"}), problems  # nothing readable: the needs of an empty draft


def _drop(data: Any, path: list[str]) -> None:
    """Take the value at `path` out of the input: a list of codes empties, a member's name or relation (which a
    row must have) becomes a dash, anything else unset."""
    *head, leaf = path
    for part in head:
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return
    if isinstance(data, list):  # one code of a list of codes: the list goes
        data.clear()
    elif isinstance(data, dict) and leaf in data:
        data[leaf] = [] if isinstance(data[leaf], list) else "-" if leaf in ("name", "relation") else None
