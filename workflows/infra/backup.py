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

A restore goes into an empty database (no tables, or the schema with no rows) and is one transaction. Before
anything is written, the manifest's shape, the revision (one this release knows), the keys and every table's and
file's SHA-256 are checked; the files are written first and removed again if the rows fail. The database is then
upgraded to the current revision, and the chain is verified against the digest the backup recorded.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import logging
import os
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from alembic import command
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError as AlembicError
from sqlalchemy.exc import SQLAlchemyError
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
# What a restore reads of a member before trusting it: the manifest, and each file (uploads are 10 MB at most).
MAX_MANIFEST = 512 * 1024 * 1024
MAX_FILE = 64 * 1024 * 1024

log = logging.getLogger(__name__)


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


def backup(engine: sa.Engine, storage: Storage, target: str | os.PathLike[str],
           allow_missing: bool = False) -> dict[str, Any]:
    """Write a backup of the database behind `engine` and the files in `storage` to `target`; its manifest. A file
    that a row names but the storage has lost is refused, or with `allow_missing` listed in the manifest as
    missing (a restore then gives back the row without it, as the database had it)."""
    target = Path(target)
    if not target.parent.is_dir():
        raise BackupError(N_("目录%(folder)s不存在", folder=str(target.parent)))
    missing: set[str] = set()
    for _ in range(ATTEMPTS):
        try:
            return _backup_once(engine, storage, target, missing)
        except FileVanished as vanished:
            file_id = vanished.args[0]
            if not _still_named(engine, file_id):
                continue  # its removal committed meanwhile: take a new snapshot
            if not allow_missing:
                raise BackupError(N_("文件%(file)s已丢失，但数据库仍然引用它：请先查明原因；确需照此备份时加 --allow-missing",
                                     file=file_id)) from None
            missing.add(file_id)
    raise BackupError(N_("备份期间文件不断被删除，未能取得一致的备份，请稍后再试"))


def _still_named(engine: sa.Engine, file_id: str) -> bool:
    tables = {table.name: table for table in _tables(engine)}
    with engine.connect() as connection:
        return any(connection.execute(sa.select(sa.literal(1)).where(tables[name].c[column] == file_id)).first()
                   for name, column in FILE_COLUMNS.items())


def _backup_once(engine: sa.Engine, storage: Storage, target: Path, missing: set[str]) -> dict[str, Any]:
    tables = _tables(engine)
    # A new file of its own beside the target (never one left there, nor a link), readable by its owner only.
    descriptor, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    partial = Path(partial)
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
                files[file_id] = None if file_id in missing else _add_file(tar, storage, file_id)
            with Session(bind=connection) as session:
                digest = audit.digest(session)
            manifest = {"format": FORMAT, "revision": revision, "dialect": engine.dialect.name,
                        "taken_at": dt.datetime.now(dt.UTC).isoformat(), "tables": counts,
                        "files": {k: v for k, v in files.items() if v is not None}, "missing_files": sorted(missing),
                        "audit_digest": digest, "key_ids": sorted(key_ids),
                        "index_probe": sealing.keyring().digest(PROBE)}
            _add_bytes(tar, "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return manifest


def _dump_table(tar: tarfile.TarFile, connection: sa.Connection, table: sa.Table, key_ids: set[str],
                files: dict[str, Any]) -> dict[str, Any]:
    """The table's rows as one member; its row count and the member's SHA-256, for the restore to check."""
    file_column = FILE_COLUMNS.get(table.name)
    count, digest = 0, hashlib.sha256()
    with tempfile.TemporaryFile() as spool:
        result = connection.execution_options(yield_per=5000).execute(sa.select(table).order_by(*_order(table)))
        for row in result.mappings():
            for value in row.values():
                if isinstance(value, str) and value.startswith(SEALED_PREFIX):
                    key_ids.add(sealing.key_id_of(value))
            if file_column and row[file_column]:
                files[row[file_column]] = None
            line = json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False).encode() + b"\n"
            spool.write(line)
            digest.update(line)
            count += 1
        size = spool.tell()
        spool.seek(0)
        info = tarfile.TarInfo(f"tables/{table.name}.jsonl")
        info.size, info.mode = size, 0o600
        tar.addfile(info, spool)
    return {"rows": count, "sha256": digest.hexdigest()}


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


