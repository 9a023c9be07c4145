"""Fixtures for tests through the application: a real app on the test database, data committed through the
factory, and the app's clock being the test's clock."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app import create_app
from app.config import Settings
from workflows import signin
from workflows.documents import Uploads

from ..factories import Factory


@pytest.fixture
def db_session(committed):
    with Session(committed, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def world(db_session, clock, tmp_path) -> Factory:
    """The factory, writing to the database the app reads; call `world.session.commit()` after building."""
    return Factory(db_session, clock, Uploads(tmp_path / "uploads"))


@pytest.fixture
def app(committed, world, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("SONGNUAN_SECRET_KEY", "test-secret")
    app = create_app(Settings(database_url=committed.url.render_as_string(hide_password=False),
                              upload_dir=str(world.uploads.root)))
    app.extensions["songnuan"]["clock"] = clock
    yield app
    app.extensions["songnuan"]["engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Api:
    """Calls as one account or another: api.as_(account).post(path, json=...)."""

    def __init__(self, client, world: Factory) -> None:
        self.client, self.world, self._tokens = client, world, {}

    def token(self, account) -> str:
        if account.id not in self._tokens:
            self._tokens[account.id] = signin.issue_token(self.world.session, self.world.clock, account)
            self.world.session.commit()
        return self._tokens[account.id]

    def call(self, method: str, path: str, account=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if account is not None:
            headers["Authorization"] = f"Bearer {self.token(account)}"
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)


@pytest.fixture
def api(client, world) -> Api:
    return Api(client, world)
