"""`songnuan archive export` (API.md): the household archives as .xlsx in the national layout, numbers masked, the
same workbook as GET /api/v1/archives/export; errors on standard error with exit status 1, no file left behind."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.infra.uploads import Uploads

from ..factories import Factory, case_data


@pytest.fixture
def archives(committed, clock, tmp_path):
    """Two unions with one archive each; the bodies they were made from (full numbers)."""
    with Session(committed, expire_on_commit=False) as session:
        world = Factory(session, clock, Uploads(tmp_path / "uploads"))
        union, other = world.union("华光机械厂工会"), world.union("红星纺织厂工会")
        bodies = {}
        for u in (union, other):
            data = case_data()
            del data["aid"]
            data["national"] = {"archive_type": "migrant_worker", "hukou": "agricultural", "single_parent": True}
            archive = verbs.create_archive(session, world.person("cadre", u), clock, data)
            bodies[u.code] = (archive.id, data)
        session.commit()
    return union, other, bodies


def _rows(path):
    book = load_workbook(path)
    rows = list(book["困难职工档案"].iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]], list(book["家庭成员"].iter_rows(values_only=True))


def test_the_archives_of_the_district_and_of_one_union(cli, archives, tmp_path):
    union, other, bodies = archives
    out = tmp_path / "archives.xlsx"
    done = cli(f"archive export --out {out}")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[-1] == str(out) and "2户" in done.stdout
    rows, members = _rows(out)
    assert {row["档案编号"] for row in rows} == {archive_id for archive_id, _ in bodies.values()}
    row = next(row for row in rows if row["档案编号"] == bodies[union.code][0])
    assert (row["档案类型"], row["户口类型"], row["单亲家庭"], row["所属工会"]) == ("困难农民工", "农业", "是", "华光机械厂工会")
    assert row["身份证号码"].count("*") == 8 and row["工商银行账号"].startswith("*")
    assert len(members) == 1 + 2
    text = repr(rows) + repr(members)
    for _, data in bodies.values():
        for number in (data["applicant"]["id_number"], data["household"]["members"][0]["id_number"],
                       data["bank_account"]):
            assert number not in text

    one = tmp_path / "one.xlsx"
    done = cli(f"archive export --out {one} --union {other.code} --format national")
    assert done.exit_code == 0, done.output
    assert "红星纺织厂工会" in done.stdout and "1户" in done.stdout
    assert [row["档案编号"] for row in _rows(one)[0]] == [bodies[other.code][0]]


@pytest.mark.parametrize("arguments, words", [
    ("--out {tmp}/archives.csv", "xlsx"),
    ("--out {tmp}/missing/archives.xlsx", "不存在"),
    ("--out {tmp}/archives.xlsx --union NO-SUCH", "NO-SUCH"),
], ids=["not .xlsx", "no such folder", "no such union"])
def test_errors_go_to_standard_error(cli, archives, tmp_path, arguments, words):
    done = cli("archive export " + arguments.format(tmp=tmp_path))
    assert done.exit_code == 1 and words in done.stderr and "Traceback" not in done.output
    assert not (tmp_path / "archives.xlsx").exists()
    assert not list(tmp_path.glob(".*.partial"))

