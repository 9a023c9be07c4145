"""A draft's papers: added (judged by their content) and removed, the files kept in step with the transaction;
and who may download them."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Forbidden, Invalid, NotFound, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import LOCAL, Clock, local_date, to_db
from workflows.infra.db import take_turns
from workflows.infra.uploads import Uploads, clean_filename
from workflows.models import Case, Document, NoticePosting
from workflows.states import Action
from workflows.texts import N_
from workflows.verbs.cases import check_version, editable, get_case, touch
from workflows.vocab import DocumentKind


def add_document(session: Session, actor: Actor, clock: Clock, uploads: Uploads, case_id: int, kind: str,
                 filename: str, content: bytes, version: int | None = None) -> Document:
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.DRAFTERS, N_("上传资料"))
    check_version(case, version)
    now = clock.now()
    editable(case, now, N_("上传资料"))
    if kind not in DocumentKind.__members__.values():
        raise Invalid({"kind": N_("不是可选的资料类别")})
    document = store(session, actor, now, uploads, case, kind, filename, content)
    audit.record(session, actor, now, Action.add_document, case=case, state=case.state,
                 changes={"document": [None, label(document)]})
    return document


def store(session: Session, actor: Actor, now, uploads: Uploads, case: Case, kind: str, filename: str,
          content: bytes) -> Document:
    """Keep a file as a document of `case` (judged by its content; removed again on rollback): the caller audits."""
    filename = clean_filename(filename)
    uploads.check(content)
    check_quota(session, actor, now, uploads, case, len(content))
    stored = uploads.save(session, content)
    document = Document(id=stored.id, case=case, kind=kind, filename=filename, content_type=stored.content_type,
                        size=stored.size, sha256=stored.sha256, uploaded_by_id=actor.id, uploaded_at=to_db(now))
    session.add(document)
    touch(case, now)  # a new checklist is a new version of the case
    return document


QUOTA = "upload_quota"  # the rule of a refusal over the quota (the API's "rule")


def check_quota(session: Session, actor: Actor, now: dt.datetime, uploads: Uploads, case: Case | None,
                size: int) -> None:
    """Refuse a file of `size` bytes that would take the case (when it is a case's), or the actor's uploads of the
    local day (a case's papers and the photos of notice lists), over the quota; counted from the files kept: a
    removed document no longer counts, its file being gone too. One account's uploads take turns, so that two at
    once cannot both take the last place of the day."""
    quota = uploads.quota
    if quota.daily_files or quota.daily_bytes:
        take_turns(session, "upload", actor.id)
    if case is not None and (quota.case_files or quota.case_bytes):
        files, used = _kept(session, Document.case_id == case.id)
        if quota.case_files and files >= quota.case_files:
            raise _over(N_("每个案件最多上传%(limit)s份资料，该案件已有%(files)s份，不能再上传；"
                        "可先删除不需要的资料", limit=quota.case_files, files=files))
        if quota.case_bytes and used + size > quota.case_bytes:
            raise _over(N_("每个案件的资料合计不超过%(limit)s，该案件已有%(used)s，"
                        "还可上传%(left)s，这个文件有%(size)s", limit=_size(quota.case_bytes), used=_size(used),
                        left=_size(max(quota.case_bytes - used, 0)), size=_size(size)))
    if quota.daily_files or quota.daily_bytes:
        day = local_date(now)
        start = dt.datetime.combine(day, dt.time(), LOCAL)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LOCAL)
        files, used = _kept(session, Document.uploaded_by_id == actor.id,
                            Document.uploaded_at >= to_db(start), Document.uploaded_at < to_db(end))
        posted = session.execute(select(func.count(), func.coalesce(func.sum(NoticePosting.file_size), 0)).where(
            NoticePosting.recorded_by_id == actor.id, NoticePosting.recorded_at >= to_db(start),
            NoticePosting.recorded_at < to_db(end))).one()
        files, used = files + posted[0], used + int(posted[1])
        if quota.daily_files and files >= quota.daily_files:
            raise _over(N_("每个账号每天最多上传%(limit)s份资料，您今天已上传%(files)s份，请明天再上传", limit=quota.daily_files, files=files))
        if quota.daily_bytes and used + size > quota.daily_bytes:
            raise _over(N_("每个账号每天上传的资料合计不超过%(limit)s，您今天已上传%(used)s，"
                        "还可上传%(left)s，这个文件有%(size)s", limit=_size(quota.daily_bytes), used=_size(used),
                        left=_size(max(quota.daily_bytes - used, 0)), size=_size(size)))


def _kept(session: Session, *where) -> tuple[int, int]:
    """How many documents match `where`, and their bytes."""
    files, used = session.execute(select(func.count(), func.coalesce(func.sum(Document.size), 0)).where(*where)).one()
    return files, int(used)


def _over(message: str) -> Refused:
    return Refused(Reason(QUOTA, message))


def _size(size: int) -> str:
    """Bytes as a cadre reads them: MB with one decimal (KB under 1 MB)."""
    if size < 1024 * 1024:
        return f"{-(-size // 1024)}KB"
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + "MB"


def label(document: Document) -> str:
    """A document as the trail names it (read back by read_label)."""
    return f"{DocumentKind(document.kind).label}：{document.filename}（SHA-256 {document.sha256}）"


LABEL = re.compile(r"(?P<kind>[^：]+)：(?P<name>.*?)(（SHA-256 [0-9a-f]+）)?", re.S)


def read_label(text: str) -> tuple[str, str] | None:
    """The kind's label and the file name of a document as `label` named it in the trail; None for other text."""
    found = LABEL.fullmatch(text)
    return (found["kind"], found["name"]) if found else None


def remove_document(session: Session, actor: Actor, clock: Clock, uploads: Uploads, case_id: int,
                    document_id: str, version: int | None = None) -> Case:
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.DRAFTERS, N_("删除资料"))
    check_version(case, version)
    now = clock.now()
    editable(case, now, N_("删除资料"))
    document = session.get(Document, document_id)
    if document is None or document.case_id != case.id:
        raise NotFound(N_("找不到该资料"))
    if document.kind == DocumentKind.goods_receipt:  # the receipt's proof (GoodsReceipt) stays with it
        raise Refused(Reason("documents", N_("实物签收单是签收记录的凭证，不能删除")))
    removed = label(document)
    case.documents.remove(document)
    session.delete(document)
    uploads.delete_on_commit(session, document_id)
    touch(case, now)
    audit.record(session, actor, now, Action.remove_document, case=case, state=case.state,
                 changes={"document": [removed, None]})
    return case


# Copies of ID cards and bank cards show whole numbers: each download is audited, as a reveal of a number is.
AUDITED_DOWNLOADS = (DocumentKind.household_ids, DocumentKind.bank_card)


def document_for_download(session: Session, actor: Actor, clock: Clock, document_id: str) -> Document:
    """The document, if `actor` may see its case; downloads of personal papers go to the case's people only, and
    each download of an ID or bank card copy is audited (one event per download: a refresh is another one)."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound(N_("找不到该资料"))
    case = get_case(session, actor, document.case_id)
    if not rules.may_reveal(actor, case):
        raise Forbidden(Reason("role", N_("个人证件资料只有办理该案件的人员可以下载")))
    if document.kind in AUDITED_DOWNLOADS:
        audit.record(session, actor, clock.now(), Action.download_document, case=case, state=case.state,
                     changes={"document": [None, f"{DocumentKind(document.kind).label}（资料编号 {document.id}）"]})
    return document
