"""Nothing typed is lost, in a real browser (app/static/keep.js with app/auth): a form sent after the session ended
comes back filled after signing in again, its family member rows too, and what cannot be put back stays kept; Back,
a change and Save again opens the draft saved first in its form with the change over it; passwords are never kept;
the language switch and finance's "select all" keep what was typed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from workflows.infra.clock import to_db
from workflows.models import ApiToken, Case
from workflows.states import State

from ..factories import bank_account, id_number
from .conftest import PASSWORD

pytestmark = pytest.mark.slow  # a real browser

TYPED = {"applicant.name": "王秀英", "applicant.phone": "13812345678", "applicant.employer": "华光机械厂",
         "household.housing": "租住公房一间"}
SELECTS = {"applicant.gender": "female", "worker_group": "hardship_worker", "category": "deep",
           "causes.primary": "serious_illness", "aid.kind": "funds"}


def type_case(page, **more: str) -> None:
    for name, value in {**TYPED, **more}.items():
        page.fill(f'[name="{name}"]', value)
    for name, value in SELECTS.items():
        page.select_option(f'[name="{name}"]', value)


def save(page) -> None:
    page.locator("button[name=save]").last.click()
    page.wait_for_load_state()


def end_sessions(world) -> None:
    """Signed out from elsewhere (or the password reset): the browser still holds its cookie."""
    world.session.execute(update(ApiToken).where(ApiToken.kind == "web").values(revoked_at=to_db(world.clock.now())))
    world.session.commit()


def sign_in_again(page) -> None:
    page.fill("#username", page.context.username)
    page.fill("#password", PASSWORD)
    page.click("form.signin-form button[type=submit], section button[type=submit]")
    page.wait_for_load_state()


def count_cases(world) -> int:
    world.session.commit()
    return world.session.scalar(select(func.count()).select_from(Case))


def new_case_form(browser, world):
    """The cadre's new-case form, the campaign open."""
    world.default_campaign()
    world.session.commit()
    browser.sign_in("cadre_b")
    browser.go("/cases/new")
    return browser.page


def test_a_form_sent_after_the_session_ended_is_filled_again_after_signing_in(browser, people, world):
    world.default_campaign()
    world.session.commit()
    page = browser.page
    browser.sign_in("cadre_b")
    page.context.username = "cadre_b"
    browser.go("/cases/new")
    type_case(page)
    end_sessions(world)

    save(page)
    assert "/signin" in page.url
    message = page.inner_text("main")
    assert "登录已失效" in message and "您填写的内容已保留" in message and "刷新" not in message
    sign_in_again(page)

    assert page.url.endswith("/cases/new"), page.url
    for name, value in TYPED.items():
        assert page.input_value(f'[name="{name}"]') == value, name
    assert page.input_value('[name="category"]') == "deep"
    assert "已恢复上次未提交的内容" in page.inner_text(".keep-notice")
    assert count_cases(world) == 0
    browser.shot("nothing-lost-form-refilled")
    assert not browser.console_errors


def test_a_comment_typed_when_the_session_ended_is_kept_until_the_action_is_done(browser, people, world):
    case = world.case(State.documented)
    world.session.commit()
    page = browser.page
    browser.sign_in("head_b")
    page.context.username = "head_b"
    browser.go(f"/cases/{case.id}")
    page.fill("#comment", "缺少收入证明，请补充")
    end_sessions(world)

    page.get_by_role("button", name="退回修改", exact=True).click()
    page.wait_for_load_state()
    assert "登录已失效" in page.inner_text("main")
    sign_in_again(page)
    assert re.search(rf"/cases/{case.id}(#.*)?$", page.url), page.url
    assert page.input_value("#comment") == "缺少收入证明，请补充"

    page.get_by_role("button", name="退回修改", exact=True).click()
    page.wait_for_load_state()
    assert "已起草" in page.inner_text("#case-state")
    # Done: what was kept for it is gone.
    assert kept_keys(page) == []


MEMBERS = [{"name": "李建国", "relation": "配偶", "monthly_income": "800"},
           {"name": "李小明", "relation": "子女", "monthly_income": "0"}]


def kept_keys(page) -> list[str]:
    return page.evaluate("Object.keys(sessionStorage).filter(function (k) { return k.indexOf('keep') === 0; })")


