"""The case page: its fields (numbers masked, revealed on request), documents, the actions this person may take
now and why the others are blocked, objections, the timeline of its audit events, and the process diagram.

Every action is a POST that calls one verb of workflows.verbs and commits once; a refusal shows the verb's
reason on the page again, beside the form that was used (each form posts to its own #fragment, so the page opens
there), with what was typed kept; a refusal for a stale page says what changed meanwhile, from the trail. A page
answering a POST (a refusal, a reveal) replaces its address with the case page's (its template's own_address,
static/page.js), so that a reload reads the case again rather than posting again. A success message is flashed and
shown where the page opens (the form's #fragment, static/page.js).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from workflows import rules, verbs
from workflows.errors import Conflict, DomainError, Invalid, NotFound
from workflows.inputs import parse_number
from workflows.models import Account, AuditEvent
from workflows.reads import standards as living_standards
from workflows.rules.drafts import deletion_told
from workflows.rules.payments import correction_reasons
from workflows.states import (BY_TRIGGER, CLAIM_STATES, FINAL, MAIN_PATH, NEEDS_PAYMENT, UNION_ROLES, Action, State,
                              label_of_action)
from workflows.texts import N_
from workflows.verbs import goods
from workflows.verbs.documents import read_label
from workflows.vocab import AidKind, ObjectionStatus

from ..current import actor, clock, uploads
from ..db import db
from ..requests import safe_next, seen_version
from ..respond import error_page, error_text, perform, status_of
from ..templating import localtime
from . import bp, diagram, documents

# Before its public notice a case may still wait for its household's first home visit (入户调查).
BEFORE_NOTICE = MAIN_PATH[:MAIN_PATH.index(State.publicized)]


# Events that look at a case without changing it: not what made a page stale.
LOOKS = (Action.reveal, Action.download_document)


def _timeline(case_id: int, after: int | None = None) -> list[dict[str, Any]]:
    """The case's events (when `after` is given: its changes after that sequence of the trail)."""
    query = select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    if after is not None:
        query = query.where(AuditEvent.seq > after, AuditEvent.action.not_in(LOOKS))
    return [{"event": e, "label": label_of_action(e.action), "document": _document(e)}
            for e in db().scalars(query)]


def _document(event: AuditEvent) -> tuple[str, str] | None:
    """The kind and file name of the document an event added or removed (the trail keeps the file name as it was
    stored; the page masks the numbers in it)."""
    change = (event.changes or {}).get("document")
    text = next((value for value in reversed(change) if value), None) if isinstance(change, list) else None
    return read_label(text) if isinstance(text, str) else None


def _render(case, *, status: int = 200, revealed: dict[str, str] | None = None, place: str = "",
            error: str | None = None, typed: dict[str, str] | None = None, changed: list[dict[str, Any]] | None = None,
            invalid: frozenset[str] = frozenset()):
    """The case page. `place` is the id of the form a POST came from (the fragment its action names): the refusal
    `error` is shown there, and the page opens there, the inputs it names (`invalid`: the reasons' rules, which
    are the inputs' names) marked; `changed` is what happened to the case since a stale page of it was shown."""
    me, now = actor(), clock().now()
    allowed, blocked = rules.available(db(), case, me, now)
    timeline = _timeline(case.id)
    acting = {item["event"].actor_id for item in timeline}
    people = db().execute(select(Account.id, Account.display_name, Account.username)
                          .where(Account.id.in_(_people(case) | acting))).all()
    names = {p.id: p.display_name or p.username for p in people}
    # The forms offered are those whose verb would take them (the same rules decide both).
    drafting = me.role in rules.DRAFTERS and not rules.draft_reasons(case, now)
    context = {
        "case": case, "allowed": [BY_TRIGGER[t] for t in allowed],
        "blocked": [(BY_TRIGGER[t], reason) for t, reason in blocked.items()],
        "revealed": revealed or {}, "may_reveal": rules.may_reveal(me, case), "place": place, "error": error,
        "typed": typed or {}, "changed": changed or [], "timeline": timeline, "invalid": invalid,
        # The last event this page shows: a stale form says what came after it.
        "seen": timeline[-1]["event"].seq if timeline else 0,
        "diagram": diagram.svg(case.state), "checklist": documents.checklist(case), "names": names,
        "may_edit": drafting, "may_edit_documents": drafting,
        "may_object": me.role in rules.OBJECTORS and not rules.objection_reasons(case, now),
        "may_resolve": me.role in rules.RESOLVERS and not rules.objection_reasons(case, now, "处理异议"),
        # A head's objection task (states.TASKS) is done below the actions: say so where the actions are.
        "objection_task": any(task.action for task in rules.due_tasks(case, me, now)),
        # Only where the role has work on it: a reviewer's claim on a district-approved case would be refused.
        "claims": CLAIM_STATES.get(me.role) == case.state,
        "needs_payment": NEEDS_PAYMENT, "open": ObjectionStatus.open.value, "final": FINAL,
        # The household's archive, linked for those whose archive screens would open it.
        "may_open_archive": me.role in rules.ARCHIVE_READERS and case.archive.visible_to(me),
        # Recognition: the income against the standard of the campaign's year; the visit its notice waits for.
        "shown": living_standards.shown(rules.guards.case_recognition(db(), case), case),
        "needs_visit": case.state in BEFORE_NOTICE and rules.recognition.needs_visit(case.archive),
        # The amount of a draft as `document` will judge it (caps, tariff), beside the amount.
        "amount_warnings": [r.message for r in rules.tariffs.amount_reasons(db(), case)]
        if case.state == State.drafted else [],
        # Goods: the real-name receipt, and its form for the union's people once the district has approved.
        "receipt": goods.receipt_of(db(), case) if case.aid_kind == AidKind.goods else None,
    }
    # A returned payment (退票): its account corrected on this page by those who may (rules.payments).
    context["may_correct_account"] = not correction_reasons(case, me)
    context["may_record_receipt"] = (me.role in UNION_ROLES and context["receipt"] is None
                                     and not goods.receipt_reasons(case))
    if error and place not in _places(case, context):
        context["place"] = "actions"  # its form is no longer offered (the case moved on): said with the actions
    return render_template("cases/show.html", **context), status


