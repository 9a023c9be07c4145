"""The annual review screens (年度复核): a union's worklist and the review form of one archive (its cadres and
heads); the district's spot check (抽查: reviewers draw it and record what they find, auditors read it); the
progress report of every union (reviewers and auditors); and the inbox's tiles.

Each form is a POST that calls one verb and commits once; a refusal shows beside the control that was used, with
what was typed kept.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from workflows import rules, verbs
from workflows.errors import DomainError, Invalid
from workflows.infra.clock import LOCAL, to_db
from workflows.inputs import parse_number, parse_year
from workflows.reads import reviews as reads
from workflows.rules import reviews as review_rules
from workflows.rules.recognition import recognise
from workflows.vocab import ReviewOutcome, SpotCheckOutcome

from ..current import actor, clock
from ..db import db
from ..listing import page_number
from ..requests import seen_version
from ..respond import error_text, perform, status_of
from . import bp

# The rates a spot check may be drawn at, in whole percent (rules.reviews: 30% to 100%).
RATES = list(range(30, 101, 5))


def _year(value: str | None) -> int:
    """A year asked for in the address or a form; this year (local) when missing or garbled."""
    return parse_year(value) or clock().now().astimezone(LOCAL).year


# ---------------------------------------------------------------- the union's worklist and the review form

@bp.get("/reviews")
@login_required
def reviews():
    me = actor()
    rules.require_role(me, rules.REVIEWERS, "年度复核")
    listed = reads.worklist(db(), me, clock().now(), page=page_number(request.args))
    return render_template("archives/reviews.html", listed=listed, outcomes=_outcome_labels(),
                           handles=review_rules.handles_proposals(me.role))


def _outcome_labels() -> dict[str, str]:
    return {o.value: o.label for o in ReviewOutcome}


@bp.route("/<int:archive_id>/review", methods=["GET", "POST"])
@login_required
def review(archive_id: int):
    me = actor()
    rules.require_role(me, rules.REVIEWERS, "年度复核")
    if request.method == "GET":
        return _review_page(verbs.get_archive(db(), me, archive_id))
    typed = {name: request.form.get(name, "") for name in ("outcome", "comment", "reason")}
    version = seen_version(request.form.get("version"))

    def refused(error: DomainError):
        archive = verbs.get_archive(db(), me, archive_id)
        if isinstance(error, Invalid):
            return _review_page(archive, status=400, errors=error.fields, typed=typed)
        return _review_page(archive, status=status_of(error), problem=error_text(error), typed=typed,
                            stale=error.code == "stale")

    made = perform(lambda: verbs.review_archive(db(), me, clock(), archive_id, version, typed["outcome"],
                                                comment=typed["comment"], reason=typed["reason"] or None),
                   refused)
    flash(_("已完成年度复核：%(outcome)s", outcome=_(ReviewOutcome(made.outcome).label)), "success")
    return redirect(url_for("archives.reviews"))


def _review_page(archive, *, status: int = 200, errors: dict[str, str] | None = None, problem: str | None = None,
                 typed: dict[str, str] | None = None, stale: bool = False):
    now = clock().now()
    last = reads.last_review(db(), archive)
    context: dict[str, Any] = {
        "archive": archive, "refusals": review_rules.review_reasons(archive), "last": last,
        "counted_from": reads.counted_from(archive), "since": review_rules.review_start(archive),
        "due": review_rules.due(archive, now),
        "recognition": recognise(db(), archive, now.astimezone(LOCAL).year, archive),
        "above_since": to_db(above) if (above := reads.exit_proposed_since(db(), archive, now)) else None,
        "pending": last if last and review_rules.pending_proposal(archive.status, last.outcome) else None,
        "outcomes": list(ReviewOutcome), "outcome_label": lambda code: ReviewOutcome(code).label,
        "reasons": review_rules.PROPOSED_REASONS,
        "errors": errors or {}, "problem": problem, "typed": typed or {}, "stale": stale,
    }
    return render_template("archives/review.html", **context), status


# ---------------------------------------------------------------- the district's spot check

@bp.get("/spot-checks")
@login_required
def spot_checks():
    rules.require_role(actor(), review_rules.SPOT_CHECK_READERS, "查看抽查")
    return _spot_page(_year(request.args.get("year")))


def _spot_page(year: int, *, status: int = 200, draw_errors: dict[str, str] | None = None,
               problem: str | None = None, typed: dict[str, str] | None = None,
               item_error: tuple[int, str] | None = None):
    listed = reads.spot_check(db(), year)
    years = sorted({year, _year(None), *reads.spot_check_years(db())}, reverse=True)
    return render_template("archives/spot_checks.html", year=year, years=years, listed=listed,
                           may_check=actor().role in review_rules.SPOT_CHECKERS, rates=RATES,
                           outcomes=list(SpotCheckOutcome), outcome_labels={o.value: o.label for o in SpotCheckOutcome},
                           draw_errors=draw_errors or {}, problem=problem,
                           typed=typed or {}, item_error=item_error), status


@bp.post("/spot-checks")
@login_required
def draw():
    """A reviewer draws the year's spot check."""
    rules.require_role(actor(), review_rules.SPOT_CHECKERS, "抽取抽查档案")
    typed = {name: request.form.get(name, "") for name in ("year", "rate", "seed")}
    year = _year(typed["year"])
    percent = parse_number(typed["rate"], digits=3)  # the picker's whole percent; anything else, the verb judges
    rate = Decimal(percent) / 100 if percent is not None else typed["rate"].strip()

    def refused(error: DomainError):
        if isinstance(error, Invalid):
            return _spot_page(year, status=400, draw_errors=error.fields, typed=typed)
        return _spot_page(year, status=status_of(error), problem=error_text(error), typed=typed)

    check = perform(lambda: verbs.draw_spot_check(db(), actor(), clock(), typed["year"].strip(), rate,
                                                  typed["seed"] or None), refused)
    flash(_("已抽取%(year)s年度抽查名单，共 %(n)s 户；随机种子 %(seed)s 已记录", year=check.year,
            n=len(check.items), seed=check.seed), "success")
    return redirect(url_for("archives.spot_checks", year=check.year))


