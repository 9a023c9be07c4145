"""台账导入 on the screens: the link from the archive list, the template download, the dry run showing every bad
cell by row and column (nothing stored), the import storing all households, a refused file said on the page (too
large ones too, never the bare error page), the reviewer choosing the union, and who may not."""

from __future__ import annotations

import html
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from workflows.models import Archive, AuditEvent

from ..ledger_data import ledger, workbook


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def stored(world) -> tuple[int, int]:
    with Session(world.session.get_bind()) as session:
        return (session.scalar(select(func.count()).select_from(Archive)),
                session.scalar(select(func.count()).select_from(AuditEvent)))


def upload(client, content: bytes, action: str = "check", name: str = "台账.xlsx", **fields):
    """The form sent with a file, encoded in memory: the test client would spool a large one to a temporary file it
    never closes when the application refuses the request unread (a ResourceWarning, an error here)."""
    file = FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")
    boundary, data = encode_multipart({"csrf_token": client.csrf(), "action": action, "file": file, **fields})
    return client.client.post("/archives/import", data=data, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def desk(pages, world):
    union, other = world.union("城东环卫所工会"), world.union("红星纺织厂工会")
    cadre, reviewer, auditor = world.person("cadre", union), world.person("reviewer"), world.person("auditor")
    world.session.commit()
    return {"union": union, "other": other, "cadre": pages.as_(cadre), "reviewer": pages.as_(reviewer),
            "auditor": pages.as_(auditor)}


def test_the_list_links_to_the_import_and_the_template_downloads(desk):
    cadre = desk["cadre"]
    assert "/archives/import" in text(cadre.get("/archives/")) and "导入台账" in text(cadre.get("/archives/"))
    page = cadre.get("/archives/import")
    assert page.status_code == 200 and "下载台账模板" in text(page) and "检查（不导入）" in text(page)
    assert "导入到：城东环卫所工会" in re.sub(r"<[^>]+>", "", text(page))
    template = cadre.get("/archives/import-template")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    assert load_workbook(io.BytesIO(template.data)).sheetnames == ["档案台账", "填表说明"]


def test_the_dry_run_shows_every_bad_cell_and_stores_nothing(desk, world):
    rows = ledger(households=2, members=1)
    rows[0]["身份证号码"] = rows[0]["身份证号码"][:-1] + ("1" if rows[0]["身份证号码"][-1] == "0" else "0")
    rows[1]["户主身份证号码"] = rows[0]["身份证号码"]
    rows[2]["主要致困原因"] = "生病"
    before = stored(world)
    page = upload(desk["cadre"], workbook(rows))
    assert page.status_code == 400
    body = text(page)
    assert "台账有2处错误" in body and "没有导入任何数据" in body
    table = re.search(r'<table id="ledger-errors">(.*?)</table>', body, re.S).group(1)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    assert [c for c in cells if c] == [["2", "身份证号码", "身份证号码校验位错误，请核对"],
                                       ["4", "主要致困原因", "「生病」不是可选的值，应为：无劳动能力、有劳动能力而未就业、下岗失业、"
                                        "未参加社会保险、社会保险待遇落实不到位、患重特大疾病、遭受自然灾害、遭受意外事故、子女上学、其他"]]
    assert 'id="ledger-form"' in body  # the form stays, to upload the corrected file
    assert stored(world) == before


def test_a_good_file_checks_then_imports_all(desk, world):
    content = workbook(ledger(households=3, members=2))
    before = stored(world)
    checked = upload(desk["cadre"], content)
    assert checked.status_code == 200 and "共3户、9人，可以导入" in text(checked)
    assert stored(world) == before
    done = upload(desk["cadre"], content, action="import")
    assert done.status_code == 302 and "status=active" in done.headers["Location"]
    listing = text(desk["cadre"].get(done.headers["Location"]))
    assert "已从台账导入 3 户（9 人）的档案" in listing
    assert stored(world) == (before[0] + 3, before[1] + 3)  # one event per archive


@pytest.mark.parametrize("content, status, words", [
    (b"%PDF-1.4 a scan", 415, "不是Excel工作簿"),
    (b"", 400, "请选择台账文件"),  # the browser sends an empty part with no name when nothing is chosen
])
def test_a_refused_file_is_said_on_the_page(desk, content, status, words):
    page = upload(desk["cadre"], content, name="台账.xlsx" if content else "")
    assert page.status_code == status and words in text(page) and 'id="ledger-form"' in text(page)


def test_a_file_over_the_limit_keeps_the_page(desk, app):
    limit = app.extensions["songnuan"]["uploads"].max_bytes
    just_over = upload(desk["cadre"], b"PK\x03\x04" + b"\x00" * limit)  # reaches the view: the reader refuses it
    assert just_over.status_code == 413 and "文件太大，不能超过10MB" in text(just_over)
    assert 'id="ledger-form"' in text(just_over)
    far_over = upload(desk["cadre"], b"\x00" * app.config["MAX_CONTENT_LENGTH"])  # refused before any view
    assert far_over.status_code == 413 and "文件太大，不能超过10MB" in text(far_over)
    assert 'id="ledger-form"' in text(far_over)


def test_the_reviewer_chooses_the_union(desk, world):
    reviewer, union = desk["reviewer"], desk["union"]
    page = text(reviewer.get("/archives/import"))
    assert 'name="union"' in page and union.code in page and "红星纺织厂工会" in page
    content = workbook(ledger(households=1, members=1))
    missing = upload(reviewer, content, action="import")
    assert missing.status_code == 400 and "请选择台账所属的基层工会" in text(missing)
    done = upload(reviewer, content, action="import", union=union.code)
    assert done.status_code == 302
    with Session(world.session.get_bind()) as session:
        assert [a.union_id for a in session.scalars(select(Archive))] == [union.id]


def test_the_auditor_may_not_import(desk):
    auditor = desk["auditor"]
    assert "导入台账" not in text(auditor.get("/archives/"))
    assert auditor.get("/archives/import").status_code == 403
    assert auditor.get("/archives/import-template").status_code == 403
    assert upload(auditor, workbook(ledger(1, 0))).status_code == 403
