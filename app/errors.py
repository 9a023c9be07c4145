"""Every failure: under /api/ as the JSON of API.md ({"error": CODE, "message": TEXT, ...}, app/api/errors.py),
elsewhere as a page in the user's language (app/respond.py). Never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from workflows.errors import DomainError, NotFound
from workflows.infra.db import race_refusal

from .api.errors import domain_response, http_response, internal_response
from .auth import stale_form
from .cases import documents, page
from .respond import domain_error_page, http_error_page

log = logging.getLogger(__name__)


def _is_api() -> bool:
    return request.path.startswith("/api/")


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        if _is_api():
            return domain_response(error)
        case_id = (request.view_args or {}).get("case_id")
        if (isinstance(error, NotFound) and case_id is not None and (request.endpoint or "").startswith("cases.")
                and current_user.is_authenticated and (gone := page.deleted_draft(case_id)) is not None):
            return gone  # a draft deleted by its drafter: said so to those who could see it, not a bare 404
        return domain_error_page(error)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return stale_form()  # never a bare 400: to sign in, or back to the form, what was typed kept

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400 or isinstance(error, RequestRedirect):
            return error  # a redirect, or a page a view answered with (app.respond.perform)
        if error.code == 413 and request.endpoint == "cases.upload" and current_user.is_authenticated:
            return documents.too_large(request.view_args["case_id"])  # the case page, not a bare error page
        return http_response(error) if _is_api() else http_error_page(error.code)

    @app.errorhandler(SQLAlchemyError)
    def _database(error: SQLAlchemyError):
        """A write that lost a race outside app.respond.perform (which translates its own): 409 in words."""
        refusal = race_refusal(error)
        return _unexpected(error) if refusal is None else _domain(refusal)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        if _is_api():
            return internal_response()
        try:
            return http_error_page(500)
        except Exception:  # the error page itself failed: a plain answer, never a trace
            log.exception("the error page failed too")
            return "服务器内部错误，请稍后再试或联系管理员 / Internal server error", 500
