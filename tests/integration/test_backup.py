"""`songnuan backup` and `songnuan restore`: the demo district and its files taken into one file and put back into
an empty database and an empty upload store, on the database the suite runs on: every row and file as it was, the
chain verified against the backup's digest, and the restored district working on. A restore that cannot be done
says why and leaves the target as it was."""

from __future__ import annotations

import datetime as dt
import io
import json
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import Session

from app.cli import main
from app.demo import build_demo
from workflows import verbs
from workflows.infra import audit, sealing
from workflows.infra.backup import BackupError, backup, restore
from workflows.infra.clock import LOCAL
from workflows.infra.db import make_engine
from workflows.infra.migrate import upgrade
from workflows.infra.storage import LocalFolder, Missing
from workflows.infra.uploads import Uploads
from workflows.models import Account, AuditEvent, Case, Document

from .test_migration_0007 import _empty_database

pytestmark = pytest.mark.slow  # the whole demo district, built once for the module

NOW = dt.datetime(2026, 12, 20, 10, tzinfo=LOCAL)


def _rows(engine: sa.Engine) -> dict[str, list[dict]]:
    """Every row of every table as the database holds it (sealed numbers sealed), in key order."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {name: [dict(r) for r in connection.execute(
                    sa.select(table).order_by(*(table.primary_key.columns or table.columns))).mappings()]
                for name, table in metadata.tables.items() if name != "alembic_version"}


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """The demo district in a database of its own, with its files: (engine, storage)."""
    folder = tmp_path_factory.mktemp("source")
    with _empty_database(folder) as url:
        engine = make_engine(url)
        upgrade(engine)
        with Session(engine) as session, session.begin():
            build_demo(session, Uploads(folder / "uploads"), now=NOW)
        yield engine, LocalFolder(folder / "uploads")
        engine.dispose()


@pytest.fixture(scope="module")
def taken(district, tmp_path_factory):
    engine, storage = district
    target = tmp_path_factory.mktemp("backup") / "songnuan.tar.gz"
    manifest = backup(engine, storage, target)
    return target, manifest


@pytest.fixture
def empty(tmp_path):
    """An empty database (no tables) and an empty upload folder."""
    with _empty_database(tmp_path) as url:
        engine = make_engine(url)
        yield engine, LocalFolder(tmp_path / "restored")
        engine.dispose()


def test_a_backup_holds_every_row_and_file_and_no_key(district, taken):
    engine, storage = district
    target, manifest = taken
    assert target.stat().st_mode & 0o777 == 0o600  # personal data: readable by its owner only
    with Session(engine) as session:
        documents = session.scalars(sa.select(Document.id)).all()
        assert manifest["audit_digest"] == audit.digest(session)
    assert documents and set(documents) <= set(manifest["files"])
    assert {name: len(rows) for name, rows in _rows(engine).items()} == {
        name: table["rows"] for name, table in manifest["tables"].items()}
    with tarfile.open(target) as tar:
        names = tar.getnames()
        payload = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert f"files/{documents[0]}" in names and "tables/cases.jsonl" in names
    ring = sealing.keyring()
    for _, key in ring.data_keys:
        assert key not in payload and sealing.base64.b64encode(key) not in payload
    assert ring.index_key not in payload and sealing.base64.b64encode(ring.index_key) not in payload


def test_restore_puts_everything_back_and_the_district_works_on(district, taken, empty):
    source, source_storage = district
    target, manifest = taken
    engine, storage = empty
    restored = restore(engine, storage, target)

    verification = restored["verification"]
    assert verification["ok"] and verification["full"]  # the whole chain walked, not from a restored checkpoint
    assert verification["events"] == int(manifest["audit_digest"].split(":")[0])
    assert _rows(engine) == _rows(source)
    assert sorted(storage.keys()) == sorted(manifest["files"])
    for key in manifest["files"]:
        assert storage.get(key) == source_storage.get(key)

    # The restored district takes new work through the command line: a new union gets an id after the restored
    # ones (PostgreSQL's sequences went on), and the chain goes on from the restored head.
    run = _cli(engine, storage)
    made = run("union", "create", "RESTORED1", "恢复后新建的工会", "--parent", "QZGH")
    assert made.exit_code == 0, made.output
    assert int(made.stdout.splitlines()[-1]) > max(r["id"] for r in _rows(source)["unions"])
    verified = run("audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert int(verified.stdout.splitlines()[-1]) == restored["verification"]["events"] + 1


def _cli(engine: sa.Engine, storage: LocalFolder):
    runner = CliRunner(env={"SONGNUAN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
                            "SONGNUAN_UPLOAD_DIR": str(storage.root)})

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_the_command_line_round_trip(district, empty, tmp_path):
    source, source_storage = district
    engine, storage = empty
    target = tmp_path / "每晚备份.tar.gz"
    taken = _cli(source, source_storage)("backup", str(target))
    assert taken.exit_code == 0, taken.output
    assert f"已备份到{target}" in taken.stdout and "SONGNUAN_DATA_KEYS" in taken.stdout
    put_back = _cli(engine, storage)("restore", str(target))
    assert put_back.exit_code == 0, put_back.output
    assert "审计链完整" in put_back.stdout
    assert _rows(engine) == _rows(source)


def _nothing_written(engine: sa.Engine, storage: LocalFolder) -> bool:
    tables = [t for t in sa.inspect(engine).get_table_names() if t not in ("alembic_version", "audit_head")]
    with engine.connect() as connection:
        rows = sum(connection.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar() for t in tables)
    return rows == 0 and not list(storage.keys())


def test_a_restore_into_a_database_in_use_is_refused(district, taken):
    engine, storage = district
    before = _rows(engine)
    with pytest.raises(BackupError, match="目标数据库已有数据"):
        restore(engine, storage, taken[0])
    assert _rows(engine) == before


def test_a_restore_into_a_storage_holding_files_is_refused(taken, empty):
    """A restore drill pointed at the live bucket would share its files: refused, with nothing written."""
    engine, storage = empty
    storage.put("0" * 32, b"production's file")
    with pytest.raises(BackupError, match="只能恢复到空的文件存储"):
        restore(engine, storage, taken[0])
    assert not sa.inspect(engine).get_table_names() and list(storage.keys()) == ["0" * 32]


def test_a_restore_without_the_keys_that_sealed_the_numbers_is_refused(taken, empty):
    engine, storage = empty
    original = sealing.keyring()
    other = sealing.Keyring(data_keys=(("kother", b"k" * 32),), index_key=original.index_key)
    sealing.configure(other)
    try:
        with pytest.raises(BackupError, match="SONGNUAN_DATA_KEYS"):
            restore(engine, storage, taken[0])
        assert _nothing_written(engine, storage)
        sealing.configure(sealing.Keyring(data_keys=other.data_keys + original.data_keys, index_key=b"i" * 32))
        with pytest.raises(BackupError, match="SONGNUAN_INDEX_KEY"):
            restore(engine, storage, taken[0])
        assert _nothing_written(engine, storage)
    finally:
        sealing.configure(original)


def _rewritten(source: Path, target: Path, change) -> Path:
    """A copy of the backup `source` with each member's bytes passed through change(name, content) (None: left out)."""
    with tarfile.open(source) as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            content = change(member.name, old.extractfile(member).read())
            if content is not None:
                member.size = len(content)
                new.addfile(member, io.BytesIO(content))
    return target


