"""Proof of the public notice (issue 13): a union records where and when it posted its list, with a photo or scan
(audited); none of its cases is entered before that (the button and the inbox agree); the notice list page takes
the record and lists the postings; the API too. The 公示名单 shows only the cases whose notice is open or closed at
most seven days ago."""

from __future__ import annotations

import datetime as dt
import html
import io

import pytest
from sqlalchemy import delete, select

from workflows import rules, verbs
from workflows.errors import Forbidden, Invalid, Refused
from workflows.infra.clock import LOCAL
from workflows.models import AuditEvent, NoticePosting
from workflows.states import Action, State

from ..factories import PDF, PNG, id_number


def person(name: str) -> dict:
    return {"name": name, "gender": "male", "id_number": id_number(), "phone": "13912345678",
            "employer": "华光机械厂"}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def desk(world):
    union = world.union()
    people = {role: world.person(role, union) for role in ("cadre", "head")}
    people |= {role: world.person(role) for role in ("reviewer", "finance")}
    world.session.commit()
    return union, people


def unposted(world, union):
    """The factory records a posting for every union it drafts for: take it away again."""
    world.session.execute(delete(NoticePosting).where(NoticePosting.union_id == union.id))
    world.session.commit()
    world.session.expire_all()


def post(world, actor, **overrides):
    values = {"campaign_id": world.default_campaign().id, "place": "厂区公告栏", "posted_on": "2018-01-08",
              "file_name": "公示照片.png", "content": PNG} | overrides
    return verbs.record_notice(world.session, actor, world.clock, world.uploads, **values)


def test_a_case_is_not_entered_before_its_union_recorded_the_notice(api, world, desk):
    union, people = desk
    case = world.case(State.publicized, union=union)
    unposted(world, union)
    case = world.session.get(type(case), case.id)
    with pytest.raises(Refused) as caught:
        world.fire(case, "enter", people["cadre"])
    assert caught.value.rule == "notice_posting" and "公示名单" in caught.value.message
    # The button and the inbox say the same (one rule, compiled to SQL for the inbox).
    got = api.call("GET", f"/cases/{case.id}", people["cadre"]).json
    assert "enter" not in got["triggers"] and "张贴情况" in got["blocked"]["enter"]
    assert case.id not in [item["id"] for item in api.call("GET", "/inbox", people["cadre"]).json["items"]]

    post(world, people["head"])
    world.session.commit()
    assert case.id in [item["id"] for item in api.call("GET", "/inbox", people["cadre"]).json["items"]]
    world.fire(case, "enter", people["cadre"])
    assert case.state == State.entered


def test_another_unions_posting_does_not_count(world, desk):
    union, people = desk
    case = world.case(State.publicized, union=union)
    unposted(world, union)
    other = world.union("红星纺织厂工会")
    post(world, world.person("cadre", other))
    case = world.session.get(type(case), case.id)
    assert not case.notice_posted
    assert world.session.scalar(select(type(case).id).where(type(case).notice_posted,
                                                            type(case).id == case.id)) is None


def test_recording_a_posting_keeps_the_photo_and_writes_one_event(world, desk):
    union, people = desk
    posting = post(world, people["cadre"])
    world.session.commit()
    assert (posting.union_id, posting.place, posting.posted_on) == (union.id, "厂区公告栏", dt.date(2018, 1, 8))
    assert world.uploads.read(posting.file_id) == PNG and posting.file_type == "image/png"
    (event,) = world.session.scalars(select(AuditEvent).where(AuditEvent.action == Action.record_notice)).all()
    assert event.changes["place"] == [None, "厂区公告栏"] and event.changes["union"] == [None, union.code]


def test_who_may_record_and_what_is_refused(world, desk):
    _union, people = desk
    with pytest.raises(Forbidden):
        post(world, people["reviewer"])
    with pytest.raises(Invalid) as caught:
        post(world, people["cadre"], place="", posted_on="2018-02-30", content=b"plain text")
    assert set(caught.value.fields) == {"place", "posted_on", "file"}
    with pytest.raises(Invalid, match="晚于今天"):
        post(world, people["cadre"], posted_on="2018-01-09")
    with pytest.raises(Invalid):
        post(world, people["cadre"], campaign_id=999999)