def test_family_members_typed_when_the_session_ended_come_back_after_signing_in(browser, people, world):
    """The member rows are added by case-form.js: keep.js has it add them again before putting values back."""
    world.default_campaign()
    world.session.commit()
    page = browser.page
    browser.sign_in("cadre_b")
    page.context.username = "cadre_b"
    browser.go("/cases/new")
    numbers = {"applicant.id_number": id_number(male=False), "bank_account": bank_account(),
               "household.annual_income": "18000", "aid.amount": "1500"}
    type_case(page, **numbers)
    members = [{**member, "id_number": id_number(male=i == 0)} for i, member in enumerate(MEMBERS)]
    for i, member in enumerate(members):
        page.click("button[name=add_member]")
        for name, value in member.items():
            page.fill(f'[name="household.members.{i}.{name}"]', value)
    end_sessions(world)

    save(page)
    assert "/signin" in page.url
    sign_in_again(page)
    assert page.url.endswith("/cases/new"), page.url
    rows = page.locator("[data-members] tr")
    assert rows.count() == 2
    for i, member in enumerate(members):
        for name, value in member.items():
            assert page.input_value(f'[name="household.members.{i}.{name}"]') == value, (i, name)
    assert "已恢复上次未提交的内容" in page.inner_text(".keep-notice")
    # The next key typed keeps the members too: shown again, they come back again.
    page.fill('[name="household.housing"]', "租住公房两间")
    page.reload()
    page.wait_for_load_state()
    assert page.locator("[data-members] tr").count() == 2
    assert page.input_value('[name="household.members.1.name"]') == "李小明"
    assert page.input_value('[name="household.housing"]') == "租住公房两间"

    save(page)
    assert re.search(r"/cases/\d+$", page.url), page.inner_text("main")
    world.session.commit()
    case = world.session.scalar(select(Case))
    assert sorted(m.name for m in case.members) == sorted(m["name"] for m in members)
    assert kept_keys(page) == []
    assert not browser.console_errors


def kept_values(page) -> dict:
    """Every value keep.js holds in this tab, by input id."""
    return page.evaluate("""(function () {
        var all = {};
        Object.keys(sessionStorage).forEach(function (k) {
            if (k.indexOf('keep:') === 0) {
                var values = JSON.parse(sessionStorage.getItem(k)).values;
                Object.keys(values).forEach(function (id) { all[id] = values[id]; });
            }
        });
        return all;
    }())""")


def test_what_cannot_be_put_back_is_kept_and_not_said_to_be_restored(browser, people, world):
    """Without case-form.js no member row can be added again: the page says part could not be put back, and the
    next key typed keeps the member with the rest."""
    page = new_case_form(browser, world)
    page.fill('[name="applicant.name"]', "王秀英")
    page.click("button[name=add_member]")
    page.fill('[name="household.members.0.name"]', "李建国")

    page.route("**/static/case-form.js", lambda route: route.abort())
    page.reload()
    page.wait_for_load_state()
    assert page.locator("[data-members] tr").count() == 0
    assert page.input_value('[name="applicant.name"]') == "王秀英"
    notice = page.inner_text(".keep-notice")
    assert "未能填回" in notice and "已恢复" not in notice
    page.fill('[name="household.housing"]', "租住公房一间")
    assert kept_values(page)["household.members.0.name#1"] == "李建国"

    page.unroute("**/static/case-form.js")
    page.reload()
    page.wait_for_load_state()
    assert page.input_value('[name="household.members.0.name"]') == "李建国"
    assert page.input_value('[name="household.housing"]') == "租住公房一间"
    assert "已恢复上次未提交的内容" in page.inner_text(".keep-notice")


def test_a_password_typed_by_the_administrator_is_never_kept(browser, people, world):
    page = browser.page
    browser.sign_in("admin_b")
    browser.go("/admin/accounts/new")
    page.fill('[name="username"]', "zhang.wei")
    page.fill('[name="password"]', "Geheim-2018-passwort")
    values = kept_values(page)
    assert values.get("username#1") == "zhang.wei"
    assert "Geheim-2018-passwort" not in str(values) and "password#1" not in values
    assert not browser.console_errors


