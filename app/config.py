"""Configuration from the environment (API.md): one place that reads SONGNUAN_* variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _secret_key() -> str:
    """SONGNUAN_SECRET_KEY, or a development key generated once and kept in instance/."""
    if key := os.environ.get("SONGNUAN_SECRET_KEY"):
        return key
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _count(text: str) -> int:
    return int(text) if text.strip().isdigit() else 0


@dataclass
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get(
        "SONGNUAN_DATABASE_URL", f"sqlite:///{INSTANCE / 'songnuan.db'}"))
    upload_dir: str = field(default_factory=lambda: os.environ.get(
        "SONGNUAN_UPLOAD_DIR", str(INSTANCE / "uploads")))
    smtp_url: str | None = field(default_factory=lambda: os.environ.get("SONGNUAN_SMTP_URL") or None)
    # How many proxies (an https front such as nginx) stand before the application and set X-Forwarded-For/-Proto.
    trusted_proxies: int = field(default_factory=lambda: _count(os.environ.get("SONGNUAN_TRUSTED_PROXIES", "0")))
    # `songnuan run` serves plain http on the developer's machine; everywhere else cookies are Secure (https only).
    development: bool = False

    @property
    def secret_key(self) -> str:
        return _secret_key()

    def ensure_dirs(self) -> None:
        if self.database_url.startswith("sqlite:///"):
            Path(self.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        Path(self.upload_dir).mkdir(parents=True, exist_ok=True)
