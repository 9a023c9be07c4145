"""Nothing typed is lost, in a real browser (app/static/keep.js with app/auth): a form sent after the session ended
comes back filled after signing in again; Back and Save again opens the draft saved first; the language switch and
finance's "select all" keep what was typed."""

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
    assert page.evaluate("Object.keys(sessionStorage).filter(function (k) { return k.indexOf('keep') === 0; })") == []


def test_back_and_save_again_opens_the_draft_saved_first(browser, people, world):
    world.default_campaign()
    world.session.commit()
    page = browser.page
    browser.sign_in("cadre_b")
    browser.go("/cases/new")
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
    save(page)

    assert page.url == first
    assert "已有草稿" in page.inner_text("main") and "没有重复新建" in page.inner_text("main")
    assert count_cases(world) == 1
    assert not browser.console_errors


def test_the_language_switch_keeps_what_was_typed(browser, people, world):
    world.default_campaign()
    world.session.commit()
    page = browser.page
    browser.sign_in("cadre_b")
    browser.go("/cases/new")
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