def _member(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str) -> IO[bytes]:
    if name not in members:
        raise BackupError(N_("备份文件不完整：缺少%(name)s", name=name))
    return tar.extractfile(members[name])


def _open_backup(source: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(source, mode="r:gz")
    except (FileNotFoundError, IsADirectoryError):
        raise BackupError(N_("找不到备份文件%(name)s", name=str(source))) from None
    except (tarfile.TarError, OSError, EOFError):
        raise BackupError(N_("%(name)s不是送暖的备份文件，或已损坏", name=str(source))) from None


def _manifest(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], source: Path) -> dict[str, Any]:
    """The manifest, refused unless it has the shape this release writes (a crafted one names no path)."""
    broken = BackupError(N_("%(name)s不是送暖的备份文件，或已损坏", name=str(source)))
    if members.get("manifest.json") is None or members["manifest.json"].size > MAX_MANIFEST:
        raise broken
    try:
        manifest = json.load(_member(tar, members, "manifest.json"))
    except ValueError:
        raise broken from None
    if not isinstance(manifest, dict):
        raise broken
    if manifest.get("format") != FORMAT:
        raise BackupError(N_("备份文件的格式（%(format)s）本程序不认识", format=str(manifest.get("format"))))
    shape = {"revision": str, "tables": dict, "files": dict, "missing_files": list, "audit_digest": str,
             "key_ids": list, "index_probe": str}
    if any(not isinstance(manifest.get(name), kind) for name, kind in shape.items()):
        raise broken
    for name, table in manifest["tables"].items():
        if not (isinstance(name, str) and isinstance(table, dict) and isinstance(table.get("rows"), int)
                and isinstance(table.get("sha256"), str)):
            raise broken
    for file_id, file in manifest["files"].items():
        if not (_is_key(file_id) and isinstance(file, dict) and isinstance(file.get("sha256"), str)
                and isinstance(file.get("size"), int) and 0 <= file["size"] <= MAX_FILE):
            raise broken
    return manifest


def _is_key(file_id: Any) -> bool:
    return isinstance(file_id, str) and file_id.isascii() and file_id.isalnum() and len(file_id) <= 32


def _known_revision(engine: sa.Engine, revision: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False)))
    try:
        found = scripts.get_revision(revision)
    except AlembicError:
        found = None
    if found is None:
        raise BackupError(N_("备份来自更新的版本（数据库结构版本%(revision)s），请用相同或更新版本的送暖恢复",
                             revision=revision))


def _check_keys(manifest: dict[str, Any]) -> None:
    ring = sealing.keyring()
    held = {key_id for key_id, _ in ring.data_keys}
    if missing := sorted(set(map(str, manifest["key_ids"])) - held):
        raise BackupError(N_("备份中的身份证号、银行账号用密钥%(keys)s加密，本机的SONGNUAN_DATA_KEYS没有它：请配置原来的数据密钥",
                             keys=",".join(missing)))
    if manifest["index_probe"] != ring.digest(PROBE):
        raise BackupError(N_("本机的SONGNUAN_INDEX_KEY与备份时的不同：请配置原来的索引密钥"))


def _is_empty(engine: sa.Engine) -> str | None:
    """None when the database may take a restore; otherwise the name of a table holding rows."""
    names = [name for name in sa.inspect(engine).get_table_names() if name not in ("alembic_version", "audit_head")]
    with engine.connect() as connection:
        for name in names:  # audit_head: the schema's own genesis row
            if connection.execute(sa.text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None:
                return name
    return None


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def _check_contents(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], manifest: dict[str, Any]) -> None:
    """Every table and file as the manifest recorded it, before anything is written (read as streams: a large
    backup is never held in memory)."""
    for name, table in manifest["tables"].items():
        if _sha256(_member(tar, members, f"tables/{name}.jsonl")) != table["sha256"]:
            raise BackupError(N_("备份中%(table)s表的数据已损坏或不完整（校验值不符）", table=name))
    for file_id, file in manifest["files"].items():
        member = f"files/{file_id}"
        if members.get(member) is not None and members[member].size != file["size"]:
            raise BackupError(N_("备份中的文件%(file)s已损坏（校验值不符）", file=file_id))
        if _sha256(_member(tar, members, member)) != file["sha256"]:
            raise BackupError(N_("备份中的文件%(file)s已损坏（校验值不符）", file=file_id))


