"""活动总结 on the screens: a union hands in its summary (text and a file) and may replace it until the report
deadline; bad input is told beside its field and stores nothing; the district sees who has handed in; the file goes
to the union's own people and the district's readers only."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from workflows import verbs
from workflows.actors import CONSOLE
from workflows.infra.clock import LOCAL
from workflows.models import AuditEvent, Summary, Union
from workflows.vocab import UnionKind

from ..factories import PDF, PNG
from ..storage import stored

REPORT_DEADLINE = dt.datetime(2018, 1, 26, 0, 0, tzinfo=LOCAL)  # the default campaign's: 2018-01-25 24:00
TEXT = "我会共走访困难职工12户，发放慰问金1.2万元。"


def send(client, campaign, text=TEXT, content=None, name="统计表.pdf"):
    """A browser's multipart POST of the summary form (the body built in memory: the test client would spool a
    large one to a temporary file that it never closes)."""
    data = {"csrf_token": client.csrf(), "text": text}
    if content is not None:
        data["file"] = FileStorage(io.BytesIO(content), filename=name, content_type="application/octet-stream")
    boundary, body = encode_multipart(data)
    return client.client.post(f"/summaries/{campaign.id}", data=body,
                              content_type=f"multipart/form-data; boundary={boundary}")


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def words(response) -> str:
    """The page as read: tags dropped, white space as single spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def field_error(response, field: str) -> str | None:
    """The message shown beside a field of the form (inside the field's has-error block)."""
    found = re.search(rf'<div class="has-error">\s*<label for="{field}">.*?<span class="field-error">(.*?)</span>',
                      response.get_data(as_text=True), re.S)
    return html.unescape(found.group(1)) if found else None


def textarea(response) -> str | None:
    found = re.search(r'<textarea id="text"[^>]*>(.*?)</textarea>', response.get_data(as_text=True), re.S)
    return html.unescape(found.group(1)) if found else None


def flashes(client) -> list[str]:
    with client.client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def snapshot(world) -> tuple:
    """What a refusal must leave as it was: the summaries, the audit trail and the upload folder."""
    world.session.commit()
    world.session.expire_all()
    summaries = [(s.union_id, s.text, s.file_id, s.file_name, s.submitted_at)
                 for s in world.session.scalars(select(Summary).order_by(Summary.id))]
    events = world.session.scalar(select(func.count()).select_from(AuditEvent))
    return summaries, events, stored(world.uploads)


def summary_of(world, union) -> Summary | None:
    world.session.commit()
    world.session.expire_all()
    return world.session.scalar(select(Summary).where(Summary.union_id == union.id))


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


# ------------------------------------------------------------------ handing in

def test_a_cadre_hands_in_a_summary_with_a_file(pages, world, campaign, union, cadre):
    client = pages.as_(cadre)
    page = page_text(client.get("/summaries/"))
    assert campaign.name in page and "未提交" in page and "已提交" not in page
    form = client.get(f"/summaries/{campaign.id}")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.get_data(as_text=True)
    assert "提交截止：2018-01-25 24:00" in page_text(form)

    response = send(client, campaign, content=PDF)
    assert response.status_code == 302 and response.headers["Location"] == "/summaries/"
    assert flashes(client) == ["活动总结已提交"]

    summary = summary_of(world, union)
    assert (summary.text, summary.file_name, summary.file_type, summary.submitted_by_id) == (
        TEXT, "统计表.pdf", "application/pdf", cadre.id)
    assert world.uploads.read(summary.file_id) == PDF
    event = world.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.comment, event.actor_id) == ("summary_submit", "提交活动总结", cadre.id)

    page = words(client.get("/summaries/"))
    assert "已提交 2018-01-08 09:00" in page and "未提交" not in page
    form = client.get(f"/summaries/{campaign.id}")
    assert textarea(form) == TEXT
    assert "已于 2018-01-08 09:00 提交，截止前可以重新提交" in page_text(form)
    assert f'href="/summaries/file/{summary.id}">统计表.pdf</a>' in form.get_data(as_text=True)
    # The head of the same union sees the same summary.
    assert textarea(pages.as_(world.person("head", union)).get(f"/summaries/{campaign.id}")) == TEXT


