"""`songnuan standard set --year YEAR --area CODE --monthly YUAN` (API.md): prints what it set; a wrong value is a
message in Chinese on standard error, exit status 1, nothing stored; the change is in the audit chain."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import AuditEvent, LivingStandard


def stored(engine) -> dict[tuple[int, str], Decimal]:
    with Session(engine) as session:
        return {(s.year, s.area_code): s.monthly for s in session.scalars(select(LivingStandard))}


def test_setting_and_changing_a_standard_from_the_command_line(cli, committed):
    done = cli("standard set --year 2018 --area 110000 --monthly 1000")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines()[-1] == "已设定2018年110000的低保标准：每人每月1,000.00元"
    changed = cli("standard set --year 2018 --area 110000 --monthly 1100.5")
    assert changed.exit_code == 0 and "每人每月1,100.50元" in changed.stdout
    assert stored(committed) == {(2018, "110000"): Decimal("1100.50")}
    with Session(committed) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [(e.action, e.actor, e.changes["monthly"]) for e in events] == [
        ("set_standard", "console", [None, "1000.00"]), ("set_standard", "console", ["1000.00", "1100.50"])]
    verified = cli("audit verify")
    assert verified.exit_code == 0 and verified.stdout.splitlines()[-1] == "2"


@pytest.mark.parametrize("line, message", [
    ("standard set --year 18 --area 110000 --monthly 1000", "错误：year：年度应为2000到2100之间的四位数字"),
    ("standard set --year 2018 --area 1100 --monthly 1000", "错误：area：行政区划代码应为6位数字"),
    ("standard set --year 2018 --area 110000 --monthly 0", "错误：monthly：低保标准应大于0元"),
    ("standard set --year 2018 --area 110000 --monthly 9.999", "错误：monthly：金额最多两位小数"),
])
def test_a_wrong_value_is_said_in_chinese_on_standard_error(cli, committed, line, message):
    refused = cli(line)
    assert refused.exit_code == 1
    assert message in refused.stderr and refused.stdout == ""
    assert stored(committed) == {}


def test_every_option_is_required(cli, committed):
    refused = cli("standard set --year 2018 --area 110000")
    assert refused.exit_code != 0 and "--monthly" in refused.stderr
    assert stored(committed) == {}
