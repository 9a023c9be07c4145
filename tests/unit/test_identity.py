"""Resident ID numbers and ICBC account numbers: validation in a cadre's words, and masking."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum import numdb
from stdnum.cn import ric

from workflows.identity import (
    bank_account_problem,
    id_check_digit,
    id_number_problem,
    luhn_complete,
    mask_account,
    mask_id,
    mask_numbers,
    normalize_account,
    normalize_id,
)

TODAY = dt.date(2018, 1, 8)


def complete(first17: str) -> str:
    return first17 + id_check_digit(first17)


# ---------------------------------------------------------------- ID numbers

@pytest.mark.parametrize("number", [
    "11010519491231002X",          # the GB 11643 example: check digit X
    "11010519491231002x",          # typed in lower case
    " 11010519491231002X ",        # pasted with spaces around it
    complete("44030419850615123"),
    complete("65010220000229456"),  # born on a leap day
    complete("110105" "20180108" "001"),  # born today
])
def test_valid_id_numbers(number):
    assert id_number_problem(number, TODAY) is None


def test_the_x_check_digit_is_computed_and_required():
    assert id_check_digit("11010519491231002") == "X"
    assert id_number_problem("110105194912310020", TODAY) == "身份证号码校验位错误，请核对"
    assert normalize_id(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(("number", "problem"), [
    ("11010519491231002", "身份证号码应为18位"),
    ("11010519491231002X1", "身份证号码应为18位"),
    ("110105491231002", "身份证号码应为18位"),                       # the old 15-digit numbers
    ("1101051949123100XX", "身份证号码只能是数字，最后一位可以是X"),
    ("11010519491231002Y", "身份证号码只能是数字，最后一位可以是X"),
    ("110105194912310021", "身份证号码校验位错误，请核对"),
    (complete("99010519700101001"), "身份证号码前两位不是有效的省份代码"),
    (complete("11010519990230001"), "身份证号码中的出生日期不存在"),     # 30 February 1999
    (complete("11010519991301001"), "身份证号码中的出生日期不存在"),     # month 13
    (complete("11010519990229001"), "身份证号码中的出生日期不存在"),     # 1999 was no leap year
    (complete("11010520180109001"), "身份证号码中的出生日期不合理"),     # born tomorrow
    (complete("11010518991231001"), "身份证号码中的出生日期不合理"),     # before 1900
])
def test_invalid_id_numbers_say_why(number, problem):
    assert id_number_problem(number, TODAY) == problem


def test_every_single_digit_error_is_caught_by_the_check_digit():
    number = complete("44030419850615123")
    for position in range(17):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1:]
            assert id_number_problem(typo, TODAY) is not None, typo


def test_a_district_younger_than_its_holder_is_accepted():
    """110119 is Yanqing District of Beijing, created in 2015 (before it was 延庆县, 110229); a person born there in
    1970 who was registered after 2015 holds a 110119 number. stdnum refuses it; we must not."""
    assert numdb.get("cn/loc").info("110119")[1] == ("0119", {"county": "[2015-]延庆区"})
    number = complete("110119" "19700101" "001")
    assert ric.is_valid(number) is False
    assert id_number_problem(number, TODAY) is None


# ---------------------------------------------------------------- bank accounts

@pytest.mark.parametrize("digits", ["622202000000001", "6222020000000000", "621226000000000000"])
def test_valid_bank_accounts_of_16_to_19_digits(digits):
    assert bank_account_problem(luhn_complete(digits)) is None


def test_bank_accounts_are_accepted_with_spaces_and_dashes():
    number = luhn_complete("622202000000001234")
    spaced = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    assert bank_account_problem(spaced) is None
    assert bank_account_problem(number[:4] + "-" + number[4:]) is None
    assert normalize_account(spaced) == number


@pytest.mark.parametrize(("number", "problem"), [
    (luhn_complete("62220200000000"), "工商银行账号应为16到19位数字"),         # 15 digits
    (luhn_complete("6222020000000000000"), "工商银行账号应为16到19位数字"),    # 20 digits
    ("6222 0200 0000 000A", "银行账号只能包含数字"),
    ("", "银行账号只能包含数字"),
])
def test_invalid_bank_accounts_say_why(number, problem):
    assert bank_account_problem(number) == problem


def test_every_single_digit_error_in_a_bank_account_is_caught():
    number = luhn_complete("622202000012345678")
    for position in range(len(number)):
        for digit in "0123456789":
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1:]
                assert bank_account_problem(typo) == "银行账号校验位错误，请核对", typo


# ---------------------------------------------------------------- masking

def test_an_id_number_shows_its_first_six_and_last_four_digits():
    assert mask_id("110105197001011234") == "110105********1234"
    assert mask_id("11010519491231002X") == "110105********002X"


def test_a_bank_account_shows_its_last_four_digits():
    assert mask_account("6222020000000001234") == "***************1234"
    assert mask_account("6222020000001234") == "************1234"


@pytest.mark.parametrize("empty", [None, ""])
def test_nothing_to_mask(empty):
    assert mask_id(empty) == empty
    assert mask_account(empty) == empty


def test_spaces_and_dashes_typed_inside_an_id_number_are_ignored():
    from workflows.identity import normalize_id

    assert normalize_id(" 110105 19491231 002x ") == "11010519491231002X"
    assert normalize_id("110105-19491231-002X") == "11010519491231002X"


# ---------------------------------------------------------------- one normalisation at every entrance

ID = "11010519491231002X"
ACCOUNT = luhn_complete("622202000012345678")


def script(number: str, zero: str, x: str = "X") -> str:
    """`number` written with the digits of another script (the one whose zero is `zero`)."""
    return "".join(chr(ord(zero) + int(c)) if c.isdigit() else x for c in number)


def test_full_width_digits_and_letters_are_the_same_ascii_number():
    """Typed with a Chinese input method's full width: one number for the duplicate rules and the caps."""
    assert normalize_id(script(ID, "０", "ｘ")) == ID
    assert normalize_id("１１０１０５－１９４９１２３１　００２Ｘ") == ID  # full-width dash and ideographic space
    assert id_number_problem(script(ID, "０", "Ｘ"), TODAY) is None
    assert normalize_account(script(ACCOUNT, "０")) == ACCOUNT
    assert normalize_account(ACCOUNT[:4] + "\u2212" + ACCOUNT[4:]) == ACCOUNT  # a minus sign between groups
    assert bank_account_problem(script(ACCOUNT, "０")) is None


