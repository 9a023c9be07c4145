"""The summary's sources of money (资金来源) on the screens: the form asks for the five figures in 元, checks them
(money, not negative, at most two decimals) and stores them; the district's table shows them; the statistics table
counts them. And the summary's file may be the statistics workbook Songnuan produced (judged by its content), while
a macro workbook, any other archive, and an .xlsx as a case's document are still refused."""

from __future__ import annotations

import html
import io
import re
import zipfile

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from workflows import verbs
from workflows.errors import DomainError
from workflows.infra.uploads import XLSX
from workflows.models import AuditEvent, Summary
from workflows.reads import reports

from .test_summary_screens import field_error, snapshot, summary_of

TEXT = "我会共走访困难职工12户，发放慰问金1.2万元。"
FUNDS = {"upper": "12000", "own": "3500.50", "government": "", "society": "800", "donations": "1,000.25"}


def send(client, campaign, funds=None, text=TEXT, content=None, name="统计表.xlsx"):
    data = {"csrf_token": client.csrf(), "text": text}
    data.update({f"funds.{key}": value for key, value in (funds or {}).items()})
    if content is not None:
        data["file"] = FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")
    boundary, body = encode_multipart(data)
    return client.client.post(f"/summaries/{campaign.id}", data=body,
                              content_type=f"multipart/form-data; boundary={boundary}")


def value_of(response, key: str) -> str:
    found = re.search(rf'id="fund-{key}" name="funds.{key}" value="([^"]*)"', response.get_data(as_text=True))
    return html.unescape(found.group(1))


@pytest.fixture
def campaign(world):
    return world.default_campaign()


@pytest.fixture
def union(world):
    return world.default_union()


@pytest.fixture
def cadre(world, union, campaign):
    account = world.person("cadre", union)
    world.session.commit()
    return account


def test_the_form_asks_for_the_figures_and_stores_them(pages, world, campaign, union, cadre):
    client = pages.as_(cadre)
    form = client.get(f"/summaries/{campaign.id}").get_data(as_text=True)
    for label in ("上级工会拨付", "本级工会", "党政支持", "社会募集", "职工捐款"):
        assert label in form
    assert 'accept=".pdf,.jpg,.jpeg,.png,.xlsx"' in form

    response = send(client, campaign, FUNDS)
    assert response.status_code == 302
    summary = summary_of(world, union)
    assert [summary.fund_upper, summary.fund_own, summary.fund_government, summary.fund_society,
            summary.fund_donations] == [12000, 3500.50, None, 800, 1000.25]
    event = world.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event.changes["fund_upper"] == [None, "12000.00"] and "fund_government" not in event.changes
    again = client.get(f"/summaries/{campaign.id}")  # shown again as stored, to be corrected
    assert [value_of(again, key) for key in FUNDS] == ["12000.00", "3500.50", "", "800.00", "1000.25"]

    # the district sees them beside who has handed in, and the statistics table counts them
    page = pages.as_(world.person("reviewer")).get(f"/summaries/?campaign={campaign.id}").get_data(as_text=True)
    assert re.search(r'<td class="num" data-fund="upper"[^>]*>12,000.00</td>', page)
    assert re.search(r'<td class="num" data-fund="government"[^>]*>—</td>', page)
    world.session.expire_all()
    sources = reports.statistics(world.session, campaign.id)["helped"]["sources"]
    assert sources["upper"] == {"yuan": "12000.00", "wan": "1.20"} and sources["donations"]["yuan"] == "1000.25"


@pytest.mark.parametrize("given, message", [
    ("-1", "不能小于0"), ("12.345", "最多两位小数"),
    ("一万", "应为数字，如 1500、1,500 或 1500.50"), ("1e12", "应为数字，如 1500、1,500 或 1500.50"), ("NaN", "应为数字，如 1500、1,500 或 1500.50"),
])
def test_a_bad_figure_is_told_beside_it_and_nothing_is_stored(pages, world, campaign, union, cadre, given, message):
    client = pages.as_(cadre)
    send(client, campaign, {"upper": "100"})
    before = snapshot(world)
    response = send(client, campaign, {**FUNDS, "society": given})
    assert response.status_code == 400
    assert field_error(response, "fund-society") == message
    assert value_of(response, "society") == given and value_of(response, "upper") == "12000"  # kept as typed
    assert snapshot(world) == before
    assert summary_of(world, union).fund_upper == 100


def test_the_statistics_workbook_is_accepted_as_the_summary_s_file(pages, api, world, campaign, union, cadre):
    world.case(union=union)
    world.session.commit()
    from_api = api.call("GET", f"/reports/statistics?campaign={campaign.id}&format=xlsx", cadre)
    from_screen = pages.as_(cadre).get(f"/reports/statistics.xlsx?campaign={campaign.id}")
    assert from_api.status_code == from_screen.status_code == 200
    client = pages.as_(cadre)
    for data in (from_api.get_data(), from_screen.get_data()):
        response = send(client, campaign, FUNDS, content=data, name="送温暖活动统计表.xlsx")
        assert response.status_code == 302, field_error(response, "file")
        summary = summary_of(world, union)
        assert (summary.file_name, summary.file_type) == ("送温暖活动统计表.xlsx", XLSX)
        assert world.uploads.read(summary.file_id) == data
    download = client.get(f"/summaries/file/{summary.id}")
    assert download.status_code == 200 and download.get_data() == data
    assert "attachment" in download.headers["Content-Disposition"]  # a workbook is saved, never shown inline


def _rezip(data: bytes, extra: dict[str, bytes], drop: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            if item.filename not in drop:
                target.writestr(item, source.read(item))
        for name, content in extra.items():
            target.writestr(name, content)
    return out.getvalue()


def test_other_archives_are_still_refused(pages, api, world, campaign, union, cadre):
    world.case(union=union)
    world.session.commit()
    workbook = api.call("GET", f"/reports/statistics?campaign={campaign.id}&format=xlsx", cadre).get_data()
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("统计表.html", "<script>alert(1)</script>")
    client = pages.as_(cadre)
    before = snapshot(world)
    for content in (_rezip(workbook, {"xl/vbaProject.bin": b"macro"}),  # a macro workbook (.xlsm)
                    _rezip(workbook, {}, drop=("xl/workbook.xml",)),  # not a workbook
                    plain_zip.getvalue(), b"PK\x03\x04 not really a zip"):
        response = send(client, campaign, FUNDS, content=content)
        assert response.status_code == 400
        assert field_error(response, "file") == "只能上传PDF、JPEG、PNG或Excel（.xlsx）文件（按文件内容判断）"
    assert snapshot(world) == before
    # a case's documents stay PDF, JPEG or PNG
    draft = world.draft(union=union)
    with pytest.raises(DomainError) as refused:
        verbs.add_document(world.session, cadre, world.clock, world.uploads, draft.id, "application",
                           "统计表.xlsx", workbook)
    assert refused.value.message == "只能上传PDF、JPEG或PNG文件（按文件内容判断）"
    assert world.session.scalar(select(Summary).where(Summary.union_id == union.id)) is None
