"""Uploaded files on disk, kept in step with the database transaction that records them.

A file is written under a random name before its row is flushed; if the transaction rolls back, the file goes.
A removed document's file is deleted only once the removal has committed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from workflows.errors import DomainError, Invalid

MAX_BYTES = 10 * 1024 * 1024

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


class TooLarge(DomainError):
    code = "too_large"


class UnsupportedType(DomainError):
    code = "unsupported_type"


def sniff(content: bytes) -> str | None:
    """The type of a file judged by its first bytes, whatever its name says."""
    for magic, content_type in SIGNATURES:
        if content.startswith(magic):
            return content_type
    return None


def clean_filename(name: str) -> str:
    """The name the user gave, refused if it tries to name a path (it is only ever shown, never used on disk)."""
    name = (name or "").strip()
    if not name:
        raise Invalid({"file": "请选择文件"})
    if "/" in name or "\\" in name or ".." in name or any(ord(c) < 32 for c in name) or len(name) > 255:
        raise Invalid({"file": "文件名不能包含路径或特殊字符"})
    return name


@dataclass(frozen=True)
class Stored:
    id: str
    content_type: str
    size: int
    sha256: str


class Uploads:
    def __init__(self, root: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path(self, document_id: str) -> Path:
        if not document_id.isalnum():
            raise ValueError("bad document id")
        return self.root / document_id

    def check(self, content: bytes) -> str:
        if len(content) > self.max_bytes:
            raise TooLarge(f"文件太大，不能超过{self.max_bytes // (1024 * 1024)}MB")
        if not content:
            raise Invalid({"file": "文件是空的"})
        content_type = sniff(content)
        if content_type is None:
            raise UnsupportedType("只能上传PDF、JPEG或PNG文件（按文件内容判断）")
        return content_type

    def save(self, session: Session, content: bytes) -> Stored:
        """Write the file; it is removed again if `session` rolls back."""
        content_type = self.check(content)
        self.root.mkdir(parents=True, exist_ok=True)
        document_id = secrets.token_hex(16)
        path = self.path(document_id)
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        os.replace(partial, path)  # never a half-written file under the final name
        session.info.setdefault("uploads_written", []).append(path)
        return Stored(document_id, content_type, len(content), hashlib.sha256(content).hexdigest())

    def delete_on_commit(self, session: Session, document_id: str) -> None:
        session.info.setdefault("uploads_deleted", []).append(self.path(document_id))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop("uploads_written", None)
    for path in session.info.pop("uploads_deleted", []):
        path.unlink(missing_ok=True)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, transaction) -> None:
    # A failed flush rolls back its subtransaction, and with it every enclosing one up to a savepoint or the
    # outermost transaction (the only rollback event then comes for the subtransaction): see which one went.
    while transaction.parent is not None and not transaction.nested:
        transaction = transaction.parent
    if transaction.nested:
        return  # a savepoint: the outer transaction, and the files it wrote, may still commit
    session.info.pop("uploads_deleted", None)
    for path in session.info.pop("uploads_written", []):
        path.unlink(missing_ok=True)
