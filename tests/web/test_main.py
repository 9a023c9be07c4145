"""The start page asks a stranger to sign in, and /healthz answers."""

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from app import create_app
from app.config import Settings
from app.demo import build_demo
from workflows.infra.clock import LOCAL
from workflows.infra.uploads import Uploads


@pytest.fixture
def client(committed, tmp_path, monkeypatch):
    monkeypatch.setenv("SONGNUAN_SECRET_KEY", "test")
    url = committed.url.render_as_string(hide_password=False)
    with Session(committed) as session:
        build_demo(session, Uploads(tmp_path), now=dt.datetime(2026, 11, 29, 10, tzinfo=LOCAL))
        session.commit()
    app = create_app(Settings(database_url=url, upload_dir=str(tmp_path)))
    yield app.test_client()
    app.extensions["songnuan"]["engine"].dispose()


def test_the_start_page_asks_a_stranger_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "登录" in page and "用户名" in page


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_healthz_says_503_when_the_database_does_not_answer(tmp_path, monkeypatch):
    monkeypatch.setenv("SONGNUAN_SECRET_KEY", "test")
    missing = tmp_path / "no-such-dir" / "songnuan.db"  # SQLite cannot open a file in a missing folder
    app = create_app(Settings(database_url=f"sqlite:///{missing}", upload_dir=str(tmp_path)))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json == {"status": "database unavailable"}
    app.extensions["songnuan"]["engine"].dispose()
