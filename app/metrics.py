"""Prometheus metrics (prometheus_client) and `GET /metrics`, their text exposition.

What is counted: requests by endpoint (the route's name, never the raw path), method and status, with a latency
histogram per endpoint; transitions by trigger, once their transaction has committed (counted from the audit events
a session writes, so every verb and the sweep's set-based forfeits alike, without the domain knowing); the
scheduler's passes, the cases its sweep forfeited or left alone, the reminders it queued and the e-mails it sent or
failed to send.

Who may read it: a client on loopback (after ProxyFix, when SONGNUAN_TRUSTED_PROXIES says a proxy is believed),
with no X-Forwarded-For, X-Real-IP or Forwarded header naming any address but loopback, so that a request an nginx
on the same host passes on from outside never counts as local, whatever the setting; or anyone with an
administrator's API bearer token. Everyone else gets 404, as for a page that does not exist.

Several gunicorn workers: `songnuan serve` points PROMETHEUS_MULTIPROC_DIR at a fresh private folder before the
workers start, each worker writes its values there, /metrics sums them (prometheus_client's multiprocess mode), and
a worker that exits is marked dead (app/serve.py). Without the variable (`songnuan run`, the scheduler, the tests)
the process's own registry is read.
"""

from __future__ import annotations

import ipaddress
import os
import re
import time
from typing import Any

from flask import Blueprint, Flask, Response, abort, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from workflows.infra.machine import FLOWS
from workflows.models import AuditEvent
from workflows.states import Role
from workflows.verbs import signin

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

REQUESTS = Counter("songnuan_http_requests_total", "HTTP requests answered, by endpoint, method and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("songnuan_http_request_duration_seconds", "Time to answer a request, by endpoint and method",
                    ["endpoint", "method"])
TRANSITIONS = Counter("songnuan_transitions_total", "Transitions committed, by life cycle (case, archive) and trigger",
                      ["flow", "trigger"])
PASSES = Counter("songnuan_scheduler_passes_total", "Scheduler passes this process acted in, by outcome (ok, error)",
                 ["outcome"])
SWEEP = Counter("songnuan_sweep_cases_total", "Cases the deadline sweep forfeited or left alone, by outcome",
                ["outcome"])
REMINDERS = Counter("songnuan_reminders_queued_total", "Reminders the scheduler queued as notifications")
MAIL = Counter("songnuan_mail_total", "Notification e-mails sent or failed, by outcome", ["outcome"])

# The triggers of each life cycle: an audit event whose action is one of them is a transition.
_TRIGGERS = {name: {t.trigger.value for t in flow.transitions} for name, flow in FLOWS.items()}

bp = Blueprint("metrics", __name__)


# ------------------------------------------------------------------ requests

def init_app(app: Flask) -> None:
    """Count every request (after app.logs, whose hook starts the clock), and serve /metrics."""

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("request_started")
        if started is not None:
            endpoint = request.endpoint or "unmatched"  # a path no route has: one label, whatever was asked
            method = request.method if request.method in METHODS else "other"
            REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
            LATENCY.labels(endpoint, method).observe(time.perf_counter() - started)
        return response

    app.register_blueprint(bp)


@bp.get("/metrics")
def exposition() -> Response:
    if not (from_loopback() or admin_token()):
        abort(404)
    if os.environ.get(MULTIPROC_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


_FORWARDED_FOR = re.compile(r'for="?\[?([^\]";,\s]+)', re.IGNORECASE)


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:  # "unknown", an obfuscated identifier, a port glued on: not provably local
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def from_loopback() -> bool:
    """The client is this host: its address (REMOTE_ADDR, as ProxyFix leaves it) is loopback, and every address any
    forwarding header names is too. A proxy on this host that passes on an outside request is loopback itself, but
    names the outside client in X-Forwarded-For: refused, whether or not the proxy is trusted."""
    if not _loopback(request.remote_addr or ""):
        return False
    # Behind ProxyFix (SONGNUAN_TRUSTED_PROXIES), remote_addr is what the proxy said: the peer itself must be local
    # too, or a client reaching the port directly could name 127.0.0.1 in X-Forwarded-For.
    if not _loopback(request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR") or "127.0.0.1"):
        return False
    named = [part for header in ("X-Forwarded-For", "X-Real-IP") for value in request.headers.getlist(header)
             for part in value.split(",")]
    named += [found for value in request.headers.getlist("Forwarded") for found in _FORWARDED_FOR.findall(value)]
    if request.headers.getlist("Forwarded") and not named:
        return False  # a Forwarded header we cannot read names someone
    return all(_loopback(address) for address in named)


def admin_token() -> bool:
    """An administrator's API bearer token (app/api's kind of token; a page's session cookie is not one)."""
    from .auth import token_account  # when used: the blueprints' modules are imported by create_app

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        found = token_account(token.strip(), "api")
    except signin.Unauthenticated:  # expired
        return False
    return found is not None and found[0].role == Role.admin


# ------------------------------------------------------------------ transitions

def count_transitions(sessions: sessionmaker[Session]) -> None:
    """Count the transitions the sessions of `sessions` write, when their transaction commits (a refused or rolled
    back one is not counted). The audit's one writer inserts every event through Session.execute, so its rows are
    seen here as they are written; nothing of the domain knows of this."""
    event.listen(sessions, "do_orm_execute", _seen)
    event.listen(sessions, "after_commit", _committed)
    event.listen(sessions, "after_transaction_end", _ended)


def _seen(state: ORMExecuteState) -> None:
    statement = state.statement
    if not (state.is_insert and getattr(statement, "table", None) is AuditEvent.__table__):
        return
    rows = state.parameters if isinstance(state.parameters, list) else [state.parameters or {}]
    moves = [_move(row) for row in rows]
    if moves := [move for move in moves if move is not None]:
        state.session.info.setdefault("songnuan_transitions", []).extend(moves)


def _move(row: dict[str, Any]) -> tuple[str, str] | None:
    action = row.get("action")
    flow = "case" if row.get("case_id") is not None else "archive"
    return (flow, action) if action in _TRIGGERS[flow] else None


def _committed(session: Session) -> None:
    for flow, trigger in session.info.pop("songnuan_transitions", ()):
        TRANSITIONS.labels(flow, trigger).inc()


def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:  # rolled back, or closed without a commit: what it wrote never happened
        session.info.pop("songnuan_transitions", None)


# ------------------------------------------------------------------ the scheduler

def count_pass(report: Any | None) -> None:
    """A scheduler pass this process acted in (scheduler.jobs.Report), or None for one that failed."""
    if report is None:
        PASSES.labels("error").inc()
        return
    PASSES.labels("ok").inc()
    SWEEP.labels("forfeited").inc(report.forfeited)
    SWEEP.labels("skipped").inc(report.skipped)
    REMINDERS.inc(report.reminders_queued)
    MAIL.labels("sent").inc(report.emails_sent)
    MAIL.labels("failed").inc(report.emails_failed)


# ------------------------------------------------------------------ several workers

def use_multiprocess(directory: str) -> None:
    """Before gunicorn forks its workers: every value a worker creates from now on lives in `directory`.
    prometheus_client chose its kind of value when it was first imported (this process imported it with the
    CLI), so the choice is made again now that the variable is set."""
    os.environ[MULTIPROC_DIR] = directory
    values.ValueClass = values.get_value_class()


def worker_exited(pid: int) -> None:
    multiprocess.mark_process_dead(pid)
