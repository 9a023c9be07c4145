"""The API's answers to failures, in the shape of API.md: {"error": CODE, "message": TEXT, ...}. The handlers that
choose between these and the screens' pages are in app/errors.py."""

from __future__ import annotations

from flask import jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from workflows.errors import DomainError, Forbidden, Invalid, Refused
from workflows.inputs import field_errors
from workflows.verbs.applications import DraftExists
from workflows.verbs.signin import Throttled, Unauthenticated

from ..respond import status_of

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
    if isinstance(error, DraftExists):  # the draft to open instead of a second one
        payload["case_id"] = error.case_id
    return payload


def domain_response(error: DomainError):
    response = jsonify(body(error))
    response.status_code = status_of(error)
    if isinstance(error, Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="songnuan"'
    if isinstance(error, Throttled):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def validation_response(error: ValidationError):
    """flask-openapi3's request validation, in the same shape and words as the domain's."""
    return domain_response(Invalid(field_errors(error)))


def http_response(error: HTTPException):
    response = jsonify({"error": HTTP_CODES.get(error.code, "error"),
                        "message": HTTP_MESSAGES.get(error.code, error.name)})
    response.status_code = error.code
    return response


def internal_response():
    response = jsonify({"error": "internal", "message": "服务器内部错误，请稍后再试或联系管理员"})
    response.status_code = 500
    return response
