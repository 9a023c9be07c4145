"""The documents of a case on the screens: the checklist, upload, removal and download. A refused upload stores
nothing, neither a row nor a file; a download goes to the people of the case only."""

from __future__ import annotations

import html
import re
import io

import pytest
from flask import render_template_string
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.http import parse_options_header
from werkzeug.test import encode_multipart

from app.cases.documents import checklist
from workflows import verbs
from workflows.models import AuditEvent, Document
from workflows.states import State

from ..factories import JPEG, PDF, PNG
from ..storage import stored
from .conftest import snapshot


def flashes(client) -> list[str]:
    with client.client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def upload(client, case, kind="application", content=PDF, name="申请报告.pdf", csrf=True):
    """A browser's multipart POST of the upload form. The body is built here, in memory: the test client would
    spool a large one to a temporary file that it never closes."""
    data = {"kind": kind}
    if csrf:
        data["csrf_token"] = client.csrf()
    if content is not None:
        data["file"] = FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")
    boundary, body = encode_multipart(data)
    return client.client.post(f"/cases/{case.id}/documents", data=body,
                              content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def case(world):
    case = world.draft()
    world.session.commit()
    return case


@pytest.fixture
def cadre(world, case):
    return world.person("cadre", case.union)


# ------------------------------------------------------------------ the checklist

def test_the_checklist_lists_what_is_required_and_what_is_attached(world):
    plain = world.draft()
    world.attach(plain, ["application", "bank_card"])
    medical = world.draft(aid={"kind": "funds", "amount": "1000", "medical": True})
    world.attach(medical, ["disease_certificate"])
    world.session.commit()

    items = checklist(plain)
    assert [(i["kind"], i["required"], i["present"]) for i in items] == [
        ("stamped_file", True, False), ("application", True, True), ("household_ids", True, False),
        ("hardship_proof", True, False), ("finance_authorisation", True, False),
        ("school_enrolment", True, False), ("school_fees", True, False),  # the household pays for schooling
        ("bank_card", False, True)]  # the optional card copy, since it is there
    assert items[1]["label"] == "个人救助申请报告" and [d.filename for d in items[1]["documents"]] == ["application.pdf"]

    items = checklist(medical)
    assert [(i["kind"], i["present"]) for i in items if i["required"]][5:7] == [
        ("disease_certificate", True), ("hospital_settlements", False)]


def render_documents(app, case, may_edit, may_open=True):
    with app.test_request_context():
        return html.unescape(render_template_string('{% include "cases/_documents.html" %}', case=case,
                                                    checklist=checklist(case), may_edit_documents=may_edit,
                                                    may_reveal=may_open))


def test_an_auditor_sees_which_papers_are_there_but_gets_no_link_that_would_refuse(app, world, case):
    world.attach(case, ["application"])
    world.session.commit()
    page = render_documents(app, case, may_edit=False, may_open=False)
    assert case.documents[0].filename in page and "/cases/documents/" not in page


def test_the_partial_marks_each_document_and_offers_upload_and_removal_to_those_who_may(app, world, case):
    world.attach(case, ["application"])
    world.session.commit()
    document = case.documents[0]

    page = render_documents(app, case, may_edit=True)
    assert "还缺 6 项必需资料" in page
    assert page.count("✗ 缺少") == 6 and page.count("✓ 已上传") == 1
    assert "个人救助申请报告" in page and "困难职工档案（加盖基层工会章）" in page
    assert f'href="/cases/documents/{document.id}"' in page and "application.pdf" in page
    assert f'action="/cases/{case.id}/documents/{document.id}/remove#documents"' in page
    assert f'action="/cases/{case.id}/documents#documents"' in page and 'enctype="multipart/form-data"' in page
    assert '<option value="hospital_settlements">近两年住院结算单</option>' in page
    assert 'name="csrf_token"' in page

    page = render_documents(app, case, may_edit=False)
    assert f'href="/cases/documents/{document.id}"' in page
    assert "/remove" not in page and 'type="file"' not in page


def test_a_complete_checklist_says_so(app, world, case):
    world.attach(case)
    world.session.commit()
    page = render_documents(app, case, may_edit=True)
    assert "必需资料已齐全" in page and "✗" not in page


# ------------------------------------------------------------------ upload

def test_a_cadre_uploads_a_document(pages, world, case, cadre):
    client = pages.as_(cadre)
    response = upload(client, case)

    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.id}#documents"
    assert "已上传「个人救助申请报告」：申请报告.pdf" in flashes(client)
    world.session.expire_all()
    [document] = world.session.scalars(select(Document).where(Document.case_id == case.id)).all()
    assert (document.kind, document.filename, document.content_type) == ("application", "申请报告.pdf",
                                                                         "application/pdf")
    assert world.uploads.read(document.id) == PDF
    event = world.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.case_id) == ("add_document", case.id)


