"""Uploads and downloads of personal papers through the screens and the API (issue 15, holes 10 to 12 and what was
observed beside them): a download's name ends as the type its content was judged to be, on both; uploads stop at
their quota with a message saying what is left; each download of an ID or bank card copy is audited; personal-data
downloads leave no copy in caches; a finance batch row whose version is missing or garbled is stale."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.http import parse_options_header
from werkzeug.test import encode_multipart

from workflows.infra.uploads import Quota, Uploads
from workflows.models import AuditEvent, Case
from workflows.states import State

from ..factories import JPEG, PDF, PNG, id_number
from .conftest import snapshot
from .test_document_screens import upload as screen_upload

# A PDF that is also a web page: a browser told it is HTML would run its script.
POLYGLOT = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n"


def html(response) -> str:
    return response.get_data(as_text=True)


def api_upload(api, account, case, kind="application", content=PDF, name="申请报告.pdf"):
    boundary, body = encode_multipart({"kind": kind, "file": FileStorage(io.BytesIO(content), filename=name)})
    return api.call("POST", f"/cases/{case.id}/documents", account, data=body,
                    content_type=f"multipart/form-data; boundary={boundary}")


def saved_name(response) -> str:
    return parse_options_header(response.headers["Content-Disposition"])[1]["filename"]


def downloads(world, action="download_document") -> list[AuditEvent]:
    world.session.expire_all()
    return world.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                 .order_by(AuditEvent.seq)).all()


@pytest.fixture
def case(world):
    case = world.draft()
    world.session.commit()
    return case


@pytest.fixture
def cadre(world, case):
    return world.person("cadre", case.union)


def quota(app, world, **limits) -> None:
    """The app's uploads with these limits (the settings' own are tested in tests/integration/test_upload_quotas)."""
    app.extensions["songnuan"]["uploads"] = Uploads(world.uploads.storage, quota=Quota(**limits))


# ------------------------------------------------------------------ hole 10: one download name

@pytest.mark.parametrize("content,name,mimetype,ending", [
    (POLYGLOT, "通知.html", "application/pdf", "通知.html.pdf"),
    (PNG, "扫描件.pdf", "image/png", "扫描件.pdf.png"),
    (JPEG, "身份证.svg", "image/jpeg", "身份证.svg.jpg"),
    (PDF, "申请报告.PDF", "application/pdf", "申请报告.PDF"),
], ids=["html-pdf-polyglot", "png-named-pdf", "jpeg-named-svg", "pdf"])
def test_the_api_and_the_screen_name_a_download_by_its_content(pages, api, world, case, cadre, content, name,
                                                              mimetype, ending):
    added = api_upload(api, cadre, case, content=content, name=name)
    assert added.status_code == 201, added.json
    document_id = added.json["id"]
    by_api = api.call("GET", f"/cases/{case.id}/documents/{document_id}", cadre)
    on_screen = pages.as_(cadre).get(f"/cases/documents/{document_id}")
    for response in (by_api, on_screen):
        assert response.status_code == 200 and response.data == content
        assert response.mimetype == mimetype and response.headers["X-Content-Type-Options"] == "nosniff"
        assert saved_name(response) == ending
    assert by_api.headers["Content-Disposition"] == on_screen.headers["Content-Disposition"]


def test_a_download_named_after_an_id_number_carries_it_masked(pages, api, world, case, cadre):
    number = id_number()
    added = api_upload(api, cadre, case, kind="household_ids", name=f"{number}身份证.pdf")
    assert added.status_code == 201, added.json
    by_api = api.call("GET", f"/cases/{case.id}/documents/{added.json['id']}", cadre)
    on_screen = pages.as_(cadre).get(f"/cases/documents/{added.json['id']}")
    for response in (by_api, on_screen):
        assert response.status_code == 200
        assert saved_name(response) == f"{number[:6]}********{number[-4:]}身份证.pdf"
        assert number not in response.headers["Content-Disposition"]


# ------------------------------------------------------------------ hole 11: quotas

def test_the_application_stops_a_flood_of_uploads_into_one_draft(app, api, world, case, cadre):
    """The hole as found: 40 files into one draft. The application's default quota is 30 files a case."""
    assert app.extensions["songnuan"]["uploads"].quota.case_files == 30
    for _ in range(30):
        assert api_upload(api, cadre, case).status_code == 201
    before = snapshot(world)
    refused = api_upload(api, cadre, case)
    assert refused.status_code == 409
    assert refused.json["error"] == "refused" and refused.json["rule"] == "upload_quota"
    assert refused.json["message"] == "每个案件最多上传30份资料，该案件已有30份，不能再上传；可先删除不需要的资料"
    assert snapshot(world) == before


def test_the_api_says_what_is_left_of_the_day(app, api, world, case, cadre):
    quota(app, world, daily_bytes=1024 * 1024)
    big = PDF + b"%" * (700 * 1024)
    assert api_upload(api, cadre, case, content=big).status_code == 201
    before = snapshot(world)
    refused = api_upload(api, cadre, case, content=big)
    assert refused.status_code == 409 and refused.json["rule"] == "upload_quota"
    assert "每个账号每天上传的资料合计不超过1MB" in refused.json["message"]
    assert "还可上传324KB，这个文件有701KB" in refused.json["message"]
    assert snapshot(world) == before


