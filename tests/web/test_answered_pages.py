"""A page answering a refused POST says the refusal beside the control used, opens there (the form posts to its
#place) and takes its page's own address (<main data-address>, static/page.js), so that a reload posts nothing; a
refused administration form names its inputs in error as links in the banner at its top (_error_summary.html).
Also from the new-user trial: the refusal quoting its action, a deleted draft said to be deleted, the inbox's
button for a new application."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest

from workflows.states import State

from .conftest import CSRF


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def address(page: str) -> str | None:
    found = re.search(r'<main data-address="([^"]*)"', page)
    return found.group(1) if found else None


def actions(page: str) -> list[str]:
    return re.findall(r'<form method="post"[^>]*action="([^"]*)"', page)


def funds(amount: str) -> dict:
    return {"kind": "funds", "amount": amount, "medical": False}


@pytest.fixture
def admin(pages, world):
    account = world.account("admin", username="root.admin")
    world.session.commit()
    client = pages.as_(account)
    client._token = CSRF.search(client.get("/admin/").get_data(as_text=True)).group(1)
    return client


def test_a_page_shown_by_get_names_no_address_of_its_own(pages, world):
    client = pages.as_(world.person("finance"))
    world.session.commit()
    assert address(text(client.get("/finance/"))) is None


def test_finance_without_a_reference_says_so_beside_the_reference_and_takes_the_list_address(pages, world):
    union = world.union("第一机床厂工会")
    cases = [world.case(State.district_approved, union, aid=funds("500")) for _ in range(2)]
    world.session.commit()
    finance = pages.as_(world.person("finance"))
    page = text(finance.get(f"/finance/?union={union.code}"))
    assert f"/finance/batch#batch-actions" in actions(page)
    data = {"action": "disburse", "reference": "", "union": union.code, "case": [str(c.id) for c in cases],
            **{f"version-{c.id}": str(c.version) for c in cases}}

    response = finance.post("/finance/batch", data)
    page = text(response)
    assert response.status_code in (400, 409)
    # Said once, inside the card of the buttons and the batch reference, before the reference box.
    assert page.count('id="batch-error"') == 1
    card = page[page.index('id="batch-actions"'):]
    assert card.index('id="batch-error"') < card.index('id="reference"')
    assert "请填写批次付款凭证号" in card[:card.index('id="reference"')]
    assert f'href="#case-{cases[0].id}"' in card  # the row named, a link to it
    assert address(page) == f"/finance/?union={union.code}"


def test_the_batch_page_says_a_refusal_at_its_actions_and_takes_the_batch_address(pages, world):
    cases = [world.case(State.district_approved, aid=funds("500"))]
    world.session.commit()
    finance = pages.as_(world.person("finance"))
    created = finance.post("/finance/batches", {"case": [str(c.id) for c in cases]})
    batch = created.headers["Location"].rsplit("/", 1)[1]
    assert finance.post(f"/finance/batches/{batch}/send").status_code == 302
    page = text(finance.get(f"/finance/batches/{batch}"))
    assert f"/finance/batches/{batch}/result#batch-actions" in actions(page)

    response = finance.post(f"/finance/batches/{batch}/send")  # a second time: already sent
    page = text(response)
    assert response.status_code == 409
    card = page[page.index('id="batch-actions"'):]
    assert 'id="batch-error"' in card and address(page) == f"/finance/batches/{batch}"


def test_a_bad_budget_is_named_in_the_banner_as_a_link_to_its_input(admin, world):
    campaign = world.campaign(name="2018年元旦春节送温暖", budget="100000")
    world.session.commit()
    path = f"/admin/campaigns/{campaign.id}/edit"
    page = text(admin.get(path))
    assert f"{path}#error-summary" in actions(page)
    typed = {name: value for name, value in re.findall(r'<input type="[a-z]+" id="[^"]*" name="([^"]*)" value="([^"]*)"',
                                                        page)}
    response = admin.post(path, typed | {"budget": "三十万元左右"})
    page = text(response)
    assert response.status_code == 400
    banner = re.search(r'<div class="flash error error-summary" role="alert" id="error-summary"[^>]*>(.*?)</div>',
                       page, re.S).group(1)
    assert "尚未保存" in banner
    link = re.search(r'<a href="#budget">([^<]*)</a>：([^<]*)</li>', banner)
    assert link and "预算" in link.group(1) and link.group(2).strip(), banner
    assert 'id="budget"' in page and 'id="budget-error"' in page
    assert address(page) == path  # a form that posts to itself: its own address, a reload reads it
    world.session.expire_all()
    assert world.session.get(type(campaign), campaign.id).budget == Decimal("100000")


def test_a_union_share_is_named_by_its_union_in_the_banner(admin, world):
    union = world.union("第一机床厂工会")
    campaign = world.campaign(name="2018年元旦春节送温暖", budget="100000")
    world.session.commit()
    path = f"/admin/campaigns/{campaign.id}/edit"
    page = text(admin.get(path))
    typed = {name: value for name, value in re.findall(r'<input type="[a-z]+" id="[^"]*" name="([^"]*)" value="([^"]*)"',
                                                        page)}
    share = next(name for name in typed if name.startswith("shares-") and name.endswith("-amount"))
    response = admin.post(path, typed | {share: "五千", **{share.replace("amount", "code"): union.code}})
    page = text(response)
    assert response.status_code == 400
    assert re.search(rf'<a href="#{share}">第一机床厂工会的预算</a>', page), page[page.index("error-summary"):][:800]


def test_a_refused_account_form_is_said_in_its_own_banner_and_takes_the_account_address(admin, world):
    other = world.account("cadre", world.default_union(), username="zhang.wei")
    world.session.commit()
    response = admin.post(f"/admin/accounts/{other.id}/role", {"role": "cadre", "union": ""})
    page = text(response)
    assert response.status_code == 400
    role_card = page[page.index('id="role-summary"'):page.index('id="password"') if 'id="password"' in page else None]
    assert '<a href="#union">' in role_card or '<a href="#role">' in role_card or "尚未保存" in role_card
    assert 'id="profile-summary"' not in page and 'id="password-summary"' not in page
    assert address(page) == f"/admin/accounts/{other.id}"
    assert f"/admin/accounts/{other.id}/role#role-summary" in actions(page)


def test_the_tariffs_banner_names_each_cell_in_error(admin, world):
    campaign = world.campaign(name="2018年元旦春节送温暖")
    world.session.commit()
    path = f"/admin/campaigns/{campaign.id}/tariffs"
    page = text(admin.get(path))
    cell = re.search(r'<input type="text" id="(tariff\.[^"]+)"', page).group(1)
    response = admin.post(path, {cell: "很多"})
    page = text(response)
    assert response.status_code == 400 and f"{path}#error-summary" in actions(page)
    banner = page[page.index('id="error-summary"'):]
    assert re.search(rf'<a href="#{re.escape(cell)}">[^<]+ · [^<]+</a>：', banner)


def test_a_generated_password_page_takes_the_account_address(admin, world):
    response = admin.post("/admin/accounts/new", {"username": "li.na", "display_name": "李娜", "role": "reviewer",
                                                  "union": "", "email": "", "password": ""})
    page = text(response)
    assert response.status_code == 200 and 'id="password"' in page
    assert re.fullmatch(r"/admin/accounts/\d+", address(page) or "")


def test_a_flashed_message_is_marked_for_the_page_script(pages, world):
    case = world.case(State.documented)
    head = world.person("head", case.union)
    world.session.commit()
    client = pages.as_(head)
    response = client.post(f"/cases/{case.id}/act", {"trigger": "approve", "version": str(case.version)})
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert re.search(r'<p class="flash success" role="status" data-flashed>已完成：基层审核通过', page)


def test_a_refusal_names_the_action_in_quotes(pages, world):
    case = world.case(State.entered)
    reviewer = world.person("reviewer")
    world.session.commit()
    response = pages.as_(reviewer).post(f"/cases/{case.id}/act", {"trigger": "reject", "version": str(case.version)})
    assert response.status_code in (400, 409) and "请填写「不合格，驳回」的理由" in text(response)


# ---------------------------------------------------------------- a deleted draft

def test_back_to_a_deleted_draft_says_who_deleted_it_to_those_who_could_see_it(pages, world):
    case = world.draft()
    union, case_id = case.union, case.id
    drafter = world.session.get(type(world.person("cadre", union)), case.created_by_id)
    world.session.commit()
    client = pages.as_(drafter)
    assert client.post(f"/cases/{case_id}/delete", {"version": str(case.version)}).status_code == 302
    name = drafter.display_name or drafter.username

    for path in (f"/cases/{case_id}", f"/cases/{case_id}/edit"):
        response = client.get(path)
        page = text(response)
        assert response.status_code == 410, path
        assert re.search(rf"该草稿已于\d{{4}}-\d\d-\d\d \d\d:\d\d由{re.escape(name)}删除", page), page
        assert '<a href="/cases/" class="button" id="back">回到案件列表</a>' in page
    head = world.person("head", union)
    auditor = world.person("auditor")
    stranger = world.person("cadre", world.union("红星纺织厂工会"))
    reviewer = world.person("reviewer")
    world.session.commit()
    assert pages.as_(head).get(f"/cases/{case_id}").status_code == 410
    assert pages.as_(auditor).get(f"/cases/{case_id}").status_code == 410
    for other in (stranger, reviewer):  # another union's deletions are not told: the plain 404
        response = pages.as_(other).get(f"/cases/{case_id}")
        assert response.status_code == 404 and "该草稿" not in text(response)
    assert client.get(f"/cases/{case_id + 1000}").status_code == 404
    # the drafter moved to another union since: the household's union still knows, the new one is not told
    drafter.union_id = stranger.union_id
    world.session.commit()
    assert pages.as_(world.person("cadre", union)).get(f"/cases/{case_id}").status_code == 410
    assert pages.as_(world.person("head", stranger.union)).get(f"/cases/{case_id}").status_code == 404


# ---------------------------------------------------------------- a new application from the inbox

@pytest.mark.parametrize("role", ["cadre", "head", "reviewer", "finance", "auditor"])
def test_the_inbox_offers_a_new_application_to_those_who_draft(pages, world, role):
    from workflows.rules import DRAFTERS
    person = world.person(role, world.default_union() if role in ("cadre", "head") else None)
    world.session.commit()
    page = text(pages.as_(person).get("/inbox"))
    offered = '<a class="button" id="new-case" href="/cases/new">新建帮扶申请</a>' in page
    assert offered == (role in DRAFTERS)
