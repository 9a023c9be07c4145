"""What the case form says `document` will need (cases.check_new, cases.check, and the form as first shown): the
rules `document` refuses with, asked of the values as typed and unsaved; and the warning beside an account number
that does not look like an ICBC card's."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from workflows import rules, verbs
from workflows.identity import id_number_problem, luhn_complete
from workflows.models import Case
from workflows.rules.banks import icbc_warning
from workflows.vocab import REQUIRED_DOCUMENTS, DocumentKind

from .conftest import snapshot
from .test_case_form import flashes, submitted, text_of

NOT_ICBC = luhn_complete("622848000000000000")  # an Agricultural Bank card number: valid, but not ICBC's
BAD_ID = "110105197506010000"  # wrong check digit


def needs_of(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_json()


def by_input(needs: dict) -> dict[str, str]:
    return {item["id"]: item["message"] for item in needs["fields"]}


def test_the_list_shrinks_as_fields_are_typed_and_nothing_is_saved(pages, world, cadre):
    client = pages.as_(cadre)
    campaign = str(world.default_campaign().id)
    before = snapshot(world)

    empty = needs_of(client.post("/cases/new/check", {"campaign": campaign}))
    typed = needs_of(client.post("/cases/new/check", {"campaign": campaign, "applicant.name": "王建国",
                                                      "applicant.phone": "13912345678"}))

    assert by_input(empty)["applicant.name"] == "未填写"
    assert {"applicant.name", "applicant.phone", "bank_account", "aid.kind", "category"} <= set(by_input(empty))
    assert {"applicant.name", "applicant.phone"}.isdisjoint(by_input(typed))
    assert len(typed["fields"]) == len(empty["fields"]) - 2
    assert set(typed["documents"]) == {kind.label for kind in REQUIRED_DOCUMENTS}
    assert typed["ready"] is False
    assert "提交前还需" in typed["html"] and '<a href="#bank_account">工商银行账号</a>' in typed["html"]
    assert snapshot(world) == before


def test_a_saved_draft_is_told_what_document_would_say_of_it_as_typed(pages, world, cadre):
    case = world.draft()
    world.session.commit()
    client = pages.as_(cadre)
    page = text_of(client.get(f"/cases/{case.id}/edit"))
    form = submitted(page)
    before = snapshot(world)

    as_shown = needs_of(client.post(f"/cases/{case.id}/check", form))
    emptied = needs_of(client.post(f"/cases/{case.id}/check", {**form, "applicant.phone": ""}))

    # As saved: the papers `document` asks for and nothing else; the page said so before any script ran.
    blocked = rules.document_needs(world.session, world.session.get(Case, case.id), world.clock.now())
    assert [reason.rule for reason in blocked] == ["documents"]
    assert as_shown["fields"] == [] and as_shown["others"] == []
    assert as_shown["documents"] == [DocumentKind(kind).label for kind in rules.missing_documents(case)]
    assert "缺少：" in page and f'href="/cases/{case.id}#documents"' in page
    # Emptied in the form, not saved: the field is named, linked and marked.
    assert by_input(emptied) == {"applicant.phone": "未填写"}
    assert '<a href="#applicant.phone">联系电话</a>' in emptied["html"]
    assert snapshot(world) == before

    world.attach(case)
    world.session.commit()
    ready = needs_of(client.post(f"/cases/{case.id}/check", form))
    assert ready["ready"] is True and "保存后即可提交审核" in ready["html"]
    assert rules.document_needs(world.session, world.session.get(Case, case.id), world.clock.now()) == []


def test_the_form_marks_what_is_still_needed_without_javascript(pages, world, cadre):
    case = world.draft(applicant={"name": "王建国", "phone": None})
    world.session.commit()
    page = text_of(pages.as_(cadre).get(f"/cases/{case.id}/edit"))

    needs = page[page.index('id="needs-live"'):]
    assert '<a href="#applicant.phone">联系电话</a>：未填写' in needs[:needs.index("</div>")]
    box = re.search(r'<div class="([^"]*)"><label for="applicant.phone">联系电话.*?</label>', page)
    assert "still-needed" in box.group(1) and "提交前还需" in box.group(0)
    assert not re.search(r'<div class="[^"]*still-needed[^"]*"><label for="applicant.name"', page)


def test_wrong_values_are_named_as_typed_and_the_rest_still_told(pages, world, cadre):
    client = pages.as_(cadre)
    needs = needs_of(client.post("/cases/new/check", {
        "campaign": str(world.default_campaign().id), "applicant.name": "王建国", "applicant.id_number": BAD_ID,
        "aid.amount": "一千五", "household.members.0.relation": "配偶", "household.members.0.id_number": BAD_ID,
        "causes.secondary": ["schooling", "laid_off", "uninsured", "accident"]}))

    found = by_input(needs)
    assert found["applicant.id_number"] == id_number_problem(BAD_ID, dt.date(2018, 1, 8))
    assert found["aid.amount"].startswith("应为数字")
    assert found["household.members.0.name"] == "不能为空"
    assert found["causes.secondary"] == "太多，最多3项"
    assert found["applicant.phone"] == "未填写"  # the rest of the list as without the wrong values


def test_a_member_without_an_id_number_is_named_by_the_row_the_form_shows(pages, world, cadre):
    needs = needs_of(pages.as_(cadre).post("/cases/new/check", {
        "campaign": str(world.default_campaign().id), "applicant.name": "王建国",
        "household.members.0.name": "", "household.members.1.name": "李秀英",  # row 1 added and left empty
        "household.members.1.relation": "配偶"}))
    member = next(item for item in needs["fields"] if item["id"].startswith("household.members"))
    assert member == {"name": "household.members.1.id_number", "id": "household.members.1.id_number",
                      "label": "家庭成员2：身份证号码", "message": "未填写"}


def test_a_new_draft_needs_its_campaign_chosen_first(pages, world, cadre):
    world.campaign()  # two open campaigns: the form does not choose
    world.session.commit()
    needs = needs_of(pages.as_(cadre).post("/cases/new/check", {"applicant.name": "王建国"}))
    assert needs["fields"] == [{"name": "campaign", "id": "campaign", "label": "活动", "message": "请选择活动"}]


def test_only_the_drafter_asks_and_only_of_a_draft(pages, world, cadre):
    case = world.draft()
    head = world.person("head", world.default_union())
    other = world.person("cadre", world.union("另一个工会"))
    world.session.commit()
    assert pages.as_(head).post(f"/cases/{case.id}/check", {}).status_code == 403
    assert pages.as_(other).post(f"/cases/{case.id}/check", {}).status_code == 404
    assert pages.as_(cadre).post(f"/cases/{case.id}/check", {}, csrf=False).status_code == 400


def test_a_handed_in_case_is_not_checked_as_a_draft(pages, world, cadre):
    case = world.draft()
    world.attach(case)
    verbs.fire(world.session, cadre, world.clock, case.id, "document", case.version)
    world.session.commit()
    response = pages.as_(cadre).post(f"/cases/{case.id}/check", {})
    assert response.status_code == 409 and "只有已起草的案件" in response.get_json()["error"]


# ------------------------------------------------------------------ the ICBC warning

def test_an_account_not_like_icbc_is_warned_live_and_saved_all_the_same(pages, world, cadre):
    client = pages.as_(cadre)
    campaign = world.default_campaign()
    typed = {"campaign": str(campaign.id), "applicant.name": "王建国", "bank_account": NOT_ICBC}

    live = needs_of(client.post("/cases/new/check", typed))
    assert live["warnings"] == {"bank_account": icbc_warning(NOT_ICBC)}
    assert "622202" in live["warnings"]["bank_account"] and "请核对" in live["warnings"]["bank_account"]

    saved = client.post("/cases/new", {**typed, "save": "1"})
    assert saved.status_code == 302
    assert any("该账号不像工商银行卡号" in message for message in flashes(client))
    case = world.session.scalars(select(Case)).one()
    page = text_of(client.get(f"/cases/{case.id}/edit"))
    warning = re.search(r'<span class="field-warning"[^>]*id="bank_account-warning"([^>]*)>([^<]*)', page)
    assert "hidden" not in warning.group(1) and warning.group(2) == icbc_warning(NOT_ICBC)


def test_an_icbc_account_gets_no_warning(pages, world, cadre):
    needs = needs_of(pages.as_(cadre).post("/cases/new/check", {
        "campaign": str(world.default_campaign().id), "applicant.name": "王建国",
        "bank_account": luhn_complete("621226000000000000")}))
    assert needs["warnings"] == {}


# ------------------------------------------------------------------ amounts as typed

@pytest.mark.parametrize("typed", ["1,500", "1，500", "1500元", " 1500 元", "¥1500", "1500.00", "￥１５００"])
def test_amounts_are_saved_as_careless_users_type_them(pages, world, cadre, typed):
    client = pages.as_(cadre)
    response = client.post("/cases/new", {"campaign": str(world.default_campaign().id), "applicant.name": "王建国",
                                          "aid.kind": "funds", "aid.amount": typed,
                                          "household.annual_income": "24,000元", "save": "1"})
    assert response.status_code == 302, text_of(response)[:500]
    case = world.session.scalars(select(Case)).one()
    assert (case.aid_amount, case.annual_income) == (Decimal("1500"), Decimal("24000"))
