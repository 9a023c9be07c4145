"""The screens on a 390×844 phone: a header of one line whose menu button opens the navigation (without JavaScript,
from a tap or the keyboard), the worklists as one card a row with each value under its column's name, and tap
targets a finger wide. On a desktop the same header shows its navigation without a button."""

from __future__ import annotations

import pytest

from .conftest import PHONE, Browser

pytestmark = pytest.mark.slow  # a real browser


HEADER_MAX = 60  # px: today's header took 211 of the phone's 844


@pytest.fixture
def phone(chromium, server):
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield Browser(page, server)
    page.wait_for_load_state("networkidle")
    context.close()


def test_the_phone_header_is_one_line_and_its_menu_opens_and_navigates(phone, people, world):
    world.draft()
    world.session.commit()
    phone.sign_in("cadre_b")
    page = phone.page
    header = page.locator("header.top")
    assert header.bounding_box()["height"] < HEADER_MAX
    nav = page.locator("header nav")
    assert not nav.is_visible() and page.locator("header .bell").is_visible()

    button = page.locator("header .menu-button")
    assert button.bounding_box()["height"] >= 44
    button.click()  # a tap, with JavaScript off
    assert nav.is_visible() and page.locator("header form[action='/signout'] button").is_visible()
    phone.shot("phone-menu-open")
    link = nav.get_by_role("link", name="案件", exact=True)
    assert link.bounding_box()["height"] >= 44
    link.click()
    page.wait_for_url("**/cases/")
    assert not nav.is_visible(), "the menu starts folded on the next page"

    # The keyboard: Space on the (visually hidden) menu box opens it, Tab reaches its links, Enter follows one.
    page.focus("#menu-toggle")
    page.keyboard.press("Space")
    assert nav.is_visible()
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "档案":
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**/archives**")


def test_a_worklist_is_one_card_a_row_with_each_value_labelled(phone, people, world):
    world.draft()  # 王建国, the factory's applicant
    world.session.commit()
    phone.sign_in("cadre_b")
    page = phone.go("/inbox")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("#inbox thead").bounding_box()["height"] <= 1  # the column names move into the cards
    card = page.locator("#inbox tbody tr").first
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert card.locator("td.card-title").inner_text() == "王建国"
    title_top = card.locator("td.card-title").bounding_box()["y"]
    headings = page.locator("#inbox thead th").all_inner_texts()
    cells = card.locator("td[data-label]:not(.card-title)")
    assert cells.count() >= 5
    previous_bottom = title_top
    for i in range(cells.count()):
        cell = cells.nth(i)
        label = cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert label.strip('"') in headings, label  # the column's name, shown beside the value
        assert cell.evaluate("td => getComputedStyle(td, '::before').display") != "none"
        cell_box = cell.bounding_box()
        assert cell_box["y"] >= previous_bottom - 0.5, "the values stack under the name, one a line"
        previous_bottom = cell_box["y"] + cell_box["height"]
    # iOS zooms into an input whose text is under 16 px
    assert page.locator("#f-q").evaluate("el => getComputedStyle(el).fontSize") == "16px"


def test_the_desktop_header_shows_its_navigation_without_a_button(browser, people):
    browser.sign_in("cadre_b")
    page = browser.page
    assert page.locator("header nav").is_visible()
    assert not page.locator("header .menu-button").is_visible()
    assert page.locator("header.top").bounding_box()["height"] < HEADER_MAX
