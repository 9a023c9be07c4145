"""Upload quotas of a case's documents (issue 15, hole 11: 40 × 10 MB went into one draft in four seconds): per case
and per account in one local day, files and bytes, counted from the documents kept and checked in the one upload
verb, so that every entrance gets them. A refusal names the limit and what is left, and stores nothing. And the
files and folders of personal data are created readable by their owner only."""

from __future__ import annotations

import datetime as dt
import stat

import pytest
from sqlalchemy import func, select

from app.config import Settings
from workflows import verbs
from workflows.errors import Refused
from workflows.infra.clock import LOCAL
from workflows.infra.db import make_engine
from workflows.infra.migrate import upgrade
from workflows.infra.uploads import Quota, Uploads
from workflows.models import AuditEvent, Document
from workflows.states import State

from ..factories import PDF, PNG
from ..storage import stored

MB = 1024 * 1024


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


files = stored


def add(make, uploads, case, content=PDF, actor=None):
    actor = actor or make.person("cadre", case.union)
    return verbs.add_document(make.session, actor, make.clock, uploads, case.id, "application", "申请报告.pdf",
                              content)


def refused(make, uploads, case, content=PDF, actor=None) -> str:
    """The message of an upload refused over the quota, having checked it stored nothing."""
    make.session.commit()  # what went before stays
    before = count(make.session, Document), count(make.session, AuditEvent), files(uploads), case.version
    with pytest.raises(Refused) as error:
        add(make, uploads, case, content, actor)
    make.session.rollback()  # as the request's edge does
    assert error.value.rule == "upload_quota"
    assert (count(make.session, Document), count(make.session, AuditEvent), files(uploads),
            case.version) == before
    return error.value.message


def pdf(size: int) -> bytes:
    return PDF + b"%" * (size - len(PDF))


@pytest.fixture
def draft(make):
    case = make.draft()
    make.session.commit()
    return case


def test_a_case_takes_so_many_files_and_then_says_so(make, tmp_path, draft):
    uploads = Uploads(tmp_path / "uploads", quota=Quota(case_files=3))
    for _ in range(3):
        add(make, uploads, draft)
    make.session.commit()
    message = refused(make, uploads, draft)
    assert message == "每个案件最多上传3份资料，该案件已有3份，不能再上传；可先删除不需要的资料"
    # Removing one makes room again (its file is gone too).
    verbs.remove_document(make.session, make.person("cadre", draft.union), make.clock, uploads, draft.id,
                          draft.documents[0].id)
    make.session.commit()
    add(make, uploads, draft)