def test_the_notice_page_records_and_lists_postings(pages, world, desk):
    union, people = desk
    campaign = world.default_campaign()
    world.session.commit()
    cadre = pages.as_(people["cadre"])
    page = text(cadre.get(f"/cases/notice?campaign={campaign.id}"))
    assert "尚未登记张贴情况" in page and "登记张贴情况" in page
    refused = cadre.post("/cases/notice/postings", {"campaign": str(campaign.id), "place": "食堂门口",
                                                     "posted_on": ""})
    assert refused.status_code == 400 and "请填写张贴日期" in text(refused) and 'value="食堂门口"' in text(refused)
    done = cadre.post("/cases/notice/postings", {"campaign": str(campaign.id), "place": "食堂门口",
                                                  "posted_on": "2018-01-08",
                                                  "file": (io.BytesIO(PDF), "公示.pdf")},
                      content_type="multipart/form-data")
    assert done.status_code == 302
    page = text(cadre.get(f"/cases/notice?campaign={campaign.id}"))
    assert "食堂门口" in page and "2018-01-08" in page
    (posting,) = world.session.scalars(select(NoticePosting).where(NoticePosting.union_id == union.id)).all()
    photo = cadre.get(f"/cases/notice/postings/{posting.id}")
    assert photo.status_code == 200 and photo.data == PDF
    world.uploads.storage.delete(posting.file_id)  # its file lost: said so, never a 500
    lost = cadre.get(f"/cases/notice/postings/{posting.id}")
    assert lost.status_code == 404 and "资料文件已丢失" in text(lost)
    # The district reads it beside the union's list, without the form.
    reviewer = text(pages.as_(people["reviewer"]).get(f"/cases/notice?campaign={campaign.id}&union={union.code}"))
    assert "食堂门口" in reviewer and 'action="/cases/notice/postings"' not in reviewer


def test_the_api_records_and_lists_postings(api, world, desk):
    union, people = desk
    campaign = world.default_campaign()
    world.session.commit()
    posted = api.call("POST", "/notices", people["cadre"],
                      data={"campaign": str(campaign.id), "place": "厂区公告栏", "posted_on": "2018-01-08",
                            "file": (io.BytesIO(PNG), "公示.png")}, content_type="multipart/form-data")
    assert posted.status_code == 201, posted.json
    assert posted.json["union"] == union.code and posted.json["place"] == "厂区公告栏"
    listed = api.call("GET", f"/notices?campaign={campaign.id}", people["reviewer"]).json
    assert [(p["union"], p["place"]) for p in listed] == [(union.code, "厂区公告栏")]
    bad = api.call("POST", "/notices", people["cadre"],
                   data={"campaign": str(campaign.id), "place": "", "posted_on": "2018-01-08",
                         "file": (io.BytesIO(PNG), "公示.png")}, content_type="multipart/form-data")
    assert bad.status_code == 400 and "place" in bad.json["fields"]


def test_the_list_shows_cases_in_their_notice_or_just_closed_not_paid_ones_from_weeks_ago(pages, world, desk,
                                                                                          clock):
    union, people = desk
    campaign = world.campaign(publicity_days=0, deadline=dt.datetime(2018, 3, 1, tzinfo=LOCAL))
    old = world.case(State.disbursed, union=union, campaign=campaign, applicant=person("赵老五"))
    clock.advance(days=8)  # old's notice closed eight days ago
    week = world.case(State.entered, union=union, campaign=campaign, applicant=person("钱七"))
    clock.advance(days=7)  # week's notice closed seven days ago: still on the wall
    today = world.case(State.publicized, union=union, campaign=campaign, applicant=person("孙八"))
    world.session.commit()
    page = text(pages.as_(people["cadre"]).get(f"/cases/notice?campaign={campaign.id}"))
    assert "钱＊" in page and "孙＊" in page and "赵＊＊" not in page
    now = clock.now()
    assert [rules.timing.on_notice_list(c, now) for c in (old, week, today)] == [False, True, True]
