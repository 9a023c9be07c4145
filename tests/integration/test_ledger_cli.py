"""`songnuan archive import FILE.xlsx --union CODE [--dry-run]` (API.md): the union's ledger into archives, all rows
or none; each bad cell on standard error as `第N行 列名：原因` with exit status 1; the count on success."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.infra import audit
from workflows.infra.uploads import Uploads
from workflows.models import Archive, AuditEvent

from ..factories import Factory
from ..ledger_data import ledger, workbook


@pytest.fixture
def union(committed, clock, tmp_path):
    with Session(committed, expire_on_commit=False) as session:
        union = Factory(session, clock, Uploads(tmp_path / "uploads")).union("城东环卫所工会")
        session.commit()
    return union


def stored(engine) -> tuple[int, int]:
    with Session(engine) as session:
        return (session.scalar(select(func.count()).select_from(Archive)),
                session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == "import_archive")))


def test_a_ledger_checked_then_imported(cli, union, committed, tmp_path):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(workbook(ledger(households=3, members=1)))
    checked = cli(f"archive import {path} --union {union.code} --dry-run")
    assert checked.exit_code == 0, checked.output
    assert "共3户、6人，可以导入" in checked.stdout and checked.stdout.splitlines()[-1] == "3"
    assert stored(committed) == (0, 0)

    done = cli(f"archive import {path} --union {union.code}")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[-1] == "3" and "在档" in done.stdout
    assert stored(committed) == (3, 3)
    with Session(committed) as session:
        assert {a.union_id for a in session.scalars(select(Archive))} == {union.id}
        assert audit.verify(session).ok

    again = cli(f"archive import {path} --union {union.code}")  # the same households again: one archive each
    assert again.exit_code == 1 and "第2行 身份证号码：已有困难职工档案（城东环卫所工会" in again.stderr
    assert stored(committed) == (3, 3)


def test_each_bad_row_on_standard_error_and_nothing_stored(cli, union, committed, tmp_path):
    rows = ledger(households=2, members=1)
    rows[0]["身份证号码"] = rows[0]["身份证号码"][:-1] + ("1" if rows[0]["身份证号码"][-1] == "0" else "0")
    rows[1]["户主身份证号码"] = rows[0]["身份证号码"]
    rows[2]["困难类别"] = "很困难"
    path = tmp_path / "台账.xlsx"
    path.write_bytes(workbook(rows))
    done = cli(f"archive import {path} --union {union.code}")
    assert done.exit_code == 1 and "Traceback" not in done.output
    lines = done.stderr.splitlines()
    assert lines[:2] == ["第2行 身份证号码：身份证号码校验位错误，请核对",
                         "第4行 困难类别：「很困难」不是可选的值，应为：深度困难、相对困难、意外致困"]
    assert "没有导入任何数据" in lines[2]
    assert stored(committed) == (0, 0)


@pytest.mark.parametrize("content, union_code, words", [
    (b"%PDF-1.4", None, "不是Excel工作簿"),
    (b"", None, "文件是空的"),
    (None, "NOPE", "没有代码为NOPE的基层工会"),
])
def test_a_file_or_union_refused(cli, union, tmp_path, content, union_code, words):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(workbook(ledger(1, 0)) if content is None else content)
    done = cli(f"archive import {path} --union {union_code or union.code}")
    assert done.exit_code == 1 and words in done.stderr and "Traceback" not in done.output