def test_a_case_takes_so_many_bytes_and_says_what_is_left(make, tmp_path, draft):
    uploads = Uploads(tmp_path / "uploads", quota=Quota(case_bytes=3 * MB))
    add(make, uploads, draft, pdf(2 * MB))
    message = refused(make, uploads, draft, pdf(MB + MB // 2))
    assert message == "每个案件的资料合计不超过3MB，该案件已有2MB，还可上传1MB，这个文件有1.5MB"
    add(make, uploads, draft, pdf(MB))  # exactly up to the limit
    assert "还可上传0KB" in refused(make, uploads, draft, PNG)


def test_another_case_has_its_own_quota(make, tmp_path, draft):
    uploads = Uploads(tmp_path / "uploads", quota=Quota(case_files=1))
    add(make, uploads, draft)
    refused(make, uploads, draft)
    other = make.draft(union=draft.union)
    add(make, uploads, other)


def test_an_account_takes_so_many_files_a_local_day(make, tmp_path, clock):
    """The day is the union's local day (Beijing time), from the domain's clock: a file uploaded at half past
    midnight in Beijing is the next day's, though it is still the day before in UTC."""
    uploads = Uploads(tmp_path / "uploads", quota=Quota(daily_files=2))
    first, second = make.draft(), make.draft()
    cadre = make.person("cadre", first.union)
    clock.set(dt.datetime(2018, 1, 9, 0, 5, tzinfo=LOCAL))
    add(make, uploads, first)
    clock.set(dt.datetime(2018, 1, 9, 23, 50, tzinfo=LOCAL))
    add(make, uploads, second)  # other cases count too: the quota is the account's
    assert refused(make, uploads, first) == "每个账号每天最多上传2份资料，您今天已上传2份，请明天再上传"
    add(make, uploads, first, actor=make.account("cadre", first.union))  # another cadre has a quota of its own
    clock.set(dt.datetime(2018, 1, 10, 0, 30, tzinfo=LOCAL))  # 2018-01-09 16:30 UTC
    add(make, uploads, first, actor=cadre)


def test_an_account_takes_so_many_bytes_a_day_and_says_what_is_left(make, tmp_path):
    uploads = Uploads(tmp_path / "uploads", quota=Quota(daily_bytes=2 * MB))
    case = make.draft()
    add(make, uploads, case, pdf(MB + MB // 4))
    message = refused(make, uploads, case, pdf(MB))
    assert message == "每个账号每天上传的资料合计不超过2MB，您今天已上传1.2MB，还可上传768KB，这个文件有1MB"


def test_a_goods_receipt_counts_as_an_upload(make, tmp_path):
    """The signed receipt's scan is a document kept through the same verb: the same quota."""
    uploads = Uploads(tmp_path / "uploads", quota=Quota(daily_files=1))
    goods = make.case(State.district_approved, aid={"kind": "goods", "goods_items": "大米25公斤",
                                                    "goods_value": "300", "medical": False})
    cadre = make.person("cadre", goods.union)
    make.clock.advance(days=1)  # the case's own papers were the day before
    add(make, uploads, make.draft(union=goods.union))
    with pytest.raises(Refused) as error:
        verbs.record_receipt(make.session, cadre, make.clock, uploads, goods.id, "周丽华", "王建国", "2018-01-08",
                             "签收单.pdf", PDF)
    assert error.value.rule == "upload_quota" and "每个账号每天最多上传1份资料" in error.value.message


def test_the_photos_of_notice_lists_count_toward_the_day_and_are_refused_over_it(make, tmp_path):
    """A notice posting's photo is an upload of the day too (it went around every quota before)."""
    uploads = Uploads(tmp_path / "uploads", quota=Quota(daily_files=2))
    union = make.union()
    campaign, cadre = make.default_campaign().id, make.person("cadre", union)
    make.clock.advance(days=1)

    def post():
        return verbs.record_notice(make.session, cadre, make.clock, uploads, campaign, "厂区公告栏",
                                   make.clock.now().date(), "notice.pdf", PDF)

    post()
    add(make, uploads, make.draft(union=union), actor=cadre)
    with pytest.raises(Refused) as error:
        post()
    assert error.value.rule == "upload_quota" and "您今天已上传2份" in error.value.message


def test_without_a_quota_nothing_is_counted(make, tmp_path, draft):
    """The domain's own default (the demo, the benchmarks): the application sets its limits from the settings."""
    uploads = Uploads(tmp_path / "uploads")
    for _ in range(5):
        add(make, uploads, draft)
    assert len(draft.documents) == 5


# ------------------------------------------------------------------ the settings

def test_the_application_has_sensible_quotas_by_default(monkeypatch):
    for name in ("CASE_FILES", "CASE_MB", "DAILY_FILES", "DAILY_MB"):
        monkeypatch.delenv(f"SONGNUAN_UPLOAD_{name}", raising=False)
    assert Settings().upload_quota == Quota(case_files=30, case_bytes=100 * MB, daily_files=200,
                                            daily_bytes=500 * MB)


def test_the_quotas_are_settings(monkeypatch):
    monkeypatch.setenv("SONGNUAN_UPLOAD_CASE_FILES", "12")
    monkeypatch.setenv("SONGNUAN_UPLOAD_CASE_MB", "0")  # no limit
    monkeypatch.setenv("SONGNUAN_UPLOAD_DAILY_FILES", "²")  # garbled: the default, never a crash
    monkeypatch.setenv("SONGNUAN_UPLOAD_DAILY_MB", " 50 ")
    assert Settings().upload_quota == Quota(case_files=12, case_bytes=0, daily_files=200, daily_bytes=50 * MB)


# ------------------------------------------------------------------ owner only

def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_uploaded_file_and_its_folder_are_the_owners_only(make, tmp_path, draft):
    uploads = Uploads(tmp_path / "uploads")
    document = add(make, uploads, draft)
    assert mode(uploads.storage.root) == 0o700
    assert mode(uploads.storage.path(document.id)) == 0o600


def test_the_instance_folders_and_the_database_file_are_the_owners_only(tmp_path):
    instance = tmp_path / "instance"
    settings = Settings(database_url=f"sqlite:///{instance / 'songnuan.db'}",
                        upload_dir=str(instance / "uploads"))
    settings.ensure_dirs()
    assert mode(instance) == 0o700
    assert mode(instance / "uploads") == 0o700
    assert mode(instance / "songnuan.db") == 0o600
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)  # SQLite takes the empty file as a new database, and its journal files take its mode
    finally:
        engine.dispose()
    written = [p for p in instance.iterdir() if p.name.startswith("songnuan.db")]
    assert written and all(mode(p) == 0o600 for p in written)
    assert (instance / "songnuan.db").stat().st_size > 0
