"""Personal numbers: resident ID numbers and ICBC account numbers, their validation and masking.

stdnum.cn.ric also refuses a number whose first six digits name a district that did not exist in the holder's birth
year; but a district can be younger than the person holding its number (numbers are issued where a person lives
when first registered), so we keep its check digit and birth date rules and leave the district alone. We do check
the province (first two digits), which never changes.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import ValidationError
from workflows.texts import N_

# GB/T 2260 province-level codes, including Hong Kong, Macao and Taiwan (81, 82, 83 on residence permits).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)


def _compact(number: str | None) -> str:
    """The one normalisation of a personal number at every entrance (forms, API, CLI, ledger import): NFKC (full-width
    digits and letters become ASCII, so that the duplicate rules and the caps see one number), without the spaces
    and dashes people type to group the digits, upper case. Digits of other scripts (٠١٢) are left as they are, for
    the *_problem functions to refuse."""
    text = unicodedata.normalize("NFKC", number or "")
    return "".join(c for c in text if not (c.isspace() or c == "\u2212" or unicodedata.category(c) == "Pd")).upper()


def normalize_id(number: str | None) -> str:
    """Upper case, without the spaces or dashes people type to group the digits, full-width characters as ASCII."""
    return _compact(number)


def id_number_problem(number: str, today: dt.date) -> str | None:
    """Why `number` is not a valid 18-digit resident ID number, in a cadre's words; None when it is valid."""
    number = normalize_id(number)
    if len(number) != 18:
        return N_("身份证号码应为18位")
    # ASCII digits only: str.isdigit() also takes other scripts' digits (٠١٢, ①), which would be another number
    # for the duplicate rules and the caps, and which int() refuses.
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        return N_("身份证号码只能是数字，最后一位可以是X")
    if number[:2] not in PROVINCES:
        return N_("身份证号码前两位不是有效的省份代码")
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        return N_("身份证号码中的出生日期不存在")
    if born > today or born.year < 1900:
        return N_("身份证号码中的出生日期不合理")
    if number[17] != ric.calc_check_digit(number):
        return N_("身份证号码校验位错误，请核对")
    return None


def normalize_account(number: str | None) -> str:
    return _compact(number)


def bank_account_problem(number: str) -> str | None:
    """Why `number` is not a valid ICBC card account number (16 to 19 digits, Luhn check digit); None if valid."""
    number = normalize_account(number)
    if not re.fullmatch(r"[0-9]+", number):
        return N_("银行账号只能包含数字")
    if not 16 <= len(number) <= 19:
        return N_("工商银行账号应为16到19位数字")
    try:
        luhn.validate(number)
    except ValidationError:
        return N_("银行账号校验位错误，请核对")
    return None


def mask_id(number: str | None) -> str | None:
    """110105********1234: the first 6 and last 4 digits."""
    if not number:
        return number
    return number[:6] + "*" * max(len(number) - 10, 0) + number[-4:]


def mask_account(number: str | None) -> str | None:
    """Only the last 4 digits."""
    if not number:
        return number
    return "*" * max(len(number) - 4, 0) + number[-4:]


def id_check_digit(first17: str) -> str:
    """The check digit that completes 17 digits into a valid number (used by the demo data and the tests)."""
    return ric.calc_check_digit(first17 + "0")


def luhn_complete(digits: str) -> str:
    return digits + luhn.calc_check_digit(digits)


# ---------------------------------------------------------------- numbers in free text
# Comments, statements and summaries are typed by people: before any of them is shown or sent, full numbers in
# them are masked as the fields are (the audit screens, the case page, notifications, the API).

# Long hex strings with a letter in them (document and chain hashes) are set aside first: digits inside are no
# personal number. Elsewhere, a run of 15 or more digits of any script (full-width ones too), possibly grouped as
# people type them: by up to six spaces, tabs, dots, dashes, underscores or slashes, mixed (a file name such as
# 身份证110105_19491231_002X.jpg as well). An X counts as a digit inside a run (an ID number ends with one), so that
# two numbers run together are masked as one rather than split at the X. What is shown of a masked number is in
# ASCII digits.
_HEX = re.compile(r"((?<![0-9A-Za-z])(?=[0-9]*[a-fA-F])[0-9a-fA-F]{32,}(?![0-9A-Za-z]))")
_X = "XxＸｘ"
# Also the commas, colons and plus signs of both widths, and the invisible characters (zero-width spaces and
# joiners, soft hyphens) that would hide a number from the eye of a rule but not from a reader.
_SEPARATOR = r"[\s.．。·・_/\-‐‑‒–—―−－,，、:：+＋\u00ad\u200b-\u200d\u2060\ufeff]"
_NUMBER = re.compile(rf"(?<!\d)\d(?:{_SEPARATOR}{{0,6}}[\d{_X}]){{14,}}(?!\d)")
_CONTIGUOUS = re.compile(rf"(?<!\d)\d[\d{_X}]{{14,}}(?!\d)")


def _digits(run: str) -> str:
    """A run's digits and X as ASCII, without what grouped them."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else "X" if c in _X else "" for c in run)


def _looks_like_id(digits: str) -> bool:
    if len(digits) == 15:
        return digits.isdigit()  # the old 15-digit ID numbers
    return len(digits) == 18 and digits[:17].isdigit() and (
        digits[17] == "X" or ric.calc_check_digit(digits) == digits[17])


def _masked(run: str) -> str:
    digits = _digits(run)
    return mask_id(digits) if _looks_like_id(digits) else mask_account(digits)


def _mask_match(match: re.Match[str]) -> str:
    raw = match.group()
    digits = _digits(raw)
    if _CONTIGUOUS.fullmatch(raw) or _looks_like_id(digits) or (digits.isdigit() and luhn.is_valid(digits)):
        return _masked(raw)
    # Grouped digits that are neither an ID nor an account number as a whole (dates, phone lists): only the
    # long unbroken runs inside them are masked.
    return _CONTIGUOUS.sub(lambda run: _masked(run.group()), raw)


def mask_numbers(value: Any) -> Any:
    """`value` with every full ID number (first 6 and last 4 digits kept) and every bank account number (last 4
    kept) masked, through lists and dicts; what is already masked stays as it is."""
    if isinstance(value, str):
        parts = _HEX.split(value)  # the hex strings at the odd places
        return "".join(part if i % 2 else _NUMBER.sub(_mask_match, part) for i, part in enumerate(parts))
    if isinstance(value, list | tuple):
        return [mask_numbers(item) for item in value]
    if isinstance(value, dict):
        return {key: mask_numbers(item) for key, item in value.items()}
    return value