@bp.post("/spot-checks/items/<int:item_id>")
@login_required
def check_item(item_id: int):
    """A reviewer records what checking one drawn archive found."""
    rules.require_role(actor(), review_rules.SPOT_CHECKERS, "登记抽查结果")
    typed = {"outcome": request.form.get("outcome", ""), "comment": request.form.get("comment", "")}
    year = _year(request.form.get("year"))

    def refused(error: DomainError):
        return _spot_page(year, status=status_of(error), item_error=(item_id, error_text(error)), typed=typed)

    item = perform(lambda: verbs.check_spot_item(db(), actor(), clock(), item_id, typed["outcome"],
                                                 typed["comment"]), refused)
    flash(_("已登记抽查结果：%(outcome)s", outcome=_(SpotCheckOutcome(item.outcome).label)), "success")
    return redirect(url_for("archives.spot_checks", year=year, _anchor=f"item-{item_id}"))


# ---------------------------------------------------------------- the progress report

@bp.get("/reviews/progress")
@login_required
def review_progress():
    rules.require_role(actor(), review_rules.PROGRESS_READERS, "查看年度复核进度")
    year = _year(request.args.get("year"))
    rows = reads.progress(db(), clock().now(), year)
    years = sorted({year, _year(None), *reads.spot_check_years(db())}, reverse=True)
    return render_template("archives/review_progress.html", rows=rows, year=year, years=years)


# ---------------------------------------------------------------- the links to these screens, and the inbox

@bp.app_template_global("review_links")
def review_links() -> list[tuple[str, Any]]:
    """The review screens the signed-in person may open (the archive list links to them)."""
    role = actor().role
    links = []
    if role in rules.REVIEWERS:
        links.append(("archives.reviews", _l("年度复核")))
    if role in review_rules.SPOT_CHECK_READERS:
        links.append(("archives.spot_checks", _l("档案抽查")))
    if role in review_rules.PROGRESS_READERS:
        links.append(("archives.review_progress", _l("年度复核进度")))
    return links


def review_tiles(me) -> dict[str, Any] | None:
    """For the inbox of a union's cadre or head: how many archives are due for their annual review and, for those
    who carry proposals out (the head), how many proposals wait (None for the other roles)."""
    if me.role not in rules.REVIEWERS:
        return None
    counts = reads.counts(db(), me, clock().now())
    return {"due": counts.due, "proposals": counts.proposals if review_rules.handles_proposals(me.role) else None}