def test_the_screen_shows_the_quota_beside_the_upload_control_and_keeps_the_kind(app, pages, world, case, cadre):
    quota(app, world, case_files=1)
    client = pages.as_(cadre)
    assert screen_upload(client, case).status_code == 302
    before = snapshot(world)
    response = screen_upload(client, case, kind="bank_card", name="银行卡.pdf")
    assert response.status_code == 409
    page = html(response)
    form = page[page.index('id="upload-error"'):]  # the message, then the form right after it
    form = form[:form.index("</form>")]
    assert form.index("每个案件最多上传1份资料，该案件已有1份，不能再上传；可先删除不需要的资料") < form.index("<form")
    assert '<option value="bank_card" selected>' in form
    assert snapshot(world) == before


# ------------------------------------------------------------------ hole 12: card copies' downloads audited

@pytest.mark.parametrize("kind", ["household_ids", "bank_card"])
def test_each_download_of_a_card_copy_is_audited_on_the_screen_and_the_api(pages, api, world, case, cadre, kind):
    world.attach(case, [kind])
    world.session.commit()
    document = case.documents[0]
    client = pages.as_(cadre)
    assert client.get(f"/cases/documents/{document.id}").status_code == 200
    assert client.get(f"/cases/documents/{document.id}").status_code == 200  # a refresh is another download
    assert api.call("GET", f"/cases/{case.id}/documents/{document.id}", cadre).status_code == 200
    events = downloads(world)
    assert len(events) == 3
    for event in events:
        assert (event.actor_id, event.case_id, event.from_state) == (cadre.id, case.id, State.drafted)
        [(field, (before, after))] = event.changes.items()
        assert field == "document" and before is None
        assert after.endswith(f"（资料编号 {document.id}）") and document.id in after


def test_other_papers_and_refused_downloads_write_nothing(pages, api, world, case, cadre):
    world.attach(case, ["application", "household_ids"])
    world.session.commit()
    application, ids = sorted(case.documents, key=lambda d: d.kind)
    assert pages.as_(cadre).get(f"/cases/documents/{application.id}").status_code == 200
    stranger = world.person("cadre", world.union("红星纺织厂工会"))
    world.session.commit()
    assert pages.as_(stranger).get(f"/cases/documents/{ids.id}").status_code == 404
    assert api.call("GET", f"/cases/{case.id}/documents/{ids.id}", world.person("auditor")).status_code == 403
    other = world.draft(union=case.union)
    world.session.commit()
    assert api.call("GET", f"/cases/{other.id}/documents/{ids.id}", cadre).status_code == 404  # wrong case
    assert downloads(world) == []


# ------------------------------------------------------------------ no copy in caches

def no_store(response) -> None:
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] in ("no-store", "private, no-store")
    assert response.headers["Pragma"] == "no-cache"


def test_personal_data_downloads_are_not_kept_in_caches(pages, api, world, case, cadre):
    world.attach(case, ["household_ids"])
    approved = world.case(State.district_approved)
    auditor, finance = world.person("auditor"), world.person("finance")
    world.session.commit()
    document = case.documents[0]
    no_store(pages.as_(cadre).get(f"/cases/documents/{document.id}"))
    no_store(api.call("GET", f"/cases/{case.id}/documents/{document.id}", cadre))
    no_store(pages.as_(cadre).get("/cases/export.csv"))
    no_store(pages.as_(auditor).get("/audit/export.xlsx"))
    no_store(pages.as_(auditor).get("/audit/export.csv"))
    no_store(api.call("GET", "/archives/export", cadre))
    batch = api.call("POST", "/payments/batches", finance, json={"cases": [approved.id]})
    assert batch.status_code == 201, batch.json
    no_store(api.call("GET", f"/payments/batches/{batch.json['id']}/bank-file?format=csv", finance))


# ------------------------------------------------------------------ finance: a row's version

@pytest.mark.parametrize("version", [None, "", "abc", "²", "١", "-1", "99999999999"],
                         ids=["missing", "empty", "letters", "superscript", "arabic-indic", "negative", "huge"])
def test_a_batch_row_with_a_missing_or_garbled_version_is_stale(pages, world, version):
    first, second = world.case(State.district_approved), world.case(State.district_approved)
    world.session.commit()
    data = {"action": "disburse", "reference": "ICBC-1", "case": [str(first.id), str(second.id)],
            f"version-{first.id}": str(first.version)}
    if version is not None:
        data[f"version-{second.id}"] = version
    response = pages.as_(world.person("finance")).post("/finance/batch", data)
    assert response.status_code == 409
    page = html(response)
    assert f"{second.applicant_name}（档案编号{second.file_number}）：该案件已被他人修改，请刷新后重试" in page
    assert f'class="has-error refused" id="case-{second.id}"' in page
    world.session.expire_all()
    assert [world.session.get(Case, c.id).state for c in (first, second)] == [State.district_approved] * 2


def test_a_batch_row_with_its_version_is_paid(pages, world):
    case = world.case(State.district_approved)
    world.session.commit()
    data = {"action": "disburse", "reference": "ICBC-1", "case": [str(case.id)],
            f"version-{case.id}": str(case.version)}
    assert pages.as_(world.person("finance")).post("/finance/batch", data).status_code == 302
    world.session.expire_all()
    assert world.session.get(Case, case.id).state == State.disbursed
