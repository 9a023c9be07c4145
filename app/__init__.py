"""The Flask application factory. Nothing is built at import time."""

from __future__ import annotations

from flask import Flask, g
from flask_openapi3 import Info, OpenAPI

from workflows.clock import SystemClock
from workflows.db import make_engine, session_factory
from workflows.documents import Uploads

from .config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    from .api.errors import register as register_errors, validation_response

    # flask-openapi3's OpenAPI is a Flask that also writes /api/v1/openapi.json from the endpoints' models.
    app = OpenAPI(__name__, template_folder="../templates",
                  info=Info(title="送暖 Songnuan API", version="1",
                            description="元旦春节送温暖帮扶案件的 JSON API。先用 POST /api/v1/tokens 取得令牌。"),
                  security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
                  doc_prefix="/api/v1", doc_url="/openapi.json",
                  validation_error_status=400, validation_error_callback=validation_response)
    app.config["SECRET_KEY"] = settings.secret_key
    app.json.ensure_ascii = False  # Chinese as it is, readable by the people who integrate with us
    # The largest upload plus room for the form around it; beyond it the request is refused with 413.
    app.config["MAX_CONTENT_LENGTH"] = Uploads(settings.upload_dir).max_bytes + 64 * 1024
    engine = make_engine(settings.database_url)
    app.extensions["songnuan"] = {
        "settings": settings,
        "engine": engine,
        "sessions": session_factory(engine),
        "writing_sessions": session_factory(engine, writes=True),
        "uploads": Uploads(settings.upload_dir),
        "clock": SystemClock(),
    }

    @app.teardown_appcontext
    def _close_session(_exc):
        # The request commits once at its edge; anything not committed is rolled back here.
        session = g.pop("db", None)
        if session is not None:
            session.close()

    from .api import api
    from .main import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_api(api)
    register_errors(app)
    return app
