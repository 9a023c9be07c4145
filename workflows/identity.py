"""Personal numbers: resident ID numbers and ICBC account numbers, their validation and masking.

stdnum.cn.ric also refuses a number whose first six digits name a district that did not exist in the holder's birth
year; but a district can be younger than the person holding its number (numbers are issued where a person lives
when first registered), so we keep its check digit and birth date rules and leave the district alone. We do check
the province (first two digits), which never changes.
"""

from __future__ import annotations

import datetime as dt

from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

# GB/T 2260 province-level codes, including Hong Kong, Macao and Taiwan (81, 82, 83 on residence permits).
PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)


def normalize_id(number: str) -> str:
    """Upper case, without the spaces or dashes people type to group the digits."""
    return ric.compact("".join((number or "").split()).replace("-", ""))


def id_number_problem(number: str, today: dt.date) -> str | None:
    """Why `number` is not a valid 18-digit resident ID number, in a cadre's words; None when it is valid."""
    number = normalize_id(number)
    if len(number) != 18:
        return "身份证号码应为18位"
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return "身份证号码只能是数字，最后一位可以是X"
    if number[:2] not in PROVINCES:
        return "身份证号码前两位不是有效的省份代码"
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        return "身份证号码中的出生日期不存在"
    if born > today or born.year < 1900:
        return "身份证号码中的出生日期不合理"
    if number[17] != ric.calc_check_digit(number):
        return "身份证号码校验位错误，请核对"
    return None


def normalize_account(number: str) -> str:
    return "".join((number or "").split()).replace("-", "")


def bank_account_problem(number: str) -> str | None:
    """Why `number` is not a valid ICBC card account number (16 to 19 digits, Luhn check digit); None if valid."""
    number = normalize_account(number)
    if not number.isdigit():
        return "银行账号只能包含数字"
    if not 16 <= len(number) <= 19:
        return "工商银行账号应为16到19位数字"
    try:
        luhn.validate(number)
    except ValidationError:
        return "银行账号校验位错误，请核对"
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
