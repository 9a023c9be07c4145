"""Fixtures of the integration tests that several files share."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.cli import main
from workflows.infra.clock import FixedClock
from workflows.infra.db import make_engine
from workflows.infra.uploads import Uploads

from ..factories import Factory
from .test_mail import Mailbox

# The races of test_concurrency.py and test_archive_races.py.
THREADS = 20
BARRIER_TIMEOUT = 30   # seconds every thread waits at the start line at most


@pytest.fixture
def cli(committed, tmp_path, monkeypatch):
    """`songnuan` on the test's database: cli("union create U1 名称") or cli("user", "create", ..., input=...)."""
    monkeypatch.setenv("SONGNUAN_DATABASE_URL", committed.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SONGNUAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    runner = CliRunner()

    def run(*args, input=None):
        argv = shlex.split(args[0]) if len(args) == 1 else list(args)
        return runner.invoke(main, argv, input=input, catch_exceptions=False)

    return run


@pytest.fixture
def mailbox():
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def racers(committed: Engine) -> Iterator[Engine]:
    """An engine on the test database with one connection per thread (the shared engine's pool holds 15), and
    lock and statement timeouts, so that a lock never released fails a thread instead of hanging it."""
    url = committed.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=THREADS + 2, max_overflow=0, pool_timeout=BARRIER_TIMEOUT,
                         connect_args={"options": "-c lock_timeout=30000 -c statement_timeout=60000"})
    yield engine
    engine.dispose()


@pytest.fixture
def setup(committed: Engine, clock: FixedClock, uploads: Uploads) -> Iterator[tuple[Session, Factory]]:
    """A session and factory whose work the test commits before the threads start."""
    session = Session(committed, expire_on_commit=False)
    yield session, Factory(session, clock, uploads)
    session.close()
