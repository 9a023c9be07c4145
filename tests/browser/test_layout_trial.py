"""What a new-user trial found on a 390×844 phone and a 1366×768 desktop, in a real browser: tap targets a finger
wide on the case form and the case page, the family members as one labelled card each, the inbox's filters folded on
a phone, the English header on one row, the English process diagram at its size (scrolled, not shrunk)."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from workflows.states import State

from .conftest import DESKTOP, PASSWORD, PHONE

pytestmark = [pytest.mark.slow, pytest.mark.layout]  # a real browser


def english(browser) -> None:
    page = browser.page
    if page.locator("header .menu-button").is_visible():
        page.locator("header .menu-button").click()
    page.click("button[name=lang][value=en]")
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"


def boxes(page, selector: str) -> list[dict]:
    return page.evaluate("""(selector) => [...document.querySelectorAll(selector)]
        .filter(e => e.offsetParent !== null || e.getClientRects().length)
        .map(e => { const b = e.getBoundingClientRect();
                    return {text: e.textContent.trim().slice(0, 40), left: b.left, right: b.right, height: b.height,
                            width: b.width}; })""", selector)


def signed_cadre(world) -> str:
    """The cadre the case builders use, with the browser tests' password: a draft's drafter."""
    cadre = world.person("cadre", world.default_union())
    cadre.password_hash = generate_password_hash(PASSWORD)
    world.session.commit()
    return cadre.username


def test_case_form_on_a_phone_in_english_fits_and_is_a_finger_wide(tab, people, world):
    world.default_campaign()
    world.session.commit()
    browser = tab(PHONE, "cadre_b", "/cases/new")
    english(browser)
    page = browser.page
    assert page.url.endswith("/cases/new")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The secondary causes and the exclusions: each checkbox row 44 px high, its box 24 px, the long labels wrapped.
    rows = boxes(page, "fieldset.choices label.check")
    assert rows and all(r["height"] >= 44 and r["right"] <= PHONE["width"] for r in rows), rows
    ticks = boxes(page, "fieldset.choices input[type=checkbox]")
    assert all(t["width"] >= 24 and t["height"] >= 24 for t in ticks), ticks

    # A member row is a card: its six inputs and its remove button on the screen, each input under its name.
    page.click("button[name=add_member]")
    row = page.locator("tbody[data-members] tr").last
    inputs = row.locator("input[type=text]")
    assert inputs.count() == 6
    for i in range(6):
        box = inputs.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 44
    remove = row.locator("button[name=remove_member]").bounding_box()
    assert remove["x"] + remove["width"] <= PHONE["width"] and remove["height"] >= 44
    captions = page.evaluate("""(cells) => cells.map(td => getComputedStyle(td, '::before').content)""",
                             row.locator("td[data-label]").element_handles())
    assert captions[:2] == ['"Name"', '"Relationship to applicant"'], captions
    # The template row that case-form.js copies is the same markup as a row the server draws.
    template = page.evaluate("document.getElementById('member-row-template').innerHTML")
    assert template.count("data-label=") == 6
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    browser.shot("trial-phone-en-case-form")


def test_case_page_on_a_phone_file_picker_and_delete_draft_are_a_finger_wide(tab, people, world):
    username = signed_cadre(world)
    draft = world.draft()
    world.session.commit()
    browser = tab(PHONE, username, f"/cases/{draft.id}")
    english(browser)
    page = browser.page
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    picker = page.locator("#document-file").bounding_box()
    assert picker["height"] >= 44
    delete = page.locator("#delete-draft > summary").bounding_box()
    assert delete["height"] >= 44
    # The label column of the applicant's details stays within the card, the values beside it.
    for box in boxes(page, "dl.fields dd"):
        assert box["right"] <= PHONE["width"], box
    browser.shot("trial-phone-en-case-page")


@pytest.mark.parametrize("username", ["reviewer_b", "cadre_b", "auditor_b"])
def test_the_english_header_is_one_row_on_a_desktop(tab, people, username):
    browser = tab(DESKTOP, username, "/notifications/")
    chinese = browser.page.locator("header").bounding_box()["height"]
    english(browser)
    height = browser.page.locator("header").bounding_box()["height"]
    assert height <= chinese + 4, (height, chinese)
    assert browser.page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]


def test_inbox_filters_fold_on_a_phone_and_show_on_a_desktop(tab, people, world):
    world.case(State.documented, union=world.default_union())
    world.session.commit()
    phone = tab(PHONE, "head_b", "/inbox")
    page = phone.page
    assert not page.locator("form.filters").is_visible()
    first = page.locator("#inbox tbody tr").first.bounding_box()
    assert first["y"] + 200 < PHONE["height"], first  # the first case card shows on the first screen
    page.locator("label.filters-button").click()
    assert page.locator("form.filters").is_visible() and page.locator("#f-state").is_visible()
    tiles = boxes(page, ".groups > a")
    assert max(t["right"] for t in tiles) >= PHONE["width"] - 20, tiles  # the count tiles fill the row
    phone.shot("trial-phone-inbox-filters")

    desktop = tab(DESKTOP, "head_b", "/inbox")
    assert desktop.page.locator("form.filters").is_visible()
    assert not desktop.page.locator("label.filters-button").is_visible()


def test_the_english_diagram_is_drawn_at_its_size_on_a_desktop(tab, people, world):
    case = world.case(State.entered)
    world.session.commit()
    browser = tab(DESKTOP, "reviewer_b", f"/cases/{case.id}")
    english(browser)
    page = browser.page
    page.locator("#diagram > summary").click()
    drawn = page.evaluate("""() => {
        const box = document.querySelector('#diagram .diagram'), svg = box.querySelector('svg');
        return {shown: svg.getBoundingClientRect().width, natural: svg.width.baseVal.value};
    }""")
    assert abs(drawn["shown"] - drawn["natural"]) < 1, drawn
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    browser.shot("trial-desktop-en-diagram")


def test_a_finance_row_is_picked_by_a_tap_anywhere_in_its_cell_on_a_phone(tab, people, world):
    cases = [world.case(State.district_approved) for _ in range(2)]
    world.session.commit()
    browser = tab(PHONE, "finance_b", "/finance/")
    page = browser.page
    pick = page.locator(f'#case-{cases[0].id} label.pick')
    box = pick.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    page.mouse.click(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)  # the cell's far end, not the box
    assert page.locator(f'#case-{cases[0].id} input[name="case"]').is_checked()
    assert not page.locator(f'#case-{cases[1].id} input[name="case"]').is_checked()
