"""Browser tests: the application served for real on a loopback port (in a thread, on the test database, with the
test's clock), driven by Debian's Chromium through Playwright. Screenshots go to instance/screenshots/."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app import create_app
from app.config import Settings
from workflows import verbs
from workflows.actors import CONSOLE
from workflows.infra.uploads import Uploads

from ..factories import Factory
from ..storage import settings_of

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "instance" / "screenshots"
PASSWORD = "Songnuan-Browser-2018"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture(scope="session")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def world(committed, clock, tmp_path) -> Factory:
    with Session(committed, expire_on_commit=False) as session:
        yield Factory(session, clock, Uploads(tmp_path / "uploads"))


@pytest.fixture
def server(committed, world, clock, monkeypatch):
    """The base URL of the application, served by a real HTTP server until the test ends."""
    monkeypatch.setenv("SONGNUAN_SECRET_KEY", "browser-test")
    app = create_app(Settings(database_url=committed.url.render_as_string(hide_password=False),
                              development=True, **settings_of(world.uploads)))
    app.extensions["songnuan"]["clock"] = clock
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()
    app.extensions["songnuan"]["engine"].dispose()


@pytest.fixture
def people(world):
    """One account per role, each with a real password, in one grassroots union."""
    union = world.default_union()
    made = {}
    for role in ("cadre", "head", "reviewer", "finance", "auditor", "admin"):
        made[role] = verbs.create_account(
            world.session, CONSOLE, world.clock, f"{role}_b", role, PASSWORD,
            union.code if role in ("cadre", "head") else None, display_name=f"{role}测试员")
    world.session.commit()
    return made


class Browser:
    """A Chromium tab that signs in and out as one person after another and keeps screenshots."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base
        self.console_errors: list[str] = []
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)

    def go(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def sign_in(self, username: str) -> None:
        self.go("/signin")
        self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("form.signin-form button[type=submit], section button[type=submit]")
        self.page.wait_for_load_state()
        assert "/signin" not in self.page.url, self.page.inner_text("main")

    def sign_out(self) -> None:
        menu = self.page.locator("header .menu-button")
        if menu.is_visible():  # on a phone the sign-out is behind the menu, as a person finds it
            menu.click()
        self.page.click("header form[action='/signout'] button")
        self.page.wait_for_url("**/signin")

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        return path


def in_view(page, selector: str) -> bool:
    """Whether the first element `selector` finds is wholly within the screen as it is scrolled (give or take the
    pixel that a scroll to a fragment rounds away)."""
    box = page.locator(selector).first.bounding_box()  # relative to the viewport
    return box is not None and box["y"] >= -1 and box["y"] + box["height"] <= page.viewport_size["height"] + 1


def posts(page) -> list[str]:
    """The addresses the tab POSTs to from now on (a reload that posts again shows here)."""
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    return sent


@pytest.fixture
def browser(chromium, server):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield Browser(page, server)
    # Let the last requests (a favicon, a stylesheet) finish before the tab goes: a response cut off mid-file
    # leaves the dev server's file unclosed, which the suite's warnings-as-errors would report as this test's.
    page.wait_for_load_state("networkidle")
    context.close()


@pytest.fixture
def tab(chromium, server):
    """A tab of a given size (PHONE, DESKTOP), signed in as `username` at `path` when they are given."""
    contexts = []

    def open_tab(viewport: dict, username: str | None = None, path: str | None = None) -> Browser:
        context = chromium.new_context(viewport=viewport, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        browser = Browser(page, server)
        if username:
            browser.sign_in(username)
        if path:
            browser.go(path)
        return browser
    yield open_tab
    for context in contexts:
        context.pages[0].wait_for_load_state("networkidle")
        context.close()
