"""Who is acting, and what the request works with: the signed-in account, the domain's clock, the uploads."""

from __future__ import annotations

from flask import current_app
from flask_login import current_user

from workflows.infra.clock import Clock
from workflows.infra.uploads import Uploads
from workflows.models import Account


def actor() -> Account:
    """The signed-in account (every screen but sign-in requires one)."""
    return current_user._get_current_object()


def clock() -> Clock:
    return current_app.extensions["songnuan"]["clock"]


def uploads() -> Uploads:
    return current_app.extensions["songnuan"]["uploads"]
