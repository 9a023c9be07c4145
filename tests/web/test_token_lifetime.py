"""API tokens and browser sessions end: unused for SONGNUAN_TOKEN_IDLE_MINUTES, or SONGNUAN_TOKEN_MAX_AGE_DAYS
after they were made (a browser session after 7 days at most). An ended API token is a 401 that says to sign in
again or make a new token; an ended session sends its browser to sign-in with the reason. Time is the test's
clock; reading requests count as use as much as writing ones."""

from __future__ import annotations

import datetime as dt

import pytest

from app.config import Settings
from workflows import verbs
from workflows.actors import CONSOLE
from workflows.verbs import signin

MAX_AGE = dt.timedelta(days=2)
PASSWORD = "sn-Correct-Horse-42"


@pytest.fixture
def short(app):
    """The application with a 30-minute idle timeout and tokens of two days at most."""
    settings = app.extensions["songnuan"]["settings"]
    settings.token_idle_minutes, settings.token_max_age_days = 30, 2
    return app


@pytest.fixture
def cadre(world):
    account = world.person("cadre", world.default_union())
    world.session.commit()
    return account


def me(api, account):
    return api.call("GET", "/me", account)


def assert_expired(response) -> None:
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.json["error"] == "unauthenticated"
    assert "过期" in response.json["message"] and "重新登录" in response.json["message"]
    assert "新建令牌" in response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_api_token_unused_longer_than_the_idle_time_ends(short, api, cadre, clock):
    assert me(api, cadre).status_code == 200
    clock.advance(minutes=29)
    assert me(api, cadre).status_code == 200  # a reading request is a use: the idle time starts again
    clock.advance(minutes=29)
    assert me(api, cadre).status_code == 200
    clock.advance(minutes=31)
    assert_expired(me(api, cadre))
    assert_expired(me(api, cadre))  # and stays ended


def test_an_api_token_in_daily_use_ends_at_its_greatest_age(short, api, cadre, clock):
    short.extensions["songnuan"]["settings"].token_idle_minutes = 0  # no idle timeout: only the age counts
    start = clock.now()
    while clock.now() < start + MAX_AGE - dt.timedelta(hours=6):
        assert me(api, cadre).status_code == 200
        clock.advance(hours=6)
    clock.set(start + MAX_AGE - dt.timedelta(minutes=1))
    assert me(api, cadre).status_code == 200
    clock.set(start + MAX_AGE + dt.timedelta(minutes=1))
    assert_expired(me(api, cadre))


def test_signing_in_again_gives_a_token_that_works(short, client, world, clock):
    verbs.create_account(world.session, CONSOLE, clock, "wang.cadre", "cadre", PASSWORD, world.default_union().code)
    world.session.commit()
    old = client.post("/api/v1/tokens", json={"username": "wang.cadre", "password": PASSWORD}).json["token"]
    clock.advance(hours=1)
    assert_expired(client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"}))
    new = client.post("/api/v1/tokens", json={"username": "wang.cadre", "password": PASSWORD}).json["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_an_idle_browser_session_goes_to_sign_in_saying_why(short, pages, cadre, clock):
    browser = pages.as_(cadre)
    assert browser.get("/inbox").status_code == 200
    clock.advance(minutes=25)
    assert browser.get("/inbox").status_code == 200
    clock.advance(minutes=25)  # 50 minutes after signing in, 25 after the last page
    assert browser.get("/inbox").status_code == 200
    clock.advance(minutes=31)
    response = browser.get("/inbox")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "登录已过期" in page and "请重新登录" in page


def test_a_browser_session_ends_after_seven_days_however_used(app, pages, cadre, clock):
    browser = pages.as_(cadre)
    start = clock.now()
    for _day in range(7):
        assert browser.get("/inbox").status_code == 200
        clock.advance(days=1)
    clock.set(start + signin.WEB_SESSION + dt.timedelta(minutes=1))
    assert browser.get("/inbox").status_code == 302


@pytest.mark.parametrize("idle, age, expected", [
    (None, None, signin.Lifetime()),
    ("45", "3", signin.Lifetime(dt.timedelta(minutes=45), dt.timedelta(days=3))),
    ("0", "0", signin.Lifetime(None, None)),
    ("半小时", "-1", signin.Lifetime()),  # not a whole number: the default, never "no limit"
])
def test_the_settings_come_from_the_environment(monkeypatch, idle, age, expected):
    for name, value in (("SONGNUAN_TOKEN_IDLE_MINUTES", idle), ("SONGNUAN_TOKEN_MAX_AGE_DAYS", age)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert Settings().token_lifetime == expected
