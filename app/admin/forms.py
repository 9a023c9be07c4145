"""The administration forms. They check only what a form can: a field is filled in, a date is a date. Every rule
(codes and names unique, a cadre in a grassroots union, deadlines in order, money, budget split) is the verb's
(workflows.verbs: unions, accounts, campaigns), whose messages `show` puts beside the inputs they concern. Money, days and reminder
offsets stay text, so that a wrong entry comes back as it was typed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TimeField,
)
from wtforms.validators import InputRequired, Optional

from workflows.infra.clock import LOCAL, from_db
from workflows.inputs import YEARS, parse_deadline
from workflows.models import Campaign, Union
from workflows.states import Role
from workflows.vocab import UnionKind

ROLES = [role for role in Role if role != Role.system]
DAY_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]


def _required(message) -> list:
    return [InputRequired(message)]


def day_field(label, required: bool = True) -> DateField:
    return DateField(label, format=DAY_FORMATS, invalid_value_message=_l("日期格式应为 2018-01-25"),
                     validators=_required(_l("请填写日期")) if required else [Optional()])


def time_field(label) -> TimeField:
    return TimeField(label, format=["%H:%M", "%H:%M:%S"], invalid_value_message=_l("时间格式应为 17:00"),
                     validators=[Optional()])


def _select(label, required_message=None) -> SelectField:
    # No choice check here: an unknown code reaches the verb, which names it in Chinese.
    return SelectField(label, choices=[], validate_choice=False,
                       validators=_required(required_message) if required_message else [])


class UnionForm(FlaskForm):
    parent = _select(_l("上级工会"))
    code = StringField(_l("代码"), validators=_required(_l("请填写代码")))
    name = StringField(_l("名称"), validators=_required(_l("请填写名称")))
    kind = _select(_l("类别"), _l("请选择类别"))

    def fill_choices(self, unions: Iterable[Union]) -> None:
        self.parent.choices = [("", _l("（无：新建区总工会）"))] + [
            (u.code, _("%(name)s（%(code)s）", name=u.name, code=u.code)) for u in unions
            if u.kind != UnionKind.grassroots]
        self.kind.choices = [(k.value, _(k.label)) for k in UnionKind]


class AccountForm(FlaskForm):
    username = StringField(_l("用户名（登录用）"), validators=_required(_l("请填写用户名")))
    display_name = StringField(_l("姓名"))
    role = _select(_l("角色"), _l("请选择角色"))
    union = _select(_l("所属基层工会"))
    email = StringField(_l("电子邮箱（接收提醒，可不填）"))
    # Shown as typed: the administrator hands it to its owner, and it comes back on an error.
    password = StringField(_l("初始密码（不填则自动生成）"))

    def fill_choices(self, unions: Iterable[Union]) -> None:
        self.role.choices = role_choices()
        self.union.choices = union_choices(unions)


class ProfileForm(FlaskForm):
    display_name = StringField(_l("姓名"))
    email = StringField(_l("电子邮箱"))


class RoleForm(FlaskForm):
    role = _select(_l("角色"), _l("请选择角色"))
    union = _select(_l("所属基层工会"))

    def fill_choices(self, unions: Iterable[Union]) -> None:
        self.role.choices = role_choices()
        self.union.choices = union_choices(unions)


class PasswordForm(FlaskForm):
    password = StringField(_l("新密码（不填则自动生成）"))


class ButtonForm(FlaskForm):
    """Disable or re-enable: nothing to fill in but the CSRF token."""


class ShareForm(Form):
    code = HiddenField()
    amount = StringField(_l("预算（元）"))


class CampaignForm(FlaskForm):
    name = StringField(_l("活动名称"), validators=_required(_l("请填写活动名称")))
    starts_on = day_field(_l("活动开始日期"))
    ends_on = day_field(_l("活动结束日期"))
    deadline_day = day_field(_l("报送截止日期"))
    deadline_time = time_field(_l("截止时刻（不填为当天24:00）"))
    report_day = day_field(_l("活动总结报送截止日期（不填则同报送截止）"), required=False)
    report_time = time_field(_l("截止时刻（不填为当天24:00）"))
    publicity_days = StringField(_l("公示期（工作日，可为0）"), validators=_required(_l("请填写公示天数")))
    reminder_days = StringField(_l("截止前提醒（天，用逗号分开，如 7,3,1）"))
    cap_per_payment = StringField(_l("单次帮扶上限（元，不填为不限）"))
    cap_per_year = StringField(_l("每人每年帮扶上限（元，不填为不限）"))
    budget = StringField(_l("活动总预算（元，不填为不限）"))
    goods_in_budget = BooleanField(_l("送实物的物资折款也计入活动预算（不选则只计入统计表）"))
    shares = FieldList(FormField(ShareForm), max_entries=5000)

    def settings(self) -> dict:
        """The keywords of organisation.create_campaign / update_campaign."""
        shares = {entry.code.data: (entry.amount.data or "").strip() for entry in self.shares}
        return {"name": self.name.data, "starts_on": self.starts_on.data, "ends_on": self.ends_on.data,
                "deadline": deadline_at(self.deadline_day.data, self.deadline_time.data),
                "report_deadline": deadline_at(self.report_day.data, self.report_time.data),
                "publicity_days": (self.publicity_days.data or "").strip(),
                "reminder_days": self.reminder_days.data or "", "cap_per_payment": self.cap_per_payment.data,
                "cap_per_year": self.cap_per_year.data, "budget": self.budget.data, "union_budgets": shares,
                "goods_in_budget": bool(self.goods_in_budget.data)}

    def load(self, campaign: Campaign | None, unions: Iterable[Union], shares: Mapping[int, object]) -> None:
        """Fill an unsubmitted form: a campaign's settings, or the usual ones for a new campaign."""
        if campaign is not None:
            self.name.data, self.starts_on.data, self.ends_on.data = campaign.name, campaign.starts_on, campaign.ends_on
            self.deadline_day.data, self.deadline_time.data = deadline_parts(campaign.deadline)
            if campaign.report_deadline != campaign.deadline:
                self.report_day.data, self.report_time.data = deadline_parts(campaign.report_deadline)
            self.publicity_days.data = str(campaign.publicity_days)
            self.reminder_days.data = ",".join(str(d) for d in campaign.reminder_days)
            for name in ("cap_per_payment", "cap_per_year", "budget"):
                value = getattr(campaign, name)
                getattr(self, name).data = "" if value is None else f"{value:.2f}"
            self.goods_in_budget.data = campaign.goods_in_budget
        else:
            self.publicity_days.data, self.reminder_days.data = "5", "7,3,1"
        for union in unions:
            amount = shares.get(union.id)
            self.shares.append_entry({"code": union.code, "amount": "" if amount is None else f"{amount:.2f}"})


