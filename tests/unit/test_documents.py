"""Uploaded papers: judged by their content, kept in step with the database transaction that records them, the
same in a local folder and in an S3 bucket (a real S3 API on loopback: tests/storage.py)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.errors import Forbidden, Invalid, NotFound, Refused
from workflows.infra.uploads import TooLarge, UnsupportedType, Uploads
from workflows.models import AuditEvent, Document
from workflows.states import State

from ..factories import JPEG, PDF, PNG, Factory
from ..storage import stored

HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture(params=["folder", "s3"])
def uploads(request, tmp_path) -> Uploads:
    """Every test here runs on both storages (the factory `make` stores its papers there too)."""
    if request.param == "folder":
        return Uploads(tmp_path / "uploads")
    return Uploads(request.getfixturevalue("s3").storage())


files = stored


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def upload(session, make, case, content=PDF, filename="申请报告.pdf", kind="application", uploads=None):
    return verbs.add_document(session, make.person("cadre", case.union), make.clock, uploads or make.uploads,
                                 case.id, kind, filename, content)


@pytest.mark.parametrize(("content", "filename", "content_type"), [
    (PDF, "申请报告.pdf", "application/pdf"),
    (PNG, "户口本.png", "image/png"),
    (JPEG, "身份证.jpg", "image/jpeg"),
    (PNG, "扫描件.pdf", "image/png"),       # the name says PDF, the content says PNG: the content wins
    (PDF, "证明", "application/pdf"),        # no extension at all
], ids=["pdf", "png", "jpeg", "png-named-pdf", "no-extension"])
def test_an_upload_is_judged_by_its_content(session, make, uploads, content, filename, content_type):
    case = make.case(State.drafted)
    version, events = case.version, count(session, AuditEvent)
    document = upload(session, make, case, content, filename)
    assert (document.content_type, document.size, document.filename) == (content_type, len(content), filename)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert uploads.read(document.id) == content
    assert files(uploads) == [document.id]
    assert case.documents == [document]
    assert case.version == version + 1  # a new checklist is a new version of the case
    assert count(session, AuditEvent) == events + 1
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert event.action == "add_document"
    assert event.changes == {"document": [None, f"个人救助申请报告：{filename}（SHA-256 {document.sha256}）"]}


@pytest.mark.parametrize(("content", "error"), [
    (HTML, UnsupportedType),
    (b"MZ\x90\x00" + b"\x00" * 60, UnsupportedType),  # a Windows program
    (b"GIF89a" + b"\x00" * 20, UnsupportedType),
    (b"%PD", UnsupportedType),                       # a PDF signature cut short
    (b"", Invalid),
], ids=["html", "exe", "gif", "truncated-pdf", "empty"])
def test_anything_else_is_refused_and_nothing_is_kept(session, make, uploads, content, error):
    case = make.case(State.drafted)
    documents, events, version = count(session, Document), count(session, AuditEvent), case.version
    with pytest.raises(error):
        upload(session, make, case, content, "照片.png")
    assert files(uploads) == []
    assert (count(session, Document), count(session, AuditEvent), case.version) == (documents, events, version)


def test_an_html_file_named_png_is_refused_with_a_message(session, make, uploads):
    case = make.case(State.drafted)
    with pytest.raises(UnsupportedType) as caught:
        upload(session, make, case, HTML, "照片.png")
    assert caught.value.message == "只能上传PDF、JPEG或PNG文件（按文件内容判断）"


def test_a_file_over_the_limit_is_refused(session, make, uploads):
    small = Uploads(uploads.storage, max_bytes=2 * 1024 * 1024)
    case = make.case(State.drafted)
    documents = count(session, Document)
    with pytest.raises(TooLarge) as caught:
        upload(session, make, case, PDF + b" " * (small.max_bytes - len(PDF) + 1), uploads=small)
    assert caught.value.message == "文件太大，不能超过2MB"
    assert files(small) == [] and count(session, Document) == documents
    exactly = upload(session, make, case, PDF + b" " * (small.max_bytes - len(PDF)), uploads=small)
    assert exactly.size == small.max_bytes
    assert files(small) == [exactly.id]


@pytest.mark.parametrize("filename", ["../../etc/passwd.pdf", "..\\..\\boot.ini.pdf", "scans/申请.pdf", "..",
                                      "申请.pdf\x00.png", "   ", "a" * 252 + ".pdf"],
                         ids=["dotdot-slash", "dotdot-backslash", "folder", "dotdot", "nul", "blank", "too-long"])
def test_a_file_name_that_names_a_path_is_refused(session, make, uploads, filename):
    case = make.case(State.drafted)
    documents = count(session, Document)
    with pytest.raises(Invalid) as caught:
        upload(session, make, case, PDF, filename)
    assert list(caught.value.fields) == ["file"]
    assert files(uploads) == [] and count(session, Document) == documents


def test_the_kind_must_be_one_of_the_checklist(session, make, uploads):
    case = make.case(State.drafted)
    with pytest.raises(Invalid) as caught:
        upload(session, make, case, kind="selfie")
    assert list(caught.value.fields) == ["kind"]
    assert files(uploads) == []


def test_only_the_unions_cadres_upload(session, make, uploads):
    case = make.case(State.drafted)
    with pytest.raises(Forbidden):
        verbs.add_document(session, make.person("head", case.union), make.clock, uploads, case.id,
                              "application", "a.pdf", PDF)
    with pytest.raises(NotFound):
        verbs.add_document(session, make.person("cadre", make.union("别家工会")), make.clock, uploads, case.id,
                              "application", "a.pdf", PDF)
    assert files(uploads) == []


def test_removing_deletes_the_file_only_once_the_removal_commits(session, make, uploads):
    case = make.case(State.drafted)
    document = upload(session, make, case)
    session.commit()
    events = count(session, AuditEvent)
    verbs.remove_document(session, make.person("cadre", case.union), make.clock, uploads, case.id, document.id,
                             case.version)
    assert case.documents == [] and session.get(Document, document.id) is None
    assert files(uploads) == [document.id]  # the removal may still roll back
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert count(session, AuditEvent) == events + 1
    assert (event.action, event.changes["document"][1]) == ("remove_document", None)
    assert "申请报告.pdf" in event.changes["document"][0]
    # With the test's session, commit releases a savepoint; it is still the session's own commit, and
    # after_commit fires for it (a real commit is tried in test_a_real_commit_and_rollback below).
    session.commit()
    assert files(uploads) == []


def test_a_removal_rolled_back_keeps_the_file(session, make, uploads):
    case = make.case(State.drafted)
    document = upload(session, make, case)
    session.commit()
    verbs.remove_document(session, make.person("cadre", case.union), make.clock, uploads, case.id, document.id)
    session.rollback()
    assert uploads.read(document.id) == PDF
    assert session.get(Document, document.id) is not None
    session.commit()  # a later commit of other work must not delete it either
    assert files(uploads) == [document.id]


def test_an_upload_rolled_back_leaves_no_file(session, make, uploads):
    case = make.case(State.drafted)
    kept = upload(session, make, case, filename="先传的.pdf")
    session.commit()
    document = upload(session, make, case, PNG, "后传的.png", kind="household_ids")
    assert files(uploads) == sorted([kept.id, document.id])
    session.rollback()
    assert files(uploads) == [kept.id]
    assert session.get(Document, document.id) is None


def test_papers_are_fixed_once_documented(session, make, uploads):
    case = make.case(State.documented)
    before = files(uploads)
    cadre = make.person("cadre", case.union)
    with pytest.raises(Refused) as adding:
        upload(session, make, case, filename="补充.pdf")
    with pytest.raises(Refused) as removing:
        verbs.remove_document(session, cadre, make.clock, uploads, case.id, case.documents[0].id)
    assert (adding.value.rule, removing.value.rule) == ("state", "state")
    assert files(uploads) == before and len(before) == len(case.documents)


def test_a_document_of_another_case_cannot_be_removed_through_this_one(session, make, uploads):
    mine, other = make.case(State.drafted), make.case(State.drafted)
    document = upload(session, make, other)
    with pytest.raises(NotFound):
        verbs.remove_document(session, make.person("cadre", mine.union), make.clock, uploads, mine.id,
                                 document.id)
    assert session.get(Document, document.id) is not None


def test_a_real_commit_and_rollback(committed, clock, uploads):
    """Outside the rolled-back test session: a database transaction that really commits or rolls back."""
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        case = make.case(State.drafted)
        document = upload(session, make, case)
        session.commit()
        assert files(uploads) == [document.id]

        failed = upload(session, make, case, PNG, "b.png", kind="household_ids")
        session.rollback()
        assert files(uploads) == [document.id]  # not the failed one

        verbs.remove_document(session, make.person("cadre", case.union), clock, uploads, case.id, document.id)
        assert uploads.read(document.id) == PDF
        session.commit()
        assert files(uploads) == []
    with Session(committed) as fresh:
        assert fresh.get(Document, document.id) is None and fresh.get(Document, failed.id) is None


def test_a_savepoint_released_after_an_upload_is_no_commit_of_its_file(committed, clock, uploads):
    """SQLAlchemy signals a released savepoint as a commit: the files of the transaction around it still go with a
    rollback of that transaction, and a removal's file stays until that transaction commits."""
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        case = make.case(State.drafted)
        kept = upload(session, make, case)
        session.commit()
        upload(session, make, case, PNG, "b.png", kind="household_ids")
        verbs.remove_document(session, make.person("cadre", case.union), clock, uploads, case.id, kept.id)
        with session.begin_nested():  # any later step of the same request that uses a savepoint
            pass
        session.rollback()
        assert files(uploads) == [kept.id] and uploads.read(kept.id) == PDF


def test_an_upload_of_a_session_closed_without_commit_leaves_no_file(committed, clock, uploads):
    """A request that fails unexpectedly after storing its file ends with its session closed, not rolled back (the
    teardown): the file of a document that was never recorded goes too (it may be an ID card's scan)."""
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        case = make.case(State.drafted)
        session.commit()
        kept = files(uploads)
        upload(session, make, case, PNG, "b.png", kind="household_ids")
        assert len(files(uploads)) == len(kept) + 1
    assert files(uploads) == kept
