"""The audit chain: every event carries the SHA-256 of its canonical encoding, which includes the previous hash.

Changing, removing, inserting or moving an event breaks the chain at that event; a digest (sequence and hash of
the head) kept outside the database also catches a tail cut off after it was taken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring  # ensure_ascii=False's string encoder, as json.dumps uses it
from typing import Any

from sqlalchemy import Integer, String, bindparam, cast, func, insert, select, type_coerce, update
from sqlalchemy import Text as SqlText
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from workflows.actors import Actor
from workflows.errors import Conflict
from workflows.identity import mask_account, mask_id, mask_numbers
from workflows.infra.clock import UTC, to_db
from workflows.inputs import parse_number
from workflows.models import AuditEvent, AuditHead
from workflows.money import plain
from workflows.texts import N_, Text

GENESIS = "0" * 64
# The writes of `append`, built once. They are Core statements on the tables: the same SQL the ORM would send, at
# a fraction of its cost per event (no unit of work for a row that is never changed again).
_HEAD = AuditHead.__table__
_BUMP = update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + bindparam("n", type_=Integer)) \
    .returning(_HEAD.c.seq, _HEAD.c.hash)
_SET_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("new_hash"))
_INSERT = insert(AuditEvent.__table__)
HASHED_FIELDS = ("seq", "occurred_at", "actor_id", "actor", "role", "case_id", "archive_id", "action", "from_state",
                 "to_state", "comment", "changes", "prev_hash")


def canonical(fields: dict[str, Any]) -> bytes:
    """One byte string per event, whatever the database did to key order or time formatting. The archive is part
    of it only when the event names one: the events written before archives existed keep their hashes."""
    data = {name: fields[name] for name in HASHED_FIELDS if name != "archive_id"}
    if fields.get("archive_id") is not None:
        data["archive_id"] = fields["archive_id"]
    data["occurred_at"] = fields["occurred_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def _fields(event: AuditEvent, **override: Any) -> dict[str, Any]:
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    fields.update(override)
    return fields


# ---------------------------------------------------------------- writing: the one writer of every verb

# Fields holding personal numbers: masked in every event.
MASKS = {"id_number": mask_id, "bank_account": mask_account}


def text(value: Any, field: str | None = None) -> str | None:
    """A value as the trail keeps it, whatever the verb: money with two decimals, moments in UTC (ISO 8601, with
    the zone), dates in ISO 8601, codes by their value, lists joined by commas; the numbers of `field` masked, and
    any personal number typed into text (a file's name, a statement): the trail is written once and kept for
    years, in every backup, so it holds masks only. Text, so that the hash does not depend on how a database
    returns numbers."""
    shown = _plain(value)
    if shown is None:
        return None
    return MASKS[field](shown) if field in MASKS else mask_numbers(shown)


def _plain(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Enum):
        shown = str(value.value)
    elif isinstance(value, (list, tuple)):
        shown = ",".join(_plain(v) or "" for v in value)
    elif isinstance(value, dt.datetime):
        shown = (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()
    elif isinstance(value, dt.date):
        shown = value.isoformat()
    elif isinstance(value, Decimal):
        shown = plain(value)
    else:
        shown = str(value)
    return shown


def created(values: Mapping[str, Any]) -> dict[str, list[str | None]]:
    """The changes of a new record: each value given, from nothing."""
    return {name: [None, text(value, name)] for name, value in values.items()}


def diff(before: Mapping[str, Any], after: Mapping[str, Any],
         named: tuple[str, Any] | None = None) -> dict[str, list[str | None]]:
    """The changes of an edit: each field whose value differs, before and after, as text() keeps them (masked);
    `named` (a field and its value) names the record edited, and is kept unchanged. Values are compared whole,
    before masking: a corrected middle digit of a bank account is a change even though its mask looks the same."""
    changes = {named[0]: [text(named[1]), text(named[1])]} if named else {}
    for name in dict.fromkeys([*before, *after]):
        if _plain(before.get(name)) != _plain(after.get(name)):
            changes[name] = [text(before.get(name), name), text(after.get(name), name)]
    return changes


def row(actor: Actor, now: dt.datetime, action: str, *, case_id: int | None = None, archive_id: int | None = None,
        from_state: str | None = None, to_state: str | None = None, comment: str | None = None,
        changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """An event to append, as the hashed fields but its place in the chain."""
    return {"occurred_at": to_db(now), "actor_id": actor.id, "actor": actor.username, "role": str(actor.role),
            "case_id": case_id, "archive_id": archive_id, "action": str(action), "from_state": text(from_state), "to_state": text(to_state),
            "comment": mask_numbers(comment), "changes": changes or {}}


def record(session: Session, actor: Actor, now: dt.datetime, action: str, *, case: Any = None,
           archive: Any = None, state: str | None = None, from_state: str | None = None, to_state: str | None = None,
           comment: str | None = None, changes: dict[str, Any] | None = None) -> AuditEvent:
    """Write what `actor` did, in the caller's transaction: the one way every verb audits. `case` names the case
    it concerns (and its archive), or `archive` an archive alone; `state` is its state for an action that does not
    move it. Values in `changes` must come through
    text(), created() or diff(). Returns the event as written, not attached to the session. A concurrent change of
    the case found when its row is flushed here is a Conflict."""
    if state is not None:
        from_state = to_state = state
    archive_id = archive.id if archive is not None else getattr(case, "archive_id", None)
    event = row(actor, now, action, case_id=case.id if case is not None else None, archive_id=archive_id,
                from_state=from_state,
                to_state=to_state, comment=comment, changes=changes)
    try:
        [written] = append_many(session, [event])
    except StaleDataError:
        raise Conflict() from None
    return AuditEvent(**written)


def append_many(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add events to the chain, in order, with one bump of the head: what a sweep of many cases writes.
    Each row has the hashed fields but seq and prev_hash, with `occurred_at` naive UTC."""
    if not rows:
        return []
    # Flush the change first, so its row locks are taken before the head's: one lock order everywhere.
    session.flush()
    # Bumping the head row takes its lock (PostgreSQL) or the write lock (SQLite) until the transaction ends,
    # so two transactions can never take the same sequence numbers.
    last, prev_hash = session.execute(_BUMP, {"n": len(rows)}).one()
    written = []
    for seq, row in enumerate(rows, last - len(rows) + 1):
        fields = {**row, "seq": seq, "prev_hash": prev_hash}
        fields["hash"] = prev_hash = event_hash(fields)
        written.append(fields)
    session.execute(_INSERT, written)
    session.execute(_SET_HASH, {"new_hash": prev_hash})
    return written  # the rows as written (plain dicts: a sweep writes thousands and never looks at them)


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int                    # how many events were checked (by this walk: after `since`)
    first_bad: int | None = None   # the sequence number of the first bad event
    problem: str | None = None     # changed, removed, inserted, moved, truncated; digest, checkpoint
    message: str = ""
    since: int = 0                 # the walk started after this event (a checkpoint's); 0: the whole chain
    # The last event walked (or the checkpoint's, when none came after it): what a checkpoint records.
    last: tuple[int, str] | None = field(default=None, compare=False)

    @property
    def full(self) -> bool:
        return self.since == 0

    def as_dict(self) -> dict[str, Any]:
        kind = {"full": self.full, "since": self.since}
        if self.ok:
            return {"ok": True, "events": self.events, **kind}
        return {"ok": False, "events": self.events, "first_bad": self.first_bad, "problem": self.problem,
                "message": self.message, **kind}


PROBLEMS = {
    "changed": N_("第%(seq)s号事件的内容被修改"),
    "removed": N_("第%(seq)s号事件被删除"),
    "inserted": N_("第%(seq)s号事件是后来插入的"),
    "moved": N_("第%(seq)s号事件被移动了位置"),
    "truncated": N_("审计链从第%(seq)s号事件起被截断"),  # %(seq)s is the first event missing
    "digest": N_("第%(seq)s号事件与所给摘要不符：摘要抄错了，或这条及之前的事件被改写后重新计算了哈希"),
    "checkpoint": N_("第%(seq)s号事件与上次核验记下的检查点不符：这条及之前的事件被改写后重新计算了哈希，或检查点被改动"),
}


def _bad(events: int, seq: int, problem: str, since: int = 0) -> Verification:
    return Verification(False, events, seq, problem, Text(PROBLEMS[problem], seq=seq), since)


def digest(session: Session) -> str:
    """The head of the chain as `SEQ:HASH`, to keep somewhere the database's users cannot write."""
    last = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return f"{last.seq}:{last.hash}" if last else f"0:{GENESIS}"


def parse_digest(text: str) -> tuple[int, str]:
    seq, _, head = text.strip().partition(":")
    number = parse_number(seq, digits=18)
    if number is None or len(head) != 64:
        raise ValueError(N_("摘要格式应为 序号:哈希值"))
    return number, head.lower()


# The canonical encoding (see canonical()) of a row as the walk reads it, its keys already in sorted order. Every
# value in it is a faithful JSON encoding of what the column holds (strings escaped, integers checked to be
# integers, `changes` parsed and encoded again): a hash that matches proves the row is the one hashed.
_CANONICAL = ('{"action":%s,"actor":%s,"actor_id":%s,%s"case_id":%s,"changes":%s,"comment":%s,"from_state":%s,'
              '"occurred_at":%s,"prev_hash":%s,"role":%s,"seq":%d,"to_state":%s}')
_CHANGES = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
_CACHED = 4096  # distinct values of the short columns (actors, roles, actions, states) whose encoding is kept


class _Quoted(dict):
    """A value's JSON encoding (null for None), kept for the columns with few distinct values."""

    def __missing__(self, value: str | None) -> str:
        if len(self) > _CACHED:
            self.clear()
        quoted = self[value] = "null" if value is None else encode_basestring(value)
        return quoted


def _walked(session: Session, since: int):
    """The hashed columns of every event after `since`, in sequence order, as the database stores them: moments as
    `YYYY-MM-DD HH:MM:SS.ffffff` text, `changes` as its JSON text; nothing parsed that the hash does not need."""
    events = AuditEvent.__table__.c
    if session.get_bind().dialect.name == "sqlite":  # how SQLAlchemy stores a DateTime and a JSON there
        moment, changes = type_coerce(events.occurred_at, String), type_coerce(events.changes, String)
    else:
        moment = func.to_char(events.occurred_at, "YYYY-MM-DD HH24:MI:SS.US")
        changes = cast(events.changes, SqlText)  # a json value's text, as stored
    return select(events.seq, moment, events.actor_id, events.actor, events.role, events.case_id,
                  events.archive_id, events.action, events.from_state, events.to_state, events.comment, changes,
                  events.prev_hash, events.hash).where(events.seq > since).order_by(events.seq)


def verify(session: Session, digest: str | None = None, batch: int = 5000, *,
           since: tuple[int, str] | None = None, pins: dict[int, str] | None = None) -> Verification:
    """Walk the chain in sequence order; name the first event that does not hold. `since` (a checkpoint's sequence
    number and hash, already confirmed by the caller) starts the walk after that event; `pins` are other events'
    sequence numbers and hashes known from before, which must still be there as they were (as a digest's is)."""
    pinned = dict(pins or {})
    given = parse_digest(digest) if digest else None
    if given:
        pinned[given[0]] = given[1]
    start, prev_hash = since or (0, GENESIS)
    expected_seq, count, last = start + 1, 0, since
    quoted, changes_of = _Quoted(), {"{}": "{}"}
    sha256, quote, loads = hashlib.sha256, encode_basestring, json.loads
    number = int.__repr__  # as json.dumps writes an int, and a TypeError for anything else a column may hold
    # Core rows in batches from a streamed cursor (server-side on PostgreSQL), closed on every way out; each event
    # hashed from its columns as read, without an ORM object. Anything that does not hold is looked at again the
    # slow and exact way (_check, on the event as the ORM reads it) before it is called bad.
    with session.execute(_walked(session, start).execution_options(yield_per=batch)) as rows:
        for (seq, moment, actor_id, actor, role, case_id, archive_id, action, from_state, to_state, comment, changes,
             prev, hash_) in rows:
            try:
                if changes in changes_of:
                    encoded = changes_of[changes]
                else:
                    encoded = _CHANGES(loads(changes))
                    if len(changes_of) < _CACHED:
                        changes_of[changes] = encoded
                if moment[10] != " ":
                    raise ValueError(moment)
                data = _CANONICAL % (
                    quoted[action], quoted[actor], "null" if actor_id is None else number(actor_id),
                    "" if archive_id is None else f'"archive_id":{number(archive_id)},',
                    "null" if case_id is None else number(case_id), encoded,
                    "null" if comment is None else quote(comment), quoted[from_state],
                    quote(f"{moment[:10]}T{moment[11:]}Z"), quote(prev), quoted[role], seq, quoted[to_state])
                intact = sha256(data.encode()).hexdigest() == hash_
            except (TypeError, ValueError, IndexError):  # a value of a type or shape the app never writes
                intact = False
            if seq != expected_seq or prev != prev_hash or not intact:
                event = session.get(AuditEvent, seq)
                problem = _check(session, event, expected_seq, prev_hash)
                session.expunge(event)
                if problem:
                    # Only the events before the one named count as verified: a rewritten or forged event holds
                    # together by itself and is caught at a later link, after the walk had already counted it.
                    return _bad(max(0, min(count, problem[0] - 1 - start)), *problem, since=start)
            if seq in pinned and hash_ != pinned[seq]:
                # The chain holds by itself here but not as it was known: either that record is wrong (a digest
                # mistyped) or this event and those before it were rewritten and re-chained since.
                disagrees = "digest" if given and given == (seq, pinned[seq]) else "checkpoint"
                return _bad(count, seq, disagrees, since=start)
            count += 1
            expected_seq, prev_hash, last = seq + 1, hash_, (seq, hash_)
    if pinned and max(pinned) >= expected_seq:
        return _bad(count, expected_seq, "truncated", since=start)
    return Verification(True, count, since=start, last=last)


def _seq_of_hash(session: Session, value: str) -> int | None:
    return session.execute(select(AuditEvent.seq).where(AuditEvent.hash == value)).scalar()


def _check(session: Session, event: AuditEvent, expected_seq: int, prev_hash: str) -> tuple[int, str] | None:
    """None if `event` follows the chain; otherwise the sequence number to name and what happened there."""
    if event.seq != expected_seq:
        # A gap in the numbering: the missing event was deleted, or renumbered to another place.
        return expected_seq, "moved" if _seq_of_hash(session, event.prev_hash) is not None else "removed"
    intact = event_hash(_fields(event)) == event.hash
    if event.prev_hash == prev_hash:
        return None if intact else (event.seq, "changed")
    # The link to the previous event is broken; find the event this one was chained to (0: the chain's start).
    origin = 0 if event.prev_hash == GENESIS else _seq_of_hash(session, event.prev_hash)
    if origin is not None and origin > event.seq:
        return event.seq, "moved"  # its predecessor now stands after it
    if origin is not None and origin < event.seq - 1 and (
            intact or event_hash(_fields(event, seq=origin + 1)) == event.hash):
        return origin + 1, "inserted"  # events were pushed in between, the later ones renumbered
    if origin is None and not intact and event_hash(_fields(event, seq=event.seq + 1)) == event.hash:
        return event.seq, "removed"  # an event before it was deleted and the later ones renumbered
    # It still points at what its predecessor used to be: the predecessor was rewritten, hash and all.
    return (event.seq - 1 if intact else event.seq), "changed"