@pytest.mark.parametrize("zero", ["\u0660", "\u06f0", "\u0966", "\u09e6"])  # Arabic-Indic, Persian, Devanagari, Bengali
def test_digits_of_other_scripts_are_refused(zero):
    """str.isdigit() takes them and int() reads them, but they are another number to the duplicate rules, the caps
    and the fraud views, which compare stored text."""
    assert id_number_problem(script(ID, zero), TODAY) == "身份证号码只能是数字，最后一位可以是X"
    assert bank_account_problem(script(ACCOUNT, zero)) == "银行账号只能包含数字"


@pytest.mark.parametrize("number", [ID + "\u200b", ID[:17] + "\u00d7", "11010519491231\u20020\u200c2X"])
def test_what_is_not_an_ascii_digit_after_normalisation_is_refused(number):
    """A zero-width character pasted along, a multiplication sign for the X: refused, never stored as another
    number."""
    assert id_number_problem(number, TODAY) is not None


# ---------------------------------------------------------------- numbers in free text

@pytest.mark.parametrize("typed", [
    script(ID, "０", "Ｘ"),                       # full width
    script(ID, "０", "ｘ"),
    script(ID, "\u0660"),                         # Arabic-Indic digits
    "110105  19491231  002X",                    # several spaces
    "110105\t19491231\t002X",                    # tabs
    "110105.1949.1231.002X",                     # dots
    "110105 -\t19491231 . 002X",                 # mixed
    "１１０１０５　１９４９１２３１　００２Ｘ",   # full width, ideographic spaces
    "110105_19491231_002X",                      # as in a file name
    "110105，19491231，002X",                    # full-width commas
    "110105、19491231、002X",                    # enumeration commas
    "110105:19491231+002X",                      # colons and plus signs
    "110105\u200b19491231\u00ad002X",            # invisible: a zero-width space, a soft hyphen
    "110105      19491231      002X",            # six spaces
])
def test_an_id_number_typed_in_free_text_is_masked_however_it_is_written(typed):
    assert mask_numbers(f"申请人身份证：{typed}，请核对") == "申请人身份证：110105********002X，请核对"


@pytest.mark.parametrize("typed", [
    script(ACCOUNT, "０"),
    " ".join(ACCOUNT[i:i + 4] for i in range(0, len(ACCOUNT), 4)).replace(" ", "  "),
    ".".join(ACCOUNT[i:i + 4] for i in range(0, len(ACCOUNT), 4)),
])
def test_an_account_number_typed_in_free_text_is_masked_however_it_is_written(typed):
    assert mask_numbers(f"卡号{typed}。") == f"卡号{mask_account(ACCOUNT)}。"


@pytest.mark.parametrize("text", [
    "2018.01.05 至 2018.02.06",          # dates
    "电话 139 1234 5678，138 0000 1111",  # phone numbers
    "金额 1,000.00 元",
    "110105********002X",                 # already masked
    "第 1  2  3  4  5 项",
])
def test_what_is_no_personal_number_is_left_alone(text):
    assert mask_numbers(text) == text
