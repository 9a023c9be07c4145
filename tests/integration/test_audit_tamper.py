"""Someone with write access to the database tampers with the committed audit trail, by raw SQL.

Each test builds a real chain through the service verbs, commits it, then changes, deletes, forges, swaps or cuts
events the way an attacker at the SQL prompt would (an attacker who knows the hash algorithm, too), and checks that
verification names the first bad event, says what happened to it, and counts only the events before it as
verified. The last tests do the same through `songnuan audit verify` in a separate process.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, DateTime, Engine, bindparam, func, select, text
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.infra import audit
from workflows.infra.clock import FixedClock
from workflows.infra.uploads import Uploads
from workflows.models import AuditEvent
from workflows.states import State

from ..conftest import START
from ..factories import Factory

EVENTS = AuditEvent.__table__
K = 6            # the event most tests tamper with: in the middle of the chain
FAR = 1_000_000  # renumbering goes through numbers far above the chain, so no two rows ever share a seq


# ---------------------------------------------------------------- the chain and the attacker's tools

@pytest.fixture
def chain(committed: Engine, tmp_path: Path) -> Iterator[int]:
    """A committed chain of real events (unions, campaign, two cases through several verbs); yields its length."""
    clock = FixedClock(START)
    with Session(committed, expire_on_commit=False) as session, session.begin():
        make = Factory(session, clock, Uploads(tmp_path / "uploads"))
        publicized = make.case(State.publicized)
        clock.advance(hours=2)
        verbs.record_objection(session, make.person("cadre", publicized.union), clock, publicized.id,
                                  "申请人家中另有商铺出租")
        clock.advance(hours=1)
        draft = make.case(State.drafted)
        verbs.edit_case(session, make.person("cadre", draft.union), clock, draft.id, draft.version,
                           {"applicant": {"phone": "13800001111"}})
        make.fire(draft, "withdraw", make.person("head", draft.union))
    length = count(committed)
    assert 10 <= length <= 30
    assert [row["seq"] for row in events(committed)] == list(range(1, length + 1))
    yield length


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(EVENTS)).scalar_one()


def events(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(EVENTS.select().order_by(EVENTS.c.seq)).mappings()]


def event(engine: Engine, seq: int) -> dict[str, Any]:
    return next(row for row in events(engine) if row["seq"] == seq)


def sql(engine: Engine, statement: str, **params: Any) -> None:
    typed = [bindparam(name, type_=DateTime() if isinstance(value, dt.datetime) else JSON())
             for name, value in params.items() if isinstance(value, dt.datetime | dict)]
    with engine.begin() as connection:
        connection.execute(text(statement).bindparams(*typed), params)


def shift(engine: Engine, first: int, by: int) -> None:
    """Renumber every event from `first` on by `by` (up or down), as an attacker covering a gap would."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET seq = seq + :far WHERE seq >= :first"),
                           {"far": FAR, "first": first})
        connection.execute(text("UPDATE audit_events SET seq = seq - :back WHERE seq >= :far"),
                           {"back": FAR - by, "far": FAR})


def forge(engine: Engine, seq: int, prev_hash: str, **fields: Any) -> str:
    """Insert an event that hashes correctly at `seq`, chained to `prev_hash`; returns its hash."""
    forged = {"seq": seq, "occurred_at": dt.datetime(2018, 1, 8, 3, 30), "actor_id": None, "actor": "system",
              "role": "system", "case_id": 1, "action": "reveal", "from_state": "drafted", "to_state": "drafted",
              "comment": None, "changes": {"revealed": [None, "bank_account"]}, "prev_hash": prev_hash}
    forged.update(fields)
    forged["hash"] = audit.event_hash(forged)
    with engine.begin() as connection:
        connection.execute(EVENTS.insert().values(**forged))
    return forged["hash"]


def check(engine: Engine, digest: str | None = None) -> audit.Verification:
    with Session(engine) as session:
        return audit.verify(session, digest)


def digest(engine: Engine) -> str:
    with Session(engine) as session:
        return audit.digest(session)


def bad(first_bad: int, problem: str, events: int | None = None) -> audit.Verification:
    """What verification must say: the events before the first bad one were verified, no more."""
    events = first_bad - 1 if events is None else events
    return audit.Verification(False, events, first_bad, problem, audit.PROBLEMS[problem] % {"seq": first_bad})


# ---------------------------------------------------------------- the untouched chain

def test_an_untouched_chain_verifies_and_counts_every_event(committed, chain):
    assert check(committed) == audit.Verification(True, chain)
    assert check(committed, digest(committed)) == audit.Verification(True, chain)


def test_an_old_digest_still_verifies_a_chain_that_grew_since(committed, chain, tmp_path):
    earlier = digest(committed)
    clock = FixedClock(START + dt.timedelta(days=1))
    with Session(committed, expire_on_commit=False) as session, session.begin():
        Factory(session, clock, Uploads(tmp_path / "more")).case(State.documented)

    grown = count(committed)
    assert grown > chain
    assert check(committed, earlier) == audit.Verification(True, grown)


