"""The household archive screens in a real browser, on an office PC's screen and on a phone: the list, an archive's
page and the carry-over, each without a script error, nothing wider than the screen but the tables that scroll;
screenshots of each at 1366 and at 390 pixels wide (instance/screenshots/archive-*.png)."""

from __future__ import annotations

import datetime as dt

import pytest

from workflows import verbs
from workflows.infra.clock import LOCAL
from workflows.inputs import parse_deadline
from workflows.states import State

from ..conftest import START
from ..factories import id_number

pytestmark = pytest.mark.slow  # a real browser

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def archives(world, people):
    """Last winter three households of the union were helped; this winter one of them has applied already."""
    union = world.default_union()
    world.clock.set(dt.datetime(2017, 1, 5, 9, 0, tzinfo=LOCAL))
    past = world.campaign(name="2017年元旦春节送温暖", deadline=parse_deadline("2017-01-25"))
    helped = []
    for name in ("张建华", "李国庆", "赵淑芬", "钱德明"):
        members = [{"name": f"{name[0]}小明", "relation": "儿子", "id_number": id_number(dt.date(2008, 5, 1)),
                    "monthly_income": "0", "health": "良好", "occupation": "初中在读"}]
        case = world.case(State.disbursed, union, past,
                          applicant={"name": name, "gender": "male", "id_number": id_number(), "phone": "13912345678",
                                     "employer": "华光机械厂"},
                          causes={"primary": "laid_off", "secondary": ["schooling", "uninsured"]},
                          household={"annual_income": "24000", "housing": "租住公房", "members": members})
        helped.append(case.archive)
    world.clock.set(START)
    now = world.default_campaign()
    verbs.apply_for(world.session, people["cadre"], world.clock, now.id, [helped[3].id])
    verbs.create_archive(world.session, people["cadre"], world.clock, {"applicant": {"name": "孙丽华"}})
    world.session.commit()
    return helped


def fits(page) -> bool:
    """Nothing but the scrolling tables is wider than the window."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def too_wide(page) -> list[str]:
    """What sticks out of the window, for the failure message."""
    return page.evaluate("""Array.from(document.querySelectorAll('main *')).filter(e => e.getBoundingClientRect().right
        > window.innerWidth + 1 && !e.closest('.table-scroll')).slice(0, 8).map(e => e.tagName + '.' + e.className
        + '#' + e.id)""")


def test_the_archive_screens_on_a_desktop_and_a_phone(browser, people, world, archives):
    page = browser.page
    record = archives[0]
    browser.sign_in("cadre_b")
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        browser.go("/archives/")
        assert "张建华" in page.inner_text("main") and "共 5 户" in page.inner_text("main")
        browser.shot(f"archive-list-{name}")
        assert fits(page), (name, too_wide(page))
        browser.go(f"/archives/{record.id}")
        assert "户主与家庭情况" in page.inner_text("main") and page.locator("svg[data-flow=archive]").count() == 1
        browser.shot(f"archive-page-{name}")
        assert fits(page), (name, too_wide(page))
        browser.go("/archives/carry-over")
        assert page.locator("#carry-over tbody tr").count() == 3
        browser.shot(f"archive-carry-over-{name}")
        assert fits(page), (name, too_wide(page))

    # Ticking two and applying shows the drafts made.
    page.set_viewport_size({"width": 1366, "height": 900})
    page.check(f"input[name=archive][value='{archives[0].id}']")
    page.check(f"input[name=archive][value='{archives[1].id}']")
    page.click("#carry-over-form button[type=submit]")
    page.wait_for_load_state()
    assert "已为 2 户起草本活动的申请" in page.inner_text("main")
    assert page.locator("#created tbody tr").count() == 2
    browser.shot("archive-carry-over-done")
    browser.sign_out()

    browser.sign_in("reviewer_b")
    for name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        browser.go(f"/archives/{archives[2].id}")
        page.click("#move-transfer summary")
        assert page.locator("#move-transfer select[name=union]").is_visible()
        browser.shot(f"archive-page-reviewer-{name}")
        assert fits(page), (name, too_wide(page))
    browser.sign_out()
    assert browser.console_errors == []
