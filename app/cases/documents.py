"""The documents of a case: the checklist the case page shows, upload, removal and download.

Upload and removal go back to the case page: the cadre is working down the checklist there. A refused one (over
the quota, a wrong type, too large, no kind chosen, a case past drafting) shows the case page again with the
message beside the upload control, where the eye is. Only a case they may not see (404) or a role that may not do
this (403) gets an error page.
"""

from __future__ import annotations

import io
from typing import Any

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from workflows import rules, verbs
from workflows.infra.uploads import download_name
from workflows.models import Case
from workflows.vocab import DocumentKind

from ..current import actor, clock, uploads
from ..db import db, writes
from ..respond import error_text, perform, status_of
from . import bp

# What a browser may show itself.
INLINE = ("application/pdf", "image/jpeg", "image/png")
# A document's own page: nothing runs. Chrome's PDF viewer needs object-src and its own inline styles.
DOCUMENT_CSP = ("default-src 'none'; object-src 'self'; img-src 'self'; style-src 'unsafe-inline'; "
                "frame-ancestors 'self'; base-uri 'none'; form-action 'none'")


def checklist(case: Case) -> list[dict[str, Any]]:
    """Each required document of the case (by workflows.vocab), then any optional kind attached: its label,
    whether it is there, and its files."""
    required = rules.required_documents(case)
    attached: dict[str, list] = {}
    for document in case.documents:
        attached.setdefault(document.kind, []).append(document)
    kinds = list(required) + [kind for kind in DocumentKind if kind not in required and kind.value in attached]
    return [{"kind": kind.value, "label": kind.label, "required": kind in required,
             "present": bool(attached.get(kind.value)), "documents": attached.get(kind.value, [])}
            for kind in kinds]


@bp.app_template_global("document_kinds")
def document_kinds() -> list[DocumentKind]:
    """The choices of the upload form, in the order of the checklist."""
    return list(DocumentKind)


@bp.app_template_global("upload_limit_mb")
def upload_limit_mb() -> int:
    return uploads().max_bytes // (1024 * 1024)


def _back(case_id: int):
    return redirect(url_for("cases.show", case_id=case_id) + "#documents")


def _upload_page(case_id: int, status: int, message: str, kind: str = ""):
    """The case page again, `message` beside the upload control (the page opens there) and the kind chosen kept."""
    from .page import _render  # the case page's module imports this one

    return _render(verbs.get_case(db(), actor(), case_id), status=status, place="documents", error=message,
                   typed={"kind": kind})


def too_large(case_id: int):
    """A file over the limit, refused before it is read (413): the case page, the message beside the control."""
    return _upload_page(case_id, 413, _("文件太大：每个文件不超过%(mb)sMB，请压缩或分开上传", mb=upload_limit_mb()))


@bp.post("/<int:case_id>/documents")
@login_required
def upload(case_id: int):
    file = request.files.get("file")
    name = (file.filename or "") if file else ""
    # One byte over the limit is enough for the verb to say it is too large, without reading the rest.
    content = file.stream.read(uploads().max_bytes + 1) if file else b""
    kind = request.form.get("kind", "")
    document = perform(lambda: verbs.add_document(db(), actor(), clock(), uploads(), case_id, kind, name, content),
                       lambda error: _upload_page(case_id, status_of(error), error_text(error), kind))
    flash(_("已上传「%(kind)s」：%(name)s", kind=_(DocumentKind(document.kind).label), name=document.filename),
          "success")
    return _back(case_id)


@bp.post("/<int:case_id>/documents/<doc_id>/remove")
@login_required
def remove_document(case_id: int, doc_id: str):
    # The file goes once the removal has committed.
    perform(lambda: verbs.remove_document(db(), actor(), clock(), uploads(), case_id, doc_id),
            lambda error: _upload_page(case_id, status_of(error), _("删除失败：%(reason)s", reason=error_text(error))))
    flash(_("资料已删除"), "success")
    return _back(case_id)


@bp.get("/documents/<doc_id>")
@login_required
@writes  # the download of an ID or bank card copy is audited
def download(doc_id: str):
    if not (doc_id.isalnum() and len(doc_id) <= 32):
        abort(404)
    # 404 / 403 unless entitled to the case; the download of an ID or bank card copy is audited (committed first).
    document = perform(lambda: verbs.document_for_download(db(), actor(), clock(), doc_id))
    return send_stored(document.id, document.content_type, document.filename)


def send_stored(file_id: str, content_type: str, filename: str):
    """A stored upload (a case's document, a union's summary file) as the answer of the screens and the API, shown
    inline when it is a PDF or an image, never run as a page; its name ends as the type its content was judged to
    be at upload, whatever the uploader named it."""
    data = uploads().read(file_id)  # 404 when its file is lost, 503 when the storage cannot be reached
    inline = content_type in INLINE
    # Read whole (at most the upload limit): no file handle is left open if the client goes away.
    response = send_file(io.BytesIO(data),
                         mimetype=content_type if inline else "application/octet-stream",
                         as_attachment=not inline, download_name=download_name(filename, content_type),
                         conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOCUMENT_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Pragma"] = "no-cache"
    return response