def test_the_summary_can_be_replaced_before_the_deadline(pages, world, campaign, union, cadre):
    client = pages.as_(cadre)
    send(client, campaign, content=PDF)
    old = summary_of(world, union)
    old_file = old.file_id

    world.clock.advance(days=3)
    client = pages.as_(cadre)
    response = send(client, campaign, text="修订稿：走访14户。", content=PNG, name="统计表.png")
    assert response.status_code == 302 and flashes(client) == ["活动总结已提交"]
    new = summary_of(world, union)
    assert new.id == old.id and world.session.scalar(select(func.count()).select_from(Summary)) == 1
    assert (new.text, new.file_name, new.file_type) == ("修订稿：走访14户。", "统计表.png", "image/png")
    assert stored(world.uploads) == [new.file_id]  # the replaced file is gone
    event = world.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event.comment == "修改活动总结" and event.changes["text"] == [TEXT, "修订稿：走访14户。"]

    # New text alone keeps the file handed in before.
    send(client, campaign, text="定稿。")
    latest = summary_of(world, union)
    assert (latest.text, latest.file_id) == ("定稿。", new.file_id)
    assert "已于 2018-01-11 09:00 提交" in page_text(client.get(f"/summaries/{campaign.id}"))


@pytest.mark.parametrize("moment", [REPORT_DEADLINE, REPORT_DEADLINE + dt.timedelta(days=2)],
                         ids=["at-the-deadline", "after-it"])
def test_after_the_report_deadline_the_form_is_closed(pages, world, campaign, union, cadre, moment):
    send(pages.as_(cadre), campaign, content=PDF)
    world.clock.set(moment)
    client = pages.as_(cadre)
    before = snapshot(world)
    form = client.get(f"/summaries/{campaign.id}")
    shown = page_text(form)
    assert "总结提交已截止。" in shown and "<form method=\"post\" enctype" not in shown
    assert TEXT in shown and "统计表.pdf" in shown  # what was handed in can still be read

    response = send(client, campaign, text="迟到的修改", content=PNG, name="new.png")
    assert response.status_code == 409
    assert "已过活动总结的提交截止时间（2018-01-25 24:00），不能再提交或修改" in page_text(response)
    assert "<form method=\"post\" enctype" not in page_text(response)
    assert snapshot(world) == before


def test_one_minute_before_the_deadline_it_is_still_open(pages, world, campaign, union, cadre):
    world.clock.set(REPORT_DEADLINE - dt.timedelta(minutes=1))
    client = pages.as_(cadre)
    assert "总结提交已截止" not in page_text(client.get(f"/summaries/{campaign.id}"))
    assert send(client, campaign).status_code == 302 and summary_of(world, union).text == TEXT


# ------------------------------------------------------------------ bad input

HTML = b"<!doctype html><html><script>alert(1)</script></html>"


@pytest.mark.parametrize("text,content,name,field,message", [
    ("   ", None, None, "text", "请填写活动总结"),
    ("长" * 5001, None, None, "text", "太长，最多5000个字"),
    (TEXT, HTML, "统计表.png", "file", "只能上传PDF、JPEG、PNG或Excel（.xlsx）文件（按文件内容判断）"),
    (TEXT, b"", "空.pdf", "file", "文件是空的"),
    (TEXT, PDF, "../../etc/统计表.pdf", "file", "文件名不能包含路径或特殊字符"),
    (TEXT, b"%PDF-" + b"0" * (10 * 1024 * 1024), "大扫描件.pdf", "file", "文件太大，不能超过10MB"),
], ids=["empty", "too-long", "html-as-png", "empty-file", "path-in-name", "too-large"])
@pytest.mark.parametrize("earlier", [False, True], ids=["first", "replacing"])
def test_bad_input_is_told_beside_its_field_and_stores_nothing(pages, world, campaign, union, cadre, text,
                                                               content, name, field, message, earlier):
    client = pages.as_(cadre)
    if earlier:
        send(client, campaign, text="原稿", content=PNG, name="原表.png")
    before = snapshot(world)

    response = send(client, campaign, text=text, content=content, name=name)
    assert response.status_code in (400, 413, 415)
    assert field_error(response, field) == message
    assert textarea(response) == text  # what was typed is kept
    assert 'role="alert"' not in response.get_data(as_text=True)  # the message is beside the field, not above
    assert snapshot(world) == before
    if earlier:
        assert summary_of(world, union).text == "原稿"


