"""台账导入: a union's existing ledger (an Excel sheet, one person a row) into household archives (DOMAIN.md,
Household archive: "imported from the union's existing ledger", status 在档).

Every row is checked before anything is written, by the rules the archive form uses (inputs.ArchiveIn and
rules.field_problems, their dotted fields mapped back to the ledger's columns), against the code lists (the Chinese
labels a cadre types), the other rows of the file and the live archives anywhere in the district (一户一档). Any
error and nothing is stored; every error is named by its Excel row and its column, in Chinese.

A row is a person. A household's head (户主) fills the household's columns and leaves 户主身份证号码 empty (or repeats
their own number); each member is a row of its own whose 户主身份证号码 is the head's 身份证号码.

Made for thousands of rows: the holders of the file's numbers are one query (chunked IN), the archives one flush, their
numbers one bulk insert in a savepoint (a race lost there is a refusal naming the holder, as hold_numbers does), and
their events one append to the chain, one event per archive.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.archive_states import Status
from workflows.errors import Forbidden, Invalid, Reason, Refused
from workflows.identity import mask_id, normalize_id
from workflows.infra import audit
from workflows.infra.clock import Clock, local_date, to_db
from workflows.inputs import NATIONAL_FIELDS, ArchiveIn, HouseholdIn, parse
from workflows.models import Archive, ArchiveMember, ArchiveNumber, Union
from workflows.money import AmountError, parse_amount
from workflows.states import UNION_ROLES, Action, Role
from workflows.texts import N_, Verbatim
from workflows.verbs import households
from workflows.verbs.archives import note_income
from workflows.vocab import (
    ArchiveType,
    Category,
    Cause,
    EmployerNature,
    Gender,
    HousingType,
    Hukou,
    Insurance,
    Marital,
    ModelWorker,
    Political,
    UnionKind,
    WorkerGroup,
    WorkStatus,
)

# Who imports: a union's cadre or head into their own union; the district's reviewer (and the console, which acts
# as the administrator) into a grassroots union they name.
DISTRICT_IMPORTERS = (Role.reviewer, Role.admin)
IMPORTERS = (*UNION_ROLES, *DISTRICT_IMPORTERS)
# A union's ledger is hundreds of households, a large one a few thousand: beyond this a file is a mistake (or the
# district's whole list, to be split by union).
MAX_ROWS = 20000
# Errors listed at most (the count says how many there are): a file with shifted columns is wrong in every cell.
MAX_ERRORS = 2000
# Numbers per IN list: far below every database's limit on bound parameters.
CHUNK = 900
MAX_MEMBERS = next(m.max_length for m in HouseholdIn.model_fields["members"].metadata if hasattr(m, "max_length"))

HEAD, MEMBER, PERSON = "head", "member", "person"
SELF = ("本人", "户主")  # what a head's row may say in 与户主关系


@dataclass(frozen=True)
class Column:
    """A column of the ledger: its header, where a head's cell goes in ArchiveIn (dotted) and a member's in
    MemberIn, what a cell holds, and what the template's explanation sheet says of it."""

    header: str
    head: str | None
    member: str | None
    kind: str            # text, digits (numbers kept as text), money, decimal, code, codes, yes_no
    vocab: type | None = None
    required: bool = False  # in the header; and a head's row must fill it (a member's: 姓名, 与户主关系)
    note: str = ""
    width: int = 12

    @property
    def scope(self) -> str:
        """Whose rows fill it: a head's, a member's, or both (与户主关系 too: 本人 on a head's row)."""
        if (self.head and self.member) or self.header in ("户主身份证号码", "与户主关系"):
            return PERSON
        return HEAD if self.head else MEMBER


