"""Fixtures for tests through the application: a real app on the test database, data committed through the
factory, and the app's clock being the test's clock."""

from __future__ import annotations

import contextlib
import re

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app import create_app
from app.config import Settings
from workflows import verbs
from workflows.infra.uploads import Uploads

from ..factories import Factory
from ..storage import settings_of, stored


@pytest.fixture
def db_session(committed):
    with Session(committed, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def world(db_session, clock, tmp_path) -> Factory:
    """The factory, writing to the database the app reads; call `world.session.commit()` after building."""
    return Factory(db_session, clock, Uploads(tmp_path / "uploads"))


@pytest.fixture
def cadre(world):
    """A grassroots cadre of the default union, its campaign open (a module may have a cadre of its own)."""
    account = world.person("cadre", world.default_union())
    world.default_campaign()
    world.session.commit()
    return account


@pytest.fixture
def app(committed, world, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("SONGNUAN_SECRET_KEY", "test-secret")
    app = create_app(Settings(database_url=committed.url.render_as_string(hide_password=False),
                              development=True, **settings_of(world.uploads)))
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
            self._tokens[account.id] = verbs.issue_token(self.world.session, self.world.clock, account)
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


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Pages:
    """The screens as one account or another: pages.as_(account) gives a signed-in test client whose post() adds
    the form's CSRF token, read from a page as a browser would. (Signing in itself is tested through the form in
    test_signin; here the session key is issued directly, which is what the form does.)"""

    def __init__(self, app, world: Factory) -> None:
        self.app, self.world = app, world

    def as_(self, account) -> "Client":
        client = self.app.test_client()
        key = verbs.issue_token(self.world.session, self.world.clock, account, kind="web")
        self.world.session.commit()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = key, True
        return Client(client)

    def anonymous(self) -> "Client":
        return Client(self.app.test_client())


class Client:
    def __init__(self, client) -> None:
        self.client = client
        self._token: str | None = None

    def csrf(self) -> str:
        if self._token is None:
            page = self.client.get("/signin" if not self._signed_in() else "/notifications/")
            page = page if page.status_code == 200 else self.client.get("/signin")
            self._token = CSRF.search(page.get_data(as_text=True)).group(1)
        return self._token

    def _signed_in(self) -> bool:
        with self.client.session_transaction() as session:
            return "_user_id" in session

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path: str, data=None, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf())
        return self.client.post(path, data=data, **kwargs)


@pytest.fixture
def pages(app, world) -> Pages:
    return Pages(app, world)


@contextlib.contextmanager
def counting(app):
    """The SQL statements the app's engine runs inside the block (for the fixed-queries-per-page tests)."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = app.extensions["songnuan"]["engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def snapshot(world) -> tuple:
    """What a refused request must leave as it was: the rows it could write and the upload folder's files."""
    from sqlalchemy import func, select

    from workflows.models import AuditEvent, Case, Document, Member

    world.session.commit()  # a fresh look at the database, not the session's last one
    counts = tuple(world.session.scalar(select(func.count()).select_from(model))
                   for model in (Case, Member, Document, AuditEvent))
    return counts, stored(world.uploads)
