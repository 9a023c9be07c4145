"""The shape of a case as it comes in (API body, form, CLI, demo), with its types and lengths.

Pydantic checks types, lengths and vocabularies; the rules that need the domain (check digits, birth dates,
duplicates) live in workflows/rules. Errors come out as {dotted.field: 中文说明}.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from workflows.errors import Invalid
from workflows.identity import normalize_account, normalize_id
from workflows.infra.clock import LOCAL
from workflows.money import AmountError, read_money
from workflows.texts import N_, Text
from workflows.vocab import (
    MAX_SECONDARY_CAUSES,
    OLD_CAUSES,
    AidKind,
    ArchiveType,
    Category,
    Cause,
    EmployerNature,
    Exclusion,
    Gender,
    HousingType,
    Hukou,
    Insurance,
    Marital,
    ModelWorker,
    Political,
    WorkerGroup,
    WorkStatus,
)



def _amount(value: Any) -> Any:
    """An amount as typed ("1,500", "1500元", "¥1500", "30万") or sent (a JSON number), judged by the one rule of
    money, workflows.money.read_money, in its words."""
    try:
        return read_money(value)
    except AmountError as error:
        raise PydanticCustomError("amount", "{message}", {"message": error.args[0]}) from None


Money = Annotated[Decimal, BeforeValidator(_amount)]

# ---------------------------------------------------------------- text
# No text anyone types holds a control character (C0, DEL, C1): none is ever meant, and .xlsx cannot hold them. A
# one-line text (a name, a code, a place) takes no line break or tab either: it is printed in headings, table cells
# and sheet names. Only the free texts marked MULTILINE (comments, statements, reasons) take line breaks and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LINE_MESSAGE = N_("不能包含换行或控制字符")
TEXT_MESSAGE = N_("不能包含控制字符")


def line_problem(value: Any) -> str | None:
    """Why `value` cannot be a one-line text; None when it can (or is no text)."""
    return LINE_MESSAGE if isinstance(value, str) and _CONTROL.search(value) else None


def text_problem(value: Any) -> str | None:
    """Why `value` cannot be a free text of several lines; None when it can (or is no text)."""
    return TEXT_MESSAGE if isinstance(value, str) and _CONTROL_IN_TEXT.search(value) else None


def _lines(value: Any) -> Any:
    if text_problem(value):
        raise PydanticCustomError("control_character_text", TEXT_MESSAGE)
    return value


# Marks a field whose text may have several lines: Annotated[str | None, MULTILINE].
MULTILINE = AfterValidator(_lines)


def _personal(normalize):
    """The one normalisation of a personal number (workflows.identity) as a field's first step; what is not text
    is left for the type check to refuse."""
    return BeforeValidator(lambda value: normalize(value) if isinstance(value, str) else value)


# A personal number as typed, normalised before its length is checked: rules.fields then refuses what is not ASCII.
IdNumber = Annotated[str, _personal(normalize_id)]
AccountNumber = Annotated[str, _personal(normalize_account)]


def _marked(annotation: Any) -> bool:
    return any(arg is MULTILINE or _marked(arg) for arg in get_args(annotation))


@cache
def _multiline(model: type[BaseModel], name: str) -> bool:
    info = model.model_fields[name]
    return MULTILINE in info.metadata or _marked(info.annotation)


class Input(BaseModel):
    """What every input model is: no unknown field, text stripped, and one line unless marked MULTILINE."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _one_line(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name and line_problem(value) and not _multiline(cls, info.field_name):
            raise PydanticCustomError("control_character", LINE_MESSAGE)
        return value


class ApplicantIn(Input):
    name: str = Field(min_length=1, max_length=50)
    gender: Gender | None = None
    id_number: IdNumber | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    employer: str | None = Field(default=None, max_length=100)


class MemberIn(Input):
    name: str = Field(min_length=1, max_length=50)
    relation: str = Field(min_length=1, max_length=20)
    id_number: IdNumber | None = Field(default=None, max_length=20)
    monthly_income: Money | None = None
    health: str | None = Field(default=None, max_length=100)
    occupation: str | None = Field(default=None, max_length=100)


class SpendingIn(Input):
    """The household's rigid spending a year, taken off its income (DOMAIN.md, Recognition)."""

    illness: Money | None = None
    disability: Money | None = None
    schooling: Money | None = None


