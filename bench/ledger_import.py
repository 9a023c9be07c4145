"""The union's ledger import (台账导入) of a large file: the check with one bad cell, and the import itself, beside
openpyxl reading the same file alone.

    .venv/bin/python bench/ledger_import.py [--rows N] [--members M] [--url URL]

The file: the ledger template (app/ledger.py) filled with N rows (default 5,000): households of one head and M
member rows each (default 0: every row a household, 5,000 archives as the issue asks), every cell filled as a cadre
would, valid numbers throughout. The database: a fresh SQLite file (or --url, an empty database), one district, one
grassroots union, its cadre.

Measured, each in this run, wall-clock:
- baseline: openpyxl's read-only load of the file and a pass over every cell (values only), nothing else: the floor
  of any import that reads the workbook in Python;
- check: the same file with one bad ID check digit on one row, read by app.ledger.read and checked by
  verbs.import_archives(dry_run=True): refused, naming that row and column, nothing written;
- import: the good file read and imported (the archives, members, numbers, income history and one audit event each),
  committed; then the chain is verified (not timed).
The ratios say how many plain reads of the workbook each costs.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path: take it off before anything is imported.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import datetime as dt
import io
import random
import tempfile
import time
import warnings

from openpyxl import load_workbook
from sqlalchemy import func, select

from app.ledger import SHEET, filled, read
from workflows import verbs
from workflows.actors import CONSOLE
from workflows.identity import id_check_digit, luhn_complete
from workflows.infra import audit
from workflows.infra.clock import LOCAL, FixedClock
from workflows.infra.db import make_engine, session_factory
from workflows.infra.migrate import upgrade
from workflows.infra.uploads import MAX_BYTES
from workflows.models import Account, Archive
from workflows.verbs.imports import LedgerInvalid

NOW = dt.datetime(2030, 1, 8, 9, 0, tzinfo=LOCAL)
BAD_ROW = 2718  # the Excel row whose ID number gets a wrong check digit (if the file has that many)
REGIONS = ("110105", "110108", "310115", "440305", "420106", "510107", "320102", "330106", "370102", "610113")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = ("建国", "秀英", "桂兰", "志强", "海燕", "国华", "丽娟", "永红", "德明", "春梅", "卫东", "淑芬", "文斌")


class People:
    def __init__(self, seed: int = 12) -> None:
        self.rng, self.serial = random.Random(seed), 0

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def id_number(self, born_from: int, span: int) -> str:
        """Distinct on every call: the serial is the birth day and order code."""
        self.serial += 1
        born = dt.date(born_from, 1, 1) + dt.timedelta(days=self.serial // 400 % (span * 365))
        first17 = f"{self.rng.choice(REGIONS)}{born:%Y%m%d}{self.serial % 400 + 100:03d}"
        return first17 + id_check_digit(first17)

    def head(self) -> dict:
        return {"姓名": self.name(), "身份证号码": self.id_number(1965, 25), "性别": self.rng.choice("男女"),
                "手机号码": "139" + f"{self.rng.randrange(10**8):08d}", "工作单位": "华光机械厂",
                "职工类别": self.rng.choice(["困难职工", "困难农民工", "困难劳模", "其他职工"]),
                "困难类别": self.rng.choice(["深度困难", "相对困难", "意外致困"]),
                "主要致困原因": "患重特大疾病", "次要致困原因": self.rng.choice(["", "子女上学", "下岗失业、子女上学"]),
                "家庭年收入": self.rng.randrange(9000, 40000), "医疗支出": self.rng.choice([0, 3000, 8000.5]),
                "住房情况": "租住公房一间", "工商银行账号": luhn_complete(f"622202{self.rng.randrange(10**12):012d}"),
                "开户银行": "中国工商银行", "开户支行": "城东支行", "档案类型": "城镇困难职工", "劳模类型": "无",
                "民族": "汉族", "政治面貌": "群众", "婚姻状况": "已婚", "户口类型": "非农业",
                "户口所在地行政区划": "110105", "工作状态": "在岗", "单位性质": "国有企业", "住房类型": "租房",
                "建筑面积": 35.5, "医保状况": "职工医保", "单亲家庭": "否", "零就业家庭": "否"}

    def member(self, head: dict) -> dict:
        return {"姓名": self.name(), "身份证号码": self.id_number(1995, 20), "户主身份证号码": head["身份证号码"],
                "与户主关系": "子女", "月收入": 0, "健康状况": "良好", "职业": "在校学生"}


def ledger_rows(rows: int, members: int) -> list[dict]:
    people, out = People(), []
    while len(out) < rows:
        head = people.head()
        out.append(head)
        out += [people.member(head) for _ in range(min(members, rows - len(out)))]
    return out


workbook = filled


def baseline(content: bytes) -> float:
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    cells = sum(len(values) for values in book[SHEET].iter_rows(values_only=True))
    book.close()
    assert cells
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--members", type=int, default=0, help="member rows per household")
    parser.add_argument("--url", help="an empty database (default: a fresh SQLite file)")
    args = parser.parse_args(argv)

    rows = ledger_rows(args.rows, args.members)
    bad_index = min(BAD_ROW, len(rows) + 1) - 2
    good_number = rows[bad_index]["身份证号码"]
    rows[bad_index]["身份证号码"] = good_number[:-1] + ("1" if good_number[-1] == "0" else "0")
    bad_file = workbook(rows)
    rows[bad_index]["身份证号码"] = good_number
    good_file = workbook(rows)

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(args.url or f"sqlite:///{folder}/bench.db")
        upgrade(engine)
        sessions = session_factory(engine, writes=True)
        clock = FixedClock(NOW)
        with sessions() as session, session.begin():
            verbs.create_union(session, CONSOLE, clock, "QZGH", "某区总工会")
            verbs.create_union(session, CONSOLE, clock, "JC001", "华光机械厂工会", "QZGH")
            verbs.create_account(session, CONSOLE, clock, "cadre", "cadre", "bench-password-1", "JC001")

        base = min(baseline(good_file) for _ in range(3))

        with sessions() as session:
            cadre = session.scalar(select(Account).where(Account.username == "cadre"))
            started = time.perf_counter()
            try:
                verbs.import_archives(session, cadre, clock, None, read(bad_file, MAX_BYTES), dry_run=True)
                raise SystemExit("the bad cell was not found")
            except LedgerInvalid as error:
                checked = time.perf_counter() - started
                found = [str(e) for e in error.rows]
            session.rollback()

        with sessions() as session:
            cadre = session.scalar(select(Account).where(Account.username == "cadre"))
            started = time.perf_counter()
            result = verbs.import_archives(session, cadre, clock, None, read(good_file, MAX_BYTES))
            session.commit()
            imported = time.perf_counter() - started
            archives = session.scalar(select(func.count()).select_from(Archive))
            verified = audit.verify(session)
        engine.dispose()

    print(f"ledger: {len(rows)} rows, {result.households} households, {len(good_file) / 1024:.0f} KB "
          f"(SQLite: {'no' if args.url else 'yes'})")
    print(f"  baseline  openpyxl read-only load and every cell:       {base:7.2f} s   1.0x")
    print(f"  check     one bad cell, refused (read + dry run):        {checked:7.2f} s  {checked / base:4.1f}x"
          f"   -> {'; '.join(found)}")
    print(f"  import    {archives} archives stored and committed:     {imported:7.2f} s  {imported / base:4.1f}x")
    print(f"  audit chain after the import: {'whole' if verified.ok else 'BROKEN'}, {verified.events} events")
    return 0 if verified.ok and archives == result.households and len(found) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
