"""Signing in and out of the screens, and the choice of language.

The session cookie carries a random key whose hash is stored (workflows.signin, kind "web"); signing out revokes it,
so a copy of the cookie taken before is dead too. Failed sign-ins are throttled in the database, as for the API.
Session keys and API tokens end unused or old (the settings' token_lifetime): token_account, for both.
"""

from __future__ import annotations

import logging

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import OperationalError
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from workflows import verbs
from workflows.states import Role
from workflows.verbs import signin

from ..current import actor, clock
from ..db import db, writing
from ..extensions import csrf, login
from ..requests import safe_next
from ..respond import error_page, is_page, perform

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

LANGUAGES = {"zh": "中文", "en": "English"}


class SignInForm(FlaskForm):
    username = StringField(lazy_gettext("用户名"), validators=[DataRequired(lazy_gettext("请填写用户名")), Length(max=64)])
    password = PasswordField(lazy_gettext("密码"), validators=[DataRequired(lazy_gettext("请填写密码")), Length(max=200)])
    remember = BooleanField(lazy_gettext("在这台电脑上保持登录（7天）"))


class _SessionKey:
    """What login_user stores in the cookie: the session's key, not the account's id."""

    is_active = True

    def __init__(self, key: str) -> None:
        self.key = key

    def get_id(self) -> str:
        return self.key


def init_app(app: Flask) -> None:
    login.init_app(app)
    login.login_view = "auth.signin_page"
    login.login_message = lazy_gettext("请先登录")
    login.login_message_category = "info"
    # "basic" only marks a session as not fresh when the address changes; the server-side key is what protects it.
    login.session_protection = "basic"
    login.localize_callback = _sign_in_message
    login.unauthorized_handler(_unauthorized)
    csrf.exempt(language)  # switching the language of a stale page changes nothing but a cookie: never refused


def _sign_in_message(message) -> str:
    """What the sign-in page says to someone sent there: that their session has ended, where it has."""
    return _("登录已过期（长时间未操作或已超过有效期），请重新登录") if g.get("session_expired") else str(message)


def _ended() -> bool:
    """Whether this browser was signed in and its session has ended (expired, signed out elsewhere, the password
    reset): the cookie still names a session key that no longer opens anything."""
    return bool(g.get("session_expired") or session.get("_user_id")
                or request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")))


def form_page() -> str | None:
    """The page a posted form was on (the Referer, when it is a page of this site that can be shown again): where
    the person goes back to, never the address the form posted to, which is no page."""
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host or not parts.path.startswith("/") or not is_page(parts.path):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _unauthorized():
    """No live session: to the sign-in page, and after it back to the page, the page a form was sent from for a
    POST (app/static/keep.js puts back what was typed there). Each says why: a form not sent, a session ended, or
    simply not signed in."""
    if request.method in ("GET", "HEAD"):
        target, message = request.full_path.removesuffix("?"), _sign_in_message(login.login_message)
        if _ended() and not g.get("session_expired"):
            message = _("登录已失效，请重新登录")
    else:
        target, message = form_page(), _("登录已失效，请重新登录；您填写的内容已保留，登录后将自动恢复")
    flash(message, login.login_message_category)
    return redirect(url_for("auth.signin_page", next=target))


def stale_form():
    """A form whose CSRF token no longer matches the session it was posted in (Flask-WTF): signed out (here or in
    another tab) or signed in again since it was shown. Never a bare 400: without a session, to sign in and back,
    as for any form sent after the session ended; with one, back to the form's page, what was typed put back
    there by keep.js, to send it again; where there is no such page, the error page says what to do."""
    if not current_user.is_authenticated and request.endpoint != "auth.signin_page":
        return _unauthorized()
    page = form_page() if current_user.is_authenticated else None
    if page is None:
        return error_page(400, _("页面已过期，未能提交：请重新打开该页面再提交，您填写的内容会自动恢复"))
    flash(_("页面已过期，未能提交：您填写的内容已保留，请核对后重新提交"), "error")
    return redirect(page)


def token_account(token: str, kind: str):
    """The account and the row of an API token (kind "api") or a session key ("web"), or None; signin.Expired
    for one that has ended. The use is noted: by a writing request in its own transaction, by a reading one in a
    short one apart, since the request's own writes nothing."""
    lifetime = current_app.extensions["songnuan"]["settings"].token_lifetime
    found = verbs.account_for_token(db(), clock(), token, writing=writing(), kind=kind, lifetime=lifetime)
    if found is not None and not writing() and signin.needs_note(found[1], clock(), lifetime):
        try:
            with current_app.extensions["songnuan"]["writing_sessions"]() as apart:
                signin.note_use(apart, clock(), found[1].id)
                apart.commit()
        except OperationalError:  # the database busy: noted by a later request (the idle time is long beside it)
            log.warning("the last use of a token could not be noted now")
    return found


@login.user_loader
def _load(key: str):
    try:
        found = token_account(key, "web")
    except signin.Expired:
        g.session_expired = True  # the sign-in page says so (_sign_in_message)
        return None
    if found is None:
        return None
    account, g.web_session = found
    account.union  # the page header shows it: loaded here, so that every page costs the same queries
    return account


def locale() -> str:
    return request.cookies.get("lang") if request.cookies.get("lang") in LANGUAGES else "zh"


def landing() -> str:
    """Where each role starts: its task inbox, or the screen of its work."""
    role = actor().role
    if role == Role.admin:
        return url_for("admin.index")
    if role == Role.auditor:
        return url_for("cases.index")
    return url_for("inbox.index")


@bp.route("/signin", methods=["GET", "POST"])
def signin_page():
    if current_user.is_authenticated:
        return redirect(landing())
    form = SignInForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            # A failure is committed too: it counts towards throttling even though we refuse.
            account = perform(lambda: verbs.authenticate(db(), clock(), form.username.data, form.password.data,
                                                         request.remote_addr or ""))
        except signin.Throttled as refusal:
            error, status = refusal.message, 429
        else:
            if account is None:
                error, status = _("用户名或密码不正确"), 401
            else:
                key = perform(lambda: verbs.issue_token(db(), clock(), account, kind="web"))
                target = safe_next(request.args.get("next"), "")
                session.clear()  # a new session at sign-in: nothing carried over from before, CSRF secret included
                login_user(_SessionKey(key), remember=form.remember.data)
                return redirect(target or url_for("auth.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/signin.html", form=form, error=error), status


@bp.get("/")
@login_required
def home():
    return redirect(landing())


@bp.post("/signout")
@login_required
def signout():
    perform(lambda: verbs.revoke_token(db(), clock(), g.web_session))
    session.clear()
    logout_user()  # after the clear: it leaves the mark that deletes the remember cookie too
    return redirect(url_for("auth.signin_page"))


@bp.post("/language")
def language():
    """Switch between Chinese and English; remembered in a cookie for a year. Back to the page it was pressed on;
    on a page that answered a form (no address of its own to show again), to the page that form was on (what was
    typed there is put back by keep.js)."""
    choice = request.form.get("lang")
    response = redirect(safe_next(request.form.get("next"), "") or form_page() or url_for("auth.signin_page"))
    if choice in LANGUAGES:
        response.set_cookie("lang", choice, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response
