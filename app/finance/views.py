"""Finance's batch page: the district-approved cases to pay, filtered by campaign and union, with totals; the
payment export of the ticked cases; and their payments recorded in one action. The rules are
in workflows.verbs.payments; on screen every account number shows its last 4 digits only."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from workflows import verbs
from workflows.errors import DomainError, Invalid
from workflows.infra.clock import LOCAL
from workflows.inputs import parse_number
from workflows.models import Campaign, Union
from workflows.money import yuan
from workflows.reads import payments
from workflows.reads.payments import PAID, PENDING, BatchFilters
from workflows.texts import N_, Verbatim
from workflows.verbs.payments import BatchRefused, Payment
from workflows.vocab import UnionKind

from ..current import actor, clock
from ..db import db
from ..requests import STALE
from ..respond import error_text, perform, status_of
from . import bp
from .export import payment_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_filters(values) -> BatchFilters:
    state = values.get("state", "")
    return BatchFilters(campaign=parse_number(values.get("campaign")),
                        union=(values.get("union") or "").strip()[:32] or None,
                        state=state if state in (PENDING, PAID) else PENDING)


def _filter_args(filters: BatchFilters) -> dict[str, Any]:
    args = {"campaign": filters.campaign, "union": filters.union,
            "state": filters.state if filters.state != PENDING else None}
    return {key: value for key, value in args.items() if value}


def _choices() -> dict[str, Any]:
    return {"unions": db().execute(select(Union.code, Union.name).where(Union.kind == UnionKind.grassroots)
                                   .order_by(Union.code)).all(),
            "campaigns": db().execute(select(Campaign.id, Campaign.name).order_by(Campaign.deadline.desc())).all()}


def _render(filters: BatchFilters, *, status: int = 200, error: str | None = None, error_case: int | None = None,
            selected: set[int] | None = None, refs: dict[int, str] | None = None, reference: str = "",
            select_all: bool = False):
    result = payments.batch(db(), actor(), clock().now(), filters)
    return render_template(
        "finance/index.html", batch=result, filters=filters, choices=_choices(), args=_filter_args(filters),
        pending=PENDING, paid=PAID, max_rows=payments.MAX_ROWS, error=error, error_case=error_case,
        selected=selected or set(), refs=refs or {}, reference=reference, select_all=select_all), status


@bp.get("/")
@login_required
def index():
    return _render(read_filters(request.args), select_all=request.args.get("all") == "1")


def _posted_rows() -> tuple[list[int], dict[int, str], dict[int, int]]:
    """The ticked case ids, in page order; each row's typed reference and the version the page showed (a row
    whose version is missing or garbled counts as changed since: STALE, never "any version")."""
    selected = [i for i in map(parse_number, request.form.getlist("case")) if i is not None]
    refs, versions = {}, {}
    for key, value in request.form.items():
        name, _sep, raw_id = key.partition("-")
        case_id = parse_number(raw_id)
        if case_id is None:
            continue
        if name == "ref" and value.strip():
            refs[case_id] = value.strip()
        elif name == "version" and (version := parse_number(value)) is not None:
            versions[case_id] = version
    return selected, refs, {case_id: versions.get(case_id, STALE) for case_id in selected}


@bp.post("/batch")
@login_required
def act():
    """The batch form's two buttons: export the ticked cases for the bank, or record their payments."""
    me = actor()
    filters = read_filters(request.form)
    selected, refs, versions = _posted_rows()
    reference = request.form.get("reference", "").strip()
    action = request.form.get("action", "")

    def refused(error: DomainError):
        return _render(filters, status=status_of(error), error=error_text(error),
                       error_case=error.case_id if isinstance(error, BatchRefused) else None,
                       selected=set(selected), refs=refs, reference=reference)

    def pay():
        if action != "disburse":
            raise Invalid({"action": N_("没有这个操作")})
        if forgotten := sorted(set(refs) - set(selected)):
            raise Invalid({"cases": N_("有案件填写了付款凭证号但没有勾选，请勾选或清空其凭证号（案件编号：%(cases)s）",
                                       cases=[Verbatim(n) for n in forgotten])})
        return verbs.disburse_batch(db(), me, clock(), [Payment(i, versions[i], refs.get(i)) for i in selected],
                                    reference)
    if action in ("select_all", "select_none"):
        # Only the ticks change: the references typed, the batch's included, come back as they were.
        return _render(filters, refs=refs, reference=reference, select_all=action == "select_all")
    if action == "export":
        return perform(lambda: _export(selected), refused)
    paid = perform(pay, refused)
    total = yuan(sum(case.aid_amount or 0 for case in paid))
    flash(_("已记录 %(n)s 件发放，合计 %(total)s 元", n=len(paid), total=total), "success")
    return redirect(url_for("finance.index", **_filter_args(filters)))


def _export(selected: list[int]) -> Response:
    """The .xlsx for the bank; the export is audited in the same transaction (committed by `perform` before the
    file is sent)."""
    me, now = actor(), clock().now()
    cases = verbs.payment_export(db(), me, clock(), selected)
    content = payment_workbook(cases, me.name, now)
    stamp = now.astimezone(LOCAL).strftime("%Y%m%d-%H%M")
    return Response(content, mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename=payment-batch-{stamp}.xlsx"})
