"""The case form on a phone (390×844): the list of what `document` still needs shrinks as the cadre fills the
fields, the marks on the inputs follow, and an account number that is not ICBC's is warned beside it, live."""

from __future__ import annotations

import pytest

from workflows.identity import luhn_complete

from ..factories import bank_account
from .conftest import SCREENSHOTS, Browser, in_view

pytestmark = pytest.mark.slow  # a real browser

LIST = "#needs-live"


def listed(page, input_id: str) -> bool:
    return page.locator(f'{LIST} a[href="#{input_id}"]').count() > 0


def marked(page, input_id: str) -> bool:
    return page.evaluate("id => document.getElementById(id).parentNode.className.indexOf('still-needed') >= 0",
                         input_id)


def settled(page, script: str, arg=None) -> None:
    """Wait for the debounced answer of the server to be shown."""
    page.wait_for_function(script, arg=arg)


def test_the_needs_list_shrinks_as_the_cadre_types_on_a_phone(chromium, server, people, world):
    world.default_campaign()
    world.session.commit()
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    browser = Browser(page, server)
    browser.sign_in("cadre_b")
    browser.go("/cases/new")

    # As first shown (rendered by the server): everything is still needed, each a link to its input.
    before = page.locator(f"{LIST} li").count()
    assert listed(page, "applicant.name") and listed(page, "applicant.phone") and marked(page, "applicant.name")

    page.fill("#applicant\\.name", "王秀英")
    settled(page, "() => !document.querySelector('#needs-live a[href=\"#applicant.name\"]')")
    assert page.locator(f"{LIST} li").count() == before - 1
    assert not marked(page, "applicant.name") and marked(page, "applicant.phone")

    page.fill("#applicant\\.phone", "13812345678")
    page.select_option("#category", "deep")
    settled(page, "n => document.querySelectorAll('#needs-live li').length === n", before - 3)
    assert not listed(page, "applicant.phone") and not listed(page, "category")

    # A wrong value is named in the list as typed; a card of another bank is warned, not refused.
    warning = page.locator("#bank_account-warning")
    assert warning.is_hidden()
    page.fill("#bank_account", luhn_complete("622848000000000000"))
    warning.wait_for(state="visible")
    assert "不像工商银行卡号" in warning.inner_text()
    page.fill("#bank_account", bank_account())
    warning.wait_for(state="hidden")
    settled(page, "() => !document.querySelector('#needs-live a[href=\"#bank_account\"]')")

    # Following a link of the list brings the input into view.
    page.locator(f'{LIST} a[href="#household.annual_income"]').click()
    assert in_view(page, "#household\\.annual_income")  # give or take the pixel a scroll to a fragment rounds

    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    browser.shot("case-form-live-phone")
    page.locator("#document-needs").screenshot(path=SCREENSHOTS / "case-form-needs-phone.png")
    assert browser.console_errors == []
    page.wait_for_load_state("networkidle")
    context.close()
