"""The archive form: the household part of the case form (app/cases/forms.py, the same inputs and macros) and the
fields of the national archive form (workflows.inputs.NationalIn), named "national.NAME". Like the case form it
carries only what was typed and validates nothing; the verbs do."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, FormField, HiddenField

from workflows.inputs import NATIONAL_FIELDS
from workflows.models import Archive
from workflows.vocab import (
    ArchiveType,
    EmployerNature,
    HousingType,
    Hukou,
    Insurance,
    Marital,
    ModelWorker,
    Political,
    WorkStatus,
)

from ..cases.forms import HouseholdFields, household_data, select_field, text_field


class NationalForm(Form):
    archive_type = select_field(_l("档案类型"), ArchiveType)
    model_worker = select_field(_l("劳模类型"), ModelWorker)
    ethnicity = text_field(_l("民族"))
    political = select_field(_l("政治面貌"), Political)
    marital = select_field(_l("婚姻状况"), Marital)
    hukou = select_field(_l("户口类型"), Hukou)
    hukou_area = text_field(_l("户口所在地行政区划（6位代码）"))
    work_status = select_field(_l("工作状态"), WorkStatus)
    employer_nature = select_field(_l("单位性质"), EmployerNature)
    housing_type = select_field(_l("住房类型"), HousingType)
    floor_area = text_field(_l("建筑面积（平方米）"))
    insurance = select_field(_l("医保状况"), Insurance)
    single_parent = BooleanField(_l("单亲家庭"))
    zero_employment = BooleanField(_l("零就业家庭"))
    bank_name = text_field(_l("开户银行"))
    bank_branch = text_field(_l("开户支行"))
    national_number = text_field(_l("职工编号（录入全国系统后填写）"))


BOOLEANS = ("single_parent", "zero_employment")


class ArchiveForm(HouseholdFields):
    """The fields of an archive; `version` is read on edits only."""

    version = HiddenField()
    national = FormField(NationalForm, separator=".")


def archive_data(form: ArchiveForm, archive: Archive | None = None) -> dict[str, Any]:
    """The input of create_archive / edit_archive (ArchiveIn's shape) from the form; on an edit an empty ID or bank
    number input keeps the stored number."""
    national: dict[str, Any] = {}
    for name in NATIONAL_FIELDS:
        field = form.national[name]
        national[name] = bool(field.data) if name in BOOLEANS else ((field.data or "").strip() or None)
    return {**household_data(form, archive), "national": national}
