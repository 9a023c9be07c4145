"""The district's screens in a real browser: the statistics table, the dashboard with its charts, finance's batch,
the anti-fraud views and the audit review, each shown without a broken image or script, with screenshots."""

from __future__ import annotations

import pytest

from workflows import verbs
from workflows.states import State

pytestmark = pytest.mark.slow  # a real browser

def images_loaded(page) -> bool:
    return page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")


def test_the_district_screens_render_their_figures_and_charts(browser, people, world):
    for state in (State.drafted, State.entered, State.district_approved, State.disbursed, State.disbursed,
                  State.forfeited, State.publicized):
        world.case(state)
    entered = world.case(State.entered)
    verbs.reveal(world.session, people["cadre"], world.clock, entered.id, "id_number")
    world.session.commit()
    page = browser.page

    browser.sign_in("reviewer_b")
    browser.go("/reports/")
    assert "统计表" in page.inner_text("main") and "合计" in page.inner_text("main")
    browser.shot("statistics-table")
    browser.go("/reports/dashboard")
    page.wait_for_load_state("networkidle")
    assert page.locator("main img").count() >= 3 and images_loaded(page)
    browser.shot("dashboard")
    browser.go("/fraud/")
    browser.shot("fraud-views")
    browser.sign_out()

    browser.sign_in("finance_b")
    browser.go("/finance/")
    assert "待发放" in page.inner_text("main")
    browser.shot("finance-batch")
    browser.sign_out()

    browser.sign_in("auditor_b")
    browser.go("/audit/")
    assert "查看完整号码" in page.inner_text("main")  # the reveal is in the trail
    browser.shot("audit-review")
    browser.go("/audit/verify")
    assert "完整" in page.inner_text("main")
    browser.shot("audit-verify")
    browser.sign_out()
    assert browser.console_errors == []