@pytest.mark.parametrize("kind,content,name,message", [
    ("application", b"%PDF-" + b"0" * (10 * 1024 * 1024), "大扫描件.pdf", "文件太大，不能超过10MB"),
    ("application", b"<html><script>alert(1)</script></html>", "照片.png", "只能上传PDF、JPEG或PNG文件"),
    ("application", b"MZ\x90\x00 not a document", "申请.pdf", "只能上传PDF、JPEG或PNG文件"),
    ("application", PDF, "../../申请.pdf", "文件名不能包含路径或特殊字符"),
    ("application", PDF, "..\\申请.pdf", "文件名不能包含路径或特殊字符"),
    ("application", None, None, "请选择文件"),
    ("application", b"", "空文件.pdf", "文件是空的"),
    ("", PDF, "申请.pdf", "不是可选的资料类别"),
    ("passport", PDF, "申请.pdf", "不是可选的资料类别"),
], ids=["too-large", "html-as-png", "exe-as-pdf", "dot-dot-slash", "backslash", "no-file", "empty", "no-kind",
        "unknown-kind"])
def test_a_bad_upload_is_said_beside_the_upload_control_and_nothing_is_stored(pages, world, case, cadre, kind,
                                                                              content, name, message):
    client = pages.as_(cadre)
    before = snapshot(world)

    response = upload(client, case, kind=kind, content=content, name=name)

    assert response.status_code in (400, 413, 415)
    assert message in upload_error(response)
    assert snapshot(world) == before


def upload_error(response) -> str:
    """The message shown beside the upload control (the page opens there: the form posts to #documents)."""
    page = response.get_data(as_text=True)
    assert f'action="/cases/' in page and '/documents#documents"' in page
    found = re.search(r'<p class="flash error" role="alert" id="upload-error">([^<]*)</p>', page)
    assert found, "no message beside the upload control"
    return html.unescape(found.group(1))


def test_a_request_over_the_size_limit_gets_a_chinese_page(pages, world, app, case, cadre):
    client = pages.as_(cadre)
    before = snapshot(world)
    response = upload(client, case, content=b"%PDF-" + b"0" * app.config["MAX_CONTENT_LENGTH"])
    assert response.status_code == 413  # the case page, not a bare error page that leaves the case
    assert "文件太大：每个文件不超过10MB" in upload_error(response)
    assert snapshot(world) == before


def test_only_the_unions_cadre_uploads(pages, world, case):
    elsewhere = world.person("cadre", world.union("另一工会"))
    head = world.person("head", case.union)
    auditor = world.person("auditor")
    world.session.commit()
    clients = {who: pages.as_(account) for who, account in
               (("elsewhere", elsewhere), ("head", head), ("auditor", auditor))}
    before = snapshot(world)
    assert upload(clients["elsewhere"], case).status_code == 404
    assert upload(clients["head"], case).status_code == 403
    assert upload(clients["auditor"], case).status_code == 403
    assert snapshot(world) == before


def test_a_case_past_drafting_takes_no_upload(pages, world):
    documented = world.case(State.documented)
    world.session.commit()
    client = pages.as_(world.person("cadre", documented.union))
    before = snapshot(world)
    response = upload(client, documented)
    assert response.status_code == 409
    assert "只有已起草的案件可以上传资料" in html.unescape(response.get_data(as_text=True))
    assert snapshot(world) == before


# ------------------------------------------------------------------ removal

def test_a_cadre_removes_a_document_and_its_file(pages, world, case, cadre):
    world.attach(case, ["application", "hardship_proof"])
    world.session.commit()
    gone, kept = (document.id for document in case.documents)
    client = pages.as_(cadre)

    response = client.post(f"/cases/{case.id}/documents/{gone}/remove")

    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.id}#documents"
    assert "资料已删除" in flashes(client)
    world.session.expire_all()
    assert [d.id for d in world.session.scalars(select(Document))] == [kept]
    assert gone not in stored(world.uploads) and kept in stored(world.uploads)
    event = world.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.case_id) == ("remove_document", case.id)


def test_removal_refused_changes_nothing(pages, world, case, cadre):
    documented = world.case(State.documented)
    world.attach(case, ["application"])
    world.session.commit()
    elsewhere = world.person("cadre", world.union("另一工会"))
    world.session.commit()
    client, stranger = pages.as_(cadre), pages.as_(elsewhere)
    before = snapshot(world)

    refused = client.post(f"/cases/{documented.id}/documents/{documented.documents[0].id}/remove")
    # Said beside the documents, where the page opens (the form posts to #documents), in the case page.
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 409 and 'id="documents"' in page
    found = re.search(r'<p class="flash error" role="alert" id="upload-error">删除失败：([^<]*)</p>', page)
    assert found and "只有已起草的案件可以删除资料" in found[1]
    assert stranger.post(f"/cases/{case.id}/documents/{case.documents[0].id}/remove").status_code == 404
    # a document of another case named under this one
    assert client.post(f"/cases/{case.id}/documents/{documented.documents[0].id}/remove").status_code == 404
    assert snapshot(world) == before


