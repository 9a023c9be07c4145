"""Signing in by name and password, throttled, and the bearer tokens of the JSON API.

Failures are counted in the database, so every worker process sees the same count: after too many failures for
one name, or from one address, within the window, sign-in is refused for a while, even with the right password.
Each failure is also an event of the audit trail, which a later successful sign-in does not clear.

A token (an API token or a browser session's key) ends when unused for a while, and at the latest some time after
it was made (Lifetime; the settings SONGNUAN_TOKEN_IDLE_MINUTES and SONGNUAN_TOKEN_MAX_AGE_DAYS).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from workflows.errors import DomainError
from workflows.infra import audit
from workflows.infra.clock import Clock, from_db, to_db
from workflows.infra.db import take_turns
from workflows.infra.sealing import digest
from workflows.models import Account, ApiToken, SignInFailure
from workflows.states import Action
from workflows.texts import N_

WINDOW = dt.timedelta(minutes=15)
MAX_PER_NAME = 5
MAX_PER_SOURCE = 20
# The longest a browser session lives, "remember me" included: then one signs in again.
WEB_SESSION = dt.timedelta(days=7)
# The defaults of the settings: a token unused for a week ends, and any token after 30 days (a browser session's
# after WEB_SESSION).
IDLE = dt.timedelta(days=7)
MAX_AGE = dt.timedelta(days=30)
# Checked when the name is unknown, so that an unknown name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("songnuan-dummy-password")


class Unauthenticated(DomainError):
    code = "unauthenticated"

    def __init__(self, message: str = N_("用户名或密码不正确")) -> None:
        super().__init__(message)


class Expired(Unauthenticated):
    """A token that was valid, unused too long or too old: its owner signs in again (or makes a new API token)."""


@dataclass(frozen=True)
class Lifetime:
    """How long a token lives: `idle` after its last use, `max_age` after it was made (None: no such limit)."""

    idle: dt.timedelta | None = IDLE
    max_age: dt.timedelta | None = MAX_AGE

    def of(self, kind: str) -> dt.timedelta | None:
        """The greatest age of a token of `kind`: a browser session's is WEB_SESSION at most."""
        if kind != "web":
            return self.max_age
        return WEB_SESSION if self.max_age is None else min(self.max_age, WEB_SESSION)

    def note_every(self) -> dt.timedelta:
        """How stale the noted last use may get before it is noted again: hourly, or a tenth of the idle time if
        that is shorter (a token may then end that much early, never late)."""
        hour = dt.timedelta(hours=1)
        return hour if self.idle is None else min(hour, self.idle / 10)


