"""bench/transition_rate.py at a small size (the full size is `make bench-transition-rate`), on the database the suite
runs on: it drives its cases the whole way through the verbs (it stops, saying so, when a case is not disbursed or
the audit chain does not verify), writes the same moves with the driver alone, and prints both rates and their
ratio. Timing is not asserted here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_URL

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "transition_rate.py"
CASES = 3
MOVES = 6 * CASES  # document, approve, publicize, enter, district_approve, disburse


def test_the_transition_rate_runs_small_and_prints_its_figures():
    postgres = bool(TEST_URL and TEST_URL.startswith("postgresql"))
    database = TEST_URL if postgres else "sqlite"
    run = subprocess.run([sys.executable, str(BENCH), "--cases", str(CASES), "--database-url", database],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert out.startswith("PostgreSQL: " if postgres else "SQLite "), out
    assert re.search(rf"cases driven the whole way: {CASES} ", out), out
    assert re.search(rf"^  transitions \(fire\) +{MOVES} in +[\d.]+ s +\d+ /s", out, re.M), out
    assert re.search(rf"^  raw driver, same writes: +{MOVES} in +[\d.]+ s +\d+ /s", out, re.M), out
    assert re.search(r"^  ratio raw / services: [\d.]+x$", out, re.M), out
    assert re.search(r"^  goal 1000 transitions/s through the verbs: (met|NOT met)$", out, re.M), out