COLUMNS: tuple[Column, ...] = (
    Column("姓名", "applicant.name", "name", "text", required=True, width=10,
           note="户主或家庭成员的姓名"),
    Column("身份证号码", "applicant.id_number", "id_number", "digits", required=True, width=22,
           note="18位居民身份证号码，最后一位可以是X；户主必填，家庭成员有则填"),
    Column("户主身份证号码", None, None, "digits", required=True, width=22,
           note="家庭成员的行填所属户主的身份证号码；户主的行不填（或填本人的号码）"),
    Column("与户主关系", None, "relation", "text", required=True, width=10,
           note="家庭成员的行必填，如配偶、子女、父母；户主的行填“本人”或不填"),
    Column("性别", "applicant.gender", None, "code", Gender, required=True, width=6),
    Column("手机号码", "applicant.phone", None, "digits", required=True, width=14,
           note="手机11位，或带区号的座机号码"),
    Column("工作单位", "applicant.employer", None, "text", required=True, width=20),
    Column("职工类别", "worker_group", None, "code", WorkerGroup, required=True),
    Column("困难类别", "category", None, "code", Category, required=True, width=10),
    Column("主要致困原因", "causes.primary", None, "code", Cause, required=True, width=16),
    Column("次要致困原因", "causes.secondary", None, "codes", Cause, width=22,
           note="最多3项，用顿号“、”分隔，不能与主要致困原因相同"),
    Column("家庭年收入", "household.annual_income", None, "money", required=True,
           note="全家上一年的总收入，单位元，最多两位小数"),
    Column("医疗支出", "household.spending.illness", None, "money", note="全家一年的医疗刚性支出，单位元"),
    Column("残疾支出", "household.spending.disability", None, "money", note="全家一年的残疾康复刚性支出，单位元"),
    Column("就学支出", "household.spending.schooling", None, "money", note="子女一年的就学刚性支出，单位元"),
    Column("赔偿保险金", "household.compensation", None, "money", note="意外致困时已获得的赔偿和保险金，单位元"),
    Column("住房情况", "household.housing", None, "text", width=20, note="如：租住公房一间约20平方米"),
    Column("工商银行账号", "bank_account", None, "digits", required=True, width=22,
           note="户主本人的工商银行卡号，16至19位数字"),
    Column("开户银行", "national.bank_name", None, "text", width=14, note="如：中国工商银行"),
    Column("开户支行", "national.bank_branch", None, "text", width=16),
    Column("月收入", None, "monthly_income", "money", width=10, note="家庭成员本人的月收入，单位元"),
    Column("健康状况", None, "health", "text", width=12, note="家庭成员的健康状况，如良好、患病、残疾"),
    Column("职业", None, "occupation", "text", width=14, note="家庭成员的职业或就学情况，如无业、在校学生"),
    Column("档案类型", "national.archive_type", None, "code", ArchiveType, width=14),
    Column("劳模类型", "national.model_worker", None, "code", ModelWorker),
    Column("民族", "national.ethnicity", None, "text", width=8, note="如：汉族"),
    Column("政治面貌", "national.political", None, "code", Political, width=10),
    Column("婚姻状况", "national.marital", None, "code", Marital, width=10),
    Column("户口类型", "national.hukou", None, "code", Hukou, width=10),
    Column("户口所在地行政区划", "national.hukou_area", None, "digits", width=12, note="6位行政区划代码，如110105"),
    Column("工作状态", "national.work_status", None, "code", WorkStatus, width=10),
    Column("单位性质", "national.employer_nature", None, "code", EmployerNature),
    Column("住房类型", "national.housing_type", None, "code", HousingType, width=10),
    Column("建筑面积", "national.floor_area", None, "decimal", width=10, note="住房建筑面积，单位平方米"),
    Column("医保状况", "national.insurance", None, "code", Insurance, width=10),
    Column("单亲家庭", "national.single_parent", None, "yes_no", width=8, note="填“是”或“否”，不填为否"),
    Column("零就业家庭", "national.zero_employment", None, "yes_no", width=8, note="填“是”或“否”，不填为否"),
    Column("职工编号", "national.national_number", None, "digits", width=16,
           note="已录入全国工会帮扶工作管理系统的，填该系统的职工编号"),
)
BY_HEADER = {c.header: c for c in COLUMNS}
ORDER = {c.header: i for i, c in enumerate(COLUMNS)}
REQUIRED = tuple(c.header for c in COLUMNS if c.required)
NAME, ID, HEAD_ID, RELATION = "姓名", "身份证号码", "户主身份证号码", "与户主关系"
# Other names people give the same columns (the national system's export among them).
ALIASES = {"联系电话": "手机号码", "电话": "手机号码", "单亲": "单亲家庭", "就业或就学情况": "职业", "成员姓名": "姓名",
           "月收入（元）": "月收入", "银行账号": "工商银行账号", "身份证号": "身份证号码", "户主身份证号": "户主身份证号码"}
