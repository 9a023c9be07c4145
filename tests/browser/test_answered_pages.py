"""What a person sees after acting, in a real browser (static/page.js): a refused form's message in view beside the
control used and a reload that posts nothing (finance's batch, an administration form); the success message where
the page opens, not above the screen; the phone's process diagram opened at the current state."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflows.models import AuditEvent
from workflows.states import State

from .conftest import DESKTOP, PHONE, in_view, posts

pytestmark = pytest.mark.slow  # a real browser


def event_count(world) -> int:
    world.session.commit()
    return world.session.scalar(select(func.count()).select_from(AuditEvent))


def funds(amount: str) -> dict:
    return {"kind": "funds", "amount": amount, "medical": False}


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_batch_without_a_reference_is_refused_in_view_and_a_reload_posts_nothing(tab, people, world, size):
    for _ in range(6):  # enough rows for the table to push the buttons below the first screen
        world.case(State.district_approved, aid=funds("500"))
    world.session.commit()
    browser = tab(size, "finance_b", "/finance/")
    page = browser.page
    before = event_count(world)

    page.get_by_role("button", name="全部勾选").click()  # ticked in place (keep.js)
    page.get_by_role("button", name="记录发放", exact=True).click()
    page.wait_for_load_state()
    assert "请填写批次付款凭证号" in page.inner_text("#batch-error")
    assert in_view(page, "#batch-error") and in_view(page, "#reference")
    assert page.url == f"{browser.base}/finance/#batch-actions"  # the list's address, not the POST's
    browser.shot(f"finance-refused-{size['width']}")

    sent = posts(page)
    page.reload()
    page.wait_for_load_state()
    assert sent == [] and event_count(world) == before
    assert page.locator("#batch-error").count() == 0


def test_after_approving_on_a_phone_the_success_message_is_in_view(tab, people, world):
    case = world.case(State.documented)
    world.session.commit()
    browser = tab(PHONE, "head_b", f"/cases/{case.id}")
    page = browser.page

    page.get_by_role("button", name="基层审核通过", exact=True).click()
    page.wait_for_load_state()
    message = page.locator(".flash.success", has_text="已完成：基层审核通过")
    assert message.count() == 1
    assert in_view(page, ".flash.success") and in_view(page, "#actions h2")
    assert page.locator("#actions .flash.success").count() == 1  # moved into the section the page opens at
    browser.shot("case-page-phone-approved")


def test_on_a_phone_the_opened_diagram_shows_the_current_state(tab, people, world):
    case = world.case(State.district_approved)  # far to the right of the main path
    world.session.commit()
    browser = tab(PHONE, "reviewer_b", f"/cases/{case.id}")
    page = browser.page

    page.locator("#diagram summary").click()
    page.wait_for_function("document.querySelector('#diagram .diagram').scrollLeft > 0")
    current = page.locator('#diagram [aria-current="step"]').bounding_box()
    box = page.locator("#diagram .diagram").bounding_box()
    assert box["x"] <= current["x"] and current["x"] + current["width"] <= box["x"] + box["width"]
    assert 0 <= current["y"] and current["y"] + current["height"] <= PHONE["height"]
    browser.shot("case-page-phone-diagram-current")


def test_a_bad_budget_is_named_in_the_banner_the_page_opens_at(tab, people, world):
    campaign = world.campaign(name="2019年元旦春节送温暖", budget="100000")
    world.session.commit()
    browser = tab(PHONE, "admin_b", f"/admin/campaigns/{campaign.id}/edit")
    page = browser.page
    before = event_count(world)

    page.fill("#budget", "三十万元左右")
    page.get_by_role("button", name="保存活动").click()
    page.wait_for_load_state()
    assert in_view(page, "#error-summary")
    link = page.locator("#error-summary a[href='#budget']")
    assert link.count() == 1 and "预算" in link.inner_text()
    assert page.url == f"{browser.base}/admin/campaigns/{campaign.id}/edit#error-summary"
    browser.shot("campaign-refused-phone")

    link.click()
    assert in_view(page, "#budget")
    sent = posts(page)
    page.reload()
    page.wait_for_load_state()
    assert sent == [] and event_count(world) == before