class HouseholdIn(Input):
    annual_income: Money | None = None
    housing: str | None = Field(default=None, max_length=200)
    members: list[MemberIn] = Field(default_factory=list, max_length=20)
    spending: SpendingIn = Field(default_factory=SpendingIn)
    # Compensation and insurance received (赔偿、保险金): an accident is judged after them.
    compensation: Money | None = None


def _national(code: Any) -> Any:
    """A cause of the first code list read as its national code."""
    return OLD_CAUSES.get(code, code) if isinstance(code, str) else code


def _causes(value: Any) -> Any:
    """The secondary causes: a list, or one code as before (or none)."""
    if value is None or value == "":
        return []
    return [_national(v) for v in value] if isinstance(value, list) else [_national(value)]


NationalCause = Annotated[Cause, BeforeValidator(_national)]


class CausesIn(Input):
    """One primary cause and up to three secondary ones, of the national code list."""

    primary: NationalCause | None = None
    secondary: Annotated[list[NationalCause], BeforeValidator(_causes),
                         Field(max_length=MAX_SECONDARY_CAUSES)] = Field(default_factory=list)


class AidIn(Input):
    kind: AidKind | None = None
    amount: Money | None = None
    medical: bool = False
    # Why the amount is not the campaign's tariff for the household (rules/tariffs.py).
    amount_reason: Annotated[str | None, MULTILINE] = Field(default=None, max_length=500)
    # Goods (送实物): what is handed over and its value (物资折款).
    goods_items: Annotated[str | None, MULTILINE] = Field(default=None, max_length=500)
    goods_value: Money | None = None


class HouseholdData(Input):
    """The household as an archive holds it and a case copies it."""

    applicant: ApplicantIn
    worker_group: WorkerGroup | None = None
    category: Category | None = None
    causes: CausesIn = Field(default_factory=CausesIn)
    household: HouseholdIn = Field(default_factory=HouseholdIn)
    bank_account: AccountNumber | None = Field(default=None, max_length=30)
    # Why a category that does not fit the minimum living standard was chosen (the reviewer reads it).
    category_reason: Annotated[str | None, MULTILINE] = Field(default=None, max_length=500)
    exclusions: Annotated[list[Exclusion], Field(max_length=len(Exclusion))] = Field(default_factory=list)


class CaseIn(HouseholdData):
    """Everything a cadre fills in. Only the applicant's name is needed to save a draft; `document` needs all."""

    aid: AidIn = Field(default_factory=AidIn)


class NationalIn(Input):
    """The fields of the national archive form (DOMAIN.md, Household archive) beyond the case's."""

    archive_type: ArchiveType | None = None
    model_worker: ModelWorker | None = None
    ethnicity: str | None = Field(default=None, max_length=20)
    political: Political | None = None
    marital: Marital | None = None
    hukou: Hukou | None = None
    hukou_area: str | None = Field(default=None, pattern=r"^[0-9]{6}$")  # ASCII digits: \d takes any script's
    work_status: WorkStatus | None = None
    employer_nature: EmployerNature | None = None
    housing_type: HousingType | None = None
    floor_area: Annotated[Decimal, Field(ge=0, max_digits=8, decimal_places=2)] | None = None
    insurance: Insurance | None = None
    single_parent: StrictBool = False
    zero_employment: StrictBool = False
    bank_name: str | None = Field(default=None, max_length=50)
    bank_branch: str | None = Field(default=None, max_length=100)
    national_number: str | None = Field(default=None, max_length=32)


NATIONAL_FIELDS = tuple(NationalIn.model_fields)


class ArchiveIn(HouseholdData):
    """An archive as it comes in: the case body without its campaign and aid, and the national form's fields."""

    national: NationalIn = Field(default_factory=NationalIn)


MESSAGES = {
    "missing": N_("必填"),
    "string_too_short": N_("不能为空"),
    "string_too_long": N_("太长，最多%(max_length)s个字"),
    "too_long": N_("太多，最多%(max_length)s项"),
    "enum": N_("不是可选的值"),
    "extra_forbidden": N_("不认识的字段"),
    "decimal_parsing": N_("应为数字"),
    "decimal_type": N_("应为数字"),
    "decimal_max_places": N_("最多两位小数"),
    "decimal_max_digits": N_("数额太大"),
    "decimal_whole_digits": N_("数额太大"),
    "greater_than_equal": N_("不能小于%(ge)s"),
    "greater_than": N_("应大于%(gt)s"),
    "less_than": N_("太大"),
    "less_than_equal": N_("不能大于%(le)s"),
    "literal_error": N_("不是可选的值"),
    "string_pattern_mismatch": N_("格式不对"),
    "json_invalid": N_("不是有效的JSON"),
    "bool_parsing": N_("应为是或否"),
    "bool_type": N_("应为是或否"),
    "string_type": N_("应为文字"),
    "model_type": N_("格式不对"),
    "model_attributes_type": N_("格式不对"),
    "list_type": N_("应为列表"),
    "int_parsing": N_("应为整数"),
    "int_type": N_("应为整数"),
    "control_character": LINE_MESSAGE,
    "control_character_text": TEXT_MESSAGE,
    "amount": "%(message)s",  # workflows.money.parse_amount's own words
}


