"""A draft's papers: added (judged by their content) and removed, the files kept in step with the transaction;
and who may download them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Forbidden, Invalid, NotFound, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, to_db
from workflows.infra.uploads import Uploads, clean_filename
from workflows.models import Case, Document
from workflows.states import Action
from workflows.verbs.cases import check_version, editable, get_case, touch
from workflows.vocab import DocumentKind


def add_document(session: Session, actor: Actor, clock: Clock, uploads: Uploads, case_id: int, kind: str,
                 filename: str, content: bytes, version: int | None = None) -> Document:
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.DRAFTERS, "上传资料")
    check_version(case, version)
    now = clock.now()
    editable(case, now, "上传资料")
    if kind not in DocumentKind.__members__.values():
        raise Invalid({"kind": "不是可选的资料类别"})
    document = store(session, actor, now, uploads, case, kind, filename, content)
    audit.record(session, actor, now, Action.add_document, case=case, state=case.state,
                 changes={"document": [None, label(document)]})
    return document


def store(session: Session, actor: Actor, now, uploads: Uploads, case: Case, kind: str, filename: str,
          content: bytes) -> Document:
    """Keep a file as a document of `case` (judged by its content; removed again on rollback): the caller audits."""
    filename = clean_filename(filename)
    uploads.check(content)
    stored = uploads.save(session, content)
    document = Document(id=stored.id, case=case, kind=kind, filename=filename, content_type=stored.content_type,
                        size=stored.size, sha256=stored.sha256, uploaded_by_id=actor.id, uploaded_at=to_db(now))
    session.add(document)
    touch(case, now)  # a new checklist is a new version of the case
    return document


def label(document: Document) -> str:
    """A document as the trail names it."""
    return f"{DocumentKind(document.kind).label}：{document.filename}（SHA-256 {document.sha256}）"


def remove_document(session: Session, actor: Actor, clock: Clock, uploads: Uploads, case_id: int,
                    document_id: str, version: int | None = None) -> Case:
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.DRAFTERS, "删除资料")
    check_version(case, version)
    now = clock.now()
    editable(case, now, "删除资料")
    document = session.get(Document, document_id)
    if document is None or document.case_id != case.id:
        raise NotFound("找不到该资料")
    if document.kind == DocumentKind.goods_receipt:  # the receipt's proof (GoodsReceipt) stays with it
        raise Refused(Reason("documents", "实物签收单是签收记录的凭证，不能删除"))
    removed = label(document)
    case.documents.remove(document)
    session.delete(document)
    uploads.delete_on_commit(session, document_id)
    touch(case, now)
    audit.record(session, actor, now, Action.remove_document, case=case, state=case.state,
                 changes={"document": [removed, None]})
    return case


def document_for_download(session: Session, actor: Actor, document_id: str) -> Document:
    """The document, if `actor` may see its case; downloads of personal papers go to the case's people only."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("找不到该资料")
    if not rules.may_reveal(actor, get_case(session, actor, document.case_id)):
        raise Forbidden(Reason("role", "个人证件资料只有办理该案件的人员可以下载"))
    return document
