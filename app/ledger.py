"""The union's ledger (台账) as a workbook: the template to fill in, and an uploaded file read into rows for
verbs.import_archives. Shared by the screen, the API and `songnuan archive import`.

The template's sheet 档案台账 has one header row (the columns of workflows.verbs.imports.COLUMNS), a drop-down list
(data validation) on every code column with the Chinese labels a cadre picks, the number columns formatted as text
(Excel keeps only 15 digits of a number) and a second sheet, 填表说明, explaining every column and the household rule.

A file is judged by its content, never its name: a workbook is a zip holding xl/workbook.xml; the size is the upload
limit of every file (workflows.infra.uploads), and the unpacked size and the number of rows are bounded too.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from workflows.errors import Invalid
from workflows.infra.uploads import TooLarge, UnsupportedType
from workflows.texts import N_
from workflows.verbs.imports import (
    COLUMNS,
    MAX_ROWS,
    LedgerRow,
    canonical_header,
    check_headers,
    choices,
)

from .exports import workbook_bytes

SHEET, HELP_SHEET = "档案台账", "填表说明"
FILENAME = "困难职工档案台账模板.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A sheet of MAX_ROWS rows of ~40 short cells unpacks to some tens of megabytes: beyond this it is a zip bomb.
MAX_UNPACKED = 200 * 1024 * 1024
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old .xls (and .doc) container
TEXT_FORMAT = "@"

HEADING, BODY = "黑体", "宋体"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
OPTIONAL_FILL = PatternFill("solid", fgColor="F2F2F2")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)

RULES = (
    "每行填一个人。户主（每户一行）填这一户的全部情况；家庭成员各占一行，只填姓名、身份证号码、户主身份证号码、"
    "与户主关系、月收入、健康状况、职业。",
    "户主的行：“户主身份证号码”不填（或填本人的号码），“与户主关系”填“本人”或不填。家庭成员的行：“户主身份证号码”"
    "填所属户主的身份证号码，该户主的行必须在同一个文件中。",
    "一户一档：一个身份证号码在全表中只能出现一次；已在任何工会建档的人（户主或家庭成员）不能再导入，"
    "请在原档案中修改或由区总工会转移档案。",
    "列名以橙色标出的为必需的列，户主的行必须填写；下拉列表中的值请直接选择，不要自己输入别的写法。",
    "身份证号码、银行账号、电话等列已设为文本格式。从别的表格粘贴时请用“选择性粘贴—数值”，不要把这些列改成数字"
    "格式：超过15位的数字会被Excel改掉末几位。",
    "金额单位为元，最多两位小数；医疗、残疾、就学支出按全家一年计，用于计算家庭人均月收入。",
    f"一个文件最多{MAX_ROWS}行。上传后先点“检查（不导入）”：每个有问题的单元格按行号和列名列出；全部无误后再点"
    "“导入”。文件中只要有一处错误，整个文件都不导入。导入的档案状态为“在档”。",
)


def _allowed(column) -> str:
    if column.vocab is not None:
        return "、".join(choices(column.vocab))
    if column.kind == "yes_no":
        return "是、否"
    return ""


def _format(column) -> str:
    return {"digits": "文本（数字按文字填写）", "money": "数字，单位元", "decimal": "数字",
            "code": "从下拉列表选择", "codes": "用顿号“、”分隔的若干项", "yes_no": "是或否"}.get(column.kind, "文字")


def _who(column) -> str:
    if column.header == "户主身份证号码":
        return "家庭成员的行必填"
    if column.header == "与户主关系":
        return "家庭成员的行必填"
    if column.header == "身份证号码":
        return "户主必填；家庭成员选填"
    if column.required:
        return "必填（户主的行）" if column.scope == "head" else "必填"
    return "选填（家庭成员的行）" if column.scope == "member" else "选填"


def _validation(column, letter: str) -> DataValidation | None:
    last = MAX_ROWS + 1
    if column.kind in ("code", "yes_no"):
        values = choices(column.vocab) if column.vocab is not None else ["是", "否"]
        # An inline list (at most 255 characters: the longest, the causes, is well below).
        rule = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                              showErrorMessage=True, errorTitle="不是可选的值",
                              error=f"请从下拉列表中选择：{'、'.join(values)}"[:225])
    elif column.kind in ("money", "decimal"):
        rule = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                              showErrorMessage=True, errorTitle="应为数字", error="请填写不小于0的数字，最多两位小数")
    else:
        return None
    if column.note:
        rule.showInputMessage, rule.promptTitle, rule.prompt = True, column.header[:32], column.note[:255]
    rule.add(f"{letter}2:{letter}{last}")
    return rule


def template() -> bytes:
    """The ledger template (.xlsx): the sheet to fill in and its explanation."""
    book = Workbook()
    book.properties.title, book.properties.creator = "困难职工档案台账", "送暖"
    sheet = book.active
    sheet.title = SHEET
    sheet.append([column.header for column in COLUMNS])
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.alignment, cell.border = Font(name=HEADING, size=11), CENTER, BOX
        cell.fill = REQUIRED_FILL if column.required else OPTIONAL_FILL
        dimension = sheet.column_dimensions[letter]
        dimension.width = column.width
        if column.kind == "digits":
            dimension.number_format = TEXT_FORMAT  # typed numbers stay text, all 18 digits of them
        if (rule := _validation(column, letter)) is not None:
            sheet.add_data_validation(rule)
    sheet.row_dimensions[1].height = 30
    sheet.freeze_panes = "B2"
    _explanation(book.create_sheet(HELP_SHEET))
    return workbook_bytes(book)


def filled(rows: list[dict[str, Any]], base: bytes | None = None) -> bytes:
    """The template (or `base`) with `rows` under its header row, by header: a ledger as a union sends it (the
    tests, the benchmark and scripts build theirs so)."""
    book = load_workbook(io.BytesIO(base or template()))
    sheet = book[SHEET]
    columns = {cell.value: cell.column for cell in sheet[1]}
    for n, row in enumerate(rows, start=2):
        for header, value in row.items():
            sheet.cell(row=n, column=columns[header], value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _explanation(sheet) -> None:
    sheet.append(["困难职工档案台账填表说明"])
    sheet["A1"].font = Font(name=HEADING, size=14)
    for n, text in enumerate(RULES, 1):
        sheet.append([f"{n}. {text}"])
        sheet.merge_cells(start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=5)
        sheet.cell(row=sheet.max_row, column=1).alignment = WRAP
        sheet.row_dimensions[sheet.max_row].height = 32
    sheet.append([])
    sheet.append(["列名", "是否必填", "格式", "可选的值", "说明"])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font, cell.fill, cell.alignment, cell.border = Font(name=HEADING, size=11), OPTIONAL_FILL, CENTER, BOX
    for column in COLUMNS:
        sheet.append([column.header, _who(column), _format(column), _allowed(column), column.note])
        for cell in sheet[sheet.max_row]:
            cell.font, cell.alignment, cell.border = Font(name=BODY, size=10), WRAP, BOX
    for letter, width in zip("ABCDE", (20, 20, 20, 48, 48)):
        sheet.column_dimensions[letter].width = width


# ---------------------------------------------------------------- reading an upload

def read(content: bytes, max_bytes: int) -> list[LedgerRow]:
    """The rows of an uploaded ledger (every column of the header in each row, empty cells as None), refused with a
    clear message when it is not a workbook, too large, empty, or its columns are not the template's."""
    if len(content) > max_bytes:
        raise TooLarge(N_("文件太大，不能超过%(mb)sMB", mb=max_bytes // (1024 * 1024)))
    if not content:
        raise Invalid({"file": N_("文件是空的")})
    if content.startswith(OLE):
        raise UnsupportedType(N_("这是旧版Excel（.xls）文件：请在Excel中“另存为”Excel工作簿（.xlsx）后再上传"))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        entries = None
    if not entries or not any(e.filename == "xl/workbook.xml" for e in entries):
        raise UnsupportedType(N_("不是Excel工作簿（.xlsx）：请下载台账模板填写后上传（按文件内容判断，不看文件名）"))
    if sum(e.file_size for e in entries) > MAX_UNPACKED:
        raise TooLarge(N_("文件解压后太大，不像是一份台账"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # what openpyxl says of other programs' extensions is not the user's
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises anything from KeyError to its own errors on a broken package
        raise UnsupportedType(N_("无法读取这个Excel文件，文件可能已损坏：请另存为.xlsx后再试")) from None
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        return _rows(sheet.iter_rows(values_only=True))
    finally:
        book.close()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rows(lines) -> list[LedgerRow]:
    header = next(lines, None)
    named = [(i, canonical_header(v)) for i, v in enumerate(header or ()) if not _blank(v)]
    if not named:
        raise Invalid({"file": N_("工作表是空的：第一行应为列名（请使用台账模板）")})
    check_headers([name for _i, name in named])
    rows: list[LedgerRow] = []
    width = len(header)
    for number, values in enumerate(lines, start=2):
        if all(_blank(v) for v in values):
            continue
        stray = next((i for i, v in enumerate(values) if not _blank(v) and (i >= width or _blank(header[i]))), None)
        if stray is not None:
            raise Invalid({"file": N_("第%(column)s列没有列名，却填了内容（第%(row)s行）",
                                      column=get_column_letter(stray + 1), row=number)})
        if len(rows) >= MAX_ROWS:
            raise Invalid({"file": N_("行数太多：一次最多导入%(rows)s行，请分成几个文件", rows=MAX_ROWS)})
        rows.append(LedgerRow(number, {name: values[i] if i < len(values) else None for i, name in named}))
    if not rows:
        raise Invalid({"file": N_("台账中没有数据：第一行是列名，从第二行起每行填一人")})
    return rows
