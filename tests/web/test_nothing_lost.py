"""Nothing typed is lost, on the server's side: a form sent after the session ended goes to sign in and back to its
page (keep.js puts back what was typed: tests/browser/test_nothing_lost.py), a form whose page expired is never a
bare 400, the language switch returns to a page; a household saved twice is one draft; a draft its drafter no
longer wants is deleted, audited."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from workflows import verbs
from workflows.identity import mask_id
from workflows.infra.clock import to_db
from workflows.models import ApiToken, Archive, AuditEvent, Case, Document, Member, Notification
from workflows.states import State
from workflows.errors import Reason
from workflows.verbs.applications import DraftExists, Refused

from ..factories import case_data
from ..storage import stored
from .conftest import snapshot
from .test_case_form import filled

HERE = "http://localhost"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def cases(world) -> int:
    world.session.commit()
    return world.session.scalar(select(func.count()).select_from(Case))


def end_sessions(world, account) -> None:
    """Signed out elsewhere (or the password reset): every session of the account ends, the cookie stays."""
    world.session.execute(update(ApiToken).where(ApiToken.account_id == account.id)
                          .values(revoked_at=to_db(world.clock.now())))
    world.session.commit()


# ---------------------------------------------------------------- a form sent after the session ended

def test_a_form_sent_after_the_session_ended_goes_to_sign_in_and_back_to_its_page(pages, world):
    campaign, cadre = world.default_campaign(), world.person("cadre", world.default_union())
    world.session.commit()
    client = pages.as_(cadre)
    assert client.get("/cases/new").status_code == 200
    client.csrf()
    end_sessions(world, cadre)
    before = cases(world)

    response = client.post("/cases/new", filled(campaign), headers={"Referer": f"{HERE}/cases/new"})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/signin" and parse_qs(target.query)["next"] == ["/cases/new"]
    page = text_of(client.get(response.headers["Location"]))
    assert "登录已失效" in page and "您填写的内容已保留" in page and "刷新" not in page
    assert cases(world) == before


def test_a_form_posted_to_an_address_that_is_no_page_comes_back_to_the_page_it_was_on(pages, world):
    case = world.case(State.documented)
    head = world.person("head", case.union)
    world.session.commit()
    client = pages.as_(head)
    client.csrf()
    end_sessions(world, head)
    response = client.post(f"/cases/{case.id}/act", {"trigger": "return", "comment": "缺少收入证明"},
                           headers={"Referer": f"{HERE}/cases/{case.id}"})
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == [f"/cases/{case.id}"]
    # No page of this site to go back to: after signing in, the person's start page.
    response = client.post(f"/cases/{case.id}/act", {"trigger": "return"},
                           headers={"Referer": "https://elsewhere.example/cases/1"})
    assert "next" not in parse_qs(urlsplit(response.headers["Location"]).query)


def test_a_page_opened_after_the_session_ended_says_so(pages, world):
    cadre = world.person("cadre", world.default_union())
    world.session.commit()
    client = pages.as_(cadre)
    end_sessions(world, cadre)
    response = client.get("/cases/?state=drafted")
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/cases/?state=drafted"]
    assert "登录已失效，请重新登录" in text_of(client.get(response.headers["Location"]))
    assert "请先登录" in text_of(pages.anonymous().client.get("/cases/", follow_redirects=True))


def test_a_form_whose_page_expired_is_sent_back_to_its_page_not_refused_bare(pages, world):
    """Signed in again in another tab: the session is new, the form's CSRF token is the old one's."""
    campaign, cadre = world.default_campaign(), world.person("cadre", world.default_union())
    world.session.commit()
    client = pages.as_(cadre)
    before = snapshot(world)
    response = client.post("/cases/new", filled(campaign, csrf_token="stale"),
                           headers={"Referer": f"{HERE}/cases/new"})
    assert response.status_code == 302 and response.headers["Location"] == "/cases/new"
    page = text_of(client.get("/cases/new"))
    assert "页面已过期，未能提交：您填写的内容已保留" in page and "刷新" not in page
    # Where there is no page to go back to, the error page says what to do.
    response = client.post("/cases/new", filled(campaign, csrf_token="stale"))
    assert response.status_code == 400 and "重新打开该页面" in text_of(response)
    assert snapshot(world) == before


def test_a_form_sent_after_signing_out_in_another_tab_goes_to_sign_in(pages, world):
    campaign, cadre = world.default_campaign(), world.person("cadre", world.default_union())
    world.session.commit()
    client = pages.as_(cadre)
    token = client.csrf()
    client.post("/signout")  # the other tab: the session and its CSRF secret are gone
    response = client.post("/cases/new", filled(campaign, csrf_token=token),
                           headers={"Referer": f"{HERE}/cases/new"})
    target = urlsplit(response.headers["Location"])
    assert target.path == "/signin" and parse_qs(target.query)["next"] == ["/cases/new"]
    assert "登录已失效" in text_of(client.get(response.headers["Location"]))


def test_the_language_switch_on_a_page_answering_a_form_goes_back_to_the_form(pages, world):
    client = pages.as_(world.person("cadre", world.default_union()))
    world.session.commit()
    back = client.post("/language", {"lang": "en", "next": ""}, headers={"Referer": f"{HERE}/cases/new"})
    assert back.headers["Location"] == "/cases/new" and "lang=en" in back.headers["Set-Cookie"]
    # The page answered a POST to an address that is no page: the start page rather than a 405.
    back = client.post("/language", {"lang": "zh", "next": ""}, headers={"Referer": f"{HERE}/finance/batch"})
    assert back.headers["Location"] == "/signin"
    # A stale page's switch (its CSRF token from a session gone) still switches.
    assert client.post("/language", {"lang": "en", "next": "/cases/"}, csrf=False).headers["Location"] == "/cases/"


def test_the_passwords_an_administrator_types_are_never_kept_in_the_browser(pages, world):
    """keep.js keeps what is typed in sessionStorage: a password shown as typed (type text) is marked off for it."""
    admin, other = world.person("admin", None), world.person("cadre", world.default_union())
    world.session.commit()
    client = pages.as_(admin)
    for path in ("/admin/accounts/new", f"/admin/accounts/{other.id}"):
        page = client.get(path).get_data(as_text=True)
        [tag] = re.findall(r'<input[^>]*name="password"[^>]*>', page)
        assert 'data-keep="off"' in tag and 'autocomplete="new-password"' in tag, path


# ---------------------------------------------------------------- one draft per household, whatever Back does

def test_saving_a_new_case_again_opens_the_draft_saved_first_in_its_form(pages, world):
    """The address names the page the typed data were kept under (keep-from): keep.js puts them over the draft."""
    campaign, cadre = world.default_campaign(), world.person("cadre", world.default_union())
    world.session.commit()
    client = pages.as_(cadre)
    form = filled(campaign)
    first = client.post("/cases/new", form)
    assert first.status_code == 302
    draft = first.headers["Location"]
    before = snapshot(world)

    again = client.post("/cases/new", {**form, "aid.amount": "1200"})  # Back, change, then Save again
    target = urlsplit(again.headers["Location"])
    assert again.status_code == 302 and target.path == f"{draft}/edit"
    assert parse_qs(target.query)["keep-from"] == ["/cases/new"]
    page = client.get(again.headers["Location"])
    assert page.status_code == 200
    shown = text_of(page)
    assert "修改帮扶申请" in shown and "没有重复新建" in shown and "已为您打开它的修改页" in shown
    assert snapshot(world) == before  # nothing saved, nothing made: the change waits in the browser


def test_a_draft_this_person_may_not_change_opens_on_its_page_and_keeps_what_was_typed(pages, world, monkeypatch):
    campaign, cadre = world.default_campaign(), world.person("cadre", world.default_union())
    world.session.commit()
    client = pages.as_(cadre)
    form = filled(campaign)
    draft = client.post("/cases/new", form).headers["Location"]
    before = snapshot(world)

    def not_yours(*args, **kwargs):
        raise Refused(Reason("drafter", "只有起草该草稿的人可以修改它"))
    monkeypatch.setattr(verbs, "edit_case", not_yours)
    again = client.post("/cases/new", form)
    target = urlsplit(again.headers["Location"])
    assert again.status_code == 302 and target.path == draft
    assert parse_qs(target.query)["keep-from"] == ["/cases/new"]  # keep.js: not saved, so not dropped
    shown = text_of(client.get(again.headers["Location"]))
    assert "没有重复新建" in shown and "没有保存" in shown
    assert snapshot(world) == before


def test_the_api_answers_a_second_draft_of_one_household_with_the_first(api, world):
    campaign, cadre = world.default_campaign(), world.person("cadre", world.default_union())
    world.session.commit()
    data = {"campaign": campaign.id, **case_data()}
    first = api.call("POST", "/cases", cadre, json=data)
    assert first.status_code == 201
    again = api.call("POST", "/cases", cadre, json=data)
    assert again.status_code == 409
    assert again.json["rule"] == "draft_exists" and again.json["case_id"] == first.json["id"]
    assert cases(world) == 1


def test_only_a_draft_is_opened_instead(world):
    """A household whose application was handed in is refused as before; one whose draft was withdrawn applies
    again; another union's draft is not this cadre's to open."""
    campaign = world.default_campaign()
    handed_in = world.case(State.documented)
    cadre = world.person("cadre", handed_in.union)
    data = case_data(applicant={**case_data()["applicant"], "id_number": handed_in.id_number})
    with pytest.raises(Refused) as refused:
        verbs.create_case(world.session, cadre, world.clock, campaign.id, data)
    assert not isinstance(refused.value, DraftExists) and "已有申请" in refused.value.message

    withdrawn = world.case(State.withdrawn)
    data = case_data(applicant={**case_data()["applicant"], "id_number": withdrawn.id_number})
    again = verbs.create_case(world.session, cadre, world.clock, campaign.id, data)
    assert again.id != withdrawn.id and again.state == State.drafted

    elsewhere = world.draft(world.union("第二机床厂工会"))
    data = case_data(applicant={**case_data()["applicant"], "id_number": elsewhere.id_number})
    with pytest.raises(Refused) as refused:
        verbs.create_case(world.session, cadre, world.clock, campaign.id, data)
    assert not isinstance(refused.value, DraftExists) and f"#{elsewhere.id}" not in refused.value.message


# ---------------------------------------------------------------- deleting a draft

def test_its_drafter_deletes_a_draft_from_the_case_page(pages, world):
    case = world.draft()
    world.attach(case)
    world.session.add(Notification(key=f"reminder-{case.id}", kind="reminder", account_id=case.created_by_id,
                                   case_id=case.id, text="请补充资料", created_at=to_db(world.clock.now())))
    world.session.commit()
    case_id, archive_id, name, number = case.id, case.archive_id, case.applicant_name, case.id_number
    files = [d.id for d in case.documents]
    assert files and set(files) <= set(stored(world.uploads))
    client = pages.as_(world.person("cadre", case.union))

    page = text_of(client.get(f"/cases/{case_id}"))
    assert "删除草稿" in page and "确认删除草稿" in page
    response = client.post(f"/cases/{case_id}/delete", {"version": str(case.version)})
    assert response.status_code == 302 and response.headers["Location"] == "/cases/"
    assert f"已删除草稿：{name}" in text_of(client.get("/cases/"))
    assert client.get(f"/cases/{case_id}").status_code == 410  # said to be deleted (test_answered_pages)

    session = world.session
    session.expire_all()
    assert session.get(Case, case_id) is None
    assert session.scalar(select(func.count()).select_from(Member).where(Member.case_id == case_id)) == 0
    assert session.scalar(select(func.count()).select_from(Document).where(Document.case_id == case_id)) == 0
    assert not set(files) & set(stored(world.uploads))
    assert session.get(Archive, archive_id) is not None  # archives are never deleted
    assert session.scalar(select(Notification.case_id).where(Notification.text == "请补充资料")) is None
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "delete_draft")).all()
    assert event.case_id == case_id and event.from_state == "drafted"
    assert event.changes["applicant_name"] == [name, None]
    assert event.changes["id_number"] == [mask_id(number), None] and number not in str(event.changes)
    # The next case is never given the deleted one's number, whose events stay in the trail.
    assert world.draft().id > case_id


def test_only_its_drafter_deletes_a_draft_and_only_one_never_handed_in(pages, world):
    draft = world.draft()
    union = draft.union
    returned = world.case(State.documented)
    world.fire(returned, "return", world.person("head", union), comment="缺少收入证明")
    world.session.commit()
    other, drafter, head = (pages.as_(person) for person in (world.account("cadre", union),
                                                             world.person("cadre", union), world.person("head", union)))
    before = snapshot(world)

    response = other.post(f"/cases/{draft.id}/delete", {"version": str(draft.version)})
    assert response.status_code == 409 and "只有起草该草稿的人可以删除它" in text_of(response)
    assert "删除草稿" not in text_of(other.get(f"/cases/{draft.id}"))
    response = drafter.post(f"/cases/{returned.id}/delete", {"version": str(returned.version)})
    assert response.status_code == 409 and "提交过审核" in text_of(response)
    assert "确认删除草稿" not in text_of(drafter.get(f"/cases/{returned.id}"))
    assert head.post(f"/cases/{draft.id}/delete", {}).status_code == 403
    assert snapshot(world) == before


def test_after_the_deadline_a_draft_is_not_deleted_but_left_to_be_forfeited(pages, world):
    draft = world.draft()
    world.session.commit()
    world.clock.advance(days=18)
    assert draft.campaign.past_deadline(world.clock.now())
    drafter = pages.as_(world.person("cadre", draft.union))
    before = snapshot(world)

    assert "确认删除草稿" not in text_of(drafter.get(f"/cases/{draft.id}"))
    response = drafter.post(f"/cases/{draft.id}/delete", {"version": str(draft.version)})
    assert response.status_code == 409 and "截止" in text_of(response)
    assert snapshot(world) == before


def test_the_api_deletes_a_draft_once(api, world):
    case = world.draft()
    cadre = world.person("cadre", case.union)
    world.session.commit()
    assert api.call("DELETE", f"/cases/{case.id}", cadre).status_code == 204
    again = api.call("DELETE", f"/cases/{case.id}", cadre)
    assert again.status_code == 404
