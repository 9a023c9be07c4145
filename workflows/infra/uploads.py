"""Uploaded files, kept in step with the database transaction that records them, wherever they are stored (a local
folder or an S3 bucket: workflows.infra.storage).

A file is written under a random name before its row is flushed; if the transaction rolls back, the file goes.
A removed document's file is deleted only once the removal has committed.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import secrets
import zipfile
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

from workflows.errors import DomainError, Invalid, NotFound
from workflows.identity import mask_numbers
from workflows.infra.storage import LocalFolder, Missing, Storage, Unavailable
from workflows.texts import N_

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What a case's documents may be (the default), and a union's summary: the statistics workbook too.
DOCUMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
SUMMARY_TYPES = (*DOCUMENT_TYPES, XLSX)
TYPE_NAMES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG", XLSX: N_("Excel（.xlsx）")}
# The extensions a file of each type may have; the first one is added to a name that has none of them.
EXTENSIONS = {"application/pdf": (".pdf",), "image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",), XLSX: (".xlsx",)}
# An .xlsx is a ZIP whose [Content_Types].xml names a workbook without macros; that part is read only when small.
XLSX_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MAX_CONTENT_TYPES = 64 * 1024


class TooLarge(DomainError):
    code = "too_large"


class UnsupportedType(DomainError):
    code = "unsupported_type"


def sniff(content: bytes) -> str | None:
    """The type of a file judged by its content, whatever its name says: its first bytes, and for a ZIP what it
    holds (an .xlsx workbook, not a macro-enabled one or any other archive)."""
    for magic, content_type in SIGNATURES:
        if content.startswith(magic):
            return content_type
    if content.startswith(b"PK\x03\x04") and _is_xlsx(content):
        return XLSX
    return None


def _is_xlsx(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if not {"[Content_Types].xml", "xl/workbook.xml"} <= names or "xl/vbaProject.bin" in names:
                return False
            if archive.getinfo("[Content_Types].xml").file_size > MAX_CONTENT_TYPES:
                return False  # never inflate a large part just to look at it
            return XLSX_MAIN in archive.read("[Content_Types].xml")
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError, EOFError):
        return False


def clean_filename(name: str) -> str:
    """The name the user gave, refused if it tries to name a path (it is only ever shown, never used on disk)."""
    name = (name or "").strip()
    if not name:
        raise Invalid({"file": N_("请选择文件")})
    if "/" in name or "\\" in name or ".." in name or any(ord(c) < 32 for c in name) or len(name) > 255:
        raise Invalid({"file": N_("文件名不能包含路径或特殊字符")})
    return mask_numbers(name)  # a scan named after its ID number is kept, and shown, by the mask


def header_name(name: str, fallback: str = "document") -> str:
    """A stored name (a file's, a campaign's) as a download's header carries it: the personal numbers in it masked
    (a scan named after its ID number), without the control characters and line breaks an old row may hold, which
    a header cannot carry, nor slashes."""
    return mask_numbers("".join(c for c in name if c.isprintable() and c not in "/\\")) or fallback


def download_name(filename: str, content_type: str | None) -> str:
    """The name a saved copy gets: the one given at upload, ending with the extension of the type the content was
    judged to be (a PDF uploaded as 通知.html is saved as 通知.html.pdf, never opened as a page)."""
    filename = header_name(filename)
    suffixes = EXTENSIONS.get(content_type or "", (".bin",))
    if not filename.lower().endswith(suffixes):
        return filename + suffixes[0]
    return filename


@dataclass(frozen=True)
class Quota:
    """How much may be kept as a case's documents: per case, and per account in one local day (files and bytes).
    0 is no limit, the default here; the application takes its limits from the settings (app.config)."""

    case_files: int = 0
    case_bytes: int = 0
    daily_files: int = 0
    daily_bytes: int = 0


@dataclass(frozen=True)
class Stored:
    id: str
    content_type: str
    size: int
    sha256: str


class Uploads:
    """The uploads of the application: checked, then kept in `storage` (a folder path means a LocalFolder)."""

    def __init__(self, storage: Storage | str | os.PathLike[str], max_bytes: int = MAX_BYTES,
                 quota: Quota = Quota()) -> None:
        self.storage = LocalFolder(storage) if isinstance(storage, (str, os.PathLike)) else storage
        self.max_bytes = max_bytes
        self.quota = quota

    def check(self, content: bytes, allowed: tuple[str, ...] = DOCUMENT_TYPES) -> str:
        """The type of `content` judged by its content, if it is one of `allowed` (a case's documents by default)."""
        if len(content) > self.max_bytes:
            raise TooLarge(N_("文件太大，不能超过%(mb)sMB", mb=self.max_bytes // (1024 * 1024)))
        if not content:
            raise Invalid({"file": N_("文件是空的")})
        content_type = sniff(content)
        if content_type not in allowed:
            names = [TYPE_NAMES[t] for t in allowed]
            raise UnsupportedType(N_("只能上传%(names)s或%(last)s文件（按文件内容判断）", names=list(names[:-1]), last=names[-1]))
        return content_type

    def problems(self, name: str | None, content: bytes, allowed: tuple[str, ...] = DOCUMENT_TYPES,
                 field: str = "file") -> tuple[str | None, dict[str, str]]:
        """A file given with other fields: its clean name, and what is wrong with it by field (checked before
        anything is written, so that every problem of a form is said at once)."""
        try:
            return clean_filename(name or ""), self.problems_of(content, allowed, field)
        except Invalid as error:
            return None, error.fields | self.problems_of(content, allowed, field)

    def problems_of(self, content: bytes, allowed: tuple[str, ...], field: str) -> dict[str, str]:
        try:
            self.check(content, allowed)
        except Invalid as error:
            return {field: message for message in error.fields.values()}
        except (TooLarge, UnsupportedType) as error:
            return {field: error.message}
        return {}

    def save(self, session: Session, content: bytes, allowed: tuple[str, ...] = DOCUMENT_TYPES) -> Stored:
        """Store the file; it is removed again if `session` rolls back. Unavailable (nothing stored) when the
        storage cannot be reached: the caller's transaction then rolls back with nothing of it half-written."""
        content_type = self.check(content, allowed)
        document_id = secrets.token_hex(16)
        self.storage.put(document_id, content)
        session.info.setdefault("uploads_written", []).append((self.storage, document_id))
        return Stored(document_id, content_type, len(content), hashlib.sha256(content).hexdigest())

    def delete_on_commit(self, session: Session, document_id: str) -> None:
        session.info.setdefault("uploads_deleted", []).append((self.storage, document_id))

    def read(self, document_id: str) -> bytes:
        """A stored file's bytes (at most the upload limit, so read whole). NotFound when its row outlived it,
        Unavailable when the storage cannot be reached."""
        try:
            return self.storage.get(document_id)
        except Missing:
            log.error("upload %s is recorded but not in %r", document_id, self.storage)
            raise NotFound(N_("资料文件已丢失，请联系系统管理员")) from None


def _drop(pending: list[tuple[Storage, str]]) -> None:
    for storage, document_id in pending:
        try:
            storage.delete(document_id)
        except (Unavailable, OSError):  # the transaction has ended either way: an orphan file, never an error
            log.warning("upload %s could not be removed from %r; it is left behind", document_id, storage)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released (SQLAlchemy says "commit" for it too): the outer transaction may roll back
    session.info.pop("uploads_written", None)
    _drop(session.info.pop("uploads_deleted", []))


@event.listens_for(Session, "after_transaction_end")
def _after_end(session: Session, transaction) -> None:
    # The outermost transaction ended: if it committed, _after_commit has taken its files already; otherwise it was
    # rolled back, or the session closed without either (a request that failed unexpectedly), and what it stored
    # goes. A savepoint's end is not the end: the outer transaction, and the files it wrote, may still commit.
    if transaction.parent is None:
        session.info.pop("uploads_deleted", None)
        _drop(session.info.pop("uploads_written", []))
