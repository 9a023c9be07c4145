"""Money as text, the one way: yuan with two decimals. `yuan` is what people read (12,345.00), `plain` what
machines keep (12345.00: the audit trail, the JSON answers)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def yuan(amount: Any, unset: str = "—") -> str:
    return unset if amount is None else f"{Decimal(amount):,.2f}"


def plain(amount: Any) -> str:
    return f"{Decimal(amount or 0):.2f}"
