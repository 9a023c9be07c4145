"""The warning beside an account number that does not start like an ICBC card's (workflows/rules/banks.py)."""

from __future__ import annotations

import pytest

from workflows.identity import luhn_complete
from workflows.rules.banks import ICBC_BINS, icbc_warning


def test_the_bins_are_one_tidy_table():
    assert list(ICBC_BINS) == sorted(set(ICBC_BINS))
    assert all(len(bin_) == 6 and bin_.isascii() and bin_.isdigit() for bin_ in ICBC_BINS)
    assert {"622202", "621226", "620200", "955880", "623062"} <= set(ICBC_BINS)


@pytest.mark.parametrize("number", [luhn_complete("622202000000000000"), luhn_complete("621226123456789012"),
                                    "9558 8012 3456 7890 123", luhn_complete("623062000000000000")])
def test_an_icbc_card_gets_no_warning(number):
    assert icbc_warning(number) is None


@pytest.mark.parametrize("number", [luhn_complete("622848000000000000"),  # Agricultural Bank of China
                                    luhn_complete("621700000000000000"),  # China Construction Bank
                                    "6222 1000 0000 0000"])
def test_another_banks_card_is_warned_with_the_prefixes_to_check(number):
    warning = icbc_warning(number)
    assert warning is not None and "不像工商银行卡号" in warning and "622202" in warning and "请核对" in warning


@pytest.mark.parametrize("number", [None, "", "62", "62284", "abcdefgh"])
def test_too_little_to_tell_is_not_warned(number):
    assert icbc_warning(number) is None
