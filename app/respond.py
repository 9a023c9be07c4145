"""How a view answers: it runs one verb and commits once, or shows the refusal; and the error pages, in the
user's language, with the status of each domain error (the same as the API's, API.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, make_response, render_template, request
from flask_babel import gettext as _

from werkzeug.exceptions import HTTPException

from workflows.errors import DomainError, Forbidden, Invalid, NotFound
from workflows.infra.db import race_refusal
from workflows.texts import Joined

from .current import uploads
from .db import db
from .i18n import localise

T = TypeVar("T")
STATUS = {"invalid": 400, "unauthenticated": 401, "forbidden": 403, "not_found": 404, "stale": 409,
          "refused": 409, "too_large": 413, "unsupported_type": 415, "throttled": 429, "unavailable": 503}


def perform(run: Callable[[], T], refused: Callable[[DomainError], Any] | None = None,
            passing: tuple[type[DomainError], ...] = (NotFound, Forbidden)) -> T:
    """Run a verb and commit once. On any error roll back (files written on the way go with it) and, for a
    refusal the view shows itself (`refused(error)`: the form again, the message beside it), answer with that.
    Anything else goes on to the error handlers: a refusal without `refused`, and the `passing` ones (by default a
    record not found and a forbidden role, which get their error page). A write the database refused because
    another request did the same thing first (a unique key taken, a version moved on) is a refusal too, a Conflict
    (409) in words, whichever verb it escaped from: never a 500, never the database's message."""
    try:
        result = run()
        db().commit()
    except BaseException as error:
        db().rollback()
        refusal = error if isinstance(error, DomainError) else race_refusal(error)
        if refusal is None:
            raise
        if refused is None or isinstance(refusal, passing):
            if refusal is error:
                raise
            raise refusal from None
        abort(make_response(refused(refusal)))
    return result


def page_address() -> str | None:
    """The address a page answering a POST takes (base.html's <main data-address>, static/page.js), so that a
    reload reads the page again instead of posting again: the POST's own address where the same address is also a
    page (a form that posts to itself); None for an address that is only a POST, whose template or view names its
    page instead (`own_address`, with the fragment of the place its message is said at). Without a fragment the
    page keeps the one its form's action named."""
    if request.method != "POST" or not is_page(request.path):
        return None
    return request.full_path.rstrip("?")


def is_page(path: str) -> bool:
    """Whether `path` is a page of this site that a GET shows again (not 404, not only a POST's target: 405, not a
    redirect)."""
    try:
        current_app.create_url_adapter(request).match(path, method="GET")
    except HTTPException:
        return False
    return True


def error_text(error: DomainError) -> str:
    """A refusal as a person reads it, in their language: an Invalid's field messages without the fields' code
    names."""
    return localise(Joined(error.fields.values()) if isinstance(error, Invalid) else error.message)


def status_of(error: DomainError) -> int:
    return STATUS.get(error.code, 409)


def error_page(status: int, message: str, **context: Any):
    return render_template("errors/error.html", status=status, message=message, **context), status


def domain_error_page(error: DomainError):
    return error_page(status_of(error), error_text(error))


def http_error_page(status: int):
    limit = uploads().max_bytes // (1024 * 1024)
    messages = {400: _("请求有误，请返回重试"), 403: _("您没有权限访问该页面"), 404: _("找不到该页面或记录"),
                405: _("该地址不支持这种操作"), 413: _("上传的文件太大：每个文件不超过%(mb)sMB", mb=limit),
                500: _("服务器内部错误，请稍后再试或联系管理员")}
    return error_page(status, messages.get(status, _("请求未能完成")))
