"""E-mail delivery of the notifications, after the transaction that decided them has committed (the outbox's
delivering part: workflows/infra/outbox.py queues, workflows/verbs/reminders.py decides). Accounts without an address, or no longer active, keep the in-application notification only, and so
does a notification older than STALE (a reminder days late would mislead more than help).

Once, and not never: each notification is claimed in a short transaction of its own before it is sent, so two
processes never send the same one. The claim sets `next_attempt_at` a CLAIM ahead (on PostgreSQL the row is read
FOR UPDATE SKIP LOCKED; on SQLite the writing session's BEGIN IMMEDIATE serialises the claims), and nobody else
picks the notification up before then. The message is sent outside any transaction, and then marked sent.

We send, then mark: at least once. A process that dies after the SMTP server accepted a message but before the
mark committed leaves the claim to run out, and the message goes again (with the same Message-ID, which many mail
clients fold together). The other order, mark then send, would lose such a message for good instead; a reminder
of a deadline that nobody receives can cost a family its aid, a second copy costs a glance. The window is the few
milliseconds between the server's answer and the commit.

A failure (server down, message refused) is counted on the notification with its error and a back-off of 1, 2,
4 … minutes up to an hour, and is visible to the administrators (GET /api/v1/notifications/failed). Nothing is
raised out of deliver(): the sweep that calls it must go on.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from workflows.identity import mask_numbers
from workflows.infra.clock import Clock, to_db
from workflows.models import Account, Notification

log = logging.getLogger(__name__)

CLAIM = dt.timedelta(minutes=10)       # a claimed notification is its sender's for this long (then retried)
BACKOFF_CAP = dt.timedelta(hours=1)
STALE = dt.timedelta(days=3)           # older notifications stay in the application: a late reminder misleads
TIMEOUT = 20                           # seconds, for each exchange with the SMTP server
SUBJECTS = {"deadline": "报送截止提醒", "notice_closed": "公示期满提醒", "review_waiting": "待审案件提醒",
            "returned": "案件被退回", "summary": "活动总结提醒"}
FOOTER = "\n\n——\n本邮件由送暖系统自动发送，请登录系统查看详情，勿直接回复。"
# Refusals of one message: the connection is still good for the next. Any other network or SMTP failure ends the
# pass (a server that is down would otherwise be waited for once per notification).
REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
           smtplib.SMTPNotSupportedError)


@dataclass(frozen=True)
class Claimed:
    id: int
    address: str
    kind: str
    text: str
    attempts: int


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failure: 1, 2, 4 … minutes, at most BACKOFF_CAP."""
    return min(dt.timedelta(minutes=2 ** min(attempts - 1, 20)), BACKOFF_CAP)


def deliver(sessions: Callable[[], Session], clock: Clock, smtp_url: str) -> tuple[int, int]:
    """Send every notification due for an e-mail; returns (sent, failed). `sessions` should be writing sessions
    (workflows.db.session_factory(engine, writes=True)) so that SQLite serialises the claims."""
    sent = failed = 0
    try:
        server = Server(smtp_url)
    except ValueError as error:
        log.error("mail: %s; nothing is sent", error)
        return sent, failed
    try:
        while True:
            claimed = _claim(sessions, clock.now())
            if claimed is None:
                break
            try:
                server.send(message(claimed, server.sender))
            except Exception as error:  # noqa: BLE001 -- whatever it was, it is recorded and retried
                failed += 1
                _failed(sessions, clock.now(), claimed, describe(error))
                log.warning("mail: notification %s not sent: %s", claimed.id, describe(error))
                if isinstance(error, OSError) and not isinstance(error, REFUSED):
                    break  # the server is unreachable or broken: the rest wait for the next pass
                continue
            _sent(sessions, clock.now(), claimed.id)
            sent += 1
    except SQLAlchemyError:  # claims run out by themselves; the next pass picks everything up
        log.exception("mail: the database failed during delivery")
    finally:
        server.close()
    if sent or failed:
        log.info("mail: %s sent, %s failed", sent, failed)
    return sent, failed


