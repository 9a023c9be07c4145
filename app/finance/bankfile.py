"""The bank's files (批量代发), as ICBC's corporate banking imports and returns them (DOMAIN.md): one sheet, one header
row, no title, totals or merged cells. Written for a batch (the one place full account numbers leave the system),
and the bank's result read back into rows for verbs.bank_result, which matches and applies them."""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from workflows.errors import Invalid
from workflows.infra.uploads import TooLarge, UnsupportedType
from workflows.models import PaymentBatch
from workflows.rules.payments import RESULT_COLUMNS, ResultRow
from workflows.texts import N_, Verbatim

from ..exports import cell_value, csv_safe, workbook_bytes

HEADER = ("账号", "户名", "金额", "备注")
MIMETYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8"}
MAX_UNPACKED = 50 * 1024 * 1024


def _lines(batch: PaymentBatch) -> list[tuple[str, str, Decimal, str]]:
    return [(line.bank_account, line.name, Decimal(line.amount).quantize(Decimal("0.01")),
             line.case.file_number or str(line.case_id)) for line in batch.lines]


def filename(batch: PaymentBatch, fmt: str) -> str:
    return f"{batch.reference}.{fmt}"


def write(batch: PaymentBatch, fmt: str) -> bytes:
    return _xlsx(batch) if fmt == "xlsx" else _csv(batch)


def _xlsx(batch: PaymentBatch) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "批量代发"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for account, name, amount, note in _lines(batch):
        sheet.append([account, cell_value(name), amount, cell_value(note)])
        row = sheet[sheet.max_row]
        # Text: as a number a spreadsheet would round a 19-digit account's last digits away.
        row[0].number_format = "@"
        row[0].data_type = "s"
        row[2].number_format = "0.00"
    for column, width in zip("ABCD", (24, 12, 12, 22)):
        sheet.column_dimensions[column].width = width
    return workbook_bytes(book)


def _csv(batch: PaymentBatch) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for account, name, amount, note in _lines(batch):
        # The name as recorded (create_batch refuses one a spreadsheet would run): the bank matches its result by it.
        writer.writerow([account, name, f"{amount:.2f}", csv_safe(note)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM: Excel then reads the Chinese as UTF-8


# ---------------------------------------------------------------- the bank's result

def read_result(content: bytes, max_bytes: int) -> list[ResultRow]:
    """The rows of the bank's result (.xlsx or CSV, told apart by content), each with its row in the file; refused
    with a clear message when it is neither, too large, empty or its header lacks a column."""
    if len(content) > max_bytes:
        raise TooLarge(N_("文件太大，不能超过%(mb)sMB", mb=max_bytes // (1024 * 1024)))
    if not content:
        raise Invalid({"file": N_("文件是空的")})
    if content.startswith(b"PK"):
        return _rows(_xlsx_lines(content))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")  # a CSV saved by Excel on a Chinese Windows
        except UnicodeDecodeError:
            raise UnsupportedType(N_("无法识别的文件：请上传银行回单的Excel（.xlsx）或CSV文件")) from None
    return _rows(list(csv.reader(io.StringIO(text))))


def _xlsx_lines(content: bytes) -> list[tuple]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(e.file_size for e in archive.infolist()) > MAX_UNPACKED:
                raise TooLarge(N_("文件解压后太大，不像是一份银行回单"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except TooLarge:
        raise
    except Exception:  # openpyxl raises anything from KeyError to its own errors on a broken package
        raise UnsupportedType(N_("无法读取这个Excel文件，文件可能已损坏：请另存为.xlsx后再试")) from None
    try:
        return list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _rows(lines: list) -> list[ResultRow]:
    if not lines:
        raise Invalid({"file": N_("文件是空的")})
    header = [str(v).strip() if v is not None else "" for v in lines[0]]
    if missing := [name for name in RESULT_COLUMNS if name not in header]:
        raise Invalid({"file": N_("第一行应为列名（%(columns)s），缺少：%(missing)s", columns=Verbatim("、".join(RESULT_COLUMNS)),
                                  missing=Verbatim("、".join(missing)))})
    at = {name: header.index(name) for name in RESULT_COLUMNS}
    rows = []
    for number, line in enumerate(lines[1:], 2):
        if all(_blank(v) for v in line):
            continue
        cells = {name: (line[i] if i < len(line) else None) for name, i in at.items()}
        rows.append(ResultRow(number, cells["账号"], cells["户名"], cells["金额"], cells["状态"], cells["原因"]))
    return rows
