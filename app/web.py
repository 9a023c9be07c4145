"""What the screens share: who is acting, the clock, the uploads, pages of errors, and safe redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import abort, current_app, flash, redirect, render_template, request
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from workflows import vocab
from workflows.infra.clock import LOCAL, Clock, from_db
from workflows.infra.uploads import Uploads
from workflows.errors import DomainError, Invalid
from workflows.identity import mask_id, mask_numbers
from workflows.models import Account, Notification
from workflows.reads.worklists import Filters
from workflows.rules import CASE_READERS, deadline_text
from workflows.states import TASK_ROLES, Role, State
from workflows.vocab import AidKind, Category, WorkerGroup, label_of

from .db import db

MAX_ID = 2**31 - 1  # the largest id the database's integer columns hold
# The status of each domain refusal, the same as the API's (API.md).
STATUS = {"invalid": 400, "unauthenticated": 401, "forbidden": 403, "not_found": 404, "stale": 409,
          "refused": 409, "too_large": 413, "unsupported_type": 415, "throttled": 429}


def actor() -> Account:
    """The signed-in account (every screen but sign-in requires one)."""
    return current_user._get_current_object()


def clock() -> Clock:
    return current_app.extensions["songnuan"]["clock"]


def uploads() -> Uploads:
    return current_app.extensions["songnuan"]["uploads"]


def error_page(status: int, message: str, **context: Any):
    return render_template("errors/error.html", status=status, message=message, **context), status


def error_text(error: DomainError) -> str:
    """A refusal as a person reads it: an Invalid's field messages without the fields' code names."""
    return "；".join(error.fields.values()) if isinstance(error, Invalid) else error.message


def domain_error_page(error: DomainError):
    return error_page(STATUS.get(error.code, 409), error_text(error))


def http_error_page(status: int):
    limit = uploads().max_bytes // (1024 * 1024)
    messages = {400: _("请求有误，请返回重试"), 403: _("您没有权限访问该页面"), 404: _("找不到该页面或记录"),
                405: _("该地址不支持这种操作"), 413: _("上传的文件太大：每个文件不超过%(mb)sMB", mb=limit),
                500: _("服务器内部错误，请稍后再试或联系管理员")}
    return error_page(status, messages.get(status, _("请求未能完成")))


def safe_next(target: str | None, default: str) -> str:
    """A place to go back to after sign-in: a path on this site only, never another host."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def page_context() -> dict[str, Any]:
    """What the page header shows: the sections of the signed-in person's role and their unread notifications."""
    if not current_user.is_authenticated:
        return {"nav": [], "unread": 0}
    role = current_user.role
    # (endpoint, label, roles): the sections of the header, each for the roles whose work it is.
    sections = [
        ("inbox.index", _("待办"), TASK_ROLES),
        ("cases.index", _("案件"), CASE_READERS),
        ("finance.index", _("发放"), (Role.finance,)),
        ("summaries.index", _("活动总结"), (Role.cadre, Role.head, Role.reviewer, Role.auditor)),
        ("reports.index", _("统计"), (Role.cadre, Role.head, Role.reviewer, Role.finance, Role.auditor, Role.admin)),
        ("fraud.index", _("风险核查"), (Role.reviewer, Role.auditor)),
        ("audit.index", _("审计"), (Role.auditor,)),
        ("admin.index", _("系统管理"), (Role.admin,)),
    ]
    nav = [(endpoint, label) for endpoint, label, roles in sections
           if role in roles and endpoint in current_app.view_functions]
    unread = db().scalar(select(func.count()).select_from(Notification).where(
        Notification.account_id == current_user.id, Notification.read_at.is_(None)))
    return {"nav": nav, "unread": unread}


def read_filters(args) -> Filters:
    """The list filters of the inbox and the case list from the query string; unknown values are ignored."""
    def pick(name: str, allowed) -> str | None:
        value = args.get(name, "")
        return value if value in {item.value for item in allowed} else None

    campaign = args.get("campaign", "")
    q = (args.get("q") or "").strip()[:50] or None
    return Filters(state=pick("state", State), union=(args.get("union") or "").strip()[:32] or None,
                   campaign=int(campaign) if campaign.isdigit() and len(campaign) < 10 else None,
                   worker_group=pick("worker_group", WorkerGroup), category=pick("category", Category),
                   aid_kind=pick("aid_kind", AidKind), q=q,
                   claimed_by_me=args.get("mine") == "1")


def page_number(args) -> int:
    value = args.get("page", "1")
    return min(int(value), 100_000) if value.isdigit() and len(value) < 7 else 1


class Labels:
    """The Chinese label of a stored code, for templates: labels.state(case.state) → 公示中; "—" when unset."""

    def __getattr__(self, name: str):
        kinds = {"state": State, "role": Role, "worker_group": vocab.WorkerGroup, "category": vocab.Category,
                 "cause": vocab.Cause, "aid_kind": vocab.AidKind, "gender": vocab.Gender,
                 "document_kind": vocab.DocumentKind, "union_kind": vocab.UnionKind,
                 "objection_status": vocab.ObjectionStatus}
        if name not in kinds:
            raise AttributeError(name)
        return lambda code: label_of(kinds[name], code) or "—"


def localtime(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (naive UTC) as the union office's local time."""
    return from_db(value).astimezone(LOCAL).strftime(fmt) if value else "—"


def init_templates(app) -> None:
    app.context_processor(page_context)
    app.jinja_env.globals.update(labels=Labels(), get_locale=get_locale)
    app.jinja_env.filters.update(localtime=localtime, mask_id=mask_id, masked=mask_numbers, deadline=deadline_text)


def refuse_odd_input():
    """What no screen can take, refused before any view runs (the API checks its own: app/api/blueprint.py):
    an id in the path beyond the database's integers is no record (404, not an overflow), and no text may hold a
    NUL character, which PostgreSQL can neither store nor compare (a message, not a 500)."""
    if request.path.startswith("/api/"):
        return
    if any(isinstance(v, int) and v > MAX_ID for v in (request.view_args or {}).values()):
        abort(404)
    values = [*request.args.keys(), *request.args.values(), *map(str, (request.view_args or {}).values())]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        values += [*request.form.keys(), *request.form.values()]
        values += [f.filename or "" for f in request.files.values()]
    if any("\x00" in value for value in values):
        raise Invalid({"form": "输入中含有不允许的空字符（U+0000），请删除后重试"})
    if request.method == "GET" and sum(c.isdigit() for c in request.args.get("q", "")) >= 15:
        # A whole ID or account number typed into a search: not searched for, and gone from the address (and so
        # from the history and every link of the page) at once.
        flash(_("为保护个人信息，请只输入身份证号的后4位（或姓名）查找"), "warning")
        args = request.args.to_dict()
        args.pop("q")
        return redirect(request.path + ("?" + urlencode(args) if args else ""))
    return None
