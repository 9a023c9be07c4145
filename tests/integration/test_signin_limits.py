"""Signing in under attack, on a real database: the five-failure limit holds however many workers answer at once,
and every failure reaches the audit trail, where a later success does not clear it.

The race runs on SQLite and PostgreSQL alike, with the application's writing sessions; each thread is a worker
answering one attempt. Whether a password was tried is counted where it is checked against the stored hash.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.actors import CONSOLE
from workflows.infra.db import session_factory
from workflows.infra.sealing import digest
from workflows.models import AuditEvent, SignInFailure
from workflows.states import Action
from workflows.verbs import signin
from workflows.verbs.signin import MAX_PER_NAME, Throttled

from .test_concurrency import race

PASSWORD = "sn-Correct-Horse-42"
ATTEMPTS = 8  # what four workers let through before: eight passwords in one window
ADDRESS = "203.0.113.9"


@pytest.fixture
def cadre(setup, clock):
    session, make = setup
    account = verbs.create_account(session, CONSOLE, clock, "wang.cadre", "cadre", PASSWORD,
                                   union_code=make.union().code)
    session.commit()
    return account


@pytest.fixture
def tried(monkeypatch) -> list[str]:
    """The passwords checked against a stored hash, in order."""
    checked: list[str] = []
    lock = threading.Lock()
    check = signin.check_password_hash

    def counting(hashed: str, password: str) -> bool:
        with lock:
            checked.append(password)
        return check(hashed, password)

    monkeypatch.setattr(signin, "check_password_hash", counting)
    return checked


def attempt(committed, clock, password: str):
    """A job: one worker answering one sign-in, committing the failure as the views do."""
    writing = session_factory(committed, writes=True)

    def job(barrier: threading.Barrier):
        with writing() as session:
            barrier.wait()
            try:
                account = verbs.authenticate(session, clock, "wang.cadre", password, ADDRESS)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            return account
    return job


def failures(committed) -> list[AuditEvent]:
    with Session(committed) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == Action.sign_in_failed)
                                    .order_by(AuditEvent.seq)))


def test_eight_guesses_at_once_try_five_passwords_and_lock_the_name(committed, clock, cadre, tried):
    outcome = race([(f"guess-{i}", attempt(committed, clock, f"guess-{i}")) for i in range(ATTEMPTS)])

    unexpected = [f"{o.name}: {o.error!r}\n{o.trace}" for o in outcome.outcomes
                  if o.error is not None and not isinstance(o.error, Throttled)]
    assert not unexpected, "\n".join(unexpected)
    assert len(tried) == MAX_PER_NAME, tried
    assert [o.result for o in outcome.outcomes if o.error is None] == [None] * MAX_PER_NAME
    assert sum(isinstance(o.error, Throttled) for o in outcome.outcomes) == ATTEMPTS - MAX_PER_NAME
    assert len(failures(committed)) == MAX_PER_NAME  # one event per password tried

    # Locked now, even with the right password, which is not even checked.
    right = race([("right", attempt(committed, clock, PASSWORD))]).outcomes[0]
    assert isinstance(right.error, Throttled) and "登录失败次数过多" in right.error.message
    assert len(tried) == MAX_PER_NAME


def test_each_failure_is_in_the_trail_and_stays_there_after_a_success(committed, setup, clock, cadre):
    session, _make = setup
    # The last: a password typed into the name's box, then into the password's.
    for name, password in (("wang.cadre", "wrong-password"), ("nobody", PASSWORD), ("<b>x</b>", "hunter2-secret"),
                           ("Typed-In-Wrong-Box-9", "x")):
        assert verbs.authenticate(session, clock, name, password, ADDRESS) is None
        session.commit()
    verbs.set_account_active(session, CONSOLE, clock, cadre.id, False)
    assert verbs.authenticate(session, clock, "wang.cadre", PASSWORD, ADDRESS) is None
    verbs.set_account_active(session, CONSOLE, clock, cadre.id, True)
    session.commit()
    assert verbs.authenticate(session, clock, "wang.cadre", PASSWORD, ADDRESS).id == cadre.id
    session.commit()

    assert session.scalars(select(SignInFailure).where(SignInFailure.username == digest("wang.cadre"))).all() == []
    events = failures(committed)
    assert [(e.actor, e.actor_id, e.role) for e in events] == [
        ("wang.cadre", cadre.id, "cadre"), ("（无此用户名）", None, ""), ("（无此用户名）", None, ""),
        ("（无此用户名）", None, ""), ("wang.cadre", cadre.id, "cadre")]
    assert [e.comment for e in events] == [f"登录失败：{why}（来自{ADDRESS}）" for why in (
        "密码不正确", "没有该用户名", "没有该用户名", "没有该用户名", "账号已停用")]
    # No password, right or wrong, nor a name no account has, is ever written down: in the trail or the counts.
    typed = ("wrong-password", PASSWORD, "hunter2-secret", "Typed-In-Wrong-Box-9", "nobody")
    for event in events:
        written = repr((event.actor, event.comment, event.changes))
        assert not any(p in written for p in typed)
    assert not {f.username for f in session.scalars(select(SignInFailure))} & set(typed)
