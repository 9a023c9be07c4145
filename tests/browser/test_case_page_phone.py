"""The case page in a real browser: on a 390 px phone the actions and their reasons come first, large enough for a
finger, the process diagram folded and readable when opened (it scrolls in its own box), nothing wider than the
screen; on a 1366×768 desktop the actions are above the fold. A refusal opens the page at its form with the message
in view, and reloading a refused action's page or a revealed number's page posts nothing again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflows.models import AuditEvent
from workflows.states import State

from .conftest import DESKTOP, PHONE, in_view, posts

pytestmark = pytest.mark.slow  # a real browser

def events(world, case, action: str | None = None) -> int:
    world.session.commit()  # a new transaction: what the server committed meanwhile
    query = select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return world.session.scalar(query)


def test_on_a_phone_the_actions_come_first_and_the_diagram_is_folded(tab, people, world):
    case = world.case(State.documented)
    world.session.commit()
    browser = tab(PHONE, "head_b", f"/cases/{case.id}")
    page = browser.page

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    actions, diagram = page.locator("#actions").bounding_box(), page.locator("#diagram").bounding_box()
    fields = page.get_by_role("heading", name="申请人与家庭情况").bounding_box()
    assert actions["y"] < diagram["y"] < fields["y"]
    assert page.locator("#diagram").get_attribute("open") is None and not page.locator("#diagram svg").is_visible()
    buttons = page.locator("#actions .action-buttons button")
    assert buttons.count() == 3
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"]
    browser.shot("case-page-phone")

    # Opened, the diagram keeps its size (its labels readable) and scrolls inside its own box, not the page.
    page.locator("#diagram summary").click()
    drawn = page.evaluate("""() => {
        const box = document.querySelector('#diagram .diagram'), svg = box.querySelector('svg');
        return {shown: svg.getBoundingClientRect().width, natural: svg.width.baseVal.value,
                box: box.clientWidth, scrolls: box.scrollWidth};
    }""")
    assert drawn["shown"] >= drawn["natural"] > drawn["box"] and drawn["scrolls"] > drawn["box"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    browser.shot("case-page-phone-diagram")


def test_on_a_desktop_the_actions_are_above_the_fold(tab, people, world):
    case = world.case(State.documented)
    world.session.commit()
    browser = tab(DESKTOP, "head_b", f"/cases/{case.id}")
    page = browser.page

    buttons = page.locator("#actions .action-buttons button")
    assert buttons.count() == 3
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        assert box["y"] + box["height"] <= DESKTOP["height"], buttons.nth(i).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    browser.shot("case-page-desktop")


def test_a_refused_action_is_said_in_view_and_a_reload_posts_nothing(tab, people, world):
    case = world.case(State.documented)
    world.session.commit()
    browser = tab(PHONE, "head_b", f"/cases/{case.id}")
    page = browser.page
    before = events(world, case)

    page.get_by_role("button", name="退回修改", exact=True).click()  # without the reason a return needs
    page.wait_for_load_state()
    assert page.locator("#actions [role=alert]").inner_text() == "请填写「退回修改」的理由"
    assert in_view(page, "#actions [role=alert]") and in_view(page, "#comment")
    assert page.url == f"{browser.base}/cases/{case.id}#actions"  # the case page's address, not the POST's
    browser.shot("case-page-phone-refused")

    sent = posts(page)
    page.reload()
    page.wait_for_load_state()
    assert sent == [] and events(world, case) == before
    assert page.locator("[role=alert]").count() == 0 and "资料齐全" in page.inner_text("#case-state")


def test_a_missing_objection_statement_is_said_beside_its_box_in_view(tab, people, world):
    case = world.case(State.publicized)
    world.session.commit()
    browser = tab(PHONE, "cadre_b", f"/cases/{case.id}")
    page = browser.page

    page.get_by_role("button", name="登记异议", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#new-objection [role=alert]").inner_text() == "请填写异议内容"
    assert in_view(page, "#new-objection [role=alert]") and in_view(page, "#statement")
    assert page.url == f"{browser.base}/cases/{case.id}#new-objection"


def test_reloading_a_revealed_number_reveals_it_no_second_time(tab, people, world):
    case = world.case(State.documented)
    world.session.commit()
    browser = tab(DESKTOP, "head_b", f"/cases/{case.id}")
    page = browser.page

    page.locator("#id-number button").click()
    page.wait_for_load_state()
    assert case.id_number in page.inner_text("#id-number") and events(world, case, "reveal") == 1
    assert page.url == f"{browser.base}/cases/{case.id}#id-number"

    sent = posts(page)
    page.reload()
    page.wait_for_load_state()
    assert sent == [] and events(world, case, "reveal") == 1
    shown = page.inner_text("#id-number")
    assert case.id_number not in shown and case.masked_id_number in shown
