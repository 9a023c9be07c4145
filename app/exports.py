"""Files handed to people: the statistics table as .xlsx, laid out as a union office hands it in."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from workflows.clock import LOCAL
from workflows.models import Campaign, Union
from workflows.states import State

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SECTIONS = (("by_worker_group", "职工类别"), ("by_category", "困难类别"), ("by_aid_kind", "帮扶方式"))


def statistics_workbook(table: dict[str, Any], campaign: Campaign, union: Union | None, now: dt.datetime) -> bytes:
    """送温暖活动统计表: a title, the reporting unit and date, one block per breakdown with a totals row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "统计表"
    sheet.append([f"{campaign.name}活动统计表"])
    sheet.merge_cells("A1:D1")
    sheet["A1"].font = Font(size=16, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([f"填报单位：{union.name if union else '全区'}", "", "", f"填报日期：{now.astimezone(LOCAL):%Y年%m月%d日}"])
    sheet.append([])
    for key, heading in SECTIONS:
        _block(sheet, heading, table[key])
    sheet.append(["案件状态", "件数"])
    _style_header(sheet)
    for state in State:
        sheet.append([state.label, table["by_state"][state.value]])
        _box(sheet)
    sheet.append(["合计", table["cases"]])
    _box(sheet, bold=True)
    sheet.append([])
    sheet.append(["审定金额合计（元）", float(Decimal(table["approved_amount"]))])
    sheet.append(["发放金额合计（元）", float(Decimal(table["paid_amount"]))])
    sheet.append(["视为自动放弃（件）", table["forfeited"]])
    for column, width in zip("ABCD", (24, 12, 18, 18)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _block(sheet, heading: str, rows: dict[str, dict[str, Any]]) -> None:
    sheet.append([heading, "件数", "审定金额（元）", "发放金额（元）"])
    _style_header(sheet)
    totals = [0, Decimal(0), Decimal(0)]
    for row in rows.values():
        approved, paid = Decimal(row["approved"]), Decimal(row["paid"])
        sheet.append([row["label"], row["cases"], float(approved), float(paid)])
        _box(sheet)
        totals = [totals[0] + row["cases"], totals[1] + approved, totals[2] + paid]
    sheet.append(["合计", totals[0], float(totals[1]), float(totals[2])])
    _box(sheet, bold=True)
    sheet.append([])


def _style_header(sheet) -> None:
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.border = BOX
        cell.alignment = Alignment(horizontal="center")


def _box(sheet, bold: bool = False) -> None:
    for cell in sheet[sheet.max_row]:
        cell.border = BOX
        if bold:
            cell.font = Font(bold=True)
        if isinstance(cell.value, float):
            cell.number_format = "#,##0.00"
