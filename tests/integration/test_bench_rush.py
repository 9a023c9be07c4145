"""bench/rush.py at a small size (the full size is `make bench-rush`): it runs, prints its figures, and finds every
move the clients saw succeed in the audit trail once. Timing is not asserted here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_URL

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # a real server over PostgreSQL

RUSH = Path(__file__).resolve().parents[2] / "bench" / "rush.py"


def test_the_rush_runs_small_and_prints_its_figures():
    # Every move of a pair's leader is a race.
    run = subprocess.run([sys.executable, str(RUSH), "--clients", "6", "--duration", "3", "--workers", "2",
                          "--unions", "2", "--cases", "12", "--race-every", "1", "--server", TEST_URL],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    for endpoint in ("healthz", "inbox", "case_page", "transition"):
        assert re.search(rf"^  {endpoint} +\d+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +\d+  200:\d+", out, re.M), out
    moves = int(re.search(r"^transitions: (\d+)", out, re.M).group(1))
    races, one_won, none_won, more_won = map(int, re.search(
        r"^races: (\d+): one won, the others 409: (\d+); all 409 \(moved by a third\): (\d+); more than one won: "
        r"(\d+)", out, re.M).groups())
    assert moves > 0 and races > 0 and one_won + none_won == races and more_won == 0, out
    assert re.search(rf"database: {moves} transition events for {moves} transitions seen", out), out
    assert "verifies" in out and "nothing lost or doubled: met" in out, out
    assert re.search(r"ratio transitions/s / healthz requests/s: [\d.]+", out), out