def test_a_request_far_over_the_limit_gets_the_size_page_and_stores_nothing(pages, world, campaign, cadre):
    """Beyond the limit and the room for the form around it the request is not read at all: what was typed cannot
    be shown again, but the person is told why, and nothing is stored."""
    client = pages.as_(cadre)
    before = snapshot(world)
    response = send(client, campaign, content=b"%PDF-" + b"0" * (11 * 1024 * 1024), name="整本扫描.pdf")
    assert response.status_code == 413 and "上传的文件太大：每个文件不超过10MB" in page_text(response)
    assert snapshot(world) == before


# ------------------------------------------------------------------ the district's overview

def test_the_overview_lists_every_grassroots_union_with_what_it_handed_in(pages, world, campaign, union, cadre):
    federation = verbs.create_union(world.session, CONSOLE, world.clock, "F1", "机械行业工会联合会",
                                           world.district().code, kind=UnionKind.federation)
    others = [world.union(f"第{i}纺织厂工会") for i in range(1, 4)]
    nested = verbs.create_union(world.session, CONSOLE, world.clock, "F1-01", "联合会下属工会", "F1")
    other_campaign = world.campaign()
    world.session.commit()
    send(pages.as_(cadre), campaign, content=PDF)
    send(pages.as_(world.person("head", others[1])), campaign, text="纺织二厂总结")
    send(pages.as_(world.person("cadre", others[2])), other_campaign, text="另一次活动的总结")

    grassroots = world.session.scalars(select(Union).where(Union.kind == UnionKind.grassroots)
                                       .order_by(Union.code)).all()
    handed = {s.union_id: s for s in world.session.scalars(select(Summary)
                                                          .where(Summary.campaign_id == campaign.id))}
    assert {u.id for u in grassroots} == {union.id, nested.id, *(o.id for o in others)}

    for reader in ("reviewer", "auditor"):
        response = pages.as_(world.person(reader)).get(f"/summaries/?campaign={campaign.id}")
        assert response.status_code == 200
        shown = page_text(response)
        assert f"已提交 {len(handed)} 个，未提交 {len(grassroots) - len(handed)} 个" in shown
        body = shown[shown.index('<table id="summary-status"'):]
        listed = re.findall(r"<tr class=\"[^\"]*\">\s*<td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td>\s*<td[^>]*>(.*?)</td>", body, re.S)
        assert [(code, name) for code, name, _state in listed] == [(u.code, u.name) for u in grassroots]
        assert [("已提交" in state) for _c, _n, state in listed] == [u.id in handed for u in grassroots]
        assert federation.name not in body and world.district().name not in body
        assert "纺织二厂总结" in body and "另一次活动的总结" not in body
        assert f'href="/summaries/file/{handed[union.id].id}">统计表.pdf</a>' in body

    other = page_text(pages.as_(world.person("reviewer")).get(f"/summaries/?campaign={other_campaign.id}"))
    assert f"已提交 1 个，未提交 {len(grassroots) - 1} 个" in other and "另一次活动的总结" in other


# ------------------------------------------------------------------ downloading the file

def test_the_file_goes_to_the_unions_people_and_the_districts_readers_only(pages, world, campaign, union, cadre):
    send(pages.as_(cadre), campaign, content=PDF)
    summary = summary_of(world, union)
    stranger = world.union("远方纺织厂工会")
    path = f"/summaries/file/{summary.id}"

    for account in (cadre, world.person("head", union), world.person("reviewer"), world.person("auditor")):
        world.session.commit()
        response = pages.as_(account).get(path)
        assert response.status_code == 200, account.role
        assert response.data == PDF and response.mimetype == "application/pdf"
    for account, status in ((world.person("cadre", stranger), 404), (world.person("head", stranger), 404),
                            (world.person("finance"), 403), (world.account("admin"), 403)):
        world.session.commit()
        response = pages.as_(account).get(path)
        assert response.status_code == status, account.role
        assert response.data != PDF and "统计表.pdf" not in page_text(response)
    world.session.commit()
    assert pages.as_(cadre).get("/summaries/file/999999").status_code == 404
