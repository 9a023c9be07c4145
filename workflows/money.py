"""Money as text, the one way: yuan with two decimals. `yuan` is what people read (12,345.00), `plain` what
machines keep (12345.00: the audit trail, the JSON answers), `parse_amount` how what people type is read."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any
from workflows.texts import N_


def yuan(amount: Any, unset: str = "—") -> str:
    return unset if amount is None else f"{Decimal(amount):,.2f}"


def plain(amount: Any) -> str:
    return f"{Decimal(amount or 0):.2f}"


class AmountError(ValueError):
    """An amount that cannot be read; its text says why, in a cadre's words."""


NOT_AN_AMOUNT = N_("应为数字，如 1500、1,500 或 1500.50")
# What is typed around the number: a yuan sign before it, 元 after it, spaces between (after NFKC, which turns the
# full-width ￥，．１ of a Chinese keyboard into ¥,.1).
_AROUND = re.compile(r"^(?:¥|RMB|CNY)?\s*(?P<number>.*?)\s*(?P<wan>万)?\s*元?$", re.IGNORECASE | re.DOTALL)
WAN = Decimal(10_000)  # 万: "30万" is how a budget is said
# Thousands grouped by commas, every group of three, or no grouping at all; a minus sign is read so that the
# caller's range check can say "not below 0" rather than "not a number".
_NUMBER = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")
_GROUPED = re.compile(r"-?[0-9,]+(?:\.[0-9]+)?")


def parse_amount(value: Any) -> Decimal | None:
    """An amount in 元 as people type it, the one reader of money input (forms, API, CLI, ledger import):
    "1,500", "1，500", "1500元", " 1500 元", "¥1500", "1500.00", and in 万 ("30万", "1.5万元"). None for nothing
    typed. Raises AmountError for what cannot be read as one amount: words ("一千五"), a misplaced separator
    ("1,50", "1.500.00"), digits of another script ("١٥٠٠"), an exponent, NaN. The range (not below 0, at most two
    decimals, a maximum) is read_money's to judge: the sign and places are returned as typed."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise AmountError(NOT_AN_AMOUNT)
    if isinstance(value, Decimal | int):
        if isinstance(value, Decimal) and not value.is_finite():
            raise AmountError(NOT_AN_AMOUNT)
        return _unsigned_zero(Decimal(value))
    if isinstance(value, float):  # a spreadsheet's number: 0.1 + 0.2 is 0.3 to a person
        if value != value or value in (float("inf"), float("-inf")):
            raise AmountError(NOT_AN_AMOUNT)
        rounded = round(value, 2)
        return Decimal(repr(rounded)) if abs(value - rounded) < 1e-9 else Decimal(repr(value))
    if not isinstance(value, str):
        raise AmountError(NOT_AN_AMOUNT)
    # ① ² ½ are numbers to NFKC, never to a person typing an amount.
    if any(unicodedata.category(char) == "No" for char in value):
        raise AmountError(NOT_AN_AMOUNT)
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return None
    around = _AROUND.match(text)  # the pattern matches any text: only its groups may be empty
    number = around["number"]
    if _NUMBER.fullmatch(number):
        amount = Decimal(number.replace(",", ""))
        return _unsigned_zero(_in_cents(amount * WAN) if around["wan"] else amount)
    if _GROUPED.fullmatch(number):
        raise AmountError(N_("千位分隔符的位置不对：应每三位一个逗号，如 1,500 或 12,500.50"))
    raise AmountError(NOT_AN_AMOUNT)


def _unsigned_zero(amount: Decimal) -> Decimal:
    """"-0" typed is 0: never kept, shown or answered as -0.00."""
    return amount.copy_abs() if amount.is_zero() else amount


CENT = Decimal("0.01")
MAXIMUM = Decimal(10) ** 10  # what the columns hold: twelve digits, two of them decimals
NEGATIVE, PLACES = N_("不能小于0"), N_("最多两位小数")
TOO_LARGE = N_("数额太大：不能超过%(maximum)s元", maximum=yuan(MAXIMUM - CENT))


def _in_cents(amount: Decimal) -> Decimal:
    """1.2345万 is 12345.0000 by the arithmetic: as many places as it needs, two when it is whole cents."""
    cents = amount.quantize(CENT)
    return cents if cents == amount else amount


def read_money(value: Any) -> Decimal | None:
    """An amount of money as typed, judged as every sum of money is (a case's amounts and incomes, a budget, a cap,
    a summary's figures; forms, API, CLI and ledger alike): not below 0, at most two decimals, below ten billion.
    None for nothing typed; AmountError says what is wrong, in parse_amount's words where it could not be read."""
    amount = parse_amount(value)
    if amount is None:
        return None
    if amount < 0:
        raise AmountError(NEGATIVE)
    if amount.as_tuple().exponent < -2:
        raise AmountError(PLACES)
    if amount >= MAXIMUM:
        raise AmountError(TOO_LARGE)
    return amount
