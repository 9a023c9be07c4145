"""Where uploads are kept (workflows/infra/storage.py): a local folder or an S3 bucket (a real S3 API on loopback:
tests/storage.py), chosen by the settings. Both list every stored file and take one back as it was (what a backup
and its restore do); a bucket's objects are private and under the prefix; a storage that cannot be reached refuses
an upload in words and leaves nothing of it behind. (Saving, reading and the transaction: tests/unit/test_documents.)
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from workflows import verbs
from workflows.errors import NotFound
from workflows.infra.storage import LocalFolder, Missing, S3Bucket, Unavailable
from workflows.infra.uploads import Uploads
from workflows.models import AuditEvent, Case, Document

from ..factories import JPEG, PDF, PNG, Factory
from ..storage import dead_endpoint, stored


@pytest.fixture(params=["folder", "s3"])
def place(request, tmp_path):
    """Two empty places of one kind: where files are, and where a restore puts them."""
    if request.param == "folder":
        return LocalFolder(tmp_path / "uploads"), LocalFolder(tmp_path / "restored")
    s3 = request.getfixturevalue("s3")
    return s3.storage(), S3Bucket(s3.bucket, s3.endpoint_url, s3.prefix + "restored/")


def add(make: Factory, uploads: Uploads, case, content=PDF, kind="application"):
    return verbs.add_document(make.session, make.person("cadre", case.union), make.clock, uploads, case.id, kind,
                              "申请.pdf", content)


def test_every_stored_file_is_listed_and_put_back_as_it_was(session, clock, place):
    storage, elsewhere = place
    uploads = Uploads(storage)
    make = Factory(session, clock, uploads)
    case = make.draft()
    documents = [add(make, uploads, case, content, kind)
                 for content, kind in ((PDF, "application"), (PNG, "household_ids"), (JPEG, "bank_card"))]
    session.commit()
    assert sorted(storage.keys()) == sorted(d.id for d in documents)

    for key in storage.keys():  # a backup, then its restore into an empty storage
        elsewhere.put(key, storage.get(key))
    assert sorted(elsewhere.keys()) == sorted(storage.keys())
    assert [elsewhere.get(d.id) for d in documents] == [PDF, PNG, JPEG]
    elsewhere.put(documents[0].id, b"%PDF-1.7 again")  # put again: replaced whole
    assert elsewhere.get(documents[0].id) == b"%PDF-1.7 again"
    assert len(list(elsewhere.keys())) == 3


def test_what_is_not_an_upload_is_not_listed(tmp_path, s3):
    folder = LocalFolder(tmp_path / "uploads")
    folder.put("ab12", b"kept")
    (folder.root / "ab12.3f3f.part").write_bytes(b"half")  # a write cut short by a crash
    (folder.root / "notes").mkdir()
    assert list(folder.keys()) == ["ab12"]

    bucket = s3.storage()
    bucket.put("cd34", b"kept")
    s3.client().put_object(Bucket=s3.bucket, Key=s3.prefix + "other/app.txt", Body=b"another's")
    s3.client().put_object(Bucket=s3.bucket, Key="cd35", Body=b"outside the prefix")
    assert list(bucket.keys()) == ["cd34"]


def test_nothing_is_read_or_written_outside_by_a_key(tmp_path, s3):
    for storage in (LocalFolder(tmp_path), s3.storage()):
        for key in ("../secret", "a/b", "", "名字"):
            with pytest.raises(ValueError):
                storage.put(key, b"x")
            with pytest.raises(ValueError):
                storage.get(key)
    assert list(tmp_path.iterdir()) == [] and s3.objects() == []


def test_a_missing_file_is_missing_on_both(tmp_path, s3):
    for storage in (LocalFolder(tmp_path), s3.storage()):
        with pytest.raises(Missing):
            storage.get("0" * 32)
        storage.delete("0" * 32)  # deleting what is not there is no error
        with pytest.raises(NotFound) as caught:
            Uploads(storage).read("0" * 32)
        assert caught.value.message == "资料文件已丢失，请联系系统管理员"


def test_objects_are_private_under_the_prefix_and_encrypted_when_asked(s3):
    plain = s3.storage()
    plain.put("ab12", PDF)
    encrypted = S3Bucket(s3.bucket, s3.endpoint_url, s3.prefix, encryption="AES256")
    encrypted.put("cd34", PDF)
    client = s3.client()
    assert s3.objects() == [s3.prefix + "ab12", s3.prefix + "cd34"]
    for key in s3.objects():
        grants = client.get_object_acl(Bucket=s3.bucket, Key=key)["Grants"]
        assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner's own, no public grant
        assert all("URI" not in g["Grantee"] for g in grants)  # not AllUsers nor AuthenticatedUsers
    assert client.head_object(Bucket=s3.bucket, Key=s3.prefix + "cd34")["ServerSideEncryption"] == "AES256"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_an_upload_while_the_storage_is_down_is_refused_and_leaves_nothing(committed, clock, s3, caplog):
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, Uploads(s3.storage()))
        case = make.draft()
        session.commit()
        case_id, before = case.id, (count(session, Document), count(session, AuditEvent), case.version)
        with dead_endpoint() as url, caplog.at_level(logging.ERROR, "workflows.infra.storage"):
            down = Uploads(S3Bucket(s3.bucket, url, s3.prefix))
            with pytest.raises(Unavailable) as caught:
                add(make, down, case)
            session.rollback()
        assert (caught.value.code, caught.value.message) == ("unavailable", "文件存储暂时无法使用，文件没有保存，请稍后再试")
        assert "cannot write" in caplog.text and s3.bucket in caplog.text  # the operator is told what failed
    with Session(committed) as fresh:
        assert (count(fresh, Document), count(fresh, AuditEvent), fresh.get(Case, case_id).version) == before
    assert s3.objects() == []


def test_a_removal_commits_even_when_its_file_cannot_be_deleted(committed, clock, s3, caplog):
    """The row is gone for good once committed; the object left behind is logged, never an error to the user."""
    uploads = Uploads(s3.storage())
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        case = make.draft()
        document = add(make, uploads, case)
        session.commit()
        with dead_endpoint() as url, caplog.at_level(logging.WARNING, "workflows.infra.uploads"):
            verbs.remove_document(session, make.person("cadre", case.union), clock,
                                  Uploads(S3Bucket(s3.bucket, url, s3.prefix)), case.id, document.id)
            session.commit()
        assert document.id in caplog.text and "left behind" in caplog.text
    with Session(committed) as fresh:
        assert fresh.get(Document, document.id) is None
    assert stored(uploads) == [document.id]


def test_a_folder_that_cannot_be_written_is_unavailable_too(tmp_path):
    (tmp_path / "uploads").write_text("a file where the folder should be")
    with pytest.raises(Unavailable):
        LocalFolder(tmp_path / "uploads").put("ab12", PDF)


# ------------------------------------------------------------------ the settings

S3_SETTINGS = ("SONGNUAN_S3_BUCKET", "SONGNUAN_S3_ENDPOINT_URL", "SONGNUAN_S3_PREFIX", "SONGNUAN_S3_SSE")


def test_the_local_folder_is_the_default(monkeypatch, tmp_path):
    for name in S3_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SONGNUAN_UPLOAD_DIR", str(tmp_path / "files"))
    storage = Settings().upload_storage()
    assert isinstance(storage, LocalFolder) and storage.root == tmp_path / "files"


def test_a_bucket_is_chosen_by_the_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("SONGNUAN_UPLOAD_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("SONGNUAN_S3_BUCKET", "songnuan-files")
    monkeypatch.setenv("SONGNUAN_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("SONGNUAN_S3_PREFIX", "/province/uploads/")
    monkeypatch.setenv("SONGNUAN_S3_SSE", "AES256")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db' / 'songnuan.db'}")
    storage = settings.upload_storage()
    assert isinstance(storage, S3Bucket)
    assert (storage.bucket, storage.endpoint_url, storage.prefix, storage.encryption) == (
        "songnuan-files", "http://127.0.0.1:9000", "province/uploads/", "AES256")
    settings.ensure_dirs()
    assert not (tmp_path / "files").exists()  # no local upload folder is made for nothing


# ------------------------------------------------------------------ other processes

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_another_process_given_the_places_env_keeps_its_files_there(s3, tmp_path):
    """What a test of several `songnuan serve` over one bucket does: each process gets `s3.env`, and its settings
    (app.config) choose that bucket and prefix; what one process stores, another reads."""
    env = {**os.environ, **s3.env, "SONGNUAN_UPLOAD_DIR": str(tmp_path / "not-used")}
    store = "from app.config import Settings; Settings().upload_storage().put('ab12', b'from another process')"
    subprocess.run([sys.executable, "-c", store], env=env, cwd=ROOT, check=True, timeout=120)
    assert s3.objects() == [s3.prefix + "ab12"] and s3.storage().get("ab12") == b"from another process"
    assert not (tmp_path / "not-used").exists()


def test_an_endpoint_carrying_a_password_is_refused_at_start():
    """It would be written into every log line about the storage; the credentials have settings of their own."""
    with pytest.raises(ValueError, match="AWS_ACCESS_KEY_ID"):
        Settings(s3_bucket="b", s3_endpoint_url="http://user:secret@127.0.0.1:9000").upload_storage()


# ------------------------------------------------------------------ checked when a server starts

def test_a_usable_storage_has_no_problem(tmp_path, s3):
    assert LocalFolder(tmp_path / "new" / "uploads").problem() is None and (tmp_path / "new" / "uploads").is_dir()
    assert s3.storage().problem() is None


def test_what_stops_a_storage_is_named_with_its_setting(tmp_path, s3, monkeypatch):
    (tmp_path / "taken").write_text("a file where the folder should be")
    assert "SONGNUAN_UPLOAD_DIR" in LocalFolder(tmp_path / "taken" / "uploads").problem()
    missing = S3Bucket("no-such-bucket-here", s3.endpoint_url).problem()
    assert "no-such-bucket-here" in missing and "不存在" in missing and "SONGNUAN_S3_BUCKET" in missing
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert "AWS_ACCESS_KEY_ID" in S3Bucket(s3.bucket, s3.endpoint_url).problem()


def test_a_storage_not_answering_at_start_is_no_reason_not_to_start(s3, caplog):
    """A short outage at boot would otherwise keep the screens down with it: uploads say "try later" meanwhile."""
    with dead_endpoint() as url, caplog.at_level(logging.WARNING):
        assert S3Bucket(s3.bucket, url).problem() is None
    assert "not answering at start" in caplog.text


def test_serve_refuses_to_start_on_a_bucket_that_is_not_there(s3, monkeypatch, tmp_path):
    """Else every upload would be refused with "try later" while the operator's logs fill up."""
    from click.testing import CliRunner

    from app.cli import main
    from app.serve import Server

    def started(self):
        raise AssertionError("the server started")

    monkeypatch.setattr(Server, "run", started)
    monkeypatch.setenv("SONGNUAN_DATABASE_URL", f"sqlite:///{tmp_path / 'songnuan.db'}")
    env = {**s3.env, "SONGNUAN_S3_BUCKET": "no-such-bucket-here"}
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 1 and "错误：上传文件存储不可用：S3 存储桶 no-such-bucket-here" in result.output
    assert "the server started" not in str(result.exception or "")