class Throttled(DomainError):
    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(N_("登录失败次数过多，请%(minutes)s分钟后再试", minutes=max(1, retry_after // 60)))
        self.retry_after = retry_after


def _one_at_a_time(session: Session, username: str, source: str) -> None:
    """Attempts for one name, or from one address, take turns until their transactions end: the next one counts
    the failures the previous one committed, so no more than the limit of passwords is ever tried in a window,
    however many workers answer at once (name first, then address, always in that order)."""
    take_turns(session, "sign-in-name", username)
    take_turns(session, "sign-in-source", source)


def _throttle(session: Session, clock: Clock, username: str, source: str) -> None:
    since = to_db(clock.now() - WINDOW)
    for column, value, limit in ((SignInFailure.username, username, MAX_PER_NAME),
                                 (SignInFailure.source, source, MAX_PER_SOURCE)):
        failures, first = session.execute(
            select(func.count(), func.min(SignInFailure.at)).where(column == value, SignInFailure.at > since)).one()
        if failures >= limit:
            retry = from_db(first) + WINDOW - clock.now()
            raise Throttled(max(1, int(retry.total_seconds())))


def authenticate(session: Session, clock: Clock, username: str, password: str, source: str) -> Account | None:
    """The active account with this name and password, or None after recording the failure in `session` (and in
    the audit trail), which the caller commits before it answers (the failure must count even though the request
    fails). The caller's session is a writing one (SQLite: see _one_at_a_time)."""
    username = (username or "").strip()[:64]
    source = (source or "unknown")[:64]
    # Failures are counted by the name's keyed digest: what is typed in the name's box may be a password or an ID
    # number typed in the wrong box, and is never written down.
    name_key = digest(username) or ""
    _one_at_a_time(session, name_key, source)
    _throttle(session, clock, name_key, source)
    account = session.scalar(select(Account).where(Account.username == username))
    valid = check_password_hash(account.password_hash if account else _DUMMY_HASH, password or "")
    if not (account and valid and account.active):
        now = clock.now()
        session.add(SignInFailure(username=name_key, source=source, at=to_db(now)))
        why = "没有该用户名" if account is None else "密码不正确" if not valid else "账号已停用"
        audit.record(session, account or _Typed("（无此用户名）"), now, Action.sign_in_failed,
                     comment=f"登录失败：{why}（来自{source}）")
        return None
    session.execute(delete(SignInFailure).where(SignInFailure.username == name_key))
    return account


@dataclass(frozen=True)
class _Typed:
    """The actor of a failed sign-in under a name no account has: the name as typed, no account, no role."""

    username: str
    id: None = None
    name: str = ""
    role: str = ""
    union_id: None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, clock: Clock, account: Account, kind: str = "api") -> str:
    """A new token for `account` (an API token, or a "web" session key); returned once, stored only as its hash.
    Audited as token_create or sign_in."""
    token = ("sn_" if kind == "api" else "") + secrets.token_urlsafe(32)
    session.add(ApiToken(account_id=account.id, digest=_digest(token), kind=kind, created_at=to_db(clock.now())))
    audit.record(session, account, clock.now(), Action.token_create if kind == "api" else Action.sign_in)
    return token


# What the owner of an expired token reads (401), by the token's kind.
EXPIRED = {"api": N_("令牌已过期（长时间未使用或已超过有效期），请重新登录（POST /api/v1/tokens）或新建令牌"),
           "web": N_("登录已过期（长时间未操作或已超过有效期），请重新登录")}


def _last_use(row: ApiToken) -> dt.datetime:
    return from_db(row.last_used_at or row.created_at)


def account_for_token(session: Session, clock: Clock, token: str, writing: bool = False, kind: str = "api",
                      lifetime: Lifetime = Lifetime()) -> tuple[Account, ApiToken] | None:
    """The active account a live token of `kind` belongs to; None for a token unknown, revoked or of a disabled
    account; Expired for one unused longer than `lifetime.idle` or older than its greatest age. A writing request
    notes the use in its own transaction when the last one noted is stale (needs_note); a reading one writes
    nothing here, and its caller notes the use apart (note_use)."""
    row = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token), ApiToken.kind == kind,
                                                ApiToken.revoked_at.is_(None)))
    if row is None or not row.account.active:
        return None
    now, greatest = clock.now(), lifetime.of(kind)
    if (greatest is not None and now - from_db(row.created_at) > greatest
            or lifetime.idle is not None and now - _last_use(row) > lifetime.idle):
        raise Expired(EXPIRED.get(kind, EXPIRED["api"]))
    if writing and needs_note(row, clock, lifetime):
        row.last_used_at = to_db(now)
    return row.account, row


def needs_note(row: ApiToken, clock: Clock, lifetime: Lifetime) -> bool:
    """Whether the token's last use noted is stale enough to note this one (the idle timeout counts from it)."""
    return clock.now() - _last_use(row) >= lifetime.note_every()


def note_use(session: Session, clock: Clock, token_id: int) -> None:
    """Note that a token was used now, for a reading request: in a short transaction of the caller's own, apart
    from the request's (which writes nothing)."""
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=to_db(clock.now())))


def revoke_token(session: Session, clock: Clock, token: ApiToken) -> None:
    token.revoked_at = to_db(clock.now())
    account = token.account
    audit.record(session, account, clock.now(), Action.token_revoke if token.kind == "api" else Action.sign_out)
