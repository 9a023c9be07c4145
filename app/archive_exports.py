"""The household archives as .xlsx in the national system's layout (工会帮扶工作管理系统, DOMAIN.md "Household
archive"): one sheet of archives, one row each, its columns the national form's fields under their Chinese names and
its cells the Chinese labels a cadre types there; a second sheet of the households' members. Shared by
GET /api/v1/archives/export and `songnuan archive export`.

Personal numbers are masked as in every export (DOMAIN.md, Personal data): ID numbers as 110105********1234, bank
accounts as their last four digits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from workflows.actors import Actor
from workflows.archive_states import Status
from workflows.identity import mask_id
from workflows.infra.clock import LOCAL, from_db
from workflows.models import Archive
from workflows.reads.archives import ArchiveFilters, listing
from workflows.reads.worklists import MAX_PER_PAGE
from workflows.vocab import (
    ArchiveType,
    Category,
    Cause,
    ClosingReason,
    EmployerNature,
    Gender,
    HousingType,
    Hukou,
    Insurance,
    Marital,
    ModelWorker,
    Political,
    WorkerGroup,
    WorkStatus,
    label_of,
)

from .exports import cell_value, workbook_bytes

BODY, HEADING = "宋体", "黑体"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SHADE = PatternFill("solid", fgColor="F2F2F2")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
MONEY = "#,##0.00"


def _yes_no(value: bool | None) -> str:
    return "是" if value else "否"


def _label(kind: type) -> Callable[[Any], str | None]:
    return lambda code: label_of(kind, code)


def _date(moment: dt.datetime | None) -> str | None:
    return from_db(moment).astimezone(LOCAL).date().isoformat() if moment else None


# (header, width, value of an archive). The order is the national form's.
COLUMNS: tuple[tuple[str, int, Callable[[Archive], Any]], ...] = (
    ("档案编号", 10, lambda a: a.id),
    ("职工编号", 16, lambda a: a.national_number),
    ("档案类型", 14, lambda a: label_of(ArchiveType, a.archive_type)),
    ("姓名", 10, lambda a: a.applicant_name),
    ("性别", 6, lambda a: label_of(Gender, a.gender)),
    ("民族", 8, lambda a: a.ethnicity),
    ("身份证号码", 22, lambda a: mask_id(a.id_number)),
    ("政治面貌", 10, lambda a: label_of(Political, a.political)),
    ("婚姻状况", 10, lambda a: label_of(Marital, a.marital)),
    ("手机号码", 14, lambda a: a.phone),
    ("工作单位", 24, lambda a: a.employer),
    ("单位性质", 12, lambda a: label_of(EmployerNature, a.employer_nature)),
    ("工作状态", 10, lambda a: label_of(WorkStatus, a.work_status)),
    ("职工类别", 12, lambda a: label_of(WorkerGroup, a.worker_group)),
    ("劳模类型", 12, lambda a: label_of(ModelWorker, a.model_worker)),
    ("户口类型", 10, lambda a: label_of(Hukou, a.hukou)),
    ("户口所在地行政区划", 12, lambda a: a.hukou_area),
    ("困难类别", 10, lambda a: label_of(Category, a.category)),
    ("主要致困原因", 16, lambda a: label_of(Cause, a.primary_cause)),
    ("次要致困原因", 24, lambda a: "、".join(label_of(Cause, c) or c for c in (a.secondary_causes or [])) or None),
    ("家庭人口", 8, lambda a: a.household_size),
    ("家庭年收入（元）", 14, lambda a: a.annual_income),
    ("家庭月人均收入（元）", 14, lambda a: a.per_capita_monthly_income),
    ("住房类型", 10, lambda a: label_of(HousingType, a.housing_type)),
    ("住房情况", 20, lambda a: a.housing),
    ("建筑面积（平方米）", 12, lambda a: a.floor_area),
    ("医保状况", 10, lambda a: label_of(Insurance, a.insurance)),
    ("单亲家庭", 8, lambda a: _yes_no(a.single_parent)),
    ("零就业家庭", 8, lambda a: _yes_no(a.zero_employment)),
    ("开户银行", 14, lambda a: a.bank_name),
    ("开户支行", 20, lambda a: a.bank_branch),
    ("工商银行账号", 22, lambda a: a.masked_bank_account),
    ("所属工会", 24, lambda a: a.union.name),
    ("档案状态", 8, lambda a: Status(a.status).label),
    ("注销或脱困原因", 12, lambda a: label_of(ClosingReason, a.status_reason)),
    ("建档日期", 12, lambda a: _date(a.created_at)),
    ("最近帮扶时间", 12, lambda a: _date(a.last_helped_at)),
)
HEADERS = tuple(header for header, _width, _value in COLUMNS)
MEMBER_COLUMNS: tuple[tuple[str, int], ...] = (
    ("档案编号", 10), ("户主姓名", 10), ("户主身份证号码", 22), ("成员姓名", 10), ("与户主关系", 10),
    ("身份证号码", 22), ("月收入（元）", 12), ("健康状况", 14), ("就业或就学情况", 20))


def archives_to_export(session: Session, actor: Actor, union: str | None = None) -> Iterable[Archive]:
    """Every archive `actor` may see (of the union with code `union`, if given), through the archives' read model
    a page at a time, in its order."""
    filters, page = ArchiveFilters(union=union), 1
    while True:
        found = listing(session, actor, filters, page=page, per_page=MAX_PER_PAGE)
        yield from found.items
        if page * found.per_page >= found.total or not found.items:
            return
        page += 1


def archive_workbook(archives: Iterable[Archive], unit: str, now: dt.datetime) -> bytes:
    """The workbook: sheet 困难职工档案 (one row per archive) and 家庭成员 (one row per member)."""
    book = Workbook()
    book.properties.title, book.properties.creator = f"困难职工档案（{unit}）", "送暖"
    sheet = book.active
    sheet.title = "困难职工档案"
    members = book.create_sheet("家庭成员")
    _header(sheet, HEADERS, [width for _h, width, _v in COLUMNS])
    _header(members, [h for h, _w in MEMBER_COLUMNS], [w for _h, w in MEMBER_COLUMNS])
    for archive in archives:
        _row(sheet, [value(archive) for _h, _w, value in COLUMNS])
        for member in archive.members:
            _row(members, [archive.id, archive.applicant_name, mask_id(archive.id_number), member.name,
                           member.relation, mask_id(member.id_number), member.monthly_income, member.health,
                           member.occupation])
    day = now.astimezone(LOCAL).date()
    for ws in (sheet, members):
        ws.oddFooter.left.text = f"{unit}　导出日期：{day.year}年{day.month}月{day.day}日"
    return workbook_bytes(book)


def _header(sheet, headers, widths) -> None:
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment, cell.border = Font(name=HEADING, size=11), SHADE, CENTER, BOX
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.row_dimensions[1].height = 30
    sheet.freeze_panes = "A2"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"


def _row(sheet, values: list[Any]) -> None:
    sheet.append([cell_value(v) for v in values])
    for cell in sheet[sheet.max_row]:
        cell.font, cell.border = Font(name=BODY, size=11), BOX
        if isinstance(cell.value, Decimal):
            cell.number_format = MONEY
