"""The Flask application factory. Nothing is built at import time."""

from __future__ import annotations

import datetime as dt

from flask import Flask, g, request
from flask_openapi3 import Info, OpenAPI
from werkzeug.middleware.proxy_fix import ProxyFix

from workflows.infra.clock import LOCAL, SystemClock
from workflows.infra.db import make_engine, session_factory
from workflows.infra.uploads import Uploads
from workflows.verbs import signin

from .config import Settings
from . import logs, metrics
from .extensions import babel, csrf
from .requests import AsciiInt, refuse_odd_input
from .templating import init_templates


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    from .api.errors import validation_response
    from .errors import register as register_errors

    # flask-openapi3's OpenAPI is a Flask that also writes /api/v1/openapi.json from the endpoints' models.
    app = OpenAPI(__name__, template_folder="../templates",
                  info=Info(title="送暖 Songnuan API", version="1",
                            description="元旦春节送温暖帮扶案件的 JSON API。先用 POST /api/v1/tokens 取得令牌。"),
                  security_schemes={"bearer": {"type": "http", "scheme": "bearer"}},
                  doc_prefix="/api/v1", doc_url="/openapi.json",
                  validation_error_status=400, validation_error_callback=validation_response)
    app.config["SECRET_KEY"] = settings.secret_key
    app.url_map.converters["int"] = AsciiInt  # before any route is added
    if settings.trusted_proxies:
        # Behind an https proxy: the client's address (for sign-in throttling) and scheme come from its headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    secure = not settings.development
    # Cookies: never readable by scripts, not sent along with other sites' requests, https only outside
    # development. Flask-Login's remember cookie is laxer by default (one year, no SameSite): tightened the same way.
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_DURATION=signin.WEB_SESSION, REMEMBER_COOKIE_REFRESH_EACH_REQUEST=False,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session: a long form is not lost to a timer
        BABEL_DEFAULT_LOCALE="zh", BABEL_DEFAULT_TIMEZONE=str(LOCAL),
    )
    app.json.ensure_ascii = False  # Chinese as it is, readable by the people who integrate with us
    # The largest upload plus room for the form around it; beyond it the request is refused with 413.
    uploads = Uploads(settings.upload_storage(), quota=settings.upload_quota)
    app.config["MAX_CONTENT_LENGTH"] = uploads.max_bytes + 64 * 1024
    engine = make_engine(settings.database_url)
    app.extensions["songnuan"] = {
        "settings": settings,
        "engine": engine,
        "sessions": session_factory(engine),
        "writing_sessions": session_factory(engine, writes=True),
        "uploads": uploads,
        "clock": SystemClock(),
    }
    # First of the hooks: the request id is set before anything else can log, the access line written last.
    logs.init_app(app)
    metrics.init_app(app)
    metrics.count_transitions(app.extensions["songnuan"]["sessions"])
    metrics.count_transitions(app.extensions["songnuan"]["writing_sessions"])

    @app.teardown_appcontext
    def _close_session(_exc):
        # The request commits once at its edge; anything not committed is rolled back here.
        session = g.pop("db", None)
        if session is not None:
            session.close()

    from . import admin, archives, audit, auth, cases, finance, fraud, inbox, notifications, reports, summaries
    from .api import api
    from .main import bp as main_bp

    auth.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=auth.locale)
    for blueprint in (main_bp, auth.bp, inbox.bp, cases.bp, archives.bp, notifications.bp, summaries.bp, admin.bp,
                      audit.bp, reports.bp, finance.bp, fraud.bp):
        app.register_blueprint(blueprint)
    app.register_api(api)
    csrf.exempt(api)  # bearer tokens, never cookies: nothing for a forged request to ride on
    register_errors(app)
    init_templates(app)
    app.before_request(refuse_odd_input)

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/api/v1/swagger"):  # Swagger UI's page runs a script of its own inline
            headers.setdefault("Content-Security-Policy", CSP)
        if secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint and not request.path.startswith("/static/"):
            # Pages, answers and downloads hold personal data: no copy left in caches (send_file's own default,
            # no-cache, still lets a browser or a proxy keep one).
            if "no-store" not in headers.get("Cache-Control", ""):
                headers["Cache-Control"] = "no-store"
            headers.setdefault("Pragma", "no-cache")
        return response

    return app


# Everything from this site only: scripts, styles, images; no inline script, no framing.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