def field_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors in a cadre's words (translatable, workflows/texts.py), keyed by the dotted path of the
    field."""
    fields: dict[str, str] = {}
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "body"
        template = MESSAGES.get(item["type"], N_("格式不对"))
        fields.setdefault(path, Text(template, **(item.get("ctx") or {})))
    return fields


def parse(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        raise Invalid({"body": N_("应为一个对象")})
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise Invalid(field_errors(error)) from None


def parse_case(data: Any) -> CaseIn:
    return parse(CaseIn, data)


def _household(record: Any) -> dict[str, Any]:
    """The household fields of a stored case or archive, as the input that would give them."""
    return dict(
        applicant=ApplicantIn.model_construct(name=record.applicant_name, gender=record.gender,
                                              id_number=record.id_number, phone=record.phone,
                                              employer=record.employer),
        worker_group=record.worker_group, category=record.category,
        causes=CausesIn.model_construct(primary=record.primary_cause, secondary=list(record.secondary_causes or [])),
        household=HouseholdIn.model_construct(
            annual_income=record.annual_income, housing=record.housing,
            members=[MemberIn.model_construct(name=m.name, relation=m.relation, id_number=m.id_number,
                                              monthly_income=m.monthly_income, health=m.health,
                                              occupation=m.occupation) for m in record.members],
            spending=SpendingIn.model_construct(illness=record.spending_illness,
                                                disability=record.spending_disability,
                                                schooling=record.spending_schooling),
            compensation=record.compensation),
        bank_account=record.bank_account, category_reason=record.category_reason,
        exclusions=list(record.exclusions or []),
    )


def case_input(case: Any) -> CaseIn:
    """A stored case (models.Case) as the input that would create it: for edits and for re-checking fields."""
    return CaseIn.model_construct(
        **_household(case), aid=AidIn.model_construct(kind=case.aid_kind, amount=case.aid_amount, medical=case.medical,
                                                amount_reason=case.amount_reason, goods_items=case.goods_items,
                                                goods_value=case.goods_value))


def archive_input(archive: Any) -> ArchiveIn:
    """A stored archive (models.Archive) as the input that would create it."""
    return ArchiveIn.model_construct(
        **_household(archive),
        national=NationalIn.model_construct(**{name: getattr(archive, name) for name in NATIONAL_FIELDS}))


# The years a campaign's dates may fall in: beyond them a date is a typing error (and 9999-12-31 24:00 overflows).
YEARS = (2000, 2100)


def parse_day(value: Any) -> dt.date | None:
    """A date as typed or sent (2018-01-05); None for anything else."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def parse_year(value: Any) -> int | None:
    """A year as typed or sent (four ASCII digits within YEARS); None for anything else. ASCII only: str.isdigit
    takes superscripts, which int() refuses."""
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"[0-9]{4}", text) or not YEARS[0] <= int(text) <= YEARS[1]:
        return None
    return int(text)


def parse_number(value: Any, digits: int = 9) -> int | None:
    """A whole number from an address, a form or a console (an id, a version, a page): ASCII digits only, at most
    `digits` of them (9 stay within the database's integers), spaces around them aside; None for anything else.
    Never str.isdigit(): it takes "²", which int() refuses, and "١٢", which int() reads as another number."""
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if re.fullmatch(f"[0-9]{{1,{digits}}}", text) else None


def parse_deadline(text: str) -> dt.datetime:
    """An ISO-8601 instant; without a zone it is local time; a bare date means the end of that day."""
    text = (text or "").strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LOCAL)
        else:
            moment = dt.datetime.fromisoformat(text)
        if not YEARS[0] <= moment.year <= YEARS[1]:
            raise ValueError
    except (ValueError, OverflowError):
        raise Invalid({"deadline": N_("截止时间格式应为 2018-01-25 或 2018-01-25T17:00")}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)