def test_back_change_and_save_again_opens_the_draft_with_the_change_to_save(browser, people, world):
    page = new_case_form(browser, world)
    numbers = {"applicant.id_number": id_number(male=False), "bank_account": bank_account(),
               "household.annual_income": "18000", "aid.amount": "1500"}
    type_case(page, **numbers)
    save(page)
    first = page.url
    assert re.search(r"/cases/\d+$", first), page.inner_text("main")

    page.go_back()
    page.wait_for_load_state()
    assert page.url.endswith("/cases/new")
    if page.input_value('[name="applicant.id_number"]') != numbers["applicant.id_number"]:
        type_case(page, **numbers)  # a browser that does not keep a form on Back: the cadre types it again
    page.fill('[name="aid.amount"]', "1200")
    page.fill('[name="applicant.phone"]', "13900001111")
    save(page)

    # The draft's own form, at its plain address, with what was just typed over it; nothing saved yet.
    assert page.url == first + "/edit", page.url
    main = page.inner_text("main")
    assert "没有重复新建" in main and "已为您打开它的修改页" in main
    assert page.locator(".keep-notice").count() == 1  # keep.js says it filled them in
    assert page.input_value('[name="aid.amount"]') == "1200"
    assert page.input_value('[name="applicant.phone"]') == "13900001111"
    assert page.input_value('[name="applicant.name"]') == TYPED["applicant.name"]
    assert count_cases(world) == 1
    case = world.session.scalar(select(Case))
    assert case.phone == TYPED["applicant.phone"] and case.aid_amount == 1500

    save(page)
    assert page.url == first, page.inner_text("main")
    assert "修改已保存" in page.inner_text("main")
    world.session.commit()  # a new snapshot of the database
    world.session.refresh(case)
    assert case.phone == "13900001111" and case.aid_amount == 1200
    assert count_cases(world) == 1
    assert kept_keys(page) == []  # saved: nothing kept any more, under either page
    assert not browser.console_errors


def test_a_link_naming_another_page_moves_nothing_into_a_drafts_form(browser, people, world):
    """keep-from is taken only right after that page's form was sent from this tab, and only from a new record's
    page: a link cannot carry what was typed for one page into another case's form."""
    draft = world.draft()
    world.session.commit()
    page = browser.page
    browser.sign_in("cadre_b")
    browser.go("/cases/new")
    page.fill('[name="applicant.phone"]', "13900002222")
    browser.go(f"/cases/{draft.id}/edit?keep-from=%2Fcases%2Fnew")
    assert page.input_value('[name="applicant.phone"]') == (draft.phone or "")
    assert page.locator(".keep-notice").count() == 0
    browser.go("/cases/new")  # what was typed there is still kept for it
    assert page.input_value('[name="applicant.phone"]') == "13900002222"
    assert not browser.console_errors


def test_the_language_switch_keeps_what_was_typed(browser, people, world):
    page = new_case_form(browser, world)
    page.fill('[name="applicant.name"]', "王秀英")
    page.fill('[name="household.housing"]', "租住公房一间")

    page.get_by_role("button", name="English", exact=True).click()
    page.wait_for_load_state()
    assert page.url.endswith("/cases/new") and page.get_attribute("html", "lang") == "en"
    assert page.input_value('[name="applicant.name"]') == "王秀英"
    assert page.input_value('[name="household.housing"]') == "租住公房一间"
    assert page.locator(".keep-notice").count() == 1
    page.get_by_role("button", name="中文", exact=True).click()
    page.wait_for_load_state()
    assert page.input_value('[name="applicant.name"]') == "王秀英"
    assert not browser.console_errors


def test_select_all_on_finance_batch_keeps_the_page_and_the_references(browser, people, world):
    cases = [world.case(State.district_approved) for _ in range(2)]
    world.session.commit()
    page = browser.page
    browser.sign_in("finance_b")
    browser.go("/finance/")
    page.fill(f'[name="ref-{cases[0].id}"]', "ICBC-20180108-01")
    page.fill("#reference", "ICBC-20180108")

    page.get_by_role("button", name="全部勾选", exact=True).click()
    assert page.url.endswith("/finance/")
    boxes = page.locator('#batch input[name="case"]')
    assert boxes.count() == 2 and all(boxes.nth(i).is_checked() for i in range(2))
    assert page.input_value(f'[name="ref-{cases[0].id}"]') == "ICBC-20180108-01"
    assert page.input_value("#reference") == "ICBC-20180108"
    page.get_by_role("button", name="全部不选", exact=True).click()
    assert not any(boxes.nth(i).is_checked() for i in range(2))
    assert not browser.console_errors
