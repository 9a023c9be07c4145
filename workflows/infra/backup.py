"""`songnuan backup` and `songnuan restore`: the database and the uploaded files in one file, consistent with each
other.

A backup is a gzip'd tar holding `manifest.json` (schema revision, row counts, each file's SHA-256, the chain's
digest), `tables/<name>.jsonl` (every row, one a line) and `files/<id>` (the content of every file a row names).
The rows are read in one snapshot (PostgreSQL: a REPEATABLE READ, read-only transaction; SQLite: one read
transaction in WAL mode) and the files are the ones that snapshot names: a file is written before its row commits
and removed only after its removal commits, so each one still exists when it is copied, unless it was removed by a
change committed since the snapshot began; the backup then starts over.

Rows are copied as the database holds them: personal numbers stay sealed, and neither the data keys nor the index
key are in a backup. A restore needs the same keys (checked before anything is written: the key ids the sealed
values name, and a probe digest of the index key).

A restore goes into an empty database (no tables, or the schema with no rows) and is one transaction; the files
are written first and removed again if it fails. The database is then upgraded to the current revision, and the
chain is verified against the digest the backup recorded.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session

from workflows.errors import DomainError
from workflows.infra import audit, sealing
from workflows.infra.storage import Missing, Storage
from workflows.infra.migrate import alembic_config, upgrade
from workflows.texts import N_

FORMAT = 1
# The columns naming a stored file, by table: the documents' own id is their file's key.
FILE_COLUMNS = {"documents": "id", "notice_postings": "file_id", "summaries": "file_id"}
SEALED_PREFIX = sealing.PREFIX + ":"
# What the index key makes of a fixed text: equal on both sides only when the keys are the same (an HMAC, it
# tells nothing of the key itself).
PROBE = "songnuan-backup-probe"
ATTEMPTS = 3


class BackupError(DomainError):
    code = "backup"


class FileVanished(Exception):
    """A file the snapshot names was removed before it was copied (a removal committed since)."""


# ---------------------------------------------------------------- values in and out of JSON


def _encode(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


def _decode(column: sa.Column, value: Any) -> Any:
    """A value back as `column` takes it (the JSON keeps times, money and bytes as strings)."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(kind, sa.Date):
        return dt.date.fromisoformat(value)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return Decimal(value)
    if isinstance(kind, sa.LargeBinary):
        return base64.b64decode(value)
    return value


# ---------------------------------------------------------------- backup


