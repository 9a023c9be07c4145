"""The areas of the screens and who may use each: one table, read by each blueprint's gate and by the header's
navigation, so that a link is shown exactly where its pages open. The roles are the domain's (workflows.rules)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workflows.rules import (
    ADMINS,
    ARCHIVE_READERS,
    AUDITORS,
    CASE_READERS,
    DISTRICT_READERS,
    STATISTICS_READERS,
    SUMMARY_READERS,
    require_role,
)
from workflows.states import TASK_ROLES, Role

from .current import actor
from .extensions import login


@dataclass(frozen=True)
class Area:
    blueprint: str
    endpoint: str        # where the header's link goes
    label: str           # the link, lazily translated
    roles: tuple[Role, ...]
    what: str            # what the others may not do, for the refusal: 只有…可以{what}


AREAS = (
    Area("inbox", "inbox.index", _l("待办"), TASK_ROLES, "办理案件"),
    Area("cases", "cases.index", _l("案件"), CASE_READERS, "查看案件"),
    Area("archives", "archives.index", _l("档案"), ARCHIVE_READERS, "查看困难职工档案"),
    Area("finance", "finance.index", _l("发放"), (Role.finance,), "办理发放"),
    Area("summaries", "summaries.index", _l("活动总结"), SUMMARY_READERS, "查看活动总结"),
    Area("reports", "reports.index", _l("统计"), STATISTICS_READERS, "查看统计"),
    Area("fraud", "fraud.index", _l("风险核查"), DISTRICT_READERS, "查看风险核查"),
    Area("audit", "audit.index", _l("审计"), AUDITORS, "查看审计记录"),
    Area("admin", "admin.index", _l("系统管理"), ADMINS, "管理工会、账号和活动"),
)
BY_BLUEPRINT = {area.blueprint: area for area in AREAS}


def gate(bp: Blueprint) -> None:
    """One gate for every screen of the area's blueprint, so that no view can be added without it: anonymous people
    go to sign-in, the roles outside the area get 403 with the reason."""
    area = BY_BLUEPRINT[bp.name]

    @bp.before_request
    def _gate():
        if not current_user.is_authenticated:
            return login.unauthorized()
        require_role(actor(), area.roles, area.what)
        return None


def navigation(role: str, endpoints) -> list[Area]:
    """The areas the header links to for `role` (of those the application serves)."""
    return [area for area in AREAS if role in area.roles and area.endpoint in endpoints]
