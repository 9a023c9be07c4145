"""bench/audit_verify.py at a small size (the full size is `make bench-audit-verify`), on the database the suite runs
on: it builds a chain, verifies it (it stops, saying so, when the chain does not verify or the tight loop's bytes do
not hash to the stored hashes), and prints the rates, their ratio, the memory and the check from a checkpoint.
Timing is not asserted here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_URL

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "audit_verify.py"
EVENTS, MORE = 400, 16


def test_the_audit_verification_bench_runs_small_and_prints_its_figures():
    postgres = bool(TEST_URL and TEST_URL.startswith("postgresql"))
    kind = "postgresql" if postgres else "sqlite"
    run = subprocess.run([sys.executable, str(BENCH), "--events", str(EVENTS), "--more", str(MORE), "--only", kind,
                          *(["--pg", TEST_URL] if postgres else [])], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert out.startswith(f"{kind}: {EVENTS} events built in "), out
    assert re.search(r"^  audit.verify, whole chain: +[\d.]+ s +[\d,]+ events/s", out, re.M), out
    assert re.search(r"^  tight loop, same bytes: +[\d.]+ s +[\d,]+ events/s", out, re.M), out
    assert re.search(r"^  ratio \(tight loop time / verify time\): [\d.]+", out, re.M), out
    assert re.search(r"^  verify's peak memory: \d+ MB", out, re.M), out
    assert re.search(rf"from the checkpoint [\d.]+ s \({MORE} events walked\), full walk [\d.]+ s "
                     rf"\({EVENTS + MORE} events\)", out), out
    assert re.search(r"^verdict: (aims met|aim missed: .+)$", out, re.M), out
