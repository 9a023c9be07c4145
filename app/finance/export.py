"""The payment batch as the bank takes it: an .xlsx with the full account numbers (the one place they appear)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from workflows.infra.clock import LOCAL
from workflows.models import Case

from ..exports import cell_value, workbook_bytes

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER = ["序号", "档案编号", "基层工会", "收款人姓名", "工商银行账号", "金额（元）", "活动"]
WIDTHS = (6, 20, 24, 12, 24, 14, 28)
ACCOUNT, AMOUNT = 5, 6  # their columns (1-based)


def payment_workbook(cases: list[Case], exported_by: str, now: dt.datetime) -> bytes:
    """付款清单: a title, who exported it and when, one row per case, a totals row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "付款清单"
    campaigns = cell_value("、".join(dict.fromkeys(case.campaign.name for case in cases)))
    sheet.append([f"{campaigns}帮扶资金付款清单"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet["A1"].font = Font(size=14, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append([cell_value(f"导出人：{exported_by}"), "", "", f"导出时间：{now.astimezone(LOCAL):%Y年%m月%d日 %H:%M}"])
    sheet.append(HEADER)
    for cell in sheet[sheet.max_row]:
        cell.font, cell.border, cell.alignment = Font(bold=True), BOX, Alignment(horizontal="center")
    total = Decimal(0)
    for number, case in enumerate(cases, 1):
        amount = case.aid_amount or Decimal(0)
        total += amount
        sheet.append([cell_value(v) for v in (number, case.file_number, case.union.name, case.applicant_name,
                                              case.bank_account, amount, case.campaign.name)])
        _style_row(sheet)
    sheet.append(["合计", f"{len(cases)}件", "", "", "", total, ""])
    _style_row(sheet, bold=True)
    sheet.freeze_panes = "A4"
    for column, width in zip("ABCDEFG", WIDTHS):
        sheet.column_dimensions[column].width = width
    return workbook_bytes(book)


def _style_row(sheet, bold: bool = False) -> None:
    row = sheet[sheet.max_row]
    for cell in row:
        cell.border = BOX
        if bold:
            cell.font = Font(bold=True)
    # An account number is text: as a number, a spreadsheet would round its last digits away.
    row[ACCOUNT - 1].number_format = "@"
    row[AMOUNT - 1].number_format = "#,##0.00"
