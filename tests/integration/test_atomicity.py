"""A change and its audit event are one transaction: both are stored, or neither.

These tests really commit (the `committed` fixture) and look at the database afterwards through a fresh
connection, the way the next request would. They break the audit write in the middle of a verb (in Python, in the
ORM, in the database itself), break a flush after the event was written, and check that refusals and stale versions
store nothing even when the caller commits anyway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.actors import SYSTEM
from workflows.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Refused
from workflows.infra import audit
from workflows.infra.clock import FixedClock, to_db
from workflows.infra.uploads import Uploads
from workflows.models import Account, AuditEvent, AuditHead, Base, Case
from workflows.states import State

from ..conftest import START, is_postgres
from ..factories import PDF, Factory, case_data
from ..storage import stored

# ---------------------------------------------------------------- a committed world

@dataclass
class World:
    engine: Engine
    clock: FixedClock
    uploads: Uploads
    campaign: int
    cases: dict[str, int]
    people: dict[str, int]

    def actor(self, session: Session, name: str) -> Any:
        return SYSTEM if name == "system" else session.get(Account, self.people[name])

    def case(self, session: Session, name: str) -> Case:
        return session.get(Case, self.cases[name])

    def files(self) -> list[str]:
        return stored(self.uploads)


@pytest.fixture
def world(committed: Engine, tmp_path: Path) -> World:
    clock = FixedClock(START)
    uploads = Uploads(tmp_path / "uploads")
    with Session(committed, expire_on_commit=False) as session, session.begin():
        make = Factory(session, clock, uploads)
        union = make.default_union()
        cases = {
            "draft": make.draft(),
            "documented": make.case(State.documented),
            "publicized": make.case(State.publicized),
            "objected": make.case(State.publicized),
            "entered": make.case(State.entered),
            "claimed": make.case(State.entered),
        }
        people = {role: make.person(role, union) for role in ("cadre", "head", "reviewer", "finance")}
        people["reviewer2"] = make.account("reviewer")
        verbs.record_objection(session, people["cadre"], clock, cases["objected"].id, "申请人另有房产")
        verbs.claim(session, people["reviewer"], clock, cases["claimed"].id)
        campaign = make.default_campaign().id
    return World(committed, clock, uploads, campaign, {k: c.id for k, c in cases.items()},
                 {k: p.id for k, p in people.items()})


def snapshot(engine: Engine) -> dict[str, list[Any]]:
    """Every row of every table, read through a connection of its own."""
    with engine.connect() as connection:
        return {table.name: connection.execute(table.select().order_by(*table.primary_key.columns)).all()
                for table in Base.metadata.sorted_tables}


def head(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(AuditHead.seq)).scalar_one()


def chain_ok(engine: Engine) -> audit.Verification:
    with Session(engine) as session:
        return audit.verify(session)


# ---------------------------------------------------------------- the verbs, each writing one event

def _create(s: Session, w: World) -> Any:
    return verbs.create_case(s, w.actor(s, "cadre"), w.clock, w.campaign, case_data())


def _edit(s: Session, w: World) -> Any:
    return verbs.edit_case(s, w.actor(s, "cadre"), w.clock, w.cases["draft"], None,
                              {"applicant": {"phone": "13800002222"}})


def _add_document(s: Session, w: World) -> Any:
    return verbs.add_document(s, w.actor(s, "cadre"), w.clock, w.uploads, w.cases["draft"], "application",
                                 "申请.pdf", PDF)


def _approve(s: Session, w: World) -> Any:
    return verbs.fire(s, w.actor(s, "head"), w.clock, w.cases["documented"], "approve", None)


def _enter(s: Session, w: World) -> Any:
    return verbs.fire(s, w.actor(s, "cadre"), w.clock, w.cases["publicized"], "enter", None)


def _object(s: Session, w: World) -> Any:
    return verbs.record_objection(s, w.actor(s, "head"), w.clock, w.cases["publicized"], "有人反映其收入不实")


def _claim(s: Session, w: World) -> Any:
    return verbs.claim(s, w.actor(s, "reviewer"), w.clock, w.cases["entered"])


VERBS: dict[str, Callable[[Session, World], Any]] = {
    "create": _create, "edit": _edit, "add_document": _add_document, "approve": _approve, "enter": _enter,
    "object": _object, "claim": _claim,
}


class AuditStoreDown(Exception):
    """The failure injected into the audit write."""


@contextmanager
def audit_write_fails(mode: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, session: Session,
                      seen: dict[str, Any]) -> Iterator[type[BaseException]]:
    """Make the next audit event fail to be written; yields the exception the verb will raise.

    Where the failure is raised in Python, it first notes what the transaction had already written: the audit
    head's sequence, bumped after the change itself was flushed.
    """
    if mode == "hash":
        real = audit.event_hash

        def event_hash(fields: dict[str, Any]) -> str:
            seen["head"] = session.connection().execute(select(AuditHead.seq)).scalar_one()
            raise AuditStoreDown

        monkeypatch.setattr(audit, "event_hash", event_hash)
        yield AuditStoreDown
        monkeypatch.setattr(audit, "event_hash", real)
    elif mode == "driver":  # the INSERT of the event fails on its way to the database
        def before_insert(connection, cursor, statement, parameters, context, executemany) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS"):
                seen["head"] = connection.execute(select(AuditHead.seq)).scalar_one()
                raise AuditStoreDown

        event.listen(engine, "before_cursor_execute", before_insert)
        try:
            yield AuditStoreDown
        finally:
            event.remove(engine, "before_cursor_execute", before_insert)
    else:  # a trigger: the database itself refuses the row
        with engine.begin() as connection:
            if is_postgres(engine):
                connection.execute(text("CREATE FUNCTION audit_store_down() RETURNS trigger AS $$ BEGIN "
                                        "RAISE EXCEPTION 'audit store unavailable'; END $$ LANGUAGE plpgsql"))
                connection.execute(text("CREATE TRIGGER audit_store_down BEFORE INSERT ON audit_events "
                                        "FOR EACH ROW EXECUTE FUNCTION audit_store_down()"))
            else:
                connection.execute(text("CREATE TRIGGER audit_store_down BEFORE INSERT ON audit_events "
                                        "BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END"))
        try:
            yield DBAPIError
        finally:
            with engine.begin() as connection:
                connection.execute(text("DROP TRIGGER audit_store_down" + (" ON audit_events" if is_postgres(
                    engine) else "")))
                if is_postgres(engine):
                    connection.execute(text("DROP FUNCTION audit_store_down()"))


# ---------------------------------------------------------------- the audit write fails in the middle

@pytest.mark.parametrize("mode", ["hash", "driver", "database"])
@pytest.mark.parametrize("verb", list(VERBS))
def test_a_failed_audit_write_leaves_neither_the_change_nor_an_event(world, monkeypatch, verb, mode):
    before, files, head_before = snapshot(world.engine), world.files(), head(world.engine)
    seen: dict[str, Any] = {}
    session = Session(world.engine, expire_on_commit=False)

    with audit_write_fails(mode, world.engine, monkeypatch, session, seen) as failure:
        with pytest.raises(failure) as raised, session.begin():
            VERBS[verb](session, world)
    session.close()

    if mode == "database":
        assert "audit store unavailable" in str(raised.value)
    else:  # the change and the head's bump had reached the database when the event failed
        assert seen["head"] == head_before + 1
    assert snapshot(world.engine) == before
    assert world.files() == files  # an uploaded file goes with its rolled-back row
    assert chain_ok(world.engine).ok

    # The same verb goes through once the audit store is back: nothing was left half done. Opening a case opens
    # its household's archive too, and editing that draft changes the archive opened with it: two events each.
    with Session(world.engine, expire_on_commit=False) as again, again.begin():
        VERBS[verb](again, world)
    written = 2 if verb in ("create", "edit") else 1
    assert head(world.engine) == head_before + written
    assert chain_ok(world.engine) == audit.Verification(True, head_before + written)


def test_the_failed_transition_had_moved_the_case_before_the_event_failed(world, monkeypatch):
    """The failure really comes in the middle: the new state was already written in the transaction."""
    seen: dict[str, Any] = {}
    session = Session(world.engine, expire_on_commit=False)
    case_id = world.cases["documented"]

    def before_insert(connection, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS"):
            seen["case"] = connection.execute(select(Case.state, Case.version).where(Case.id == case_id)).one()
            raise AuditStoreDown

    event.listen(world.engine, "before_cursor_execute", before_insert)
    try:
        with pytest.raises(AuditStoreDown), session.begin():
            version = world.case(session, "documented").version
            _approve(session, world)
    finally:
        event.remove(world.engine, "before_cursor_execute", before_insert)
        session.close()

    assert tuple(seen["case"]) == (State.grassroots_approved, version + 1)
    with Session(world.engine) as fresh:
        case = world.case(fresh, "documented")
        assert (case.state, case.version) == (State.documented, version)


# ---------------------------------------------------------------- a flush fails after the event

def test_an_event_that_cannot_be_stored_takes_the_transition_with_it(world):
    """A stray row already holds the next sequence number: the event's INSERT hits the primary key."""
    with world.engine.begin() as connection:
        stray = {"seq": head(world.engine) + 1, "occurred_at": to_db(START), "actor_id": None, "actor": "x",
                 "role": "system", "case_id": None, "action": "stray", "from_state": None, "to_state": None,
                 "comment": None, "changes": {}, "prev_hash": audit.GENESIS, "hash": "f" * 64}
        connection.execute(AuditEvent.__table__.insert().values(**stray))
    before = snapshot(world.engine)

    with pytest.raises(IntegrityError), Session(world.engine) as session, session.begin():
        _approve(session, world)

    assert snapshot(world.engine) == before
    with Session(world.engine) as fresh:
        assert world.case(fresh, "documented").state == State.documented