def _tables(engine: sa.Engine) -> list[sa.Table]:
    """The application's tables as the database holds them (reflected: sealed values stay sealed), parents first."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    return [t for t in metadata.sorted_tables if t.name != "alembic_version"]


@contextmanager
def _snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One connection seeing the database as it was at one moment, however long the copy takes."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="REPEATABLE READ",
                                                postgresql_readonly=True) as connection:
            with connection.begin():
                yield connection
    else:
        with engine.connect() as connection, connection.begin():  # BEGIN (deferred): a snapshot from the first read
            yield connection


def _order(table: sa.Table) -> list[sa.Column]:
    return list(table.primary_key.columns) or list(table.columns)


def backup(engine: sa.Engine, storage: Storage, target: str | os.PathLike[str]) -> dict[str, Any]:
    """Write a backup of the database behind `engine` and the files in `storage` to `target`; its manifest."""
    for _ in range(ATTEMPTS):
        try:
            return _backup_once(engine, storage, Path(target))
        except FileVanished:
            continue  # a removal committed meanwhile: take a new snapshot
    raise BackupError(N_("备份期间文件不断被删除，未能取得一致的备份，请稍后再试"))


def _backup_once(engine: sa.Engine, storage: Storage, target: Path) -> dict[str, Any]:
    tables = _tables(engine)
    partial = target.with_name(target.name + ".part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data: owner only
    try:
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar, \
                _snapshot(engine) as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            if revision is None:
                raise BackupError(N_("数据库还没有建表，没有可备份的内容"))
            counts, key_ids, files = {}, set(), {}
            for table in tables:
                counts[table.name] = _dump_table(tar, connection, table, key_ids, files)
            for file_id in sorted(files):
                files[file_id] = _add_file(tar, storage, file_id)
            with Session(bind=connection) as session:
                digest = audit.digest(session)
            manifest = {"format": FORMAT, "revision": revision, "dialect": engine.dialect.name,
                        "taken_at": dt.datetime.now(dt.UTC).isoformat(), "tables": counts, "files": files,
                        "audit_digest": digest, "key_ids": sorted(key_ids),
                        "index_probe": sealing.keyring().digest(PROBE)}
            _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _dump_table(tar: tarfile.TarFile, connection: sa.Connection, table: sa.Table, key_ids: set[str],
                files: dict[str, Any]) -> int:
    file_column = FILE_COLUMNS.get(table.name)
    count = 0
    with tempfile.TemporaryFile() as spool:
        result = connection.execution_options(yield_per=5000).execute(sa.select(table).order_by(*_order(table)))
        for row in result.mappings():
            for value in row.values():
                if isinstance(value, str) and value.startswith(SEALED_PREFIX):
                    key_ids.add(sealing.key_id_of(value))
            if file_column and row[file_column]:
                files[row[file_column]] = None
            spool.write(json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False).encode() + b"\n")
            count += 1
        size = spool.tell()
        spool.seek(0)
        info = tarfile.TarInfo(f"tables/{table.name}.jsonl")
        info.size, info.mode = size, 0o600
        tar.addfile(info, spool)
    return count


def _add_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(content), 0o600
    tar.addfile(info, io.BytesIO(content))


def _add_file(tar: tarfile.TarFile, storage: Storage, file_id: str) -> dict[str, Any]:
    try:
        content = storage.get(file_id)
    except Missing:
        raise FileVanished(file_id) from None
    _add_bytes(tar, f"files/{file_id}", content)
    return {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}


# ---------------------------------------------------------------- restore


def _members(tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    return {member.name: member for member in tar.getmembers() if member.isfile()}


def _read(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> bytes:
    if name not in members:
        raise BackupError(N_("备份文件不完整：缺少%(name)s", name=name))
    return tar.extractfile(members[name]).read()


def _open_backup(source: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(source, mode="r:gz")
    except FileNotFoundError:
        raise BackupError(N_("找不到备份文件%(name)s", name=str(source))) from None
    except (tarfile.TarError, OSError, EOFError):
        raise BackupError(N_("%(name)s不是送暖的备份文件，或已损坏", name=str(source))) from None


def _check_keys(manifest: dict[str, Any]) -> None:
    ring = sealing.keyring()
    held = {key_id for key_id, _ in ring.data_keys}
    if missing := sorted(set(manifest["key_ids"]) - held):
        raise BackupError(N_("备份中的身份证号、银行账号用密钥%(keys)s加密，本机的SONGNUAN_DATA_KEYS没有它：请配置原来的数据密钥",
                             keys=",".join(missing)))
    if manifest["index_probe"] != ring.digest(PROBE):
        raise BackupError(N_("本机的SONGNUAN_INDEX_KEY与备份时的不同：请配置原来的索引密钥"))


def _is_empty(engine: sa.Engine) -> str | None:
    """None when the database may take a restore; otherwise why not."""
    inspector = sa.inspect(engine)
    names = [name for name in inspector.get_table_names() if name != "alembic_version"]
    with engine.connect() as connection:
        for name in names:
            if name == "audit_head":
                continue  # the schema's own genesis row
            if connection.execute(sa.text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None:
                return name
    return None


def restore(engine: sa.Engine, storage: Storage, source: str | os.PathLike[str]) -> dict[str, Any]:
    """Put a backup back into the empty database behind `engine` and into `storage`; the manifest, with the
    chain's verification added."""
    with _open_backup(Path(source)) as tar:
        members = _members(tar)
        try:
            manifest = json.loads(_read(tar, members, "manifest.json"))
        except ValueError:
            raise BackupError(N_("%(name)s不是送暖的备份文件，或已损坏", name=str(source))) from None
        if manifest.get("format") != FORMAT:
            raise BackupError(N_("备份文件的格式（%(format)s）本程序不认识", format=manifest.get("format")))
        _check_keys(manifest)
        if (table := _is_empty(engine)) is not None:
            raise BackupError(N_("目标数据库已有数据（%(table)s表），只能恢复到空数据库", table=table))
        current = _revision(engine)
        if current is not None and current != manifest["revision"]:
            raise BackupError(N_("目标数据库的结构版本是%(current)s，备份是%(revision)s：请恢复到一个全新的空数据库",
                                 current=current, revision=manifest["revision"]))
        written = _restore_files(tar, members, storage, manifest["files"])
        try:
            _upgrade_to(engine, manifest["revision"])
            _restore_rows(engine, tar, members, manifest["tables"])
        except BaseException:
            for file_id in written:
                storage.delete(file_id)
            raise
    upgrade(engine)  # a backup of an older release comes up to this one's schema
    with Session(engine) as session:
        result = audit.verify(session, manifest["audit_digest"])
    manifest["verification"] = result.as_dict()
    return manifest


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _upgrade_to(engine: sa.Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _restore_files(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], storage: Storage,
                   files: dict[str, dict[str, Any]]) -> list[str]:
    """Every file, checked against its recorded SHA-256 before any is written; the ids written (a file already
    stored with the same content is left as it is, one with other content refused)."""
    contents = {}
    for file_id, expected in files.items():
        content = _read(tar, members, f"files/{file_id}")
        if hashlib.sha256(content).hexdigest() != expected["sha256"]:
            raise BackupError(N_("备份中的文件%(file)s已损坏（校验值不符）", file=file_id))
        contents[file_id] = content
    for file_id, content in list(contents.items()):
        try:
            if storage.get(file_id) != content:
                raise BackupError(N_("文件存储中已有同名而内容不同的文件%(file)s：请恢复到空的文件存储", file=file_id))
            del contents[file_id]
        except Missing:
            pass
    written = []
    try:
        for file_id, content in contents.items():
            storage.put(file_id, content)
            written.append(file_id)
    except BaseException:
        for file_id in written:
            storage.delete(file_id)
        raise
    return written


def _restore_rows(engine: sa.Engine, tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo],
                  counts: dict[str, int]) -> None:
    tables = {table.name: table for table in _tables(engine)}
    if unknown := sorted(set(counts) - set(tables)):
        raise BackupError(N_("备份中的表%(tables)s在这个结构版本中不存在", tables=",".join(unknown)))
    with engine.begin() as connection:
        connection.execute(tables["audit_head"].delete())  # the migration's genesis row; the backup has the head
        for name, table in tables.items():
            if name not in counts:
                continue
            batch = []
            for line in io.BytesIO(_read(tar, members, f"tables/{name}.jsonl")):
                row = json.loads(line)
                batch.append({k: _decode(table.c[k], v) for k, v in row.items()})
                if len(batch) == 5000:
                    connection.execute(table.insert(), batch)
                    batch = []
            if batch:
                connection.execute(table.insert(), batch)
        if engine.dialect.name == "postgresql":
            _reset_sequences(connection, tables.values())


def _reset_sequences(connection: sa.Connection, tables) -> None:
    """Rows came in with their ids: each serial column's sequence goes on after the largest one."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                          {"t": table.name, "c": column.name}).scalar()
            if sequence:
                connection.execute(sa.text(
                    f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'),
                    {"s": sequence})
