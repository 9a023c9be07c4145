"""Production serving through gunicorn (`songnuan serve`): several worker processes, secure cookies, and never a
scheduler inside a worker (the scheduler is its own process: `songnuan scheduler`).

Logs: every line, gunicorn's own included, is a JSON object on stderr (app/logs.py); the access line is the
application's (with the request id, the endpoint and the account), so gunicorn's text access log is off.
Metrics: the workers share a fresh private folder for prometheus_client's multiprocess mode, so that /metrics sums
them all; it is made at start, a dead worker's live values are dropped, and it is removed at exit.
"""

from __future__ import annotations

import shutil
import tempfile

from gunicorn.app.base import BaseApplication

from . import logs, metrics


def _worker_exited(server, worker) -> None:
    metrics.worker_exited(worker.pid)


class Server(BaseApplication):
    def __init__(self, bind: str, workers: int) -> None:
        # Fresh each start (mode 0700): counts of an earlier run, or of another user's, never mix in.
        self.metrics_dir = tempfile.mkdtemp(prefix="songnuan-metrics-")
        metrics.use_multiprocess(self.metrics_dir)
        self.options = {"bind": bind, "workers": workers, "accesslog": None, "errorlog": "-",
                        "logconfig_dict": logs.config(),
                        # Each worker builds its own app (and so its own database pool) after the fork.
                        "preload_app": False, "forwarded_allow_ips": "127.0.0.1",
                        "child_exit": _worker_exited, "on_exit": self._cleanup,
                        # gunicorn's control socket is one path per user (~/.gunicorn): a second serve on the host
                        # would take it from the first. Nothing here uses it.
                        "control_socket_disable": True}
        super().__init__()

    def _cleanup(self, server) -> None:
        shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app()
