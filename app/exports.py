"""Files handed to people: the statistics table (送温暖活动统计表) as .xlsx, laid out as the unions report it: a merged
title, the reporting unit and date, then one row per union and the totals row (合计): households, persons, by worker
group and medical, cash and goods in 万元 with the 元 beside, and where the money came from; on A4 landscape, its
header rows repeated on every page. Then how the cases stand: boxed blocks by state, worker group, category and aid
kind (办理情况), and the stages per union (分单位办理情况).

The figures are written as values (not formulas), so that the file reads the same in any program and in tests."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from workflows.infra.clock import LOCAL
from workflows.models import Campaign, Union
from workflows.reads.reports import SOURCES
from workflows.states import State
from workflows.vocab import WorkerGroup

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such text is quoted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A value as a CSV cell that a spreadsheet shows as the text it is."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell_value(value: Any) -> Any:
    """A value a cell can hold: text without the control characters the .xlsx format cannot store (a typed
    comment may carry one), everything else as it is."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def workbook_bytes(book: Workbook) -> bytes:
    """The .xlsx file of a workbook of values. openpyxl takes any text starting with = for a formula: a name such
    as =HYPERLINK(...) is written as the text it is, never as a formula a spreadsheet would run."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BODY, HEADING = "宋体", "黑体"  # what a union office's forms are set in
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SHADE = PatternFill("solid", fgColor="F2F2F2")
MONEY, COUNT, WAN = "#,##0.00", "#,##0", "0.00"
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

SECTIONS = (("by_worker_group", "职工类别"), ("by_category", "困难类别"), ("by_aid_kind", "帮扶方式"))
MEASURES = ("件数", "审定金额（元）", "发放金额（元）", "视为自动放弃（件）")
# The per-union sheet: (heading, key, is money); the case counts sit under one merged heading.
UNION_COUNTS = (("合计", "cases"), ("基层办理中", "in_progress"), ("已录入报送", "entered"),
                ("区总已审定", "district_approved"), ("已发放", "disbursed"), ("退票待处理", "payment_returned"),
                ("逾期未报放弃", "overdue"), ("不合格放弃", "rejected"), ("已撤回", "withdrawn"))
UNION_MONEY = (("审定", "approved"), ("发放", "paid"))


def statistics_workbook(table: dict[str, Any], campaign: Campaign, union: Union | None, now: dt.datetime) -> bytes:
    """The workbook of workflows.reports.statistics(): sheet 统计表 (the table to hand in, as the unions report it),
    办理情况 and 分单位办理情况."""
    book = Workbook()
    # Names are stored text: an old row may hold a control character that a cell cannot (cell_value).
    name = cell_value(campaign.name)
    title = f"{name}活动统计表"
    unit = cell_value(table.get("unit") or (union.name if union else "全区"))
    day = now.astimezone(LOCAL).date()
    book.properties.title, book.properties.creator = title, "送暖"
    _report_sheet(book.active, table, title, unit, day)
    _main_sheet(book.create_sheet("办理情况"), table, f"{name}活动办理情况", unit, day)
    _union_sheet(book.create_sheet("分单位办理情况"), table, f"{name}活动分单位办理情况", unit, day)
    return workbook_bytes(book)


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# ---------------------------------------------------------------- sheet 1: the table as the unions report it

# The columns after 序号 and 单位: (heading of the group or None, heading, what to take from a `helped` dict, format).
REPORT_COLUMNS: tuple[tuple[str | None, str, Any, str], ...] = (
    (None, "帮扶户数（户）", lambda h: h["households"], COUNT),
    (None, "帮扶人数（人）", lambda h: h["persons"], COUNT),
    *[("按职工类别（户）", group.label, (lambda code: lambda h: h["by_worker_group"][code])(group.value), COUNT)
      for group in WorkerGroup],
    (None, "其中大病（户）", lambda h: h["medical"], COUNT),
    ("慰问金", "万元", lambda h: Decimal(h["cash"]["wan"]), WAN),
    ("慰问金", "元", lambda h: Decimal(h["cash"]["yuan"]), MONEY),
    ("物资折款", "万元", lambda h: Decimal(h["goods"]["wan"]), WAN),
    ("物资折款", "元", lambda h: Decimal(h["goods"]["yuan"]), MONEY),
    *[("资金来源（万元）", label, (lambda key: lambda h: Decimal(h["sources"][key]["wan"]))(key), WAN)
      for key, _column, label in SOURCES],
)
REPORT_NOTE = ("注：帮扶户数、人数及金额按区总工会已审定（含已发放、退票待处理）的案件统计，人数为申请人及其家庭成员；"
               "慰问金为现金帮扶金额，物资折款为送实物的折算价值；资金来源取自各基层工会活动总结。"
               "万元为元数除以一万、四舍五入保留两位小数，合计行按元数合计后换算。")


def _report_sheet(sheet: Worksheet, table: dict[str, Any], title: str, unit: str, day: dt.date) -> None:
    """One row per union and the totals row (the view's own figures, equal to the rows' sum in 元 and counts)."""
    sheet.title = "统计表"
    width = 2 + len(REPORT_COLUMNS)
    _heading(sheet, title, unit, day, width)
    top, sub = 4, 5
    sheet.cell(top, 1, "序号")
    sheet.cell(top, 2, "单位")
    sheet.merge_cells(start_row=top, start_column=1, end_row=sub, end_column=1)
    sheet.merge_cells(start_row=top, start_column=2, end_row=sub, end_column=2)
    column = 3
    while column <= width:  # a group heading over its columns; a column of its own spans both header rows
        group = REPORT_COLUMNS[column - 3][0]
        span = 1
        while group and column + span <= width and REPORT_COLUMNS[column + span - 3][0] == group:
            span += 1
        if group is None:
            sheet.cell(top, column, REPORT_COLUMNS[column - 3][1])
            sheet.merge_cells(start_row=top, start_column=column, end_row=sub, end_column=column)
        else:
            sheet.cell(top, column, group)
            sheet.merge_cells(start_row=top, start_column=column, end_row=top, end_column=column + span - 1)
            for i in range(span):
                sheet.cell(sub, column + i, REPORT_COLUMNS[column + i - 3][1])
        column += span
    for row in (top, sub):
        for cell in sheet[row][:width]:
            cell.border, cell.fill, cell.alignment = BOX, SHADE, CENTER
            cell.font = Font(name=HEADING, size=10)
    sheet.row_dimensions[top].height, sheet.row_dimensions[sub].height = 24, 30

    def line(values: list[Any], bold: bool = False) -> None:
        sheet.append([cell_value(v) for v in values])
        for cell, (_group, _label, _take, shape) in zip(sheet[sheet.max_row][2:], REPORT_COLUMNS):
            cell.number_format = shape
        for cell in sheet[sheet.max_row][:width]:
            cell.border, cell.font = BOX, Font(name=BODY, size=10, bold=bold)
        sheet.row_dimensions[sheet.max_row].height = 20

    for n, row in enumerate(table.get("by_union", []), start=1):
        line([n, row["name"], *[take(row["helped"]) for _g, _l, take, _s in REPORT_COLUMNS]])
    line(["合计", None, *[take(table["helped"]) for _g, _l, take, _s in REPORT_COLUMNS]], bold=True)
    sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=2)
    sheet.cell(sheet.max_row, 1).alignment = CENTER
    sheet.append([REPORT_NOTE])
    sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=width)
    sheet.cell(sheet.max_row, 1).font = Font(name=BODY, size=9)
    sheet.cell(sheet.max_row, 1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[sheet.max_row].height = 30
    sheet.append([])
    sign = [None] * width
    sign[0], sign[5], sign[11] = "单位负责人：", "填表人：", "联系电话："
    sheet.append(sign)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(name=BODY, size=11)
    for index, (_group, label, _take, shape) in enumerate(REPORT_COLUMNS, start=3):
        sheet.column_dimensions[get_column_letter(index)].width = 12 if shape == MONEY else 9
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 5, 22
    sheet.freeze_panes = sheet.cell(sub + 1, 3)
    _print_setup(sheet, landscape=True, title_rows=f"{top}:{sub}")


# ---------------------------------------------------------------- sheet 2: how the cases stand

def _main_sheet(sheet: Worksheet, table: dict[str, Any], title: str, unit: str, day: dt.date) -> None:
    width = 1 + len(MEASURES)
    _heading(sheet, title, unit, day, width)
    forfeited = table["forfeited"]
    overdue = sum(row.get("overdue", 0) for row in table.get("by_union", []))
    rejected = sum(row.get("rejected", 0) for row in table.get("by_union", []))
    _block(sheet, ["总体情况", "数量"], [
        ["案件总数（件）", table["cases"]],
        ["审定金额合计（元）", Decimal(table["approved_amount"])],
        ["发放金额合计（元）", Decimal(table["paid_amount"])],
        ["视为自动放弃（件）", forfeited],
        ["　其中：逾期未报（件）", overdue],
        ["　　　　审核不合格（件）", rejected],
    ], None, width)
    _block(sheet, ["案件状态", "件数"], [[s.label, table["by_state"][s.value]] for s in State],
           ["合计", table["cases"]], width)
    for key, heading in SECTIONS:
        rows = [[row["label"], row["cases"], Decimal(row["approved"]), Decimal(row["paid"]), row.get("forfeited", 0)]
                for row in table[key].values()]
        totals = ["合计"] + [sum((row[i] for row in rows), Decimal(0) if i in (2, 3) else 0) for i in range(1, width)]
        _block(sheet, [heading, *MEASURES], rows, totals, width)
    sheet.append([])
    sheet.append(["单位负责人：", None, "填表人：", "联系电话："])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(name=BODY, size=11)
    for column, size in zip("ABCDE", (26, 12, 18, 18, 20)):
        sheet.column_dimensions[column].width = size
    _print_setup(sheet, landscape=False, title_rows=None)


def _block(sheet: Worksheet, header: list[str], rows: list[list[Any]], totals: list[Any] | None, width: int) -> None:
    """A boxed block: its header, its rows and its totals row. A two-column block spans the whole width, its
    value merged across, so that every block lines up on the printed page."""
    merge = len(header) == 2
    _row(sheet, header, width, merge, header=True)
    for row in rows:
        _row(sheet, row, width, merge)
    if totals is not None:
        _row(sheet, totals, width, merge, bold=True)
    sheet.append([])


def _row(sheet: Worksheet, values: list[Any], width: int, merge: bool, header: bool = False,
         bold: bool = False) -> None:
    sheet.append([cell_value(v) for v in values] + [None] * (width - len(values)))
    number = sheet.max_row
    if merge:
        sheet.merge_cells(start_row=number, start_column=2, end_row=number, end_column=width)
    for cell in sheet[number][:width]:
        cell.border = BOX
        cell.font = Font(name=HEADING if header else BODY, size=11, bold=bold)
        if header:
            cell.fill, cell.alignment = SHADE, CENTER
        elif isinstance(cell.value, Decimal):
            cell.number_format = MONEY
        elif isinstance(cell.value, int):
            cell.number_format = COUNT
    sheet.row_dimensions[number].height = 20


def _heading(sheet: Worksheet, title: str, unit: str, day: dt.date, width: int) -> None:
    """Row 1: the title across the table; row 2: 填报单位 on the left, 填报日期 on the right."""
    last = get_column_letter(width)
    sheet.append([title])
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"].font = Font(name=HEADING, size=18, bold=True)
    sheet["A1"].alignment = CENTER
    sheet.row_dimensions[1].height = 36
    half = max(2, width // 2)
    sheet.append([f"填报单位：{unit}"] + [None] * (half - 1) + [f"填报日期：{chinese_date(day)}"])
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=half)
    sheet.merge_cells(start_row=2, start_column=half + 1, end_row=2, end_column=width)
    sheet.cell(2, 1).font = sheet.cell(2, half + 1).font = Font(name=BODY, size=11)
    sheet.cell(2, half + 1).alignment = Alignment(horizontal="right")
    sheet.row_dimensions[2].height = 22
    sheet.append([])


def _print_setup(sheet: Worksheet, landscape: bool, title_rows: str | None) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    if title_rows:
        sheet.print_title_rows = title_rows


# ---------------------------------------------------------------- sheet 3: the stages, one row per union

def _union_sheet(sheet: Worksheet, table: dict[str, Any], title: str, unit: str, day: dt.date) -> None:
    counts, money = len(UNION_COUNTS), len(UNION_MONEY)
    width = 2 + counts + money
    _heading(sheet, title, unit, day, width)
    top, sub = 4, 5
    sheet.cell(top, 1, "序号")
    sheet.cell(top, 2, "基层工会")
    sheet.cell(top, 3, "案件数（件）")
    sheet.cell(top, 3 + counts, "金额（元）")
    for i, (label, _key) in enumerate(UNION_COUNTS + UNION_MONEY):
        sheet.cell(sub, 3 + i, label)
    sheet.merge_cells(start_row=top, start_column=1, end_row=sub, end_column=1)
    sheet.merge_cells(start_row=top, start_column=2, end_row=sub, end_column=2)
    sheet.merge_cells(start_row=top, start_column=3, end_row=top, end_column=2 + counts)
    sheet.merge_cells(start_row=top, start_column=3 + counts, end_row=top, end_column=width)
    for row in (top, sub):
        for cell in sheet[row][:width]:
            cell.border, cell.fill, cell.alignment = BOX, SHADE, CENTER
            cell.font = Font(name=HEADING, size=11)
    rows = table.get("by_union", [])
    totals: list[Any] = [0] * counts + [Decimal(0)] * money
    for n, row in enumerate(rows, start=1):
        values = [row[key] for _label, key in UNION_COUNTS] + [Decimal(row[key]) for _label, key in UNION_MONEY]
        totals = [a + b for a, b in zip(totals, values)]
        _row(sheet, [n, row["name"], *values], width, merge=False)
    _row(sheet, ["合计", None, *totals], width, merge=False, bold=True)
    sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=2)
    sheet.cell(sheet.max_row, 1).alignment = CENTER
    for column in range(1, width + 1):
        sheet.column_dimensions[get_column_letter(column)].width = {1: 6, 2: 28}.get(
            column, 16 if column > 2 + counts else 11)
    sheet.freeze_panes = sheet.cell(sub + 1, 3)
    _print_setup(sheet, landscape=True, title_rows=f"{top}:{sub}")