def test_a_later_flush_failing_takes_the_transition_and_its_event_with_it(world):
    before, head_before = snapshot(world.engine), head(world.engine)
    with Session(world.engine) as session:
        taken = session.get(Account, world.people["cadre"]).username
        session.rollback()
        with pytest.raises(IntegrityError), session.begin():
            case = _approve(session, world)
            # Written in this transaction: the new state and its event.
            assert case.state == State.grassroots_approved
            assert session.scalar(select(AuditEvent.action).where(AuditEvent.seq == head_before + 1)) == "approve"
            # Then the same request trips over a constraint at the flush of its commit.
            session.add(Account(username=taken, password_hash="-", role="cadre", created_at=to_db(START)))

    assert snapshot(world.engine) == before
    assert head(world.engine) == head_before


# ---------------------------------------------------------------- refusals change nothing, even committed

REFUSALS: dict[str, tuple[Callable[[Session, World], Any], type[DomainError], str | None]] = {
    "document without every paper": (
        lambda s, w: verbs.fire(s, w.actor(s, "cadre"), w.clock, w.cases["draft"], "document", None),
        Refused, "documents"),
    "approve by a cadre": (
        lambda s, w: verbs.fire(s, w.actor(s, "cadre"), w.clock, w.cases["documented"], "approve", None),
        Forbidden, "role"),
    "enter with an open objection": (
        lambda s, w: verbs.fire(s, w.actor(s, "cadre"), w.clock, w.cases["objected"], "enter", None),
        Refused, "objection"),
    "forfeit before the deadline": (
        lambda s, w: verbs.fire(s, SYSTEM, w.clock, w.cases["publicized"], "forfeit", None),
        Refused, "deadline"),
    "return without a comment": (
        lambda s, w: verbs.fire(s, w.actor(s, "head"), w.clock, w.cases["documented"], "return", None,
                                   comment="  "),
        Refused, "comment"),
    "edit a documented case": (
        lambda s, w: verbs.edit_case(s, w.actor(s, "cadre"), w.clock, w.cases["documented"], None,
                                        {"applicant": {"phone": "13800003333"}}),
        Refused, "state"),
    "district approve a case another reviewer claimed": (
        lambda s, w: verbs.fire(s, w.actor(s, "reviewer2"), w.clock, w.cases["claimed"], "district_approve",
                                   None),
        Refused, "claimed"),
    "claim a case someone else claimed": (
        lambda s, w: verbs.claim(s, w.actor(s, "reviewer2"), w.clock, w.cases["claimed"]),
        Refused, "claimed"),
    "edit with a wrong phone number": (
        lambda s, w: verbs.edit_case(s, w.actor(s, "cadre"), w.clock, w.cases["draft"], None,
                                        {"applicant": {"phone": "12345"}}),
        Invalid, None),
    "upload a file that is not a PDF or image": (
        lambda s, w: verbs.add_document(s, w.actor(s, "cadre"), w.clock, w.uploads, w.cases["draft"],
                                           "application", "申请.pdf", b"MZ\x90\x00 not a pdf"),
        DomainError, None),
    "finance acting on a case it cannot see": (
        lambda s, w: verbs.claim(s, w.actor(s, "finance"), w.clock, w.cases["entered"]),
        NotFound, None),
    "stale version on a transition": (
        lambda s, w: verbs.fire(s, w.actor(s, "head"), w.clock, w.cases["documented"], "approve",
                                   w.case(s, "documented").version - 1),
        Conflict, None),
    "stale version on an edit": (
        lambda s, w: verbs.edit_case(s, w.actor(s, "cadre"), w.clock, w.cases["draft"],
                                        w.case(s, "draft").version - 1, {"applicant": {"phone": "13800004444"}}),
        Conflict, None),
    "stale version on an upload": (
        lambda s, w: verbs.add_document(s, w.actor(s, "cadre"), w.clock, w.uploads, w.cases["draft"],
                                           "application", "申请.pdf", PDF, version=w.case(s, "draft").version - 1),
        Conflict, None),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_refused_action_changes_nothing_even_if_the_caller_commits(world, name):
    action, error, rule = REFUSALS[name]
    before, files = snapshot(world.engine), world.files()

    with Session(world.engine) as session:
        with session.begin():  # commits: whatever the refused verb had left behind would be stored now
            with pytest.raises(error) as raised:
                action(session, world)

    assert type(raised.value) is error or error is DomainError
    if rule is not None:
        assert raised.value.rule == rule
    assert snapshot(world.engine) == before
    assert world.files() == files


def test_uploads_after_the_deadline_are_refused_and_store_nothing(world):
    world.clock.set(dt.datetime(2018, 1, 26, 0, 0, 1, tzinfo=START.tzinfo))
    before, files = snapshot(world.engine), world.files()

    with Session(world.engine) as session, session.begin():
        with pytest.raises(Refused) as raised:
            _add_document(session, world)

    assert raised.value.rule == "deadline"
    assert snapshot(world.engine) == before
    assert world.files() == files


@pytest.mark.postgres
def test_a_case_changed_by_someone_else_meanwhile_is_a_conflict_that_stores_nothing(world):
    """Two heads open the same case; the second to save finds it changed at flush time, not at the version check."""
    slow = Session(world.engine, expire_on_commit=False)
    seen = world.case(slow, "documented").version  # the page the slow head has open

    with Session(world.engine) as quick, quick.begin():
        verbs.fire(quick, world.actor(quick, "head"), world.clock, world.cases["documented"], "withdraw", seen,
                      comment="申请人已调离")
    after_quick = snapshot(world.engine)

    # The slow head's version check passes (the page's version is what the session read); the UPDATE finds none.
    with pytest.raises(Conflict):
        verbs.fire(slow, world.actor(slow, "head"), world.clock, world.cases["documented"], "approve", seen)
    slow.rollback()
    slow.close()

    assert snapshot(world.engine) == after_quick
    with Session(world.engine) as fresh:
        case = world.case(fresh, "documented")
        assert (case.state, case.version) == (State.withdrawn, seen + 1)
