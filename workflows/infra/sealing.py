"""Personal numbers at rest: ID numbers and bank accounts are stored sealed (AES-256-GCM), found by a keyed digest
(HMAC-SHA256) and shown from a stored mask, so that a database file or dump alone reveals no number.

Keys (README, "Personal data at rest"):
- SONGNUAN_DATA_KEYS: `id:base64key,id:base64key,...`, the first one seals; the others only open what they sealed,
  until `songnuan keys rotate` has re-sealed every row under the first one and they can be dropped.
- SONGNUAN_INDEX_KEY: base64, the digest's key. It is not rotated online: every digest would change at once.
Without them, both are generated once into instance/ (readable by their owner only), as the secret key is.

A sealed value is `s1:<key id>:<base64(nonce + ciphertext + tag)>`; the key id is also the associated data, so a
value cannot be passed off as sealed under another key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import String
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

INSTANCE = Path(__file__).resolve().parents[2] / "instance"
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
PREFIX = "s1"


class SealingError(ValueError):
    """A key setting that cannot be used, or a sealed value no known key opens."""


@dataclass(frozen=True)
class Keyring:
    data_keys: tuple[tuple[str, bytes], ...]  # (id, 32-byte key), the first seals
    index_key: bytes

    def __post_init__(self) -> None:
        if not self.data_keys:
            raise SealingError("no data key")
        for key_id, key in self.data_keys:
            if not _KEY_ID.fullmatch(key_id) or len(key) != 32:
                raise SealingError(f"data key {key_id!r}: an id of letters and digits and 32 bytes of key are needed")
        if len(self.index_key) < 32:
            raise SealingError("the index key needs at least 32 bytes")

    @property
    def primary(self) -> str:
        return self.data_keys[0][0]

    def seal(self, plain: str) -> str:
        key_id, key = self.data_keys[0]
        nonce = os.urandom(12)
        body = AESGCM(key).encrypt(nonce, plain.encode(), key_id.encode())
        return f"{PREFIX}:{key_id}:{base64.b64encode(nonce + body).decode()}"

    def open(self, sealed: str) -> str:
        prefix, key_id, body = (sealed.split(":", 2) + ["", ""])[:3]
        key = dict(self.data_keys).get(key_id)
        if prefix != PREFIX or key is None:
            raise SealingError(f"a value sealed under key {key_id!r}, which SONGNUAN_DATA_KEYS does not hold")
        raw = base64.b64decode(body)
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], key_id.encode()).decode()
        except InvalidTag:
            raise SealingError(f"a value sealed under key {key_id!r} does not open: altered, or another key") from None

    def digest(self, number: str | None) -> str | None:
        """The keyed digest equality lookups go by (duplicates, caps, the fraud views, one household one archive)."""
        if not number:
            return None
        return hmac.new(self.index_key, number.encode(), hashlib.sha256).hexdigest()


def key_id_of(sealed: str) -> str:
    return sealed.split(":", 2)[1]


def new_data_key() -> str:
    """A fresh `id:base64key` entry for SONGNUAN_DATA_KEYS (or instance/data_keys)."""
    return f"k{secrets.token_hex(3)}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def parse_data_keys(text: str) -> tuple[tuple[str, bytes], ...]:
    keys = []
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        key_id, _, key = entry.partition(":")
        try:
            keys.append((key_id, base64.b64decode(key, validate=True)))
        except ValueError:
            raise SealingError(f"data key {key_id!r} is not base64") from None
    return tuple(keys)


def _instance_file(name: str, make: str) -> str:
    """instance/<name>, created once with `make` as its content, readable by its owner only. O_EXCL: two processes
    starting at once (test workers, gunicorn workers) keep the one that was written first."""
    path = INSTANCE / name
    if not path.exists():
        INSTANCE.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(make + "\n")
    return path.read_text().strip()


def from_environment() -> Keyring:
    data = os.environ.get("SONGNUAN_DATA_KEYS") or _instance_file("data_keys", new_data_key())
    index = os.environ.get("SONGNUAN_INDEX_KEY") or _instance_file(
        "index_key", base64.b64encode(secrets.token_bytes(32)).decode())
    try:
        index_key = base64.b64decode(index, validate=True)
    except ValueError:
        raise SealingError("SONGNUAN_INDEX_KEY is not base64") from None
    return Keyring(parse_data_keys(data), index_key)


_current: Keyring | None = None


def keyring() -> Keyring:
    global _current
    if _current is None:
        _current = from_environment()
    return _current


def configure(ring: Keyring | None) -> None:
    """Use `ring` from now on (None: read the settings again on next use): the tests and `songnuan keys`."""
    global _current
    _current = ring


def digest(number: str | None) -> str | None:
    return keyring().digest(number)


def digests(numbers) -> list[str]:
    return sorted({keyring().digest(n) for n in numbers if n})


class Sealed(TypeDecorator):
    """A personal number, sealed on its way into the database and opened on its way out. It cannot be compared
    in SQL (every sealing of one number differs): compare the digest column beside it."""

    impl = String(96)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else keyring().seal(value)

    def process_result_value(self, value, dialect):
        return None if value is None else keyring().open(value)

    class comparator_factory(TypeDecorator.Comparator):
        def operate(self, op, *other, **kwargs):
            if op not in (operators.is_, operators.is_not):
                raise TypeError("a sealed number cannot be compared in SQL: compare its digest column")
            return super().operate(op, *other, **kwargs)
