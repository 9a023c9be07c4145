"""What the scheduler tells an operator of each pass it acted in: JSON lines that share the pass's run id, a closing
line with what it did, and the counters of /metrics (sweep, transitions, e-mail)."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from app import logs
from scheduler import runner
from workflows.infra.clock import LOCAL
from workflows.infra.outbox import notify
from workflows.states import Trigger

from ..factories import Factory
from .test_serve import SONGNUAN

DEADLINE = dt.datetime(2018, 1, 26, 0, 0, tzinfo=LOCAL)


@pytest.fixture
def lines(caplog):
    """What `songnuan scheduler`'s JSON handler writes during the test, one parsed object a line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.Formatter())
    handler.addFilter(logs.Context())
    caplog.set_level(logging.INFO)
    logging.getLogger().addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logging.getLogger().removeHandler(handler)


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_a_pass_is_logged_under_one_run_id_and_counted(committed, clock, uploads, lines):
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        make.draft()
        make.draft()
        clock.set(DEADLINE + dt.timedelta(seconds=1))
        cadre = make.account("cadre")
        cadre.email = "zhang.gongren@example.org"  # to be mailed, at a server that is down
        notify(session, key="test:mail", account_id=cadre.id, kind="deadline", text="报送截止提醒", now=clock.now())
        session.commit()
    before = {"forfeited": counted("songnuan_sweep_cases_total", outcome="forfeited"),
              "forfeit": counted("songnuan_transitions_total", flow="case", trigger=Trigger.forfeit.value),
              "passes": counted("songnuan_scheduler_passes_total", outcome="ok"),
              "failed": counted("songnuan_mail_total", outcome="failed")}
    leader = runner.leadership(committed, clock)
    try:
        assert runner.tick(committed, clock, leader, f"smtp://127.0.0.1:{closed_port()}")
        assert runner.tick(committed, clock, leader)  # nothing left to do: a pass all the same
    finally:
        leader.release()

    written = lines()
    passes = [line for line in written if line["message"] == "scheduler: pass done"]
    assert [(p["forfeited"], p["skipped"], p["emails_failed"]) for p in passes] == [(2, 0, 1), (0, 0, 0)]
    assert all(isinstance(p["duration_ms"], float) and p["logger"] == "scheduler.runner" for p in passes)
    first, second = (p["run_id"] for p in passes)
    assert first != second
    during = [line for line in written if line.get("run_id") == first]
    assert any(line["logger"] == "scheduler.jobs" for line in during)  # the sweep's own line, under the same id
    assert all("run_id" in line for line in written if line["logger"].startswith("scheduler."))

    assert counted("songnuan_sweep_cases_total", outcome="forfeited") == before["forfeited"] + 2
    assert counted("songnuan_transitions_total", flow="case", trigger="forfeit") == before["forfeit"] + 2
    assert counted("songnuan_scheduler_passes_total", outcome="ok") == before["passes"] + 2
    assert counted("songnuan_mail_total", outcome="failed") == before["failed"] + 1


def test_a_failed_pass_is_counted_and_logged_under_its_run_id(committed, clock, lines, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(runner, "run_once", broken)
    before = counted("songnuan_scheduler_passes_total", outcome="error")
    leader = runner.leadership(committed, clock)
    try:
        with pytest.raises(RuntimeError):  # raised on, for APScheduler to log with its traceback
            runner.tick(committed, clock, leader)
    finally:
        leader.release()
    [failed] = [line for line in lines() if line["level"] == "ERROR"]
    assert failed["message"] == "scheduler: the pass failed: RuntimeError" and failed["run_id"]
    assert counted("songnuan_scheduler_passes_total", outcome="error") == before + 1


@pytest.mark.slow  # a real scheduler process
def test_songnuan_scheduler_writes_json_and_serves_its_metrics_on_loopback(committed, clock, uploads, tmp_path):
    with Session(committed, expire_on_commit=False) as session:
        Factory(session, clock, uploads).draft()  # its campaign's deadline (2018) is long past by the real clock
        session.commit()
    port = closed_port()
    env = {**os.environ, "SONGNUAN_DATABASE_URL": committed.url.render_as_string(hide_password=False),
           "SONGNUAN_UPLOAD_DIR": str(tmp_path / "uploads"), "SONGNUAN_SCHEDULER_TICK": "1",
           "SONGNUAN_SCHEDULER_METRICS_PORT": str(port)}
    process = subprocess.Popen([SONGNUAN, "scheduler"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    try:
        forfeited = 0.0
        for _ in range(300):  # bounded: 30 s for the process to start and act
            assert process.poll() is None, process.communicate()[1]
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                text = ""
            forfeited = next((s.value for family in text_string_to_metric_families(text) for s in family.samples
                              if s.name == "songnuan_sweep_cases_total" and s.labels == {"outcome": "forfeited"}), 0)
            if forfeited:
                break
            time.sleep(0.1)
        assert forfeited == 1
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    lines = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    [acted] = [line for line in lines if line["message"] == "scheduler: pass done" and line["forfeited"]]
    assert acted["run_id"] and acted["forfeited"] == 1
