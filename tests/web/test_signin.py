"""Signing in and out of the screens: passwords, throttling, a new session at sign-in, a dead one after sign-out,
cookie flags, CSRF, safe redirects and the language switch."""

from __future__ import annotations

import re

import pytest

from app import create_app
from app.config import Settings
from workflows import verbs
from workflows.actors import CONSOLE
from workflows.models import ApiToken, AuditEvent

from ..storage import settings_of

PASSWORD = "winter-Warmth-2018"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def cadre(world):
    union = world.default_union()
    account = verbs.create_account(world.session, CONSOLE, world.clock, "zhang.wei", "cadre", PASSWORD,
                                          union.code, display_name="张伟")
    world.session.commit()
    return account


def csrf(client, path="/signin") -> str:
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, password=PASSWORD, username="zhang.wei", **extra):
    return client.post("/signin", data={"username": username, "password": password, "csrf_token": csrf(client),
                                        **extra})


def test_the_right_password_opens_the_inbox(client, cadre):
    response = sign_in(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "我的待办" in page and "张伟" in page


def test_a_wrong_password_is_refused_with_a_message(client, cadre):
    response = sign_in(client, password="wrong")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302  # still signed out


def test_an_unknown_name_reads_the_same_as_a_wrong_password(client, cadre):
    response = sign_in(client, username="nobody")
    assert response.status_code == 401 and "用户名或密码不正确" in response.get_data(as_text=True)


def test_repeated_failures_are_throttled_even_with_the_right_password(client, cadre):
    for _ in range(5):
        assert sign_in(client, password="wrong").status_code == 401
    response = sign_in(client)
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)
    assert client.get("/inbox").status_code == 302


def test_a_new_session_at_sign_in(client, cadre, world):
    before_token = csrf(client)
    before = client.get_cookie("session").value
    sign_in(client)
    after = client.get_cookie("session").value
    assert after != before
    assert csrf(client, "/notifications/") != before_token  # the CSRF secret of the anonymous session is gone
    assert world.session.query(AuditEvent).filter_by(action="sign_in").count() == 1


def test_the_session_is_dead_after_sign_out_even_for_a_copy_of_its_cookie(app, client, cadre):
    sign_in(client)
    stolen = client.get_cookie("session").value
    assert client.get("/inbox").status_code == 200
    response = client.post("/signout", data={"csrf_token": csrf(client, "/notifications/")})
    assert response.status_code == 302 and response.headers["Location"] == "/signin"
    assert client.get("/inbox").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/inbox")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin")


def test_a_disabled_account_loses_its_session(client, cadre, world):
    sign_in(client)
    cadre.active = False
    world.session.commit()
    assert client.get("/inbox").status_code == 302


def test_the_web_session_key_is_not_an_api_token(client, cadre, world):
    sign_in(client)
    key = world.session.query(ApiToken).filter_by(kind="web").one()
    assert key.revoked_at is None
    # The cookie's key is stored hashed only; no bearer token works from it, and the API reads no cookie.
    assert client.get("/api/v1/me").status_code == 401


@pytest.fixture
def production(committed, world, clock, monkeypatch):
    monkeypatch.setenv("SONGNUAN_SECRET_KEY", "test-secret")
    app = create_app(Settings(database_url=committed.url.render_as_string(hide_password=False),
                              **settings_of(world.uploads)))
    app.extensions["songnuan"]["clock"] = clock
    yield app
    app.extensions["songnuan"]["engine"].dispose()


def test_cookies_are_httponly_lax_and_secure_outside_development(production, cadre):
    client = production.test_client()
    token = TOKEN.search(client.get("/signin", base_url="https://localhost").get_data(as_text=True)).group(1)
    # Over https Flask-WTF also checks that the form came from this site (the Referer header).
    response = client.post("/signin", base_url="https://localhost", headers={"Referer": "https://localhost/signin"},
                           data={"username": "zhang.wei", "password": PASSWORD, "remember": "y", "csrf_token": token})
    assert response.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        flags = cookies[name].lower()
        assert "httponly" in flags and "samesite=lax" in flags and "secure" in flags, cookies[name]
    assert "max-age=604800" in cookies["remember_token"].lower() or "expires=" in cookies["remember_token"].lower()
    assert response.headers["Strict-Transport-Security"]


def test_security_headers_on_every_page(client):
    response = client.get("/signin")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_a_post_without_the_csrf_token_is_refused(client, cadre, world):
    response = client.post("/signin", data={"username": "zhang.wei", "password": PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert world.session.query(AuditEvent).filter_by(action="sign_in").count() == 0


def test_sign_in_goes_back_to_the_page_asked_for_but_never_to_another_site(client, cadre):
    response = client.get("/cases/")
    assert response.headers["Location"].startswith("/signin?next=")
    token = csrf(client)
    response = client.post("/signin?next=/cases/", data={"username": "zhang.wei", "password": PASSWORD,
                                                         "csrf_token": token})
    assert response.headers["Location"] == "/cases/"
    client.post("/signout", data={"csrf_token": csrf(client, "/notifications/")})
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/cases/%0d%0aX-Evil:%201",
                   "/cases/%09"):
        response = client.post(f"/signin?next={target}", data={"username": "zhang.wei", "password": PASSWORD,
                                                              "csrf_token": csrf(client)})
        assert response.headers["Location"] == "/", target
        client.post("/signout", data={"csrf_token": csrf(client, "/notifications/")})


def test_the_language_switch_shows_english_and_back(client):
    assert "登录" in client.get("/signin").get_data(as_text=True)
    client.post("/language", data={"lang": "en", "next": "/signin", "csrf_token": csrf(client)})
    page = client.get("/signin").get_data(as_text=True)
    assert "Sign in" in page and 'lang="en"' in page
    client.post("/language", data={"lang": "zh", "next": "/signin", "csrf_token": csrf(client)})
    assert 'lang="zh-CN"' in client.get("/signin").get_data(as_text=True)
    # a line break in where to go back to is no header of ours: the switch goes to its default page instead
    response = client.post("/language", data={"lang": "zh", "next": "/cases/\r\nX-Evil: 1", "csrf_token": csrf(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/signin"
    assert "X-Evil" not in response.headers