class StandardForm(FlaskForm):
    """低保标准: text inputs, so that a wrong entry comes back as typed; the verb (set_standard) checks them."""
    year = StringField(_l("年度"), validators=_required(_l("请填写年度")))
    area = StringField(_l("行政区划代码"), validators=_required(_l("请填写行政区划代码")))
    monthly = StringField(_l("每人每月（元）"), validators=_required(_l("请填写金额")))


def role_choices() -> list[tuple[str, str]]:
    return [("", _l("请选择"))] + [(r.value, _(r.label)) for r in ROLES]


def union_choices(unions: Iterable[Union]) -> list[tuple[str, str]]:
    return [("", _l("（无：非基层工会人员）"))] + [(u.code, _("%(name)s（%(code)s）", name=u.name, code=u.code))
                                                      for u in unions]


def deadline_at(day: dt.date | None, time: dt.time | None) -> dt.datetime | None:
    """A local deadline from a date and an optional time of day; no time means the end of that day."""
    if day is None:
        return None
    if not YEARS[0] <= day.year <= YEARS[1]:
        return dt.datetime.combine(day, time or dt.time(), LOCAL)  # refused, with its message, by the verb
    if time is None:
        return parse_deadline(day.isoformat())
    return dt.datetime.combine(day, time, LOCAL)


def deadline_parts(stored: dt.datetime) -> tuple[dt.date, dt.time | None]:
    """The inverse of deadline_at for a stored (naive UTC) deadline: midnight is 24:00 of the day before."""
    local = from_db(stored).astimezone(LOCAL)
    if local.time() == dt.time():
        return local.date() - dt.timedelta(days=1), None
    return local.date(), local.time().replace(second=0, microsecond=0)


def show(form: FlaskForm, problems: Mapping[str, str], names: Mapping[str, str] | None = None) -> list[str]:
    """Put each domain message beside its input (`names` maps the verb's field names to the form's); returns
    those that belong to no input, for the top of the form."""
    rest = []
    for key, message in problems.items():
        field = form._fields.get((names or {}).get(key, key))
        if key.startswith("union_budgets.") and "shares" in form._fields:
            code = key.split(".", 1)[1]
            field = next((e.amount for e in form.shares if e.code.data == code), None)
        if field is None:
            rest.append(message)
        else:
            field.errors = [*field.errors, message]
    return rest
