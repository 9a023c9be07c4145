"""Configuration from the environment (API.md): one place that reads SONGNUAN_* variables."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url

from workflows.infra.storage import LocalFolder, S3Bucket, Storage
from workflows.infra.uploads import Quota
from workflows.inputs import parse_number
from workflows.verbs import signin

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _secret_key() -> str:
    """SONGNUAN_SECRET_KEY, or a development key generated once and kept in instance/."""
    if key := os.environ.get("SONGNUAN_SECRET_KEY"):
        return key
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
    return path.read_text().strip()


def _count(text: str) -> int:
    return parse_number(text) or 0


def _limit(name: str, default: int) -> int:
    """A limit from the environment: a whole number (0 for none), the default when unset or not a number."""
    number = parse_number(os.environ.get(name))
    return default if number is None else number


MB = 1024 * 1024


@dataclass
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get(
        "SONGNUAN_DATABASE_URL", f"sqlite:///{INSTANCE / 'songnuan.db'}"))
    upload_dir: str = field(default_factory=lambda: os.environ.get(
        "SONGNUAN_UPLOAD_DIR", str(INSTANCE / "uploads")))
    # Uploads in an S3-compatible bucket instead of upload_dir (several hosts share it): its name, the service's
    # address when not AWS (MinIO, ...), a key prefix, and server-side encryption to ask for ("AES256", "aws:kms";
    # unset: the bucket's default). Credentials and region: boto3's own chain (AWS_ACCESS_KEY_ID, ...).
    s3_bucket: str | None = field(default_factory=lambda: os.environ.get("SONGNUAN_S3_BUCKET") or None)
    s3_endpoint_url: str | None = field(default_factory=lambda: os.environ.get("SONGNUAN_S3_ENDPOINT_URL") or None)
    s3_prefix: str = field(default_factory=lambda: os.environ.get("SONGNUAN_S3_PREFIX", ""))
    s3_encryption: str | None = field(default_factory=lambda: os.environ.get("SONGNUAN_S3_SSE") or None)
    smtp_url: str | None = field(default_factory=lambda: os.environ.get("SONGNUAN_SMTP_URL") or None)
    # How many proxies (an https front such as nginx) stand before the application and set X-Forwarded-For/-Proto.
    trusted_proxies: int = field(default_factory=lambda: _count(os.environ.get("SONGNUAN_TRUSTED_PROXIES", "0")))
    # `songnuan run` serves plain http on the developer's machine; everywhere else cookies are Secure (https only).
    development: bool = False
    # Upload quotas of a case's documents (0 = no limit): files and MB per case, and per account in one local day
    # (SONGNUAN_TIMEZONE). An upload over one is refused with the limit and what is left (409 on the API).
    upload_quota: Quota = field(default_factory=lambda: Quota(
        case_files=_limit("SONGNUAN_UPLOAD_CASE_FILES", 30),
        case_bytes=_limit("SONGNUAN_UPLOAD_CASE_MB", 100) * MB,
        daily_files=_limit("SONGNUAN_UPLOAD_DAILY_FILES", 200),
        daily_bytes=_limit("SONGNUAN_UPLOAD_DAILY_MB", 500) * MB))
    # API tokens and browser sessions end when unused this many minutes, and this many days after they were made
    # (0 = no such limit; a browser session ends after 7 days whatever this says). Expired: 401, sign in again.
    token_idle_minutes: int = field(default_factory=lambda: _limit(
        "SONGNUAN_TOKEN_IDLE_MINUTES", int(signin.IDLE.total_seconds()) // 60))
    token_max_age_days: int = field(default_factory=lambda: _limit("SONGNUAN_TOKEN_MAX_AGE_DAYS", signin.MAX_AGE.days))

    def upload_storage(self) -> Storage:
        if self.s3_bucket:
            return S3Bucket(self.s3_bucket, self.s3_endpoint_url, self.s3_prefix, self.s3_encryption)
        return LocalFolder(self.upload_dir)

    @property
    def secret_key(self) -> str:
        return _secret_key()

    @property
    def token_lifetime(self) -> signin.Lifetime:
        return signin.Lifetime(
            idle=dt.timedelta(minutes=self.token_idle_minutes) if self.token_idle_minutes else None,
            max_age=dt.timedelta(days=self.token_max_age_days) if self.token_max_age_days else None)

    def ensure_dirs(self) -> None:
        """The folders (and a SQLite database's file) the application keeps personal data in, created readable by
        their owner only."""
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            database = Path(url.database)
            database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not database.exists():  # SQLite then creates its -wal and -shm files with the same mode
                os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
        if not self.s3_bucket:
            Path(self.upload_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
