"""The Flask extensions, created unbound here and bound to an application in create_app()."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf import CSRFProtect

login = LoginManager()
csrf = CSRFProtect()
babel = Babel()
