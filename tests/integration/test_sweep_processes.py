"""Three `songnuan sweep` processes (processes, not threads) started at once over the same 5,000 overdue cases on
PostgreSQL: each case forfeited once, one forfeit event each, the counts add up, the audit chain verifies.

The cases are made quickly: the organisation, the campaign and two cases through the verbs (so the chain has
real events before the sweep), the rest by one INSERT ... SELECT over generate_series, with no events of their
own (the chain does not need them). While the three processes start, the test holds the audit head's row lock:
each process then locks its own slice of cases and waits at the head, so all three are seen in the middle of a
sweep at the same time before the test lets them go. Without that, one process could finish before the next had
even imported its modules, and the race would not be tested.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from workflows.infra import audit
from workflows.models import AuditEvent, Case
from workflows.states import FORFEIT_REASON, GRASSROOTS, State

from .test_scheduler_processes import overdue_cases

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # real sweep processes

OVERDUE = 5000
NOT_DUE = 300  # entered cases of the same campaign: the district's, never forfeited
PROCESSES = 3
NOW = "2018-01-26T00:00:01+08:00"  # one second after the factory campaign's deadline (2018-01-25, end of day)
SONGNUAN = Path(sys.executable).with_name("songnuan")  # .venv/bin/songnuan beside .venv/bin/python


def waiting_on_locks(engine) -> int:
    """Sessions of this database waiting for a lock right now (asked in a transaction of its own: within one,
    pg_stat_activity keeps showing what it showed first)."""
    with engine.connect() as connection:
        return connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND wait_event_type = 'Lock'"))


def test_three_sweep_processes_forfeit_each_case_once(committed, clock, uploads, tmp_path):
    assert SONGNUAN.exists(), f"{SONGNUAN} is missing: install the project into the virtualenv (make test)"
    before = overdue_cases(committed, clock, uploads, OVERDUE, not_due=NOT_DUE)
    env = {name: value for name, value in os.environ.items() if not name.startswith("SONGNUAN_")}
    env.update(SONGNUAN_DATABASE_URL=committed.url.render_as_string(hide_password=False),
               SONGNUAN_UPLOAD_DIR=str(tmp_path / "uploads"), SONGNUAN_SECRET_KEY="test")

    processes = []
    with committed.connect() as gate:
        gate.execute(text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))  # the head: nobody appends
        try:
            processes = [subprocess.Popen([str(SONGNUAN), "sweep", "--now", NOW], env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)]
            deadline = time.monotonic() + 40
            while waiting_on_locks(committed) < PROCESSES and time.monotonic() < deadline \
                    and all(p.poll() is None for p in processes):
                time.sleep(0.05)
            overlapping = waiting_on_locks(committed)
        finally:
            gate.rollback()  # let them go
        outputs = [p.communicate(timeout=60) for p in processes]

    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, f"exit {process.returncode}\n{out}\n{err}"
    # All three were in the middle of a sweep at once, each holding its own slice of cases.
    assert overlapping == PROCESSES
    counts = []
    for out, _ in outputs:
        found = re.search(r"\bforfeited=(\d+)", out)
        assert found, out
        counts.append(int(found.group(1)))
    assert sum(counts) == OVERDUE, counts

    with Session(committed) as session:
        after = {id_: (state, version) for id_, state, version in session.execute(
            select(Case.id, Case.state, Case.version))}
        for case_id, (state, version) in before.items():
            if state in GRASSROOTS:  # forfeited once: one version more, not two
                assert after[case_id] == (State.forfeited, version + 1), case_id
            else:
                assert after[case_id] == (state, version), case_id
        per_case = dict(session.execute(select(AuditEvent.case_id, func.count()).where(
            AuditEvent.action == "forfeit").group_by(AuditEvent.case_id)).all())
        assert per_case == {case_id: 1 for case_id, (state, _) in before.items() if state in GRASSROOTS}
        events = session.execute(select(AuditEvent.from_state, AuditEvent.to_state, AuditEvent.actor,
                                        AuditEvent.comment, AuditEvent.case_id)
                                 .where(AuditEvent.action == "forfeit")).all()
        assert all((e.from_state, e.to_state, e.actor, e.comment) ==
                   (before[e.case_id][0], State.forfeited.value, "system", FORFEIT_REASON) for e in events)
        verification = audit.verify(session)
        assert verification.ok, verification.as_dict()
        assert verification.events == session.scalar(select(func.count()).select_from(AuditEvent))
