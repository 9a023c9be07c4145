"""Every page of every role in a real browser, at a phone's 390×844 and a desktop's 1366×768: none wider than its
screen, none with a console error or a 5xx. The pages come from the access table (tests/web/test_screen_access.py),
so a new page is visited as soon as it is reachable. The widths go to instance/screenshots/widths-*.json beside the
screenshots, for the closing note's table."""

from __future__ import annotations

import json

import pytest
from werkzeug.security import generate_password_hash

from ..scene import build_scene
from ..web.test_screen_access import CALLERS, TABLE
from .conftest import DESKTOP, PASSWORD, PHONE, SCREENSHOTS, Browser

# A real browser; the layout is the same on every database (the pages' answers on PostgreSQL, 5xx included, are
# checked for every role by tests/web/test_screen_access.py), so it runs on SQLite only.
pytestmark = [pytest.mark.slow, pytest.mark.layout]

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
# Routes that answer a file, not a page.
FILES = {"main.healthz", "cases.export_csv", "cases.download", "cases.notice_photo", "summaries.download",
         "reports.chart", "reports.workbook", "archives.import_template", "audit.export_csv", "audit.export_xlsx",
         "metrics.exposition"}  # Prometheus text, thousands of lines: no page to lay out


def pages_of(caller: str) -> list[tuple[str, str]]:
    column = CALLERS.index(caller)
    return [(endpoint, path) for endpoint, (method, path, _, statuses) in sorted(TABLE.items())
            if method == "GET" and endpoint not in FILES and statuses.split()[column] == "200"]


def overflow(page) -> dict:
    """How wide the page is, and the widest element sticking out of the screen (for a readable failure)."""
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        let culprit = null, right = width;
        for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.width && box.right > right + 0.5) {
                right = box.right;
                culprit = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                          (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '');
            }
        }
        return {scroll: document.documentElement.scrollWidth, width: width, culprit: culprit};
    }""")


# English at the phone's size, for the roles whose pages differ most: its words are longer than Chinese (a label
# column sized to "Monthly income per capita (yuan)", a checkbox label that does not wrap).
ENGLISH = [pytest.param(caller, "phone", "en", id=f"{caller}-phone-en") for caller in ("cadre", "reviewer", "auditor")]


@pytest.mark.parametrize(("caller", "viewport", "language"), [
    pytest.param(caller, viewport, "zh", id=f"{caller}-{viewport}")
    for caller in ("anonymous", "cadre", "head", "reviewer", "finance", "auditor", "admin")
    for viewport in sorted(VIEWPORTS)] + ENGLISH)
def test_every_page_fits_the_screen(chromium, server, world, caller, viewport, language):
    people, ids = build_scene(world)
    for account in people.values():
        account.password_hash = generate_password_hash(PASSWORD)
    world.session.commit()
    context = chromium.new_context(viewport=VIEWPORTS[viewport], locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    browser = Browser(page, server)
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    if caller == "anonymous":
        visits = [("auth.signin_page", "/signin")]
    else:
        browser.sign_in(people[caller].username)
        visits = pages_of(caller) + [("errors.not_found", "/cases/999999")]
    if language == "en":  # the header's switch, as a person finds it (on a phone, behind the menu)
        page.locator("header .menu-button").click()
        page.click("button[name=lang][value=en]")
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == "en"
    suffix = "" if language == "zh" else f"-{language}"
    expected_errors = 0
    widths = {}
    for endpoint, path in visits:
        browser.go(path.format(**ids))
        page.wait_for_load_state("networkidle")
        if endpoint.startswith("errors."):  # the page's own 403/404 status is the one console error it may have
            expected_errors += 1
        measured = overflow(page)
        widths[endpoint] = measured["scroll"]
        if measured["scroll"] > VIEWPORTS[viewport]["width"]:
            failures.append(f"{endpoint} is {measured['scroll']} px wide (widest: {measured['culprit']})")
        browser.shot(f"every-{viewport}{suffix}-{caller}-{endpoint}")
    refusals = [text for text in browser.console_errors if "status of 40" in text]
    failures += [f"console: {text}" for text in browser.console_errors
                 if text not in refusals[:expected_errors]]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"widths-{viewport}{suffix}-{caller}.json").write_text(json.dumps(widths, indent=1))
    context.close()
    assert not failures, "\n".join(failures)
