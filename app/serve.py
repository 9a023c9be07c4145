"""Production serving through gunicorn (`songnuan serve`): several worker processes, secure cookies, and never a
scheduler inside a worker (the scheduler is its own process: `songnuan scheduler`)."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class Server(BaseApplication):
    def __init__(self, bind: str, workers: int) -> None:
        self.options = {"bind": bind, "workers": workers, "accesslog": "-", "errorlog": "-",
                        # The path without its query string, and no Referer: a search may hold personal data.
                        "access_log_format": '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s',
                        # Each worker builds its own app (and so its own database pool) after the fork.
                        "preload_app": False, "forwarded_allow_ips": "127.0.0.1"}
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app()
