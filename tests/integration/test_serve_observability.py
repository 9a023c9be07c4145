"""A real `songnuan serve` with two workers: every line it writes is JSON, each request's id comes back and is on
its access line, and /metrics sums what both workers counted (prometheus_client's multiprocess mode, in a private
folder that is gone when the server stops)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from .test_serve import SONGNUAN, free_port, stop, wait_until_up

pytestmark = pytest.mark.slow  # real server processes


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def healthz_count(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == "songnuan_http_requests_total" and found.labels == {
                    "endpoint": "main.healthz", "method": "GET", "status": "200"}:
                return found.value
    return 0.0


def test_two_workers_log_json_and_metrics_sum_both(committed, tmp_path):
    port, log = free_port(), tmp_path / "serve.log"
    env = {**os.environ, "SONGNUAN_DATABASE_URL": committed.url.render_as_string(hide_password=False),
           "SONGNUAN_UPLOAD_DIR": str(tmp_path / "uploads"), "SONGNUAN_SECRET_KEY": "serve-test",
           "TMPDIR": str(tmp_path)}  # where the metrics folder is made
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("w") as stderr:
        server = subprocess.Popen([SONGNUAN, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        wait_until_up(port, server)
        [folder] = tmp_path.glob("songnuan-metrics-*")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        sent, ids = 0, {}
        with ThreadPoolExecutor(4) as pool:
            for _ in range(10):  # bounded: rounds of concurrent requests until both workers have answered some
                batch = [f"probe-{sent + i}" for i in range(20)]
                for rid, (status, headers, _) in zip(batch, pool.map(
                        lambda rid: get(port, "/healthz", {"X-Request-ID": rid}), batch)):
                    assert status == 200
                    ids[rid] = headers["X-Request-ID"]
                sent += len(batch)
                if len(worker_pids(log)) == 2:
                    break
        assert len(worker_pids(log)) == 2, "one worker answered everything"
        status, _, text = get(port, "/metrics")
        assert status == 200 and healthz_count(text) == sent
        refused, _, _ = get(port, "/metrics", {"X-Forwarded-For": "203.0.113.5"})
        assert refused == 404
    finally:
        stop(server)
    assert ids == {rid: rid for rid in ids}
    lines = [json.loads(line) for line in log.read_text().splitlines()]  # every line is one JSON object
    assert any(line["logger"] == "gunicorn.error" for line in lines)  # gunicorn's own lines too
    probes = {line["request_id"]: line for line in lines
              if line["logger"] == "songnuan.access" and line["path"] == "/healthz"}
    assert set(probes) == set(ids)
    assert all(line["status"] == 200 and line["endpoint"] == "main.healthz" for line in probes.values())
    assert not list(tmp_path.glob("songnuan-metrics-*"))  # removed at exit


def worker_pids(log) -> set[int]:
    pids = set()
    for line in log.read_text().splitlines():
        if '"songnuan.access"' in line and '"/healthz"' in line:
            pids.add(json.loads(line)["pid"])
    return pids
