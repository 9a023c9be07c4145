"""台账导入 on the screens: the template to download, and the upload with its dry run (检查（不导入）: every bad cell
by row and column) and the import itself (all rows or none). The rules are verbs.import_archives'; the workbook is
read by app.ledger, as for the API and the command line.

A refused upload keeps the page, with the reason on it: a file over the upload limit too, whether the verb says so
or the request itself is too large for the server (the 413 handler below, instead of the bare error page)."""

from __future__ import annotations

from io import BytesIO

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows import verbs
from workflows.errors import DomainError
from workflows.models import Union
from workflows.rules import require_role
from workflows.states import UNION_ROLES, Role
from workflows.verbs.imports import MAX_ROWS, LedgerInvalid
from workflows.vocab import UnionKind

from .. import ledger
from ..current import actor, clock, uploads
from ..db import db
from ..respond import error_text, http_error_page, perform, status_of
from . import bp

# Who imports on the screens: the union's people into their union, the district's reviewers into one they choose
# (the verb's IMPORTERS but the administrator, who has no archive screens).
SCREEN_IMPORTERS = (Role.cadre, Role.head, Role.reviewer)


@bp.app_template_global("may_import_ledger")
def may_import_ledger() -> bool:
    return current_user.is_authenticated and current_user.role in SCREEN_IMPORTERS


def _unions(me) -> list[tuple[str, str]]:
    if me.role in UNION_ROLES:
        return []
    return db().execute(select(Union.code, Union.name).where(Union.kind == UnionKind.grassroots)
                        .order_by(Union.code)).all()


def _page(*, status: int = 200, error: str | None = None, rows=None, total: int = 0, checked=None,
          union: str | None = None):
    me = actor()
    return render_template("archives/import.html", unions=_unions(me), own=me.union if me.role in UNION_ROLES else None,
                           union=union or "", error=error, rows=rows or [], total=total, checked=checked,
                           limit_mb=uploads().max_bytes // (1024 * 1024), max_rows=MAX_ROWS), status


@bp.get("/import")
@login_required
def import_page():
    require_role(actor(), SCREEN_IMPORTERS, "导入台账")
    return _page()


@bp.get("/import-template")
@login_required
def import_template():
    require_role(actor(), SCREEN_IMPORTERS, "导入台账")
    return send_file(BytesIO(ledger.template()), mimetype=ledger.XLSX, as_attachment=True,
                     download_name=ledger.FILENAME)


@bp.post("/import")
@login_required
def import_ledger():
    me = actor()
    require_role(me, SCREEN_IMPORTERS, "导入台账")
    dry_run = request.form.get("action") != "import"
    union = (request.form.get("union") or "").strip()[:32] or None
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(status=400, error=_("请选择台账文件（.xlsx）"), union=union)
    limit = uploads().max_bytes
    content = upload.stream.read(limit + 1)  # one byte over is enough to say it is too large

    def refused(error: DomainError):
        if isinstance(error, LedgerInvalid):
            return _page(status=400, error=error_text(error), rows=error.rows, total=error.total, union=union)
        return _page(status=status_of(error), error=error_text(error), union=union)

    result = perform(lambda: verbs.import_archives(db(), me, clock(), union, ledger.read(content, limit), dry_run),
                     refused)
    if dry_run:
        return _page(checked=result, union=union)
    flash(_("已从台账导入 %(households)s 户（%(people)s 人）的档案，状态为「在档」",
            households=result.households, people=result.people), "success")
    return redirect(url_for("archives.index", status="active"))


@bp.errorhandler(413)
def _too_large(error):
    """The request was larger than the server takes (the upload limit and the form around it): said on the import
    page, not a bare error page. Elsewhere, and to those who may not import, the error page."""
    if request.endpoint != "archives.import_ledger" or not may_import_ledger():
        return http_error_page(413)
    limit = uploads().max_bytes // (1024 * 1024)
    return _page(status=413, error=_("文件太大，不能超过%(mb)sMB", mb=limit))