def test_an_empty_chain_verifies(committed):
    assert check(committed) == audit.Verification(True, 0)
    assert digest(committed) == f"0:{audit.GENESIS}"


# ---------------------------------------------------------------- (a) a column changed, hash left as it was

@pytest.mark.parametrize("column, value", [
    ("comment", "负责人同意"),
    ("to_state", "disbursed"),
    ("actor", "cadre999"),
    ("case_id", 999),
    ("occurred_at", dt.datetime(2018, 1, 7, 1, 0)),
])
def test_a_changed_column_names_the_event(committed, chain, column, value):
    sql(committed, f"UPDATE audit_events SET {column} = :value WHERE seq = :k", value=value, k=K)
    assert event(committed, K)[column] == value

    assert check(committed) == bad(K, "changed")


def test_changed_changes_name_the_event(committed, chain):
    sql(committed, "UPDATE audit_events SET changes = :value WHERE seq = :k",
        value={"state": ["drafted", "disbursed"]}, k=K)

    assert check(committed) == bad(K, "changed")


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_changed_column_at_either_end_names_that_event(committed, chain, where):
    k = 1 if where == "first" else chain
    sql(committed, "UPDATE audit_events SET actor = 'intruder' WHERE seq = :k", k=k)

    assert check(committed) == bad(k, "changed")


def test_only_the_first_of_two_changed_events_is_named(committed, chain):
    sql(committed, "UPDATE audit_events SET comment = 'x' WHERE seq IN (:a, :b)", a=K + 3, b=K)

    assert check(committed) == bad(K, "changed")


# ---------------------------------------------------------------- (b) changed, and its hash recomputed

@pytest.mark.parametrize("k", [1, K], ids=["first", "middle"])
def test_a_rewritten_event_with_a_recomputed_hash_is_named(committed, chain, k):
    rewritten = event(committed, k) | {"comment": "审核通过，无异议"}
    new_hash = audit.event_hash(rewritten)
    sql(committed, "UPDATE audit_events SET comment = :comment, hash = :hash WHERE seq = :k",
        comment=rewritten["comment"], hash=new_hash, k=k)

    # The event itself holds together now: only the next event, still chained to the old hash, gives it away.
    assert check(committed) == bad(k, "changed")


def test_the_last_event_rewritten_with_its_hash_needs_the_digest(committed, chain):
    kept = digest(committed)
    rewritten = event(committed, chain) | {"to_state": "drafted"}
    sql(committed, "UPDATE audit_events SET to_state = :state, hash = :hash WHERE seq = :k",
        state="drafted", hash=audit.event_hash(rewritten), k=chain)

    assert check(committed) == audit.Verification(True, chain)  # no later event links to it
    assert check(committed, kept) == bad(chain, "digest")


# ---------------------------------------------------------------- (c) and (d) an event deleted

@pytest.mark.parametrize("k", [1, K], ids=["first", "middle"])
def test_a_deleted_event_is_named(committed, chain, k):
    sql(committed, "DELETE FROM audit_events WHERE seq = :k", k=k)

    assert check(committed) == bad(k, "removed")


def test_several_deleted_events_name_the_first(committed, chain):
    sql(committed, "DELETE FROM audit_events WHERE seq BETWEEN :a AND :b", a=K, b=K + 2)

    assert check(committed) == bad(K, "removed")


@pytest.mark.parametrize("k", [1, K], ids=["first", "middle"])
def test_a_deleted_event_with_the_later_ones_renumbered_is_named(committed, chain, k):
    sql(committed, "DELETE FROM audit_events WHERE seq = :k", k=k)
    shift(committed, k + 1, -1)
    assert [row["seq"] for row in events(committed)] == list(range(1, chain))  # no gap left

    assert check(committed) == bad(k, "removed")


# ---------------------------------------------------------------- (e) a forged event inserted

def test_a_forged_event_pushed_in_between_is_named(committed, chain):
    before = event(committed, K - 1)
    shift(committed, K, +1)
    forge(committed, K, before["hash"])
    assert [row["seq"] for row in events(committed)] == list(range(1, chain + 2))

    assert check(committed) == bad(K, "inserted")


def test_two_forged_events_pushed_in_between_name_the_first(committed, chain):
    before = event(committed, K - 1)
    shift(committed, K, +2)
    first = forge(committed, K, before["hash"])
    forge(committed, K + 1, first, comment="第二条伪造事件")

    assert check(committed) == bad(K, "inserted")


def test_a_forged_first_event_is_named(committed, chain):
    shift(committed, 1, +1)
    forge(committed, 1, audit.GENESIS)

    assert check(committed) == bad(1, "inserted")


# ---------------------------------------------------------------- (f) and (g) events moved