def _places(case, context: dict[str, Any]) -> set[str]:
    """The forms the page shows (the ids their refusals are said at)."""
    places = {"actions", "claim", "documents", *(f"objection-{o.id}" for o in case.objections)}
    if context["may_object"]:
        places.add("new-objection")
    if context["receipt"] or context["may_record_receipt"]:
        places.add("receipt")
    if case.state == State.payment_returned and context["may_correct_account"]:
        places.add("correct-account")
    return places


def _people(case) -> set[int]:
    ids = {case.created_by_id, case.documented_by_id, case.approved_by_id, case.claimed_by_id}
    for objection in case.objections:
        ids |= {objection.recorded_by_id, objection.resolved_by_id}
    return {i for i in ids if i is not None}


def _refused(case_id: int, place: str, typed: dict[str, str] | None = None):
    """After a refusal (rolled back by perform): the case page again, the message at `place` (the form's id, the
    fragment its action names) and what was typed kept. A stale page (Conflict: someone changed the case after the
    page was shown) says what changed, by whom and when, and shows the case as it is now."""
    def page(refusal: DomainError):
        case = verbs.get_case(db(), actor(), case_id)  # a case the person may not see stays a 404
        changed = None
        message = error_text(refusal)
        if isinstance(refusal, Conflict):
            seen = parse_number(request.form.get("seen"))
            changed = [] if seen is None else _timeline(case_id, after=seen)
            message = _("该案件在您打开此页之后已有变动，下面是它现在的状态和现在可办理的事项；"
                        "您填写的内容仍在，请核对后再办理。")
        invalid = frozenset(reason.rule for reason in getattr(refusal, "reasons", ()))
        return _render(case, status=status_of(refusal), place=place, error=message, typed=typed, changed=changed,
                       invalid=invalid)
    return page


def deleted_draft(case_id: int):
    """The page of a case that is no more because its drafter deleted it as a draft (Back after the deletion, an
    old link): 410, saying when and by whom, with the way to the case list; None for anything else, and for a
    person who could not have seen the draft (rules.drafts.deletion_told), whose 404 stays a 404."""
    event = deletion_told(db(), actor(), case_id)
    if event is None:
        return None
    drafter = db().get(Account, event.actor_id) if event.actor_id is not None else None
    who = (drafter.display_name or drafter.username) if drafter else event.actor
    return error_page(410, _("该草稿已于%(when)s由%(who)s删除", when=localtime(event.occurred_at), who=who),
                      back=(url_for("cases.index"), _("回到案件列表")))


@bp.get("/<int:case_id>")
@login_required
def show(case_id: int):
    return _render(verbs.get_case(db(), actor(), case_id))


