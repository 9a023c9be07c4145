"""The Flask application factory. Nothing is built at import time."""

from __future__ import annotations

from flask import Flask, g

from workflows.clock import SystemClock
from workflows.db import make_engine, session_factory
from workflows.documents import Uploads

from .config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    app = Flask(__name__, template_folder="../templates")
    app.config["SECRET_KEY"] = settings.secret_key
    engine = make_engine(settings.database_url)
    app.extensions["songnuan"] = {
        "settings": settings,
        "engine": engine,
        "sessions": session_factory(engine),
        "uploads": Uploads(settings.upload_dir),
        "clock": SystemClock(),
    }

    @app.teardown_appcontext
    def _close_session(_exc):
        # The request commits once at its edge; anything not committed is rolled back here.
        session = g.pop("db", None)
        if session is not None:
            session.close()

    from .main import bp as main_bp
    app.register_blueprint(main_bp)
    return app
