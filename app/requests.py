"""What a request may carry: ids and text every screen can take (refused before any view runs), and the places a
form may send the person back to."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from flask import abort, flash, redirect, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from workflows.errors import Invalid
from workflows.inputs import parse_number, text_problem
from workflows.texts import N_

MAX_ID = 2**31 - 1  # the largest id the database's integer columns hold
STALE = -1  # a version no record has


def seen_version(value: str | None) -> int:
    """The version of the record the form showed; a missing or garbled one is stale, never "any version"."""
    version = parse_number(value)
    return STALE if version is None else version


class AsciiInt(IntegerConverter):
    """<int:...> in a path, ASCII digits only: Werkzeug's own takes any script's (\\d), so /cases/١٢ was case 12."""

    regex = r"[0-9]+"


def safe_next(target: str | None, default: str) -> str:
    """A place to go back to after sign-in: a path on this site only, never another host, and nothing that could
    not stand in a Location header (a line break, any space or control character: a path of ours has none)."""
    if not target or any(c.isspace() or not c.isprintable() for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def refuse_odd_input():
    """What no screen can take, refused before any view runs (the API checks its own: app/api/blueprint.py):
    an id in the path beyond the database's integers is no record (404, not an overflow), and no text may hold a
    NUL character, which PostgreSQL can neither store nor compare, or any other control character but line breaks
    and tabs, which no one means and an .xlsx cannot hold (a message, not a 500). One-line fields refuse line
    breaks too: workflows.inputs."""
    if request.path.startswith("/api/"):
        return
    if any(isinstance(v, int) and v > MAX_ID for v in (request.view_args or {}).values()):
        abort(404)
    values = [*request.args.keys(), *(v for _, vs in request.args.lists() for v in vs),
              *map(str, (request.view_args or {}).values())]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        values += [*request.form.keys(), *(v for _, vs in request.form.lists() for v in vs)]
        values += [f.filename or "" for _, fs in request.files.lists() for f in fs]
    if any("\x00" in value for value in values):
        raise Invalid({"form": N_("输入中含有不允许的空字符（U+0000），请删除后重试")})
    if any(text_problem(value) for value in values):
        raise Invalid({"form": N_("输入中含有不允许的控制字符，请删除后重试")})
    if request.method == "GET" and sum(c.isdigit() for c in request.args.get("q", "")) >= 15:
        # A whole ID or account number typed into a search: not searched for, and gone from the address (and so
        # from the history and every link of the page) at once.
        flash(_("为保护个人信息，请只输入身份证号的后4位（或姓名）查找"), "warning")
        args = request.args.to_dict()
        args.pop("q")
        return redirect(request.path + ("?" + urlencode(args) if args else ""))
    return None
