"""bench/generate.py and bench/inbox.py at a small size (the full size is `make bench-inbox`), on the database the
suite runs on: the data is what the application reads (sealed numbers that open, a chain that verifies, accounts
that sign in with the known password), and the list benchmark runs and prints its figures. Timing is not asserted
here."""

from __future__ import annotations

import re
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import TEST_URL, _fresh_postgres_database
from workflows.infra import audit, sealing
from workflows.infra.db import make_engine
from workflows.models import Account, Archive, ArchiveMember, AuditEvent, Case, Document
from workflows.reads import worklists
from workflows.states import State

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
import generate  # noqa: E402  (a script of bench/, imported as the benchmark imports it)

ARCHIVES, UNIONS = 400, 4


@pytest.fixture
def url(tmp_path):
    with ExitStack() as stack:
        if TEST_URL and TEST_URL.startswith("postgresql"):
            yield stack.enter_context(_fresh_postgres_database(TEST_URL))
        else:
            yield f"sqlite:///{tmp_path / 'bench.db'}"


def test_the_generated_province_is_what_the_application_reads(url):
    facts = generate.build(url, ARCHIVES, UNIONS, quiet=True)
    assert facts["counts"]["archives"] == ARCHIVES and facts["counts"]["cases"] > ARCHIVES
    assert set(facts["by_state"]) == set(State)  # every state present
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            assert audit.verify(session).ok
            events = session.scalar(select(func.count()).select_from(AuditEvent))
            assert events >= 8 * facts["counts"]["cases"]
            archive = session.get(Archive, 7)
            assert archive.id_digest == sealing.digest(archive.id_number) and len(archive.id_number) == 18
            member = session.scalars(select(ArchiveMember).where(ArchiveMember.id_number.is_not(None))).first()
            assert member.id_digest == sealing.digest(member.id_number)
            case = session.scalars(select(Case).where(Case.archive_id == archive.id)).first()
            assert case is None or case.id_number == archive.id_number
            assert session.scalar(select(func.count()).select_from(Document)) == 2 * facts["counts"]["cases"]
            # The name search finds through the pieces what reading every row finds.
            reviewer = session.scalar(select(Account).where(Account.username == "reviewer"))
            q = session.scalars(select(Case.applicant_name).where(Case.visible_to(reviewer))).first()[:2]
            shown = {c.id for c in worklists.cases(session, reviewer, worklists.Filters(q=q), per_page=100).items}
            assert shown and shown == set(session.scalars(
                select(Case.id).where(Case.applicant_name.contains(q), Case.visible_to(reviewer))
                .order_by(Case.id.desc()).limit(100)))
    finally:
        engine.dispose()


def test_the_list_bench_runs_small_and_prints_its_figures(url):
    run = subprocess.run([sys.executable, str(BENCH / "inbox.py"), "--archives", str(ARCHIVES), "--unions",
                          str(UNIONS), "--requests", "3", "--database-url", url], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert re.search(rf"^\w+: built in \d+ s: {ARCHIVES:,} archives, [\d,]+ cases, [\d,]+ events; 3 requests",
                     out, re.M), out
    for page in ("inbox, cadre", "inbox, head", "inbox, reviewer", "inbox, finance", "cases, reviewer, name",
                 "archives, reviewer, filtered", "archives, reviewer, name"):
        assert re.search(rf"^{re.escape(page)} +\d+ +[\d,]+\+?  +[\d.]+ / +[\d.]+ +[\d.]+ / +[\d.]+ +[\d.]+x +\d+ ",
                         out, re.M), (page, out)
    assert re.search(r"^aims \(.*\): (met|NOT met)$", out, re.M), out
