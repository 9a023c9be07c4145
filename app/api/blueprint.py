"""The API blueprint, its bearer-token authentication and what every endpoint shares."""

from __future__ import annotations

from flask import current_app, g, request
from flask_openapi3 import APIBlueprint

from workflows.errors import DomainError, Invalid
from workflows.infra.clock import Clock
from workflows.inputs import text_problem
from workflows.infra.uploads import Uploads
from workflows.models import Account
from workflows.verbs import signin

from ..auth import token_account

api = APIBlueprint("api", __name__, url_prefix="/api/v1", abp_security=[{"bearer": []}])

# Reached without a token: signing in, and the description of the API itself.
PUBLIC = {"api.create_token"}
# Endpoints that take multipart/form-data rather than JSON.
MULTIPART = {"api.add_document", "api.import_ledger", "api.record_receipt", "api.record_notice", "api.bank_result"}


class UnsupportedMediaType(DomainError):
    code = "unsupported_type"


@api.before_request
def _authenticate() -> None:
    """Bearer tokens only: no cookie is read here, so no CSRF token is needed."""
    if request.endpoint not in PUBLIC:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise signin.Unauthenticated("请先登录：在 Authorization 头中提供 Bearer 令牌")
        found = token_account(token.strip(), "api")  # signin.Expired (401) for one that has ended
        if found is None:
            raise signin.Unauthenticated("令牌无效或已被吊销，请重新登录")
        g.api_account, g.api_token = found
    # Only a body that is there must be JSON: claim and mark-as-read are POSTs without one.
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if request.method in ("POST", "PATCH", "PUT") and request.endpoint not in MULTIPART and has_body \
            and request.mimetype != "application/json":
        raise UnsupportedMediaType("请求体须为 application/json")


@api.before_request
def _parse_json() -> None:
    """Parse a JSON body once, here (the endpoint reads the cached result), so that a hostile one, nested thousands
    deep, is a 400 rather than a RecursionError and a 500. After _authenticate: a caller without a token is
    answered 401 before anything of the body is read (signing in aside)."""
    if request.is_json:
        try:
            request.get_json(silent=True)
        except RecursionError:
            raise Invalid({"body": "格式不对：嵌套太深"}) from None


@api.before_request
def _refuse_nul() -> None:
    """No text the API takes may hold a NUL character: PostgreSQL refuses to store or even compare one (a 500
    otherwise), and no name, statement or number has one; nor any other control character but line breaks and tabs
    (one-line fields refuse those too: workflows.inputs). Path, query, JSON body and form fields alike: 400."""
    stack: list[tuple[str, str, object]] = [("path", "", request.view_args or {}),
                                            ("query", "", request.args.to_dict(flat=False))]
    if request.is_json:
        stack.append(("body", "", request.get_json(silent=True)))
    elif request.endpoint in MULTIPART:
        stack.append(("body", "", request.form.to_dict(flat=False)))
        stack.append(("body", "", {name: [f.filename or "" for f in files] for name, files in request.files.lists()}))
    while stack:  # not recursive: a JSON body may be nested as deep as the parser allows
        where, name, value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            raise Invalid({name or where: "不能含有空字符（U+0000）"})
        if isinstance(value, str) and (problem := text_problem(value)):
            raise Invalid({name or where: problem})
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in str(key) or text_problem(str(key)):
                    raise Invalid({name or where: "不能含有空字符或控制字符"})
                stack.append((where, f"{name}.{key}" if name else str(key), item))
        elif isinstance(value, list):  # a list of query or form values keeps its parameter's name
            stack.extend((where, f"{name}.{i}" if isinstance(item, (dict, list)) else name, item)
                         for i, item in enumerate(value))


def actor() -> Account:
    return g.api_account


def clock() -> Clock:
    return current_app.extensions["songnuan"]["clock"]


def uploads() -> Uploads:
    return current_app.extensions["songnuan"]["uploads"]
