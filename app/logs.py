"""Logs of `songnuan serve` and `songnuan scheduler`: one JSON object a line on stderr, each carrying the id of the
request (`request_id`) or the scheduler pass (`run_id`) it was written in, and one access line per request.

A request's id is the caller's X-Request-ID when it is a short plain token (so that nginx's `$request_id`, or a
client's, follows the request through), else a new one; it is sent back in the X-Request-ID header. The access
line has the method, the path without its query string (a search may hold a name or the last digits of a number),
the status, the duration, the endpoint and the signed-in account's id, never a header, a cookie or a form field.
Every value of every line goes through the free-text mask of personal numbers on its way out, whatever wrote it.
`songnuan run` keeps Flask's readable development log.
"""

from __future__ import annotations

import logging
import logging.config
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from flask import Flask, Response, g, request
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect

from workflows.identity import mask_numbers

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
RUN_ID: ContextVar[str | None] = ContextVar("run_id", default=None)
HEADER = "X-Request-ID"
# A caller's id is kept when it is a short plain token (no spaces, quotes or control characters to forge lines).
_SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_QUERY = re.compile(r"\?[^\s'\"]*")

access = logging.getLogger("songnuan.access")


class Context(logging.Filter):
    """Adds the id of the request or the scheduler pass in progress to every record a handler writes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if (request_id := REQUEST_ID.get()) is not None:
            record.request_id = request_id
        if (run_id := RUN_ID.get()) is not None:
            record.run_id = run_id
        return True


class Formatter(JsonFormatter):
    """One JSON object a line: time (UTC), level, logger, pid, message and whatever the record carries besides."""

    def __init__(self) -> None:
        super().__init__("{levelname}{name}{process}{message}", style="{", timestamp="time",
                         rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
                         json_ensure_ascii=False)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        if log_data.get("logger") == "gunicorn.error" and isinstance(log_data.get("message"), str):
            # gunicorn quotes a malformed request's line whole: not its query string (a search, a token).
            log_data["message"] = _QUERY.sub("?…", log_data["message"])
        return mask_numbers(log_data)  # a message, an exception's text, a path: no full ID or bank number


def config(level: str = "INFO") -> dict[str, Any]:
    """A logging.config.dictConfig for a JSON-logging process (gunicorn's own loggers included: its master's and
    workers' messages are JSON lines too, and its text access log is replaced by the application's)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": Context}},
        "formatters": {"json": {"()": Formatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                                "formatter": "json", "filters": ["context"]}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {"gunicorn.error": {"level": level, "handlers": [], "propagate": True},
                    "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False}},
    }


def configure(level: str = "INFO") -> None:
    logging.config.dictConfig(config(level))


def request_id(offered: str | None) -> str:
    if offered and _SANE_ID.fullmatch(offered) and mask_numbers(offered) == offered:
        return offered
    return uuid.uuid4().hex


def init_app(app: Flask) -> None:
    """The request id and the access line, registered before every other hook: the id is there for whatever the
    others log, and the access line, written after them, has the final status."""

    @app.before_request
    def _begin() -> None:
        g.request_started = time.perf_counter()
        g.request_id = request_id(request.headers.get(HEADER))
        g.request_id_token = REQUEST_ID.set(g.request_id)

    @app.after_request
    def _access(response: Response) -> Response:
        if "request_id" not in g:  # a request that failed before any hook ran
            return response
        response.headers[HEADER] = g.request_id
        elapsed = time.perf_counter() - g.request_started
        fields = {"method": request.method, "path": request.path, "status": response.status_code,
                  "duration_ms": round(elapsed * 1000, 1), "endpoint": request.endpoint}
        if (account_id := signed_in_id()) is not None:
            fields["user_id"] = account_id
        access.info("%s %s %s", request.method, request.path, response.status_code, extra=fields)
        return response

    @app.teardown_request
    def _end(_exc) -> None:
        if (token := g.pop("request_id_token", None)) is not None:
            REQUEST_ID.reset(token)


def signed_in_id() -> int | None:
    """The account this request acted as, if it was looked up anyway (by a bearer token, or a page's session):
    never a query of its own, never a refresh of an expired instance."""
    account = g.get("api_account") or g.get("_login_user")
    if account is None or not getattr(account, "is_authenticated", False):
        return None
    identity = inspect(account).identity
    return identity[0] if identity else None


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]