# ------------------------------------------------------------------ download

def test_download_shows_the_file_inline_with_its_stored_type(pages, world, case, cadre):
    world.attach(case, ["application"])
    document = case.documents[0]
    world.session.commit()
    client = pages.as_(cadre)

    response = client.get(f"/cases/documents/{document.id}")

    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == "inline; filename=application.pdf"
    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'none': nothing runs


@pytest.mark.parametrize("content,name,mimetype,disposition", [
    (PNG, "户口本.png", "image/png", "inline; filename=.png; filename*=UTF-8''%E6%88%B7%E5%8F%A3%E6%9C%AC.png"),
    (JPEG, "id card.JPEG", "image/jpeg", 'inline; filename="id card.JPEG"'),
    (PDF, "notice.html", "application/pdf", "inline; filename=notice.html.pdf"),
])
def test_the_download_name_is_safe_and_says_what_the_file_is(pages, world, case, cadre, content, name, mimetype,
                                                             disposition):
    client = pages.as_(cadre)
    assert upload(client, case, content=content, name=name).status_code == 302
    world.session.expire_all()
    document = world.session.scalars(select(Document)).one()
    response = client.get(f"/cases/documents/{document.id}")
    assert response.status_code == 200 and response.data == content and response.mimetype == mimetype
    assert response.headers["Content-Disposition"] == disposition


def test_quotes_and_semicolons_in_a_name_stay_inside_the_header(pages, world, case, cadre):
    name = '报告"终稿";v2 attachment.pdf'
    document = verbs.add_document(world.session, cadre, world.clock, world.uploads, case.id, "application",
                                     name, PDF)
    world.session.commit()
    response = pages.as_(cadre).get(f"/cases/documents/{document.id}")
    assert parse_options_header(response.headers["Content-Disposition"]) == ("inline", {"filename": name})


def test_downloads_go_only_to_the_people_of_the_case(pages, world, case, cadre):
    world.attach(case, ["application"])
    document = case.documents[0]
    people = {"head": world.person("head", case.union), "elsewhere": world.person("cadre", world.union("另一工会")),
              "auditor": world.person("auditor"), "reviewer": world.person("reviewer"),
              "admin": world.account("admin")}
    world.session.commit()
    path = f"/cases/documents/{document.id}"

    assert pages.as_(cadre).get(path).data == PDF
    assert pages.as_(people["head"]).get(path).data == PDF
    assert pages.as_(people["elsewhere"]).get(path).status_code == 404
    refused = pages.as_(people["auditor"]).get(path)
    assert refused.status_code == 403 and "个人证件资料只有办理该案件的人员可以下载" in refused.get_data(as_text=True)
    assert pages.as_(people["reviewer"]).get(path).status_code == 404  # a draft is not the district's yet
    admin = pages.as_(people["admin"])
    assert admin.get(path).status_code in (403, 404)
    assert pages.anonymous().get(path).status_code == 302  # to sign-in


def test_unknown_or_malformed_document_ids_are_not_found(pages, world, case, cadre):
    client = pages.as_(cadre)
    assert client.get("/cases/documents/" + "0" * 32).status_code == 404
    assert client.get("/cases/documents/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert client.get("/cases/documents/" + "a" * 300).status_code == 404


def test_a_file_missing_on_disk_is_a_clear_404(pages, world, case, cadre):
    world.attach(case, ["application"])
    world.session.commit()
    world.uploads.storage.delete(case.documents[0].id)
    response = pages.as_(cadre).get(f"/cases/documents/{case.documents[0].id}")
    assert response.status_code == 404 and "资料文件已丢失" in response.get_data(as_text=True)


# ------------------------------------------------------------------ CSRF

def test_posts_without_the_csrf_token_are_refused_and_change_nothing(pages, world, case, cadre):
    world.attach(case, ["application"])
    world.session.commit()
    client = pages.as_(cadre)
    before = snapshot(world)

    assert upload(client, case, csrf=False).status_code == 400
    removal = client.post(f"/cases/{case.id}/documents/{case.documents[0].id}/remove", csrf=False)
    assert removal.status_code == 400 and "页面已过期" in removal.get_data(as_text=True)
    assert snapshot(world) == before
