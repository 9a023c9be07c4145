"""Finance's payment batches (批量代发): made from the cases to pay, their bank file (.xlsx or CSV, each download
audited), their payments recorded, the bank's result uploaded (its bad rows shown by row, nothing applied); and the
returned payments (退票) with their age. The rules are in workflows.verbs.payments and rules.payments."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from workflows import verbs
from workflows.errors import DomainError
from workflows.inputs import parse_number
from workflows.reads import payments
from workflows.verbs.payments import BANK_FORMATS, ResultInvalid

from ..current import actor, clock, uploads
from ..db import db
from ..respond import error_text, perform, status_of
from . import bankfile, bp


def _list(*, status: int = 200, error: str | None = None, selected: set[int] | None = None):
    me, now = actor(), clock().now()
    campaign = parse_number(request.values.get("campaign"))
    return render_template("finance/batches.html", batches=payments.batches(db(), me),
                           cases=payments.batchable(db(), me, now, campaign), error=error,
                           selected=selected or set()), status


@bp.get("/batches")
@login_required
def batches():
    return _list()


@bp.post("/batches")
@login_required
def create_batch():
    selected = [i for i in map(parse_number, request.form.getlist("case")) if i is not None]
    batch = perform(lambda: verbs.create_batch(db(), actor(), clock(), selected),
                    lambda error: _list(status=status_of(error), error=error_text(error), selected=set(selected)))
    flash(_("已新建发放批次 %(reference)s", reference=batch.reference), "success")
    return redirect(url_for("finance.batch", batch_id=batch.id))


def _page(batch_id: int, *, status: int = 200, error: str | None = None, rows=None):
    detail = payments.batch_detail(db(), actor(), batch_id)
    return render_template("finance/batch.html", detail=detail, batch=detail.summary.batch, error=error,
                           rows=rows or [], formats=BANK_FORMATS), status


@bp.get("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int):
    return _page(batch_id)


@bp.post("/batches/<int:batch_id>/bank-file")
@login_required
def bank_file(batch_id: int):
    """The bank's file, its download audited (committed by `perform` before the file is sent)."""
    fmt = request.form.get("format", "xlsx")
    found = perform(lambda: verbs.bank_file(db(), actor(), clock(), batch_id, fmt),
                    lambda error: _page(batch_id, status=status_of(error), error=error_text(error)))
    return Response(bankfile.write(found, fmt), mimetype=bankfile.MIMETYPES[fmt],
                    headers={"Content-Disposition": f"attachment; filename={bankfile.filename(found, fmt)}"})


@bp.post("/batches/<int:batch_id>/send")
@login_required
def send(batch_id: int):
    perform(lambda: verbs.send_batch(db(), actor(), clock(), batch_id),
            lambda error: _page(batch_id, status=status_of(error), error=error_text(error)))
    flash(_("已记录整批发放"), "success")
    return redirect(url_for("finance.batch", batch_id=batch_id))


@bp.post("/batches/<int:batch_id>/result")
@login_required
def bank_result(batch_id: int):
    upload = request.files.get("file")
    limit = uploads().max_bytes
    content = upload.stream.read(limit + 1) if upload else b""

    def refused(error: DomainError):
        rows = error.rows if isinstance(error, ResultInvalid) else []
        return _page(batch_id, status=status_of(error), error=error_text(error), rows=rows)

    perform(lambda: verbs.bank_result(db(), actor(), clock(), batch_id, bankfile.read_result(content, limit)),
            refused)
    flash(_("已导入银行回单"), "success")
    return redirect(url_for("finance.batch", batch_id=batch_id))


@bp.get("/returned")
@login_required
def returned():
    return render_template("finance/returned.html", items=payments.returned(db(), actor(), clock().now()))
