"""台账导入 in a real browser: 检查 answers in place, so the file stays chosen and 导入 sends it without the cadre
finding it in the folder again; a file with mistakes shows its bad cells the same way, and nothing is stored until
导入."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import func, select

from workflows.models import Archive

from ..ledger_data import ledger, workbook
from .conftest import DESKTOP, PHONE, posts

pytestmark = pytest.mark.slow  # a real browser

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def archives(world) -> int:
    world.session.commit()  # a new transaction: what the server committed meanwhile
    return world.session.scalar(select(func.count()).select_from(Archive))


def chosen(page) -> int:
    return page.eval_on_selector("#ledger-file", "input => input.files.length")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_checked_file_stays_chosen_and_imports_with_one_click(tab, people, world, size):
    browser = tab(size, "cadre_b", "/archives/import")
    page = browser.page
    before = archives(world)
    page.set_input_files("#ledger-file", files=[{"name": "台账.xlsx", "mimeType": XLSX,
                                                 "buffer": workbook(ledger(households=2, members=1))}])
    sent = posts(page)
    page.click("button[value=check]")
    page.wait_for_selector("#ledger-ok")
    ok = page.inner_text("#ledger-ok")
    assert "共2户、4人，可以导入" in ok and "文件仍已选好" in ok and "再次选择" not in ok, ok
    assert chosen(page) == 1 and page.url.endswith("/archives/import") and len(sent) == 1
    assert archives(world) == before  # a check stores nothing
    browser.shot(f"trial-ledger-checked-{'phone' if size is PHONE else 'desktop'}")

    page.click("button[value=import]")
    page.wait_for_url("**/archives/?status=active")
    assert "已从台账导入 2 户（4 人）的档案" in page.inner_text("main")
    assert archives(world) == before + 2 and not browser.console_errors


def test_a_file_with_mistakes_shows_its_cells_and_stays_chosen(tab, people, world):
    browser = tab(DESKTOP, "cadre_b", "/archives/import")
    page = browser.page
    rows = ledger(households=2, members=1)
    rows[2]["主要致困原因"] = "生病"
    page.set_input_files("#ledger-file", files=[{"name": "台账.xlsx", "mimeType": XLSX, "buffer": workbook(rows)}])
    page.click("button[value=check]")
    page.wait_for_selector("#ledger-errors")
    assert "台账有1处错误" in page.inner_text("#ledger-error") and "生病" in page.inner_text("#ledger-errors")
    assert chosen(page) == 1 and page.locator("#ledger-ok").count() == 0

    # Corrected in place and checked again: the old cells go, the verdict is the new file's.
    rows[2]["主要致困原因"] = "患重特大疾病"
    page.set_input_files("#ledger-file", files=[{"name": "台账.xlsx", "mimeType": XLSX, "buffer": workbook(rows)}])
    page.click("button[value=check]")
    page.wait_for_selector("#ledger-ok")
    assert page.locator("#ledger-errors").count() == 0 and page.locator("#ledger-error").count() == 0
    # The refused check's 400 is the browser's only complaint (it logs every 4xx answer to a script).
    assert [e for e in browser.console_errors if "status of 400" not in e] == [], browser.console_errors


def test_a_file_edited_after_it_was_chosen_is_asked_for_again(tab, people, world, tmp_path):
    """The browser cannot send a file changed since it was chosen (it would show its own error page instead of
    ours): the page says so and asks for it again. A file chosen anew clears what was said of the last one."""
    browser = tab(DESKTOP, "cadre_b", "/archives/import")
    page = browser.page
    path = tmp_path / "台账.xlsx"
    rows = ledger(households=1, members=1)
    path.write_bytes(workbook(rows))
    page.set_input_files("#ledger-file", str(path))
    page.click("button[value=check]")
    page.wait_for_selector("#ledger-ok")

    rows[1]["职业"] = "退休"  # corrected in Excel and saved over the same file
    path.write_bytes(workbook(rows))
    os.utime(path, (time.time() + 5, time.time() + 5))
    sent = posts(page)
    page.click("button[value=import]")
    page.wait_for_selector("#ledger-reread", state="visible")
    assert "请重新选择文件" in page.inner_text("#ledger-reread") and chosen(page) == 0 and sent == []
    assert page.locator("#ledger-ok").count() == 0 and page.url.endswith("/archives/import")

    page.set_input_files("#ledger-file", str(path))
    assert not page.locator("#ledger-reread").is_visible()
    page.click("button[value=import]")
    page.wait_for_url("**/archives/?status=active")
    assert "已从台账导入 1 户（2 人）的档案" in page.inner_text("main")


def test_an_expired_form_says_so_in_place_and_the_next_check_goes_through(tab, people, world):
    """Signing in again in another tab renews the form's token: the check is refused as an expired form, the page
    says so where the verdict would be, and takes the new token, so that checking again works."""
    browser = tab(DESKTOP, "cadre_b", "/archives/import")
    page = browser.page
    page.set_input_files("#ledger-file", files=[{"name": "台账.xlsx", "mimeType": XLSX,
                                                 "buffer": workbook(ledger(households=1, members=1))}])
    page.eval_on_selector("#ledger-form input[name=csrf_token]", "input => { input.value = 'stale'; }")
    page.click("button[value=check]")
    page.wait_for_selector("#ledger-form >> xpath=preceding-sibling::p[contains(., '页面已过期')]")
    assert chosen(page) == 1 and page.locator("#ledger-ok").count() == 0
    page.click("button[value=check]")
    page.wait_for_selector("#ledger-ok")
    assert "页面已过期" not in page.inner_text("main")


def test_an_answer_that_is_not_the_import_page_is_said_and_the_file_not_sent_again(tab, people, world):
    browser = tab(DESKTOP, "cadre_b", "/archives/import")
    page = browser.page
    sent = []

    def gateway(route):
        sent.append(route.request.method)
        if route.request.method == "POST":
            route.fulfill(status=502, content_type="text/html", body="<html><body>Bad gateway</body></html>")
        else:
            route.continue_()

    page.route("**/archives/import", gateway)
    page.set_input_files("#ledger-file", files=[{"name": "台账.xlsx", "mimeType": XLSX,
                                                 "buffer": workbook(ledger(households=1, members=1))}])
    page.click("button[value=check]")
    page.wait_for_selector("#ledger-failed", state="visible")
    assert sent == ["POST"] and chosen(page) == 1 and page.url.endswith("/archives/import")
    assert page.evaluate("document.activeElement.id") == "ledger-failed"  # read out, and the keyboard goes on
