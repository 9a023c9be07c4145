"""The process diagram of a case, drawn from the transition table (being written)."""

from __future__ import annotations


def svg(current: str | None = None) -> str:
    return ""
