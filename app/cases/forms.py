"""The case form: the fields of workflows.inputs.CaseIn, named by their dotted paths ("applicant.id_number",
"household.members.0.name") so that the keys of Invalid.fields name the inputs they belong to. The household part
(HouseholdFields: workflows.inputs.HouseholdData) is the archive form's too (app/archives/forms.py).

The form only carries what was typed: it validates nothing (the verbs do), and every value stays text so that a
wrong entry comes back to the cadre as typed. Full ID and bank numbers are never put back into the page: a stored
number shows masked next to an empty input, and an empty input keeps the stored number.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, FormField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.fields import FieldList
from wtforms.fields.choices import SelectChoice

from workflows.errors import Refused
from workflows.identity import mask_account, mask_id, normalize_id
from workflows.inputs import case_input
from workflows.models import Case
from workflows.vocab import MAX_SECONDARY_CAUSES, AidKind, Category, Cause, Exclusion, Gender, WorkerGroup

# More rows than this in one request are dropped unread: the domain allows 20, this only bounds the work.
MAX_ROWS = 50


def choices(items) -> list[SelectChoice]:
    """(code, label) pairs as a select's options; the template prints each label as it is (a campaign's name is
    data: through gettext, a % in it was a format and the page a 500)."""
    return [SelectChoice(value, label) for value, label in items]


def vocab_choices(kind) -> list[SelectChoice]:
    """The codes of a vocabulary as options, each label translated when shown."""
    return choices((item.value, _l(item.label)) for item in kind)


def text_field(label) -> StringField:
    return StringField(label)


def select_field(label, kind) -> SelectField:
    # No choice check here: an unknown code reaches the schema, which names it in Chinese.
    return SelectField(label, choices=vocab_choices(kind), validate_choice=False)


class ApplicantForm(Form):
    name = text_field(_l("姓名"))
    gender = select_field(_l("性别"), Gender)
    id_number = text_field(_l("身份证号码"))
    phone = text_field(_l("联系电话"))
    employer = text_field(_l("工作单位"))


class CausesForm(Form):
    """One primary cause and up to three secondary ones (checkboxes), of the national code list."""

    primary = select_field(_l("主要致困原因"), Cause)
    secondary = SelectMultipleField(_l("次要致困原因（可不选，最多%(n)s项）", n=MAX_SECONDARY_CAUSES),
                                    choices=vocab_choices(Cause),
                                    validate_choice=False)


class MemberForm(Form):
    ref = HiddenField()  # the stored member this row shows (edits only): whose ID number an empty input keeps
    name = text_field(_l("姓名"))
    relation = text_field(_l("与申请人关系"))
    id_number = text_field(_l("身份证号码"))
    monthly_income = text_field(_l("月收入（元）"))
    health = text_field(_l("健康状况"))
    occupation = text_field(_l("就学或就业情况"))


MEMBER_INPUTS = ("name", "relation", "id_number", "monthly_income", "health", "occupation")


class SpendingForm(Form):
    """Rigid spending a year, taken off the income before it is compared with the minimum living standard."""

    illness = text_field(_l("医疗支出（元/年）"))
    disability = text_field(_l("残疾支出（元/年）"))
    schooling = text_field(_l("就学支出（元/年）"))


class HouseholdForm(Form):
    annual_income = text_field(_l("家庭年收入（元）"))
    housing = text_field(_l("住房情况"))
    members = FieldList(FormField(MemberForm, separator="."), _l("家庭成员"), separator=".", max_entries=MAX_ROWS)
    spending = FormField(SpendingForm, separator=".")
    compensation = text_field(_l("获得的赔偿和保险金（元）"))


class AidForm(Form):
    kind = select_field(_l("帮扶方式"), AidKind)
    amount = text_field(_l("帮扶金额（元）"))
    medical = BooleanField(_l("医疗救助案件（需另附重大疾病证明和住院结算单）"))
    amount_reason = text_field(_l("金额与标准不同的理由"))
    goods_items = text_field(_l("实物名称及数量（送实物）"))
    goods_value = text_field(_l("物资折款（元）"))


class HouseholdFields(FlaskForm):
    """The household as an archive holds it and a case copies it (workflows.inputs.HouseholdData)."""

    applicant = FormField(ApplicantForm, separator=".")
    worker_group = select_field(_l("职工类别"), WorkerGroup)
    category = select_field(_l("困难类别"), Category)
    causes = FormField(CausesForm, separator=".")
    household = FormField(HouseholdForm, separator=".")
    bank_account = text_field(_l("工商银行账号"))
    category_reason = text_field(_l("类别说明（所选困难类别与收入核算不符时填写理由）"))
    exclusions = SelectMultipleField(_l("不予建档情形"), choices=vocab_choices(Exclusion),
                                     validate_choice=False)


class CaseForm(HouseholdFields):
    """The fields of a case. `campaign` is read on creation only, `version` on edits only."""

    campaign = SelectField(_l("活动"), choices=[], validate_choice=False)
    version = HiddenField()
    aid = FormField(AidForm, separator=".")


def member_prototype() -> MemberForm:
    """An empty row whose names hold the placeholder __i__, for the script that adds rows in the browser."""
    return MemberForm(prefix="household.members.__i__.")


def initial_data(record: Any, as_input=case_input) -> dict[str, Any]:
    """What the edit form shows of a stored case (or, with `as_input` inputs.archive_input, an archive); personal
    numbers left out (they show masked beside the input)."""
    data = as_input(record).model_dump(mode="json", warnings=False)
    data["applicant"]["id_number"] = None
    data["bank_account"] = None
    for row, member in zip(data["household"]["members"], record.members):
        row["id_number"] = None
        row["ref"] = str(member.id)
    return data


def _value(field) -> str | None:
    """What was typed, trimmed; None when nothing was."""
    text = (field.data or "").strip()
    return text or None


def filled_rows(form: HouseholdFields) -> list[int]:
    """The positions of the rows with anything typed: rows added but left empty are not members."""
    return [index for index, row in enumerate(form.household.members.entries)
            if any(_value(row[name]) for name in MEMBER_INPUTS)]


def drop_empty_rows(form: HouseholdFields) -> None:
    """Forget the rows left empty, so that row N of the form is member N."""
    members, filled = form.household.members, filled_rows(form)
    for index in reversed(range(len(members.entries))):
        if index not in filled:
            members.pop_entry(index)


def _stored_members(record: Any | None) -> dict[str, Any]:
    return {str(member.id): member for member in record.members} if record is not None else {}


def household_data(form: HouseholdFields, record: Any | None = None) -> dict[str, Any]:
    """The household part of the input (HouseholdData's shape) from the form. On an edit (`record` given: the case
    or the archive), an empty ID or bank number input keeps the stored number."""
    a, h = form.applicant, form.household
    applicant = {"name": _value(a["name"]) or "", "gender": _value(a.gender), "id_number": _value(a.id_number),
                 "phone": _value(a.phone), "employer": _value(a.employer)}
    if record is not None and applicant["id_number"] is None:
        del applicant["id_number"]  # the edit verbs merge: an absent key keeps what the record holds
    stored = _stored_members(record)
    members = []
    for row in h.members.entries:
        id_number = _value(row.id_number)
        if id_number is None and row.ref.data in stored:
            id_number = stored[row.ref.data].id_number
        members.append({"name": _value(row["name"]) or "", "relation": _value(row.relation) or "",
                        "id_number": id_number, "monthly_income": _value(row.monthly_income),
                        "health": _value(row.health), "occupation": _value(row.occupation)})
    secondary = [code.strip() for code in form.causes.secondary.data or [] if code and code.strip()]
    spending = {name: _value(h.spending[name]) for name in ("illness", "disability", "schooling")}
    data = {
        "applicant": applicant,
        "worker_group": _value(form.worker_group), "category": _value(form.category),
        "causes": {"primary": _value(form.causes.primary), "secondary": secondary},
        "household": {"annual_income": _value(h.annual_income), "housing": _value(h.housing), "members": members,
                      "spending": spending, "compensation": _value(h.compensation)},
        "bank_account": _value(form.bank_account),
        "category_reason": _value(form.category_reason),
        "exclusions": [code.strip() for code in form.exclusions.data or [] if code and code.strip()],
    }
    if record is not None and data["bank_account"] is None:
        del data["bank_account"]
    return data


def case_data(form: CaseForm, case: Case | None = None) -> dict[str, Any]:
    """The input of create_case / edit_case (CaseIn's shape) from the form."""
    return {**household_data(form, case), "aid": {"kind": _value(form.aid.kind), "amount": _value(form.aid.amount),
                                                   "medical": bool(form.aid.medical.data),
                                                   "amount_reason": _value(form.aid.amount_reason),
                                                   "goods_items": _value(form.aid.goods_items),
                                                   "goods_value": _value(form.aid.goods_value)}}


def kept_numbers(form: HouseholdFields, record: Any | None) -> dict[str, str]:
    """The masked stored numbers that empty inputs of an edit keep, by input name, to show beside them."""
    if record is None:
        return {}
    kept = {}
    if record.id_number and not _value(form.applicant.id_number):
        kept[form.applicant.id_number.name] = mask_id(record.id_number)
    if record.bank_account and not _value(form.bank_account):
        kept[form.bank_account.name] = mask_account(record.bank_account)
    stored = _stored_members(record)
    for row in form.household.members.entries:
        member = stored.get(row.ref.data)
        if member is not None and member.id_number and not _value(row.id_number):
            kept[row.id_number.name] = mask_id(member.id_number)
    return kept


def held_elsewhere(form: HouseholdFields, error: Refused) -> dict[str, str]:
    """A refusal because ID numbers typed are already in another household's archive (一户一档), each reason put
    beside the input holding that number (the reason names it masked); {} for any other refusal."""
    if not isinstance(error, Refused) or error.rule != "archive_duplicate":
        return {}
    inputs = [form.applicant.id_number, *(row.id_number for row in form.household.members.entries)]
    placed: dict[str, str] = {}
    for reason in error.reasons:
        for field in inputs:
            typed = _value(field)
            if typed and reason.rule == "archive_duplicate" and mask_id(normalize_id(typed)) in reason.message:
                placed.setdefault(field.name, reason.message)
    return placed


def field_of(key: str) -> str:
    """The input an error key belongs to: causes.secondary.1 (the second code ticked) is the causes.secondary
    checkboxes, exclusions.0 the exclusions'."""
    head, _dot, tail = key.rpartition(".")
    return head if head.endswith(("causes.secondary", "exclusions")) and tail.isdigit() else key


def input_errors(fields: dict[str, str]) -> dict[str, str]:
    """Invalid's fields keyed by the input each belongs to (the first message of an input wins)."""
    out: dict[str, str] = {}
    for key, message in fields.items():
        out.setdefault(field_of(key), message)
    return out


def labelled_errors(form: HouseholdFields, fields: dict[str, str]) -> list[tuple[str | None, str, str | None]]:
    """The summary at the top of the form: (what, message, id of the input) for each Invalid field; what and id
    are None for a key that names no input."""
    by_name = {}

    def walk(fields) -> None:
        for field in fields:
            if isinstance(field, FormField):
                walk(field)
            elif isinstance(field, FieldList):
                by_name[field.name] = (str(field.label.text), field.id)
                for number, row in enumerate(field.entries, 1):
                    for cell in row:
                        label = _l("家庭成员%(n)s：%(what)s", n=number, what=cell.label.text)
                        by_name[cell.name] = (str(label), cell.id)
            else:
                by_name[field.name] = (str(field.label.text), field.id)
    walk(form)
    out = []
    for key, message in fields.items():
        label, input_id = by_name.get(key) or by_name.get(field_of(key), (None, None))
        out.append((label, message, input_id))
    return out