def _claim(sessions: Callable[[], Session], now: dt.datetime) -> Claimed | None:
    """The next notification due, made ours for CLAIM, in a transaction of its own. The UPDATE checks again that
    it is due, so that a claim never succeeds twice whatever the isolation; FOR UPDATE SKIP LOCKED (PostgreSQL)
    makes a second process pass over a row being claimed instead of waiting for it."""
    at = to_db(now)
    due = (Notification.emailed_at.is_(None),
           or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= at))
    query = (select(Notification.id, Account.email, Notification.kind, Notification.text, Notification.email_attempts)
             .join(Account, Account.id == Notification.account_id)
             .where(*due, Notification.created_at >= to_db(now - STALE), Account.active.is_(True),
                    Account.email.is_not(None), Account.email != "")
             .order_by(Notification.id).limit(1))
    with sessions() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Notification, skip_locked=True)
        for _ in range(10):  # another process claimed the one we read: read the next (bounded, to be safe)
            row = session.execute(query).first()
            if row is None:
                return None
            if session.execute(update(Notification).where(Notification.id == row.id, *due)
                               .values(next_attempt_at=to_db(now + CLAIM))).rowcount == 1:
                return Claimed(*row)
        return None


def _sent(sessions: Callable[[], Session], now: dt.datetime, notification_id: int) -> None:
    with sessions() as session, session.begin():
        session.execute(update(Notification).where(Notification.id == notification_id)
                        .values(emailed_at=to_db(now), next_attempt_at=None))


def _failed(sessions: Callable[[], Session], now: dt.datetime, claimed: Claimed, error: str) -> None:
    attempts = claimed.attempts + 1
    with sessions() as session, session.begin():
        session.execute(update(Notification).where(Notification.id == claimed.id)
                        .values(email_attempts=attempts, last_error=error,
                                next_attempt_at=to_db(now + backoff(attempts))))


def message(claimed: Claimed, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"【送暖】{SUBJECTS.get(claimed.kind, '通知')}"
    mail["From"] = sender
    mail["To"] = claimed.address
    # The same for every copy of one notification, so that a second copy (see above) can be recognised.
    mail["Message-ID"] = f"<notification-{claimed.id}@{sender.rpartition('@')[2] or 'songnuan'}>"
    mail.set_content(mask_numbers(claimed.text) + FOOTER)  # free text may carry a number: the one mask, here too
    return mail


def describe(error: BaseException) -> str:
    """What went wrong, for the administrators: the kind of failure and the server's code, never the server's text,
    which may quote the address."""
    name = type(error).__name__
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        text = f"{name}: SMTP {', '.join(map(str, codes))}"
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"{name}: SMTP {error.smtp_code}"
    elif isinstance(error, OSError) and error.strerror:
        text = f"{name}: {error.strerror}"
    else:
        text = name
    return text[:200]


class Server:
    """The SMTP server of SONGNUAN_SMTP_URL: smtp://[user:password@]host[:port][?from=address], or smtps://.
    Connected at the first message, and kept for the rest of the pass."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SONGNUAN_SMTP_URL should look like smtp://host:port")
        self.ssl = parts.scheme == "smtps"
        self.host, self.port = parts.hostname, parts.port or (465 if self.ssl else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password or "")
        self.sender = parse_qs(parts.query).get("from", ["songnuan@localhost"])[0]
        self.client: smtplib.SMTP | None = None

    def send(self, mail: EmailMessage) -> None:
        if self.client is None:
            kind = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
            client = kind(self.host, self.port, timeout=TIMEOUT)
            try:
                if self.user:
                    client.login(self.user, self.password)
            except BaseException:
                client.close()
                raise
            self.client = client
        try:
            self.client.send_message(mail)
        except REFUSED:
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
