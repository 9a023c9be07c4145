"""Every failure: under /api/ as the JSON of API.md ({"error": CODE, "message": TEXT, ...}), elsewhere as a page in
the user's language. Never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from pydantic import ValidationError
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from workflows.errors import DomainError, Forbidden, Invalid, Refused
from workflows.inputs import field_errors
from workflows.verbs.signin import Throttled, Unauthenticated

from ..web import STATUS, domain_error_page, error_page, http_error_page

log = logging.getLogger(__name__)

HTTP_CODES = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
              413: "too_large", 415: "unsupported_type", 429: "throttled"}
HTTP_MESSAGES = {404: "找不到该地址", 405: "该地址不支持这种请求方法", 413: "请求太大", 400: "请求格式不对"}


def body(error: DomainError) -> dict:
    payload = {"error": error.code, "message": error.message}
    if isinstance(error, Invalid):
        payload["fields"] = error.fields
    if isinstance(error, Refused) and not isinstance(error, Forbidden):
        payload["reason"] = error.message
        payload["rule"] = error.rule
    return payload


def domain_response(error: DomainError):
    response = jsonify(body(error))
    response.status_code = STATUS.get(error.code, 409)
    if isinstance(error, Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="songnuan"'
    if isinstance(error, Throttled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def validation_response(error: ValidationError):
    """flask-openapi3's request validation, in the same shape and words as the domain's."""
    return domain_response(Invalid(field_errors(error)))


def register(app: Flask) -> None:
    def is_api() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        return domain_response(error) if is_api() else domain_error_page(error)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return error_page(400, gettext("页面已过期或来源不明，请刷新页面后重新提交"))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if not is_api():
            if error.code is None or error.code < 400 or isinstance(error, RequestRedirect):
                return error
            return http_error_page(error.code)
        code = HTTP_CODES.get(error.code, "error")
        response = jsonify({"error": code, "message": HTTP_MESSAGES.get(error.code, error.name)})
        response.status_code = error.code
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        if is_api():
            response = jsonify({"error": "internal", "message": "服务器内部错误，请稍后再试或联系管理员"})
            response.status_code = 500
            return response
        try:
            return http_error_page(500)
        except Exception:  # the error page itself failed: a plain answer, never a trace
            log.exception("the error page failed too")
            return "服务器内部错误，请稍后再试或联系管理员 / Internal server error", 500