@pytest.mark.parametrize("other", [K + 1, K + 4], ids=["neighbours", "apart"])
def test_two_swapped_events_name_the_first_position(committed, chain, other):
    with committed.begin() as connection:
        connection.execute(text("UPDATE audit_events SET seq = :far WHERE seq = :k"), {"far": FAR, "k": K})
        connection.execute(text("UPDATE audit_events SET seq = :k WHERE seq = :other"), {"k": K, "other": other})
        connection.execute(text("UPDATE audit_events SET seq = :other WHERE seq = :far"),
                           {"other": other, "far": FAR})

    assert check(committed) == bad(K, "moved")


def test_an_event_moved_past_the_end_is_named(committed, chain):
    sql(committed, "UPDATE audit_events SET seq = :end WHERE seq = :k", end=chain + 1, k=K)

    assert check(committed) == bad(K, "moved")


def test_an_event_moved_to_the_end_with_the_others_closed_up_is_named(committed, chain):
    sql(committed, "UPDATE audit_events SET seq = 0 WHERE seq = :k", k=K)  # parked out of the way
    shift(committed, K + 1, -1)
    sql(committed, "UPDATE audit_events SET seq = :end WHERE seq = 0", end=chain)
    assert [row["seq"] for row in events(committed)] == list(range(1, chain + 1))

    assert check(committed) == bad(K, "moved")


# ---------------------------------------------------------------- (h) the tail cut off

def test_a_cut_tail_needs_the_digest_taken_before(committed, chain):
    kept = digest(committed)
    sql(committed, "DELETE FROM audit_events WHERE seq > :k", k=K)

    assert check(committed) == audit.Verification(True, K)  # what is left holds together
    assert check(committed, kept) == bad(K + 1, "truncated")
    assert f"第{K + 1}号" in check(committed, kept).message


def test_a_cut_tail_shows_once_the_next_event_is_written(committed, chain, tmp_path):
    sql(committed, "DELETE FROM audit_events WHERE seq > :k", k=K)
    clock = FixedClock(START + dt.timedelta(days=1))
    with Session(committed, expire_on_commit=False) as session, session.begin():
        Factory(session, clock, Uploads(tmp_path / "more")).district()

    # The next event still carries on from the head that was cut off: the gap is there for everyone to see.
    assert check(committed) == bad(K + 1, "removed")


def test_a_malformed_digest_is_refused(committed, chain):
    with pytest.raises(ValueError):
        check(committed, "12:abc")


# ---------------------------------------------------------------- (i) the same through the command line

def songnuan(engine: Engine, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SONGNUAN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
                        "SONGNUAN_UPLOAD_DIR": str(tmp_path / "cli-uploads")}
    command = Path(sys.executable).with_name("songnuan")
    return subprocess.run([str(command), *args], env=env, capture_output=True, text=True, timeout=120)


def test_cli_verify_passes_an_intact_chain_with_its_count(committed, chain, tmp_path):
    result = songnuan(committed, tmp_path, "audit", "verify")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"审计链完整：全链核验，核验了{chain}条事件，共{chain}条", str(chain)]
    assert result.stderr == ""


@pytest.mark.parametrize("tamper, first_bad, problem", [
    ("UPDATE audit_events SET comment = 'x' WHERE seq = 6", 6, "changed"),
    ("DELETE FROM audit_events WHERE seq = 6", 6, "removed"),
])
def test_cli_verify_fails_naming_the_first_bad_event(committed, chain, tmp_path, tamper, first_bad, problem):
    sql(committed, tamper)

    result = songnuan(committed, tmp_path, "audit", "verify")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"审计链被破坏：{audit.PROBLEMS[problem] % dict(seq=first_bad)}（全链核验，已核验{first_bad - 1}条）",
        f"first_bad={first_bad} problem={problem}",
    ]


def test_cli_digest_then_verify_catches_a_cut_tail(committed, chain, tmp_path):
    taken = songnuan(committed, tmp_path, "audit", "digest")
    assert taken.returncode == 0, taken.stderr
    kept = taken.stdout.strip()
    assert kept == digest(committed)
    assert kept.startswith(f"{chain}:")

    sql(committed, "DELETE FROM audit_events WHERE seq > :k", k=K)

    alone = songnuan(committed, tmp_path, "audit", "verify")
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.splitlines()[-1] == str(K)

    pinned = songnuan(committed, tmp_path, "audit", "verify", "--digest", kept)
    assert pinned.returncode == 1
    assert f"first_bad={K + 1} problem=truncated" in pinned.stderr.splitlines()
    # The first verify recorded a checkpoint at K: the second checks from there, and still counts K verified.
    assert f"（从检查点第{K}号事件之后核验，已核验{K}条）" in pinned.stderr


def test_cli_refuses_a_malformed_digest(committed, chain, tmp_path):
    result = songnuan(committed, tmp_path, "audit", "verify", "--digest", "not-a-digest")

    assert result.returncode == 1
    assert "摘要格式" in result.stderr
    assert "Traceback" not in result.stderr
