"""`songnuan serve` serves the screens through gunicorn with secure cookies and never starts a scheduler inside its
workers; `songnuan run`, the development server, does (the control that shows the check can see a scheduler)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import START
from tests.factories import Factory
from workflows.infra.clock import FixedClock
from workflows.infra.uploads import Uploads
from workflows.models import AuditEvent, Case, SchedulerLease
from workflows.states import State

pytestmark = pytest.mark.slow  # real server processes

SONGNUAN = str(Path(sys.executable).with_name("songnuan"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen) -> urllib.request.addinfourl:
    for _ in range(300):  # bounded: 30 s for gunicorn and its workers to start
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}")
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/signin", timeout=2)
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not answer")


@pytest.fixture
def overdue_case(committed, tmp_path):
    """A draft of a campaign whose deadline (2018) is long past by the real clock the servers run on."""
    with Session(committed, expire_on_commit=False) as session:
        case = Factory(session, FixedClock(START), Uploads(tmp_path / "uploads")).draft()
        session.commit()
    return case.id


def start(command: list[str], committed, tmp_path) -> subprocess.Popen:
    env = {**os.environ, "SONGNUAN_DATABASE_URL": committed.url.render_as_string(hide_password=False),
           "SONGNUAN_UPLOAD_DIR": str(tmp_path / "uploads"), "SONGNUAN_SECRET_KEY": "serve-test"}
    return subprocess.Popen([SONGNUAN, *command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def state_of(committed, case_id: int) -> str:
    with Session(committed) as session:
        return session.get(Case, case_id).state


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_serve_has_secure_cookies_and_no_scheduler(committed, tmp_path, overdue_case):
    port = free_port()
    server = start(["serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], committed, tmp_path)
    try:
        response = wait_until_up(port, server)
        assert response.status == 200 and "登录" in response.read().decode()
        cookie = response.headers["Set-Cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        for _ in range(20):  # a scheduler's first tick runs at its start: give the workers time to show one
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            time.sleep(0.1)
    finally:
        stop(server)
    assert state_of(committed, overdue_case) == State.drafted
    with Session(committed) as session:
        assert session.scalar(select(func.count()).select_from(SchedulerLease)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "forfeit")) == 0


def test_run_starts_its_scheduler_which_forfeits_the_overdue_case(committed, tmp_path, overdue_case):
    port = free_port()
    server = start(["run", "--port", str(port)], committed, tmp_path)
    try:
        wait_until_up(port, server)
        for _ in range(300):
            if state_of(committed, overdue_case) == State.forfeited:
                break
            time.sleep(0.1)
    finally:
        stop(server)
    assert state_of(committed, overdue_case) == State.forfeited
