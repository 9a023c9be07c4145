"""GET requests that write: each download of an ID or bank card copy (screen and API) and of a bank file writes an
audit event, so its request works in a writing session, as a POST does. On SQLite a reading session that then
writes fails (SQLITE_BUSY_SNAPSHOT, a 500) when another request committed a write after it read; a writing one
holds the write lock from its first statement, so nothing can be committed in between."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event, select

from workflows import verbs
from workflows.infra.clock import FixedClock
from workflows.models import Account, AuditEvent
from workflows.states import State

from ..conftest import START


class Meanwhile(FixedClock):
    """The domain's clock, which the first time it is read once armed, in the middle of the request (after the
    request's session has read), has another connection try to commit a write to the database."""

    def __init__(self, database: str, account_id: int) -> None:
        super().__init__(START)
        self.database, self.account_id = database, account_id
        self.armed, self.blocked = False, None

    def now(self):
        if self.armed:
            self.armed = False
            self.blocked = not self.write(wait=False)
        return super().now()

    def write(self, *, wait: bool) -> bool:
        """Another transaction's write, committed; False when the database's write lock is held (without waiting:
        the request holding it is this thread's)."""
        connection = sqlite3.connect(self.database, timeout=30 if wait else 0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE accounts SET display_name = '另一个请求改的' WHERE id = ?", (self.account_id,))
            connection.execute("COMMIT")
            return True
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            return False
        finally:
            connection.close()


@pytest.fixture
def scene(world):
    """A draft with a copy of its household's ID cards, a batch to pay, and the people who may download them."""
    draft = world.draft()
    world.attach(draft, ["household_ids"])
    cadre, finance, admin = (world.person(role, draft.union) for role in ("cadre", "finance", "admin"))
    batch = verbs.create_batch(world.session, finance, world.clock, [world.case(State.district_approved).id])
    world.session.commit()
    return {"case": draft.id, "document": draft.documents[0].id, "batch": batch.id, "cadre": cadre,
            "finance": finance, "admin": admin}


# What each writing GET is called with: (the caller, the screen's or the API's path, the event it writes)
DOWNLOADS = {
    "screen-id-card-copy": ("cadre", "/cases/documents/{document}", "download_document"),
    "api-id-card-copy": ("cadre", "/api/v1/cases/{case}/documents/{document}", "download_document"),
    "api-bank-file": ("finance", "/api/v1/payments/batches/{batch}/bank-file", "bank_file"),
}


def download(pages, api, scene, name):
    role, path, _action = DOWNLOADS[name]
    path = path.format(**scene)
    if path.startswith("/api/v1"):
        return api.call("GET", path.removeprefix("/api/v1"), scene[role])
    return pages.as_(scene[role]).get(path)


def events(world, action: str) -> int:
    world.session.commit()  # a fresh look at the database, not the session's last one
    return len(world.session.scalars(select(AuditEvent.seq).where(AuditEvent.action == action)).all())


@pytest.mark.sqlite  # SQLite's snapshots: PostgreSQL's reading sessions may write after another commit
@pytest.mark.parametrize("name", sorted(DOWNLOADS))
def test_an_audited_download_survives_a_write_committed_while_it_runs(app, committed, pages, api, world, scene,
                                                                    name):
    clock = Meanwhile(committed.url.database, scene["admin"].id)
    app.extensions["songnuan"]["clock"] = clock  # the app's only: the factory signing in keeps the test's
    action = DOWNLOADS[name][2]
    before = events(world, action)

    clock.armed = True
    response = download(pages, api, scene, name)

    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert events(world, action) == before + 1
    assert clock.blocked is True  # the download held the write lock: the other write could only come after it
    assert clock.write(wait=True)
    world.session.commit()
    assert world.session.scalar(select(Account.display_name).where(Account.id == scene["admin"].id)) == "另一个请求改的"


@pytest.mark.parametrize("name", sorted(DOWNLOADS))
def test_an_audited_download_works_in_a_writing_session(app, pages, api, world, scene, name):
    """On both databases: the download's transaction is begun as a writing one (on PostgreSQL the option changes
    nothing, row versions do the work), while a page that only reads keeps a reading one."""
    begun: list[bool] = []

    def note(connection):
        begun.append(bool(connection.get_execution_options().get("writes")))

    engine = app.extensions["songnuan"]["engine"]
    api.token(scene[DOWNLOADS[name][0]])
    reader = pages.as_(scene["cadre"])
    event.listen(engine, "begin", note)
    try:
        assert download(pages, api, scene, name).status_code == 200
        written = begun[:]
        begun.clear()
        assert reader.get(f"/cases/{scene['case']}").status_code == 200
    finally:
        event.remove(engine, "begin", note)
    assert written and all(written), written
    assert begun and not any(begun), begun



def test_the_case_forms_live_check_reads_in_a_reading_session(app, pages, world, scene):
    """The check sent as the cadre types is a POST that only reads: a writing session would take SQLite's write
    lock and queue every pause in typing behind real saves (and block them)."""
    begun: list[bool] = []
    engine = app.extensions["songnuan"]["engine"]
    client = pages.as_(scene["cadre"])
    client.get(f"/cases/{scene['case']}")  # signed in before listening

    def note(connection):
        begun.append(bool(connection.get_execution_options().get("writes")))

    event.listen(engine, "begin", note)
    try:
        response = client.post(f"/cases/{scene['case']}/check", {"applicant.name": "王秀英"})
        new = client.post("/cases/new/check", {"applicant.name": "王秀英"})
    finally:
        event.remove(engine, "begin", note)
    assert response.status_code == 200 and new.status_code == 200, response.get_data(as_text=True)[:300]
    assert begun and not any(begun), begun
