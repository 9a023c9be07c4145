"""The API blueprint, its bearer-token authentication and what every endpoint shares."""

from __future__ import annotations

from flask import current_app, g, request
from flask_openapi3 import APIBlueprint

from workflows import signin
from workflows.clock import Clock
from workflows.documents import Uploads
from workflows.errors import DomainError
from workflows.models import Account

from ..db import db

api = APIBlueprint("api", __name__, url_prefix="/api/v1", abp_security=[{"bearer": []}])

# Reached without a token: signing in, and the description of the API itself.
PUBLIC = {"api.create_token"}
# Endpoints that take multipart/form-data rather than JSON.
MULTIPART = {"api.add_document"}


class UnsupportedMediaType(DomainError):
    code = "unsupported_type"


@api.before_request
def _authenticate() -> None:
    """Bearer tokens only: no cookie is read here, so no CSRF token is needed."""
    if request.method in ("POST", "PATCH", "PUT") and request.endpoint not in MULTIPART \
            and request.mimetype != "application/json":
        raise UnsupportedMediaType("请求体须为 application/json")
    if request.endpoint in PUBLIC:
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise signin.Unauthenticated("请先登录：在 Authorization 头中提供 Bearer 令牌")
    found = signin.account_for_token(db(), clock(), token.strip())
    if found is None:
        raise signin.Unauthenticated("令牌无效或已被吊销，请重新登录")
    g.api_account, g.api_token = found


def actor() -> Account:
    return g.api_account


def clock() -> Clock:
    return current_app.extensions["songnuan"]["clock"]


def uploads() -> Uploads:
    return current_app.extensions["songnuan"]["uploads"]
