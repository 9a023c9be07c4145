"""Amounts as people type them: the one reader (workflows.money.parse_amount) and the schema's Money, which the
forms, the API, the CLI and the ledger import all read amounts with."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workflows.errors import Invalid
from workflows.inputs import AidIn, parse
from workflows.money import AmountError, parse_amount, plain, read_money

CARELESS = [
    ("1500", "1500"), ("1,500", "1500"), ("1，500", "1500"), ("1500元", "1500"), (" 1500 元", "1500"),
    ("¥1500", "1500"), ("￥1500", "1500"), ("¥ 1,500.50 元", "1500.50"), ("1500.00", "1500.00"),
    ("１５００", "1500"), ("１，５００．５０", "1500.50"), ("12,345,678.9", "12345678.9"), ("0.5", "0.5"),
    ("RMB1500", "1500"), ("1500\u3000元", "1500"), ("30万", "300000"), ("1.5万元", "15000"), ("¥ 2,000 万", "20000000"),
]


@pytest.mark.parametrize("typed,amount", CARELESS)
def test_amounts_are_read_as_careless_users_type_them(typed, amount):
    assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", [None, "", "   ", "\u3000"])
def test_nothing_typed_is_no_amount(typed):
    assert parse_amount(typed) is None


WRONG = [
    ("1.500.00", "应为数字"), ("一千五", "应为数字"), ("2万4", "应为数字"), ("八百元", "应为数字"),
    ("1,50", "千位分隔符的位置不对"), ("15,00", "千位分隔符的位置不对"), ("1,5000", "千位分隔符的位置不对"),
    ("١٥٠٠", "应为数字"), ("१५००", "应为数字"),  # Arabic-Indic and Devanagari digits: NFKC keeps them
    ("1500²", "应为数字"), ("①", "应为数字"), ("1e3", "应为数字"), ("NaN", "应为数字"), ("Infinity", "应为数字"),
    ("1 500", "应为数字"), ("1500.", "应为数字"), (".5", "应为数字"), ("+1500", "应为数字"), ("1500元元", "应为数字"),
    ("¥", "应为数字"), ("元", "应为数字"), ("万", "应为数字"), ("万元", "应为数字"), ("1\n500", "应为数字"), ("1500块", "应为数字"), ("1500。00", "应为数字"),
]


@pytest.mark.parametrize("typed,message", WRONG)
def test_ambiguous_or_wrong_amounts_are_refused_in_words(typed, message):
    with pytest.raises(AmountError) as caught:
        parse_amount(typed)
    assert message in str(caught.value)


def test_numbers_that_are_not_text_are_read_as_they_are():
    assert parse_amount(1500) == Decimal(1500)
    assert parse_amount(Decimal("1500.50")) == Decimal("1500.50")
    assert parse_amount(0.1 + 0.2) == Decimal("0.3")  # a spreadsheet's float, as the person meant it
    for wrong in (True, float("nan"), float("inf"), Decimal("NaN"), [1500]):
        with pytest.raises(AmountError):
            parse_amount(wrong)


def test_the_sign_and_places_are_read_as_typed_for_the_callers_range_check():
    assert parse_amount("-5") == Decimal(-5)
    assert parse_amount("12.345") == Decimal("12.345")


@pytest.mark.parametrize("typed,message", [
    ("-1500", "不能小于0"), ("-1,500元", "不能小于0"), ("12.345", "最多两位小数"),
    ("1.500", "最多两位小数"),  # one thousand five hundred in some hands: never read as 1.5
    ("1.500.00", "应为数字"), ("1,50", "千位分隔符"), ("一千五", "应为数字"), ("1234567890123", "数额太大"),
])
def test_the_schema_refuses_what_is_no_amount_of_money(typed, message):
    with pytest.raises(Invalid) as caught:
        parse(AidIn, {"amount": typed})
    assert message in caught.value.fields["amount"]


def test_the_schema_reads_amounts_as_typed():
    assert parse(AidIn, {"amount": "¥1,500元", "goods_value": "２００"}).amount == Decimal(1500)
    assert parse(AidIn, {"amount": 1500.5}).amount == Decimal("1500.5")  # JSON numbers as before


@pytest.mark.parametrize("typed", ["-0", "-0.00", "-0元", Decimal("-0.00")])
def test_minus_zero_is_zero_and_never_shown_with_a_sign(typed):
    assert plain(parse_amount(typed)) == "0.00" and not parse_amount(typed).is_signed()


@pytest.mark.parametrize("typed, message", [("-1", "不能小于0"), ("1.005", "最多两位小数"), ("0.0000001万", "最多两位小数"),
                                            ("10000000000", "不能超过9,999,999,999.99元"), ("99999999999万", "数额太大"),
                                            ("1,50", "千位分隔符的位置不对"), ("一千", "应为数字")])
def test_money_is_judged_one_way_and_says_what_is_wrong(typed, message):
    with pytest.raises(AmountError) as refused:
        read_money(typed)
    assert message in str(refused.value)
    assert read_money("1,500元") == Decimal("1500") and read_money("") is None
    assert read_money("1.2345万") == Decimal("12345") and str(read_money("1.5万")) == "15000.00"