def restore(engine: sa.Engine, storage: Storage, source: str | os.PathLike[str]) -> dict[str, Any]:
    """Put a backup back into the empty database behind `engine` and into `storage`; the manifest, with the
    chain's verification added."""
    source = Path(source)
    with _open_backup(source) as tar:
        try:
            members = {member.name: member for member in tar.getmembers() if member.isfile()}
        except (tarfile.TarError, OSError, EOFError):
            raise BackupError(N_("%(name)s不是送暖的备份文件，或已损坏", name=str(source))) from None
        manifest = _manifest(tar, members, source)
        _known_revision(engine, manifest["revision"])
        _check_keys(manifest)
        if (table := _is_empty(engine)) is not None:
            raise BackupError(N_("目标数据库已有数据（%(table)s表），只能恢复到空数据库", table=table))
        with closing(storage.keys()) as keys:
            stored = next(keys, None)
        if stored is not None:
            # A drill pointed at the live bucket would share its files: deleting one there would delete production's.
            raise BackupError(N_("文件存储中已有文件（如%(file)s）：只能恢复到空的文件存储（新的上传目录，或新的存储桶或前缀）",
                                 file=stored))
        current = _revision(engine)
        if current is not None and current != manifest["revision"]:
            raise BackupError(N_("目标数据库的结构版本是%(current)s，备份是%(revision)s：请恢复到一个全新的空数据库",
                                 current=current, revision=manifest["revision"]))
        _check_contents(tar, members, manifest)
        written: list[str] = []
        try:
            _restore_files(tar, members, storage, manifest["files"], written)
            _upgrade_to(engine, manifest["revision"])
            _restore_rows(engine, tar, members, manifest["tables"])
        except BaseException:
            _remove(storage, written)
            raise
    upgrade(engine)  # a backup of an older release comes up to this one's schema
    with Session(engine) as session:
        result = audit.verify(session, manifest["audit_digest"])
    manifest["verification"] = result.as_dict()
    return manifest


def _remove(storage: Storage, written: list[str]) -> None:
    """Take back the files a failed restore wrote; one that cannot be removed does not hide the failure."""
    for file_id in written:
        try:
            storage.delete(file_id)
        except Exception as error:  # noqa: BLE001 - logged, and the restore's own error goes on
            log.warning("restore: could not remove %s again: %s", file_id, type(error).__name__)


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _upgrade_to(engine: sa.Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _restore_files(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], storage: Storage,
                   files: dict[str, dict[str, Any]], written: list[str]) -> None:
    """Each file put back, one at a time (`written` grows as they are), into the empty storage."""
    for file_id in files:
        content = _member(tar, members, f"files/{file_id}").read()
        storage.put(file_id, content)
        written.append(file_id)


def _restore_rows(engine: sa.Engine, tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo],
                  recorded: dict[str, dict[str, Any]]) -> None:
    tables = {table.name: table for table in _tables(engine)}
    if unknown := sorted(set(recorded) - set(tables)):
        raise BackupError(N_("备份中的表%(tables)s在这个结构版本中不存在", tables=",".join(unknown)))
    with engine.begin() as connection:
        connection.execute(tables["audit_head"].delete())  # the migration's genesis row; the backup has the head
        for name, table in tables.items():
            if name in recorded:
                _insert_rows(connection, table, _member(tar, members, f"tables/{name}.jsonl"))
        if engine.dialect.name == "postgresql":
            _reset_sequences(connection, tables.values())


def _insert_rows(connection: sa.Connection, table: sa.Table, lines: IO[bytes]) -> None:
    batch, number = [], 0
    try:
        for number, line in enumerate(lines, 1):
            row = json.loads(line)
            batch.append({k: _decode(table.c[k], v) for k, v in row.items()})
            if len(batch) == 5000:
                connection.execute(table.insert(), batch)
                batch = []
        if batch:
            connection.execute(table.insert(), batch)
    except (ValueError, KeyError, TypeError, AttributeError, SQLAlchemyError):
        # The checksums held, so the backup was written so (another release's, or made by hand): name where.
        raise BackupError(N_("备份中%(table)s表的数据（第%(line)s行附近）不能写入这个数据库", table=table.name,
                             line=number)) from None


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
