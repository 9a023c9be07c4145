"""Verification checkpoints: a successful verification records where it ended; the next one confirms that event
still has its hash and nothing at or before it was cut, then walks only the events after it. What a checkpoint
catches (a chain rewritten and re-chained, an event deleted or the tail cut before it) and what it cannot (an old
event changed in place: only a full walk finds that) are both shown here, on the real chain of
test_audit_tamper.py, tampered by raw SQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from workflows.infra import audit, checkpoints
from workflows.infra.clock import FixedClock
from workflows.infra.uploads import Uploads
from workflows.models import AuditCheckpoint
from workflows.states import State

from ..conftest import START
from ..factories import Factory
from .test_audit_tamper import K, chain, count, event, events, songnuan, sql  # noqa: F401 (chain: a fixture)

LATER = START + dt.timedelta(days=1)


def verify(engine: Engine, digest: str | None = None, full: bool = False, record: bool = True) -> audit.Verification:
    """As the page and the command do: verify, then record the checkpoint of a success in a transaction of its own."""
    with Session(engine) as session:
        result = checkpoints.verify(session, digest, full=full)
    if record:
        with Session(engine) as session, session.begin():
            checkpoints.record(session, result, "tester", LATER)
    return result


def points(engine: Engine) -> list[tuple[int, int, int, bool]]:
    """The checkpoints a verification may start from (a failed verification's record is none)."""
    with Session(engine) as session:
        return [tuple(row) for row in session.execute(
            select(AuditCheckpoint.seq, AuditCheckpoint.from_seq, AuditCheckpoint.events, AuditCheckpoint.full)
            .where(AuditCheckpoint.ok).order_by(AuditCheckpoint.id))]


def grow(engine: Engine, tmp_path: Path) -> int:
    """More events through the verbs (a new case); returns the chain's new length."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        Factory(session, FixedClock(LATER), Uploads(tmp_path / "more")).case(State.documented)
    return count(engine)


def rechain(engine: Engine, k: int) -> None:
    """Rewrite event `k` and re-hash it and every later event, as an attacker who knows the algorithm would: the
    chain holds together again by itself."""
    rows = events(engine)
    prev = rows[k - 2]["hash"] if k > 1 else audit.GENESIS
    for row in rows[k - 1:]:
        fields = row | {"prev_hash": prev, "comment": "审核通过" if row["seq"] == k else row["comment"]}
        prev = audit.event_hash(fields)
        sql(engine, "UPDATE audit_events SET comment = :comment, prev_hash = :prev, hash = :hash WHERE seq = :seq",
            comment=fields["comment"], prev=fields["prev_hash"], hash=prev, seq=row["seq"])


def test_the_first_verification_walks_everything_and_records_a_checkpoint(committed, chain):
    result = verify(committed)

    assert result == audit.Verification(True, chain) and result.full and result.since == 0
    assert points(committed) == [(chain, 0, chain, True)]


def test_the_next_verification_walks_only_the_new_events(committed, chain, tmp_path):
    verify(committed)
    grown = grow(committed, tmp_path)

    result = verify(committed)

    assert result == audit.Verification(True, grown - chain, since=chain)
    assert not result.full
    assert points(committed) == [(chain, 0, chain, True), (grown, chain, grown - chain, False)]


def test_nothing_new_records_no_checkpoint_but_a_full_walk_does(committed, chain):
    verify(committed)

    assert verify(committed) == audit.Verification(True, 0, since=chain)
    assert verify(committed, full=True) == audit.Verification(True, chain)
    assert points(committed) == [(chain, 0, chain, True), (chain, 0, chain, True)]


def test_a_bad_event_after_the_checkpoint_is_named_counting_from_the_checkpoint(committed, chain, tmp_path):
    verify(committed)
    grown = grow(committed, tmp_path)
    sql(committed, "UPDATE audit_events SET actor = 'intruder' WHERE seq = :k", k=chain + 2)

    result = verify(committed)

    assert result == audit.Verification(False, 1, chain + 2, "changed",
                                         audit.PROBLEMS["changed"] % {"seq": chain + 2}, since=chain)
    assert len(points(committed)) == 1  # a failed verification records no checkpoint
    assert grown > chain + 2


def test_an_old_event_changed_in_place_is_found_only_by_a_full_walk(committed, chain, tmp_path):
    verify(committed)
    grown = grow(committed, tmp_path)
    sql(committed, "UPDATE audit_events SET comment = '同意' WHERE seq = :k", k=K)

    # What a checkpoint cannot prove: the events before it are not read again.
    assert verify(committed, record=False) == audit.Verification(True, grown - chain, since=chain)
    assert verify(committed, full=True).as_dict() == {
        "ok": False, "events": K - 1, "first_bad": K, "problem": "changed",
        "message": audit.PROBLEMS["changed"] % {"seq": K}, "full": True, "since": 0}


def test_a_chain_rewritten_and_rechained_is_caught_by_the_checkpoint(committed, chain):
    verify(committed)
    rechain(committed, K)
    with Session(committed) as session:
        assert audit.verify(session).ok  # without the checkpoint it holds together by itself

    # The checkpoint's event no longer has its hash: the whole chain is walked, with the checkpoint pinned.
    for full in (False, True):
        result = verify(committed, full=full)
        assert (result.ok, result.first_bad, result.problem, result.full) == (False, chain, "checkpoint", True)
    assert len(points(committed)) == 1


def test_once_a_full_walk_found_the_chain_broken_no_quick_check_calls_it_whole(committed, chain, tmp_path):
    """An event changed in place before the checkpoint is what only a full walk finds; once it has, the check from
    the checkpoint (which would not read that event) is not run again until a full walk succeeds."""
    verify(committed)
    grown = grow(committed, tmp_path)
    sql(committed, "UPDATE audit_events SET comment = 'forged' WHERE seq = :k", k=2)
    assert verify(committed, full=True).first_bad == 2

    result = verify(committed)
    assert (result.ok, result.first_bad, result.full) == (False, 2, True)
    assert points(committed) == [(chain, 0, chain, True)]  # still only the checkpoint from before
    assert grown > chain


def test_every_checkpoint_is_pinned_not_only_the_newest(committed, chain, tmp_path):
    """A chain rewritten and re-chained from an early event to the head, with the newest checkpoint's hash
    rewritten to match, is still caught by an older checkpoint's."""
    verify(committed)
    grown = grow(committed, tmp_path)
    verify(committed)
    assert [p[0] for p in points(committed)] == [chain, grown]
    rechain(committed, K)
    with Session(committed) as session:
        head = session.scalar(select(audit.AuditEvent.hash).where(audit.AuditEvent.seq == grown))
    sql(committed, "UPDATE audit_checkpoints SET hash = :h WHERE seq = :k", h=head, k=grown)

    for full in (False, True):
        result = verify(committed, full=full, record=False)
        assert (result.ok, result.first_bad, result.problem) == (False, chain, "checkpoint")


def test_a_digest_that_does_not_match_is_said_to_disagree_not_that_the_event_changed(committed, chain):
    verify(committed)
    result = verify(committed, digest=f"12:{'a' * 64}")
    assert (result.ok, result.first_bad, result.problem) == (False, 12, "digest")
    assert "摘要抄错了" in result.message
    assert verify(committed).ok  # the chain's own state is not marked failed by a mistyped digest


@pytest.mark.parametrize("tamper, first_bad, problem", [
    ("DELETE FROM audit_events WHERE seq = 6", K, "removed"),
    ("DELETE FROM audit_events WHERE seq > 6", K + 1, "truncated"),
    ("UPDATE audit_events SET seq = 0 WHERE seq = 6", K, "moved"),
], ids=["deleted before the checkpoint", "tail cut below the checkpoint", "moved out of the numbering"])
def test_events_cut_at_or_before_the_checkpoint_are_named(committed, chain, tamper, first_bad, problem):
    verify(committed)
    sql(committed, tamper)

    result = verify(committed)

    assert (result.ok, result.first_bad, result.problem, result.full) == (False, first_bad, problem, True)
    assert len(points(committed)) == 1


def test_a_digest_is_checked_from_a_checkpoint_too(committed, chain, tmp_path):
    kept = f"{K}:{event(committed, K)['hash']}"
    verify(committed)
    grown = grow(committed, tmp_path)

    assert verify(committed, kept) == audit.Verification(True, grown - chain, since=chain)
    wrong = f"{K}:{'f' * 64}"
    result = verify(committed, wrong)
    assert (result.ok, result.first_bad, result.problem, result.full) == (False, K, "digest", True)
    with pytest.raises(ValueError):
        verify(committed, "12:abc")


def test_cli_says_which_check_ran_and_records_checkpoints(committed, chain, tmp_path):
    first = songnuan(committed, tmp_path, "audit", "verify")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"审计链完整：全链核验，核验了{chain}条事件，共{chain}条", str(chain)]
    grown = grow(committed, tmp_path)

    again = songnuan(committed, tmp_path, "audit", "verify")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        f"审计链完整：从检查点第{chain}号事件之后核验，核验了{grown - chain}条事件，共{grown}条", str(grown)]

    whole = songnuan(committed, tmp_path, "audit", "verify", "--full")
    assert whole.stdout.splitlines()[0] == f"审计链完整：全链核验，核验了{grown}条事件，共{grown}条"
    assert [(seq, full) for seq, _, _, full in points(committed)] == [(chain, True), (grown, False), (grown, True)]

    sql(committed, "UPDATE audit_events SET comment = 'x' WHERE seq = :k", k=K)
    assert songnuan(committed, tmp_path, "audit", "verify").returncode == 0  # from the checkpoint: not seen
    caught = songnuan(committed, tmp_path, "audit", "verify", "--full")
    assert caught.returncode == 1
    assert caught.stderr.splitlines()[0] == f"审计链被破坏：{audit.PROBLEMS['changed'] % dict(seq=K)}（全链核验，已核验{K - 1}条）"
    assert len(points(committed)) == 3  # neither the check that saw nothing new nor the failed one recorded one


@pytest.mark.sqlite  # PostgreSQL refuses text in an integer column
def test_text_smuggled_into_an_integer_column_is_not_read_as_json(committed, chain):
    # The walk builds each event's bytes from its columns: an archive moved into the actor's number, as text that
    # would spell the same bytes if pasted in unescaped, must still be seen as the change it is.
    archive = event(committed, K)["archive_id"]
    assert archive is not None
    sql(committed, "UPDATE audit_events SET actor_id = CAST(actor_id AS TEXT) || ',\"archive_id\":' || archive_id, "
                   "archive_id = NULL WHERE seq = :k", k=K)

    assert verify(committed).as_dict()["first_bad"] == K
