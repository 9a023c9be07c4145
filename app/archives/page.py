"""The archive page: the household (numbers masked), its members, the national form's fields, its status and why,
its applications by year, its timeline (its own events and its applications'), the diagram of its life cycle, and
what this person may do with it now: the moves of archive_states.MOVES (each with what its row asks for, or why it
is blocked), a reviewer's merge, a cadre's application in an open campaign.

Every action is a POST that calls one verb of workflows.verbs and commits once; a refusal shows the verb's reason
beside the control that was used, with what was typed kept.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from workflows import rules, verbs
from workflows.archive_states import ARCHIVE_FLOW, BY_TRIGGER, LIVE, ArchiveTrigger, Status
from workflows.errors import DomainError, Invalid, NotFound
from workflows.infra.clock import local_date
from workflows.inputs import parse_number
from workflows.models import Account, Union
from workflows.reads import archives
from workflows.reads import reviews as review_reads
from workflows.reads import standards as living_standards
from workflows.rules import reviews as review_rules
from workflows.states import Action
from workflows.texts import Joined
from workflows.vocab import ClosingReason, ReviewOutcome, UnionKind

from ..cases import diagram
from ..cases.edit import open_campaigns
from ..current import actor, clock
from ..db import db
from ..requests import seen_version
from ..respond import error_text, perform, status_of
from . import bp

# The reasons a person picks when closing an archive: a merge is written by the merge itself.
CLOSING_REASONS = [reason for reason in ClosingReason if reason != ClosingReason.merged]
# The timeline names the fields changed for these; a creation or a move lists what it set, which says little.
CHANGES_SHOWN = {Action.edit, Action.edit_archive, Action.update_archive, Action.merge_archive,
                 ArchiveTrigger.transfer}
# Where each part of the page shows its refusal.
MOVE, MERGE, APPLY = "move", "merge", "apply"
VISIT = "visit"


def _number(value: str | None) -> int | None:
    return parse_number((value or "").strip().lstrip("#"))  # an archive is written #12 on the screens


def _render(archive, *, status: int = 200, error: tuple[str, str, str] | None = None,
            typed: dict[str, str] | None = None):
    """The page; `error` is (part, key, message): the part of the page (a move's trigger, the merge form, an
    application's campaign) whose refusal to show beside it."""
    me = actor()
    allowed, blocked = rules.archives.available(db(), archive, me)
    timeline = archives.timeline(db(), archive)
    applications = archives.applications(db(), archive)
    visible = {case.id for case in archive.cases if case.visible_to(me)}
    people = {e.actor_id for e in timeline if e.actor_id is not None}
    names = dict(db().execute(select(Account.id, Account.display_name).where(Account.id.in_(people))).all())
    moves = [BY_TRIGGER[ArchiveTrigger(t)] for t in allowed]
    campaigns = open_campaigns() if me.role in rules.DRAFTERS else []
    may_merge = me.role in rules.MERGERS and archive.status in LIVE
    # The visit form where record_visit would take it: a cadre or head of its union, while it is not deregistered.
    may_visit = me.role in rules.VISITORS and not rules.recognition.visit_record_reasons(archive)
    if error and not ((error[0] == MOVE and error[1] in {*allowed, *blocked}) or (error[0] == MERGE and may_merge)
                      or (error[0] == VISIT and may_visit)
                      or (error[0] == APPLY and error[1] in {str(c.id) for c in campaigns})):
        error = ("top", "", error[2])  # a control the page does not offer (now): said above the others
    context: dict[str, Any] = {
        "archive": archive, "moves": moves,
        "blocked": [(BY_TRIGGER[ArchiveTrigger(t)], reason) for t, reason in blocked.items()],
        "reasons": CLOSING_REASONS,
        "unions": _receiving_unions(archive) if any(m.needs_union for m in moves) else [],
        "may_edit": me.role in rules.ARCHIVE_EDITORS and archive.status != Status.deregistered,
        "may_merge": may_merge,
        # Each open campaign: whether this household may apply in it now, and why not.
        "campaigns": [(c, Joined(r.message for r in rules.archives.application_reasons(archive, c)))
                      for c in campaigns],
        "years": [(year, list(rows)) for year, rows in groupby(applications, key=lambda a: a.year)],
        "visible": visible, "timeline": timeline, "names": names, "changes_shown": CHANGES_SHOWN,
        "diagram": diagram.svg(archive.status, ARCHIVE_FLOW),
        # The annual review: its form for the union's reviewers, and a proposal waiting beside the moves.
        "may_review": me.role in rules.REVIEWERS and not review_rules.review_reasons(archive),
        "proposal": review_reads.pending_of(db(), archive),
        "proposal_label": lambda code: ReviewOutcome(code).label,
        "error": error, "typed": typed or {},
        # Evidence and recognition: the home visits, newest first, and what the income says this year.
        "visits": list(reversed(archive.visits)), "may_visit": may_visit,
        "needs_visit": rules.recognition.needs_visit(archive), "today": local_date(clock().now()).isoformat(),
        "shown": living_standards.shown(rules.guards.archive_recognition(db(), archive, clock().now()), archive),
    }
    return render_template("archives/show.html", **context), status


def _receiving_unions(archive) -> list[tuple[str, str]]:
    """Where an archive may be transferred (not its own union): the grassroots unions, and the district's own,
    where the assistance center keeps it (listed first)."""
    return db().execute(select(Union.code, Union.name)
                        .where(Union.kind.in_((UnionKind.district, UnionKind.grassroots)), Union.id != archive.union_id)
                        .order_by(Union.kind != UnionKind.district, Union.code)).all()


def _refused(archive_id: int, part: str, key: str, typed: dict[str, str]):
    def page(refusal: DomainError):
        archive = verbs.get_archive(db(), actor(), archive_id)  # an archive the person may not see stays a 404
        return _render(archive, status=status_of(refusal), error=(part, key, error_text(refusal)), typed=typed)
    return page


@bp.get("/<int:archive_id>")
@login_required
def show(archive_id: int):
    return _render(verbs.get_archive(db(), actor(), archive_id))


@bp.post("/<int:archive_id>/act")
@login_required
def act(archive_id: int):
    """One move of the archive's table: the button pressed names it."""
    trigger = request.form.get("trigger", "")
    typed = {"comment": request.form.get("comment", ""), "reason": request.form.get("reason", ""),
             "union": request.form.get("union", "")}
    version = seen_version(request.form.get("version"))
    archive = perform(lambda: verbs.fire_archive(db(), actor(), clock(), archive_id, trigger, version,
                                                 comment=typed["comment"], reason=typed["reason"] or None,
                                                 union=typed["union"] or None),
                      _refused(archive_id, MOVE, trigger, typed), passing=(NotFound,))
    move = BY_TRIGGER[ArchiveTrigger(trigger)]
    if move.needs_union:
        flash(_("档案已转移到「%(union)s」；以往的申请仍由原工会保管，档案页上可以看到", union=archive.union.name),
              "success")
    else:
        flash(_("已完成：%(action)s。档案现为「%(status)s」", action=_(move.label),
                status=_(Status(archive.status).label)), "success")
    if not archive.visible_to(actor()):  # transferred away from the person's own union
        return redirect(url_for("archives.index"))
    return redirect(url_for("archives.show", archive_id=archive_id))


@bp.post("/<int:archive_id>/merge")
@login_required
def merge(archive_id: int):
    """A reviewer merges another archive of the same household into this one."""
    typed = {"other": request.form.get("other", ""), "merge_comment": request.form.get("comment", "")}
    version = seen_version(request.form.get("version"))

    def run():
        rules.require_role(actor(), rules.MERGERS, "合并档案")
        other = _number(typed["other"])
        if other is None:
            raise Invalid({"other": _("请填写要并入的档案编号（数字）")})
        try:
            verbs.get_archive(db(), actor(), other)
        except NotFound:  # the other one, said beside the form (this one not found stays a 404)
            raise Invalid({"other": _("找不到档案#%(id)s", id=other)}) from None
        return verbs.merge_archives(db(), actor(), clock(), archive_id, other, version,
                                    comment=typed["merge_comment"])

    perform(run, _refused(archive_id, MERGE, "", typed), passing=(NotFound,))
    flash(_("已把档案#%(other)s并入本档案：其申请和办理记录已转入，原档案已注销（合并）",
            other=_number(typed["other"])), "success")
    return redirect(url_for("archives.show", archive_id=archive_id))


@bp.post("/<int:archive_id>/visits")
@login_required
def record_visit(archive_id: int):
    """A cadre or head of the archive's union writes down a home visit (入户调查)."""
    typed = {name: request.form.get(name, "") for name in ("visited_on", "visitors", "findings")}
    perform(lambda: verbs.record_visit(db(), actor(), clock(), archive_id, typed["visited_on"], typed["visitors"],
                                       typed["findings"]),
            _refused(archive_id, VISIT, "", typed), passing=(NotFound,))
    flash(_("已登记入户调查"), "success")
    return redirect(url_for("archives.show", archive_id=archive_id) + "#visits")


@bp.post("/<int:archive_id>/apply")
@login_required
def apply(archive_id: int):
    """A cadre applies for this household in an open campaign: the draft starts from the archive's data, and the
    cadre goes on to check it and fill in the aid."""
    campaign = request.form.get("campaign", "")

    def run():
        rules.require_role(actor(), rules.DRAFTERS, "申请帮扶")
        campaign_id = _number(campaign)
        if campaign_id is None:
            raise Invalid({"campaign": _("请选择活动")})
        return verbs.apply_for(db(), actor(), clock(), campaign_id, [archive_id])

    [case] = perform(run, _refused(archive_id, APPLY, campaign, {}), passing=(NotFound,))
    flash(_("已起草「%(name)s」本活动的申请，资料取自档案：请核对，并填写帮扶方式和金额", name=case.applicant_name),
          "success")
    return redirect(url_for("cases.edit", case_id=case.id))