def _manifest_changed(**changes):
    def change(name, content):
        if name != "manifest.json":
            return content
        manifest = json.loads(content)
        manifest.update(changes)
        return json.dumps(manifest).encode()
    return change


DAMAGES = {
    "a file altered": (lambda name, content: content + b"tampered" if name.startswith("files/") else content,
                       "已损坏（校验值不符）"),
    "a file left out": (lambda name, content: None if name.startswith("files/") else content, "备份文件不完整"),
    # A document's row taken out: its file would be left without it.
    "a row left out": (lambda name, content: b"\n".join(content.split(b"\n")[1:])
                       if name == "tables/documents.jsonl" else content, "documents表的数据已损坏或不完整"),
    "a newer release's": (_manifest_changed(revision="0099"), "备份来自更新的版本"),
    "a file named as a path": (_manifest_changed(files={"../../etc/passwd": {"sha256": "0" * 64, "size": 1}}),
                               "不是送暖的备份文件"),
    "a manifest without keys": (_manifest_changed(key_ids=None), "不是送暖的备份文件"),
    "a manifest that is a list": (lambda name, content: b"[1, 2]" if name == "manifest.json" else content,
                                  "不是送暖的备份文件"),
    "not a backup at all": (None, "不是送暖的备份文件"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_backup_is_refused_and_changes_nothing(taken, empty, tmp_path, damage):
    engine, storage = empty
    change, message = DAMAGES[damage]
    damaged = tmp_path / "damaged.tar.gz"
    if change is None:
        damaged.write_bytes(b"not a backup at all")
    else:
        _rewritten(taken[0], damaged, change)
    with pytest.raises(BackupError, match=message):
        restore(engine, storage, damaged)
    assert not sa.inspect(engine).get_table_names() and not list(storage.keys())  # refused before any write


def test_a_file_removed_while_the_backup_runs_makes_it_start_over(district, tmp_path):
    """The snapshot named a file whose removal committed before the copy reached it: the backup is taken again
    from a new snapshot, which no longer names it; it never names a file it does not hold."""
    engine, storage = district
    documents = sa.Table("documents", sa.MetaData(), autoload_with=engine)

    class RemovedMeanwhile:
        """The first file asked for is removed just then: its row deleted (committed), and the file with it."""

        def __init__(self):
            self.removed = None

        def get(self, key):
            if self.removed is None:  # the first document's file (others are notices' and summaries')
                with engine.begin() as connection:
                    row = connection.execute(sa.select(documents).where(documents.c.id == key)).mappings().first()
                    if row is not None:
                        self.removed = dict(row)
                        connection.execute(documents.delete().where(documents.c.id == key))
                if row is not None:
                    raise Missing(key)
            return storage.get(key)

    racing = RemovedMeanwhile()
    try:
        manifest = backup(engine, racing, tmp_path / "again.tar.gz")
    finally:
        if racing.removed is not None:
            with engine.begin() as connection:  # the module's district as it was, for the tests after this one
                connection.execute(documents.insert(), [racing.removed])
    assert racing.removed is not None
    assert racing.removed["id"] not in manifest["files"]
    with tarfile.open(tmp_path / "again.tar.gz") as tar:
        rows = tar.extractfile("tables/documents.jsonl").read().decode()
    assert racing.removed["id"] not in rows and manifest["tables"]["documents"]["rows"] == len(manifest["files"]) - \
        sum(1 for f in manifest["files"] if f not in rows)


def test_a_backup_moves_a_district_from_a_folder_to_a_bucket_and_back(district, taken, empty, s3, tmp_path):
    """The same commands whatever keeps the files: restored into object storage (SONGNUAN_S3_BUCKET), backed up
    from there, and that backup holds the same files as the first."""
    source, _ = district
    engine, _ = empty
    runner = CliRunner(env={"SONGNUAN_DATABASE_URL": engine.url.render_as_string(hide_password=False), **s3.env})
    put_back = runner.invoke(main, ["restore", str(taken[0])], catch_exceptions=False)
    assert put_back.exit_code == 0, put_back.output
    assert sorted(s3.storage().keys()) == sorted(taken[1]["files"])
    again = runner.invoke(main, ["backup", str(tmp_path / "from-bucket.tar.gz")], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    with tarfile.open(tmp_path / "from-bucket.tar.gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["files"] == taken[1]["files"] and manifest["tables"] == taken[1]["tables"]
    assert _rows(engine) == _rows(source)


def test_a_file_the_storage_lost_is_named_and_only_recorded_as_missing_when_asked(district, tmp_path):
    engine, storage = district
    with Session(engine) as session:
        lost = session.scalars(sa.select(Document.id).order_by(Document.id)).first()

    class Lost:
        def get(self, key):
            if key == lost:
                raise Missing(key)
            return storage.get(key)

    with pytest.raises(BackupError, match=f"文件{lost}已丢失，但数据库仍然引用它"):
        backup(engine, Lost(), tmp_path / "refused.tar.gz")
    assert not list(tmp_path.iterdir())  # neither a backup nor a partial file left
    manifest = backup(engine, Lost(), tmp_path / "with-gap.tar.gz", allow_missing=True)
    assert manifest["missing_files"] == [lost] and lost not in manifest["files"]


def test_a_backup_is_its_owners_alone_whatever_was_left_beside_it(district, tmp_path):
    engine, storage = district
    left = tmp_path / "nightly.tar.gz.part"
    left.write_text("an earlier run's leftover")
    left.chmod(0o644)
    backup(engine, storage, tmp_path / "nightly.tar.gz")
    assert (tmp_path / "nightly.tar.gz").stat().st_mode & 0o777 == 0o600
    assert left.read_text() == "an earlier run's leftover"


@pytest.mark.parametrize("args, message", [
    (["backup", "/nonexistent/folder/b.tar.gz"], "目录/nonexistent/folder不存在"),
    (["restore", "/nonexistent/b.tar.gz"], "找不到备份文件"),
])
def test_the_commands_say_what_is_wrong_in_words(district, args, message):
    result = _cli(*district)(*args)
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("args", [["backup", "b.tar.gz"], ["init-db"], ["audit", "verify"]])
def test_a_database_that_does_not_answer_is_said_in_words(tmp_path, args):
    runner = CliRunner(env={"SONGNUAN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                            "SONGNUAN_UPLOAD_DIR": str(tmp_path)})
    args = [str(tmp_path / arg) if arg.endswith(".tar.gz") else arg for arg in args]
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 1 and "无法连接数据库" in result.stderr, result.output