@bp.post("/<int:case_id>/act")
@login_required
def act(case_id: int):
    """Fire one trigger of the transition table: the button pressed names it."""
    trigger = request.form.get("trigger", "")
    typed = {"comment": request.form.get("comment", ""), "payment_reference": request.form.get("payment_reference", "")}
    version = seen_version(request.form.get("version"))
    case = perform(lambda: verbs.fire(db(), actor(), clock(), case_id, trigger, version, comment=typed["comment"],
                                      payment_reference=typed["payment_reference"] or None),
                   _refused(case_id, "actions", typed), passing=(NotFound,))
    flash(_("已完成：%(action)s。案件现为「%(state)s」", action=_(BY_TRIGGER[trigger].label),
            state=_(State(case.state).label)), "success")
    if not rules.can_see(actor(), case):  # a district return hands the case back to its union
        return redirect(url_for("inbox.index"))
    return redirect(url_for("cases.show", case_id=case_id))


@bp.post("/<int:case_id>/reveal")
@login_required
def reveal(case_id: int):
    """Show one full number, once, on this page; the reveal is audited."""
    field = request.form.get("field", "")
    value = perform(lambda: verbs.reveal(db(), actor(), clock(), case_id, field))
    return _render(verbs.get_case(db(), actor(), case_id), revealed={field: value}, place=field.replace("_", "-"))


@bp.post("/<int:case_id>/objections")
@login_required
def record_objection(case_id: int):
    statement = request.form.get("statement", "")
    perform(lambda: verbs.record_objection(db(), actor(), clock(), case_id, statement),
            _refused(case_id, "new-objection", {"statement": statement}), passing=(NotFound,))
    flash(_("异议已登记，须由负责人处理后才能录入"), "success")
    return redirect(url_for("cases.show", case_id=case_id) + "#objections")


@bp.post("/<int:case_id>/objections/<int:objection_id>")
@login_required
def resolve_objection(case_id: int, objection_id: int):
    comment = request.form.get("resolution", "")
    def resolve():
        objection = verbs.resolve_objection(db(), actor(), clock(), objection_id, request.form.get("outcome", ""),
                                            comment)
        if objection.case_id != case_id:
            raise Invalid({"objection": N_("异议不属于该案件")})
    perform(resolve, _refused(case_id, f"objection-{objection_id}", {"resolution": comment}), passing=(NotFound,))
    if request.form.get("outcome") == ObjectionStatus.upheld:
        flash(_("异议成立：请退回修改或撤回该案件"), "warning")
    else:
        flash(_("异议不成立，案件可继续办理"), "success")
    return redirect(url_for("cases.show", case_id=case_id) + "#objections")


@bp.post("/<int:case_id>/receipt")
@login_required
def record_receipt(case_id: int):
    """实名签收 of a goods case: who handed over, who received, when, and the signed scan."""
    typed = {name: request.form.get(name, "") for name in ("handed_by", "received_by", "received_on")}
    scan = request.files.get("file")
    content = scan.stream.read(uploads().max_bytes + 1) if scan else b""
    perform(lambda: verbs.record_receipt(db(), actor(), clock(), uploads(), case_id, typed["handed_by"],
                                         typed["received_by"], typed["received_on"],
                                         (scan.filename or "") if scan else "", content),
            _refused(case_id, "receipt", typed), passing=(NotFound,))
    flash(_("已登记实物签收"), "success")
    return redirect(url_for("cases.show", case_id=case_id) + "#receipt")


@bp.post("/<int:case_id>/account")
@login_required
def correct_account(case_id: int):
    """更正银行账号 of a returned payment; finance, someone else, then reissues it."""
    typed = {"bank_account": request.form.get("bank_account", "")}
    version = seen_version(request.form.get("version"))
    perform(lambda: verbs.correct_account(db(), actor(), clock(), case_id, version, typed["bank_account"]),
            _refused(case_id, "correct-account", typed), passing=(NotFound,))
    flash(_("已更正银行账号，须由另一位财务人员确认后重新发放"), "success")
    return redirect(url_for("cases.show", case_id=case_id) + "#returned")


@bp.post("/<int:case_id>/claim")
@login_required
def claim(case_id: int):
    perform(lambda: verbs.claim(db(), actor(), clock(), case_id), _refused(case_id, "claim"))
    flash(_("已认领，其他人不会同时办理该案件"), "success")
    return redirect(safe_next(request.form.get("next"), url_for("cases.show", case_id=case_id)))


@bp.post("/<int:case_id>/release")
@login_required
def release(case_id: int):
    perform(lambda: verbs.release(db(), actor(), clock(), case_id), _refused(case_id, "claim"))
    flash(_("已放弃认领"), "success")
    return redirect(safe_next(request.form.get("next"), url_for("cases.show", case_id=case_id)))