# Where each dotted field of ArchiveIn (and of a member) is in the ledger.
HEAD_FIELDS = {c.head: c.header for c in COLUMNS if c.head}
MEMBER_FIELDS = {c.member: c.header for c in COLUMNS if c.member}


def choices(vocab: type) -> list[str]:
    """The labels a cadre picks from, in the vocabulary's order."""
    return [member.label for member in vocab]


def _codes(vocab: type) -> dict[str, str]:
    found = {member.value: member.value for member in vocab}
    found.update({member.label: member.value for member in vocab})
    return found


CODES = {vocab: _codes(vocab) for vocab in {c.vocab for c in COLUMNS if c.vocab}}
YES, NO = ("是", "Y", "YES", "TRUE", "1"), ("否", "N", "NO", "FALSE", "0")


def canonical_header(text: Any) -> str:
    """A header as the template names it: without spaces, a trailing required mark (*) or unit in brackets
    (家庭年收入（元）), and with the other names people use for it."""
    name = re.sub(r"\s+", "", str(text if text is not None else ""))
    name = re.sub(r"[*＊]+$|^[*＊]+", "", name)
    name = ALIASES.get(name, name)
    if name not in BY_HEADER:
        name = re.sub(r"[（(][^（()）]*[)）]$", "", name)
    return ALIASES.get(name, name)


def check_headers(headers: Sequence[str]) -> None:
    """The header row as canonical_header gives it: refused, naming them, with columns unknown, twice or missing."""
    unknown = [h for h in headers if h not in BY_HEADER]
    if unknown:
        raise Invalid({"file": N_("不认识的列：%(unknown)s（请使用台账模板的列名）", unknown=Verbatim("、".join(unknown)))})
    twice = sorted({h for h in headers if headers.count(h) > 1}, key=ORDER.get)
    if twice:
        raise Invalid({"file": N_("列名重复：%(twice)s", twice=Verbatim("、".join(twice)))})
    if missing := [h for h in REQUIRED if h not in headers]:
        raise Invalid({"file": N_("缺少必需的列：%(missing)s", missing=Verbatim("、".join(missing)))})


class LedgerRow(NamedTuple):
    number: int                # the Excel row number
    cells: Mapping[str, Any]   # header → the cell's value as the workbook holds it (text, number, date, ...)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"第{self.row}行 {self.column}：{self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class LedgerInvalid(Invalid):
    """The file's bad cells, each by row and column; nothing was stored."""

    def __init__(self, errors: list[RowError], total: int) -> None:
        self.rows = errors
        self.total = total
        shown = "" if total <= len(errors) else N_("，下面列出前%(shown)s处", shown=len(errors))
        super().__init__({"file": N_("台账有%(total)s处错误%(shown)s，没有导入任何数据；请改正后重新上传", total=total, shown=shown)})


@dataclass
class LedgerResult:
    households: int
    people: int
    archives: list[Archive] = field(default_factory=list)  # empty for a dry run


# ---------------------------------------------------------------- the cells

class _Bad(Exception):
    """A cell that cannot be read as its column's kind."""


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Bad(N_("应为文字"))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        raise _Bad(N_("应为文字"))
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        raise _Bad(N_("应为文字，不是日期"))
    return str(value).strip() or None


