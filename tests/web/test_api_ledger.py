"""The ledger import through the API (API.md "Archives"): GET /api/v1/archives/import-template, POST
/api/v1/archives/import (multipart `file`, `union` for district roles, `?dry_run=true`): 200 {"rows"} for a dry run,
201 {"imported"}, 400 `invalid` with every bad cell in "rows" and nothing stored, 403, 413 and 415."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from workflows.models import Archive, AuditEvent

from ..ledger_data import ledger, workbook


def multipart(content: bytes, name: str = "台账.xlsx", **form: Any) -> dict[str, Any]:
    """Encoded in memory (the test client would leave a large one's temporary file open when it is refused unread)."""
    file = FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")
    boundary, data = encode_multipart({"file": file, **form})
    return {"data": data, "content_type": f"multipart/form-data; boundary={boundary}"}


def stored(world) -> tuple[int, int]:
    with Session(world.session.get_bind()) as session:
        return (session.scalar(select(func.count()).select_from(Archive)),
                session.scalar(select(func.count()).select_from(AuditEvent)))


@pytest.fixture
def desk(api, world):
    union, other = world.union("城东环卫所工会"), world.union("红星纺织厂工会")
    people = SimpleNamespace(cadre=world.person("cadre", union), head=world.person("head", union),
                             reviewer=world.person("reviewer"), auditor=world.person("auditor"),
                             finance=world.person("finance"))
    world.session.commit()
    for account in vars(people).values():
        api.token(account)  # issuing one is audited: before the counts
    return SimpleNamespace(union=union, other=other, **vars(people))


def test_the_template(api, desk):
    response = api.call("GET", "/archives/import-template", desk.cadre)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    headers = [cell.value for cell in book["档案台账"][1]]
    for name in ("姓名", "性别", "身份证号码", "手机号码", "工作单位", "职工类别", "困难类别", "主要致困原因", "家庭年收入",
                 "工商银行账号", "户主身份证号码", "与户主关系"):
        assert name in headers
    assert api.call("GET", "/archives/import-template", desk.auditor).status_code == 403


def test_a_dry_run_then_the_import(api, world, desk):
    content = workbook(ledger(households=3, members=1))
    before = stored(world)
    checked = api.call("POST", "/archives/import?dry_run=true", desk.cadre, **multipart(content))
    assert checked.status_code == 200 and checked.json == {"rows": 6, "households": 3}
    assert stored(world) == before
    done = api.call("POST", "/archives/import", desk.cadre, **multipart(content))
    assert done.status_code == 201 and done.json == {"imported": 3, "people": 6}
    assert stored(world) == (before[0] + 3, before[1] + 3)
    listed = api.call("GET", "/archives?status=active", desk.head)
    assert listed.json["total"] == 3 and {a["status"] for a in listed.json["items"]} == {"active"}


def test_bad_cells_are_400_with_every_row_and_nothing_stored(api, world, desk):
    rows = ledger(households=2, members=1)
    rows[2]["工商银行账号"] = "6222"
    rows[3]["户主身份证号码"] = "110105197506019999"
    before = stored(world)
    response = api.call("POST", "/archives/import", desk.cadre, **multipart(workbook(rows)))
    assert response.status_code == 400
    body = response.json
    assert body["error"] == "invalid" and "没有导入任何数据" in body["message"] and body["fields"]["file"]
    assert body["rows"] == [
        {"row": 4, "column": "工商银行账号", "message": "工商银行账号应为16到19位数字"},
        {"row": 5, "column": "户主身份证号码", "message": "本表中没有身份证号码为110105********9999的户主行"},
    ]
    assert stored(world) == before


def test_the_union_of_the_ledger(api, world, desk):
    content = workbook(ledger(1, 0))
    missing = api.call("POST", "/archives/import", desk.reviewer, **multipart(content))
    assert missing.status_code == 400 and missing.json["fields"] == {"union": "请选择台账所属的基层工会"}
    done = api.call("POST", "/archives/import", desk.reviewer, **multipart(content, union=desk.other.code))
    assert done.status_code == 201
    with Session(world.session.get_bind()) as session:
        assert [a.union_id for a in session.scalars(select(Archive))] == [desk.other.id]
    elsewhere = api.call("POST", "/archives/import", desk.cadre, **multipart(workbook(ledger(1, 0)),
                                                                             union=desk.other.code))
    assert elsewhere.status_code == 403 and elsewhere.json["error"] == "forbidden"
    for account in (desk.finance, desk.auditor):
        assert api.call("POST", "/archives/import", account, **multipart(content)).status_code == 403


def test_a_file_that_is_not_a_workbook_or_too_large(api, app, world, desk):
    before = stored(world)
    scan = api.call("POST", "/archives/import", desk.cadre, **multipart(b"%PDF-1.4 a scan", name="台账.xlsx"))
    assert scan.status_code == 415 and scan.json["error"] == "unsupported_type" and "不是Excel工作簿" in scan.json["message"]
    limit = app.extensions["songnuan"]["uploads"].max_bytes
    over = api.call("POST", "/archives/import", desk.cadre, **multipart(b"PK\x03\x04" + b"\x00" * limit))
    assert over.status_code == 413 and over.json["error"] == "too_large" and "文件太大" in over.json["message"]
    huge = b"\x00" * app.config["MAX_CONTENT_LENGTH"]
    far_over = api.call("POST", "/archives/import", desk.cadre, **multipart(huge))
    assert far_over.status_code == 413 and far_over.json["error"] == "too_large"
    no_file = api.call("POST", "/archives/import", desk.cadre, data={"file": "text"},
                       content_type="multipart/form-data")
    assert no_file.status_code == 400 and no_file.json["error"] == "invalid"
    assert stored(world) == before


def test_the_document_lists_both(api, desk):
    paths = api.call("GET", "/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/archives/import-template"]
    operation = paths["/api/v1/archives/import"]["post"]
    assert {"200", "201", "400", "403", "413", "415"} <= set(operation["responses"])
    assert "multipart/form-data" in operation["requestBody"]["content"]


def test_another_unions_ledger_is_refused_before_its_file_is_read(api, desk):
    # Not even a workbook: a 415 would say the file was read; the union is asked first.
    response = api.call("POST", "/archives/import", desk.cadre, **multipart(b"not a workbook", union=desk.other.code))
    assert response.status_code == 403 and response.json["message"] == "只能导入本工会的台账"
