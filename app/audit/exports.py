"""A filtered view of the trail as a file: .xlsx (a title row naming the filter and the export time, Chinese
headings) or CSV (UTF-8 with a BOM, for the Excel of a union office). Numbers masked, as on the screens.

Exporting is reading: no audit event is written for it (the screens' GETs write nothing either).
"""

from __future__ import annotations

import csv
import io

from flask import Response, send_file
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from workflows.infra.clock import LOCAL, from_db
from workflows.reads import trail
from workflows.states import Role, State
from workflows.vocab import label_of

from ..current import clock
from ..db import db
from ..exports import cell_value, csv_safe
from . import bp
from .views import index, read_filters

# Beyond this many rows a file is cut, and says so in its title: narrow the filter instead.
EXPORT_LIMIT = 50_000
HEADER = ["序号", "时间（北京时间）", "操作人", "角色", "案件编号", "申请人", "基层工会", "活动", "操作", "原状态",
          "新状态", "意见", "变更内容（修改前 → 修改后）", "哈希值"]
WIDTHS = [8, 20, 14, 14, 10, 10, 20, 24, 16, 12, 12, 30, 60, 20]


def _label(kind, code: str | None) -> str:
    return label_of(kind, code) or ""


def _row(e: trail.Entry) -> list:
    return [e.seq, from_db(e.occurred_at).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S"), e.actor,
            _label(Role, e.role), e.case_id or "", e.applicant or "", e.union or "", e.campaign or "", e.action_label,
            _label(State, e.from_state), _label(State, e.to_state), e.comment or "", e.changes_text(), e.hash]


def _rows(filters: trail.EventFilters):
    return (_row(e) for e in trail.each(db(), filters, EXPORT_LIMIT))


def _stamp(fmt: str) -> str:
    return clock().now().astimezone(LOCAL).strftime(fmt)


def _text_cell(sheet, value):
    """A cell that is never a formula: text starting with = stays the text it is; without the control characters
    an old event's text may hold, which a cell cannot."""
    value = cell_value(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell


@bp.get("/export.xlsx")
def export_xlsx():
    filters, errors = read_filters()
    if errors:  # the list with the filter's messages, as the screen would show them
        return index()
    total, rows = trail.count(db(), filters), _rows(filters)
    book = Workbook(write_only=True)  # rows go straight to the file: memory stays flat on a long trail
    sheet = book.create_sheet("审计记录")
    for column, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + column)].width = width
    title = WriteOnlyCell(sheet, value=f"审计记录（{trail.describe(db(), filters)}）")
    title.font = Font(size=14, bold=True)
    sheet.append([title])
    cut = f"，仅导出前{EXPORT_LIMIT}条，请缩小筛选范围" if total > EXPORT_LIMIT else ""
    sheet.append([f"导出时间：{_stamp('%Y-%m-%d %H:%M')}（北京时间）；共{total}条{cut}；身份证号和银行账号已遮蔽"])
    header = []
    for name in HEADER:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_text_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return send_file(out, as_attachment=True, download_name=f"审计记录-{_stamp('%Y%m%d-%H%M')}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/export.csv")
def export_csv():
    filters, errors = read_filters()
    if errors:
        return index()
    rows = _rows(filters)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows([csv_safe(value) for value in row] for row in rows)
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=audit-{_stamp('%Y%m%d-%H%M')}.csv"})
