"""The HTTP JSON API under /api/v1 (API.md)."""

from . import views  # noqa: F401  (registers the endpoints on the blueprint)
from .blueprint import api

__all__ = ["api"]