def _digits(value: Any) -> str | None:
    """A number kept as text (ID, bank, phone): Excel keeps only 15 significant digits of a number, so a longer one
    stored as a number has already lost its last digits."""
    if isinstance(value, float) and not (value.is_integer() and abs(value) < 1e15):
        raise _Bad(N_("被Excel存成了数字，超过15位的部分已丢失：请把该列设为文本格式后重新输入"))
    return _text(value)


def _decimal(value: Any, units: tuple[str, ...]) -> Any:
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        raise _Bad(N_("应为数字，不是日期"))
    if isinstance(value, str):
        value = value.strip()
        for unit in units:  # before parse_amount's NFKC, which makes ㎡ "m2"
            value = value.removesuffix(unit).rstrip()
    try:
        return parse_amount(value)  # the one reader of amounts; places and size are the input model's to judge
    except AmountError as error:
        raise _Bad(error.args[0]) from None


# How much of a bad cell an error repeats: enough to find it, never a control character or a whole essay.
SHOWN = 20


def _shown(text: str) -> str:
    clean = "".join(c for c in text if c.isprintable())
    return clean if len(clean) <= SHOWN else clean[:SHOWN] + "…"


def _code(column: Column, value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    code = CODES[column.vocab].get(text)
    if code is None:
        raise _Bad(N_("「%(shown)s」不是可选的值，应为：%(choices)s", shown=Verbatim(_shown(text)),
                      choices=Verbatim("、".join(choices(column.vocab)))))
    return code


def _codes_of(column: Column, value: Any) -> list[str] | None:
    text = _text(value)
    if text is None:
        return None
    codes, unknown = [], []
    for part in (p for p in re.split(r"[、,，;；/\s]+", text) if p):
        code = CODES[column.vocab].get(part)
        (codes if code else unknown).append(code or part)
    if unknown:
        raise _Bad(N_("「%(shown)s」不是可选的值，应为：%(choices)s", shown=Verbatim(_shown("、".join(unknown))),
                      choices=Verbatim("、".join(choices(column.vocab)))))
    return codes


def _yes_no(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text is None:
        return None
    if text.upper() in YES:
        return True
    if text.upper() in NO:
        return False
    raise _Bad(N_("应填“是”或“否”"))


def cell_value(column: Column, value: Any) -> Any:
    """The value of a cell for the input model; _Bad when it cannot be one."""
    if isinstance(value, str):
        value = value.strip() or None
    kind = column.kind
    if kind == "text":
        return _text(value)
    if kind == "digits":
        return _digits(value)
    if kind == "money":
        return _decimal(value, ("元",))
    if kind == "decimal":
        return _decimal(value, ("平方米", "㎡"))
    if kind == "code":
        return _code(column, value)
    if kind == "codes":
        return _codes_of(column, value)
    return _yes_no(value)


# ---------------------------------------------------------------- checking the file

@dataclass
class _Person:
    row: int
    values: dict[str, Any]          # header → value for the input model (cells that could be read)
    own: str | None = None          # the normalised 身份证号码
    head_ref: str | None = None     # the normalised 户主身份证号码

    @property
    def is_head(self) -> bool:
        return self.head_ref is None or self.head_ref == self.own


@dataclass
class _Household:
    head: _Person
    members: list[_Person] = field(default_factory=list)
    parsed: ArchiveIn | None = None


class _Errors:
    def __init__(self) -> None:
        self.cells: dict[tuple[int, str], str] = {}

    def add(self, row: int, column: str, message: str) -> None:
        self.cells.setdefault((row, column), message)  # the first problem of a cell is the one shown

    def has(self, row: int, column: str) -> bool:
        return (row, column) in self.cells

    def listed(self) -> list[RowError]:
        ordered = sorted(self.cells.items(), key=lambda item: (item[0][0], ORDER.get(item[0][1], len(ORDER))))
        return [RowError(row, column, message) for (row, column), message in ordered[:MAX_ERRORS]]


def _rows(rows: Iterable[LedgerRow | Mapping[str, Any]]) -> list[LedgerRow]:
    """The rows as given: a LedgerRow names its Excel row; a plain mapping is the row after the header."""
    out = []
    for i, row in enumerate(rows):
        out.append(row if isinstance(row, LedgerRow) else LedgerRow(i + 2, row))
    return out


def _people(rows: list[LedgerRow], errors: _Errors) -> list[_Person]:
    people = []
    for row in rows:
        values: dict[str, Any] = {}
        for header, raw in row.cells.items():
            column = BY_HEADER[header]
            try:
                value = cell_value(column, raw)
            except _Bad as bad:
                errors.add(row.number, header, bad.args[0])
                continue
            if value not in (None, ""):
                values[header] = value
        person = _Person(row.number, values)
        person.own = normalize_id(values[ID]) if values.get(ID) else None
        person.head_ref = normalize_id(values[HEAD_ID]) if values.get(HEAD_ID) else None
        if person.head_ref is None and errors.has(row.number, HEAD_ID):
            person.head_ref = "?"  # unreadable: a member whose head is not known, not a head
        people.append(person)
    return people


def _households(people: list[_Person], errors: _Errors) -> list[_Household]:
    """Each head with its members, in the file's order; a member without its head's row is an error."""
    found: list[_Household] = []
    heads: dict[str, _Household] = {}
    for person in people:
        if person.is_head:
            household = _Household(person)
            found.append(household)
            if person.own:
                heads.setdefault(person.own, household)
    member_rows = {p.own: p.row for p in people if not p.is_head and p.own}
    for person in people:
        if person.is_head:
            relation = person.values.get(RELATION)
            if relation is not None and relation not in SELF:
                errors.add(person.row, RELATION, N_("户主的行此列填“本人”或不填；家庭成员的行请同时填写户主身份证号码"))
            for header in person.values:
                if BY_HEADER[header].scope == MEMBER:
                    errors.add(person.row, header, N_("此列只在家庭成员的行填写，户主的行不填"))
            continue
        for header in person.values:
            if BY_HEADER[header].scope == HEAD:
                errors.add(person.row, header, N_("家庭成员的行不填此列：户的情况填在户主的行"))
        if person.head_ref == "?":
            continue
        household = heads.get(person.head_ref)
        if household is None:
            if person.head_ref in member_rows:
                errors.add(person.row, HEAD_ID, N_("该号码是第%(row)s行家庭成员的，不是户主的；"
                                                "请填户主本人的身份证号码", row=member_rows[person.head_ref]))
            else:
                errors.add(person.row, HEAD_ID, N_("本表中没有身份证号码为%(number)s的户主行", number=mask_id(person.head_ref)))
            continue
        if len(household.members) >= MAX_MEMBERS:
            errors.add(person.row, HEAD_ID, N_("一户最多%(limit)s名家庭成员", limit=MAX_MEMBERS))
            continue
        household.members.append(person)
    return found


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[leaf] = value


def _input(household: _Household) -> dict[str, Any]:
    """The household as ArchiveIn's input (absent cells absent: the model's defaults stand)."""
    data: dict[str, Any] = {}
    for header, value in household.head.values.items():
        column = BY_HEADER[header]
        if column.head:
            _set(data, column.head, value)
    members = []
    for person in household.members:
        members.append({BY_HEADER[h].member: v for h, v in person.values.items() if BY_HEADER[h].member})
    _set(data, "household.members", members)
    return data


def _cell(household: _Household, path: str) -> tuple[int, str]:
    """The row and column of a dotted field of the household's input."""
    parts = path.split(".")
    if parts[:2] == ["household", "members"] and len(parts) > 2 and parts[2].isdigit():
        index = int(parts[2])
        person = household.members[index] if index < len(household.members) else household.head
        return person.row, MEMBER_FIELDS.get(".".join(parts[3:4]), NAME)
    for end in range(len(parts), 0, -1):
        if (header := HEAD_FIELDS.get(".".join(parts[:end]))) is not None:
            return household.head.row, header
    return household.head.row, NAME


# Fields the input model requires: an unreadable one is replaced by a placeholder, so that the rest is checked.
_REQUIRED_LEAVES = {"name", "relation"}


def _drop(data: dict[str, Any], path: str) -> None:
    """Take a refused field out of the input, so that parsing again checks the other fields."""
    node: Any = data
    parts = path.split(".")
    for i, part in enumerate(parts[:-1]):
        child = node[int(part)] if isinstance(node, list) else node.get(part) if isinstance(node, dict) else None
        if isinstance(child, list) and not all(isinstance(item, dict) for item in child):
            node.pop(part, None)  # a list of codes (the secondary causes): dropped whole
            return
        if child is None:
            return
        node = child
    leaf = parts[-1]
    if isinstance(node, dict):
        if leaf in _REQUIRED_LEAVES:
            node[leaf] = "-"
        else:
            node.pop(leaf, None)
    elif isinstance(node, list) and leaf.isdigit():
        node.clear()


def _parse(household: _Household, errors: _Errors, today: dt.date) -> None:
    """The household by the archive form's rules: the input model, then rules.field_problems."""
    data = _input(household)
    for _attempt in range(5):
        try:
            parsed = parse(ArchiveIn, data)
        except Invalid as error:
            for path, message in error.fields.items():
                if path == "household.members":
                    message = N_("家庭成员%(message)s", message=message)
                errors.add(*_cell(household, path), message)
                _drop(data, path)
            continue
        for path, message in rules.field_problems(parsed, today).items():
            errors.add(*_cell(household, path), message)
        household.parsed = parsed
        return


def _required(household: _Household, errors: _Errors) -> None:
    """What an archive imported as 在档 must have: every required column of the head's row."""
    for header in REQUIRED:
        column = BY_HEADER[header]
        if column.head and header not in household.head.values:
            errors.add(household.head.row, header, N_("必填"))


def _duplicates(people: list[_Person], errors: _Errors) -> None:
    """An ID number once in the file, as head or member (一人只能在一户)."""
    rows: dict[str, list[int]] = {}
    for person in people:
        if person.own:
            rows.setdefault(person.own, []).append(person.row)
    for found in rows.values():
        for row in found if len(found) > 1 else ():
            others = [str(r) for r in found if r != row]
            errors.add(row, ID, N_("与第%(others)s行的身份证号码重复：一人只能在一户中出现一次", others=others))


def _holders(session: Session, people: list[_Person], errors: _Errors) -> None:
    """An ID number held by a live archive anywhere in the district (一户一档): one query, chunked."""
    numbers = sorted({p.own for p in people if p.own and len(p.own) == 18})
    held: dict[str, tuple[str, int]] = {}
    for start in range(0, len(numbers), CHUNK):
        for number, union, archive_id in rules.archive_holders(session, numbers[start:start + CHUNK]):
            held.setdefault(number, (union, archive_id))
    for person in people:
        if person.own in held:
            union, archive_id = held[person.own]
            errors.add(person.row, ID, N_("已有困难职工档案（%(union)s，档案#%(archive)s），一户只能建一个档案", union=union,
                                          archive=archive_id))


def check(session: Session, rows: Iterable[LedgerRow | Mapping[str, Any]], today: dt.date) -> list[_Household]:
    """Every row checked; the households when all are good, LedgerInvalid (every bad cell) otherwise."""
    rows = _rows(rows)
    if not rows:
        raise Invalid({"file": N_("台账中没有数据：第一行是列名，从第二行起每行填一人")})
    if len(rows) > MAX_ROWS:
        raise Invalid({"file": N_("行数太多：一次最多导入%(limit)s行，请分成几个文件", limit=MAX_ROWS)})
    check_headers(list(dict.fromkeys(h for row in rows for h in row.cells)))
    errors = _Errors()
    people = _people(rows, errors)
    found = _households(people, errors)
    for household in found:
        _required(household, errors)
        _parse(household, errors, today)
    _duplicates(people, errors)
    _holders(session, people, errors)
    if errors.cells:
        raise LedgerInvalid(errors.listed(), len(errors.cells))
    return found


# ---------------------------------------------------------------- the verb

def ledger_union(session: Session, actor: Actor, union_code: str | None) -> Union:
    """The union the ledger is of: the actor's own, or, for the district, the grassroots union named (asked before
    a file is read, so that one nobody may import is not parsed for nothing)."""
    rules.require_role(actor, IMPORTERS, N_("导入台账"))
    code = (union_code or "").strip() or None
    if actor.role in UNION_ROLES:
        union = session.get(Union, actor.union_id)
        if code is not None and code != union.code:
            raise Forbidden(Reason("union", N_("只能导入本工会的台账")))
        return union
    if code is None:
        raise Invalid({"union": N_("请选择台账所属的基层工会")})
    union = session.scalar(select(Union).where(Union.code == code, Union.kind == UnionKind.grassroots))
    if union is None:
        raise Invalid({"union": N_("没有代码为%(code)s的基层工会", code=code)})
    return union


def import_archives(session: Session, actor: Actor, clock: Clock, union_code: str | None,
                    rows: Iterable[LedgerRow | Mapping[str, Any]], dry_run: bool = False) -> LedgerResult:
    """The ledger's households as archives of the union (在档, imported), all or none. With `dry_run` only checked:
    nothing is written. Refused with LedgerInvalid naming every bad cell."""
    union = ledger_union(session, actor, union_code)
    now = clock.now()
    rows = _rows(rows)
    found = check(session, rows, local_date(now))
    result = LedgerResult(len(found), len(rows))
    if dry_run:
        return result
    result.archives = _store(session, actor, now, union, found)
    return result


def _store(session: Session, actor: Actor, now: dt.datetime, union: Union,
           found: list[_Household]) -> list[Archive]:
    stamp = to_db(now)
    made: list[tuple[Archive, dict[str, Any], _Household]] = []
    for household in found:
        parsed = household.parsed
        values = households.columns(parsed)
        national = {name: getattr(parsed.national, name) for name in NATIONAL_FIELDS}
        archive = Archive(union_id=union.id, status=Status.active, created_by_id=actor.id, created_at=stamp,
                          updated_at=stamp, imported_at=stamp, **values, **national)
        archive.members = households.members(parsed, ArchiveMember)
        session.add(archive)
        note_income(session, archive, now)
        made.append((archive, {**values, **national}, household))
    session.flush()
    _hold(session, [archive for archive, _values, _household in made])
    events = []
    for archive, values, household in made:
        changes = audit.created(households.given(values))
        if archive.members:
            changes["members"] = [None, households.member_summary(archive.members)]
        events.append(audit.row(actor, now, Action.import_archive, archive_id=archive.id, to_state=Status.active,
                                comment=f"从{union.name}的台账导入（第{household.head.row}行）", changes=changes))
    audit.append_many(session, events)
    return [archive for archive, _values, _household in made]


def _hold(session: Session, archives: list[Archive]) -> None:
    """Their numbers in archive_numbers, in bulk, in a savepoint: a number another writer took since the check is
    refused by the database's key, and named."""
    rows = [{"id_digest": key, "archive_id": archive.id} for archive in archives for key in archive.digests]
    try:
        with session.begin_nested():
            for start in range(0, len(rows), CHUNK):
                session.execute(insert(ArchiveNumber.__table__), rows[start:start + CHUNK])
    except IntegrityError:
        numbers = sorted(number for archive in archives for number in archive.numbers)
        reasons = [reason for start in range(0, len(numbers), CHUNK)
                   for reason in rules.holder_reasons(session, numbers[start:start + CHUNK])]
        raise Refused(*(reasons or [Reason("archive_duplicate", N_("台账中的身份证号码刚被另一个档案登记，请重新检查后再导入"))])) \
            from None
