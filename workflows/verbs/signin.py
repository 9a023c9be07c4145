"""Signing in by name and password, throttled, and the bearer tokens of the JSON API.

Failures are counted in the database, so every worker process sees the same count: after too many failures for
one name, or from one address, within the window, sign-in is refused for a while, even with the right password.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from workflows.errors import DomainError
from workflows.infra import audit
from workflows.infra.clock import Clock, from_db, to_db
from workflows.models import Account, ApiToken, SignInFailure
from workflows.states import Action

WINDOW = dt.timedelta(minutes=15)
MAX_PER_NAME = 5
MAX_PER_SOURCE = 20
# The longest a browser session lives, "remember me" included: then one signs in again.
WEB_SESSION = dt.timedelta(days=7)
# Checked when the name is unknown, so that an unknown name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("songnuan-dummy-password")


class Unauthenticated(DomainError):
    code = "unauthenticated"

    def __init__(self, message: str = "用户名或密码不正确") -> None:
        super().__init__(message)


class Throttled(DomainError):
    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"登录失败次数过多，请{max(1, retry_after // 60)}分钟后再试")
        self.retry_after = retry_after


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
    """The active account with this name and password, or None after recording the failure in `session`, which
    the caller commits before it answers (the failure must count even though the request fails)."""
    username = (username or "").strip()[:64]
    source = (source or "unknown")[:64]
    _throttle(session, clock, username, source)
    account = session.scalar(select(Account).where(Account.username == username))
    valid = check_password_hash(account.password_hash if account else _DUMMY_HASH, password or "")
    if not (account and valid and account.active):
        session.add(SignInFailure(username=username, source=source, at=to_db(clock.now())))
        return None
    session.execute(delete(SignInFailure).where(SignInFailure.username == username))
    return account


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, clock: Clock, account: Account, kind: str = "api") -> str:
    """A new token for `account` (an API token, or a "web" session key); returned once, stored only as its hash.
    Audited as token_create or sign_in."""
    token = ("sn_" if kind == "api" else "") + secrets.token_urlsafe(32)
    session.add(ApiToken(account_id=account.id, digest=_digest(token), kind=kind, created_at=to_db(clock.now())))
    audit.record(session, account, clock.now(), Action.token_create if kind == "api" else Action.sign_in)
    return token


def account_for_token(session: Session, clock: Clock, token: str, writing: bool = False,
                      kind: str = "api") -> tuple[Account, ApiToken] | None:
    """The active account a live token of `kind` belongs to, or None. A web session key lives WEB_SESSION_DAYS at
    most. A writing request also notes when the token was last used (hourly is enough to see unused tokens); a
    reading one writes nothing."""
    row = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(token), ApiToken.kind == kind,
                                                ApiToken.revoked_at.is_(None)))
    if row is None or not row.account.active:
        return None
    if kind == "web" and clock.now() - from_db(row.created_at) > WEB_SESSION:
        return None
    now = to_db(clock.now())
    if writing and (row.last_used_at is None or now - row.last_used_at > dt.timedelta(hours=1)):
        row.last_used_at = now
    return row.account, row


def revoke_token(session: Session, clock: Clock, token: ApiToken) -> None:
    token.revoked_at = to_db(clock.now())
    account = token.account
    audit.record(session, account, clock.now(), Action.token_revoke if token.kind == "api" else Action.sign_out)
