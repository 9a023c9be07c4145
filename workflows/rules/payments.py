"""Returned payments and the bank's result file (DOMAIN.md, Money as the bank and the unions see it): who corrects
a returned case's account, and how each line of the bank's result is matched to its payment, never guessed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from workflows.actors import Actor
from workflows.errors import Reason
from workflows.identity import normalize_account
from workflows.models import Case, PaymentLine
from workflows.states import Role, State
from workflows.texts import N_

# The union's people who keep the household's data, and finance, who heard the bank's reason.
CORRECTORS = (Role.cadre, Role.head, Role.finance)
PAID, RETURNED, WAITING = "paid", "returned", "pending"  # PaymentLine.status
SUCCESS, FAILURE = "成功", "失败"
RESULT_COLUMNS = ("账号", "户名", "金额", "状态", "原因")
MAX_REASON = 200  # PaymentLine.reason and Case.return_reason


def correction_reasons(case: Case, actor: Actor) -> list[Reason]:
    """Why `actor` may not correct the bank account of `case` now (empty when they may)."""
    if actor.role not in CORRECTORS:
        return [Reason("role", N_("只有%(who)s可以更正银行账号", who=[r.label for r in CORRECTORS]))]
    if case.state != State.payment_returned:
        return [Reason("state", N_("案件当前为「%(state)s」，只有退票待处理的案件可以更正银行账号", state=State(case.state).label))]
    return []


@dataclass(frozen=True)
class ResultRow:
    """One line of the bank's result file as read: `number` is its row in the file (the header is row 1)."""

    number: int
    account: Any
    name: Any
    amount: Any
    status: Any
    reason: Any = None


@dataclass(frozen=True)
class Outcome:
    line: PaymentLine
    paid: bool
    reason: str | None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(_text(value).replace(",", ""))
        return amount.quantize(Decimal("0.01")) if amount.is_finite() else None
    except InvalidOperation:  # not a number, or one too large to hold in cents (1e999999999)
        return None


def in_this_payment(line: PaymentLine) -> bool:
    """The line's case still stands paid by the line's batch: disbursed with the batch's reference."""
    case = line.case
    return case.state == State.disbursed and case.payment_reference == line.batch.reference


def match_result(lines: Sequence[PaymentLine], rows: Sequence[ResultRow]) -> tuple[list[Outcome], list[tuple[int, str, str]]]:
    """Each row of the result matched to the one line of the batch with the same account, name and amount. The
    problems are (row, column, message): a row unreadable, matching no line or several, or naming a line another
    row already named or an earlier result settled. The caller applies nothing when there is any problem."""
    by_key: dict[tuple[str, str, Decimal], list[PaymentLine]] = {}
    for line in lines:
        by_key.setdefault((line.bank_account, line.name.strip(), Decimal(line.amount).quantize(Decimal("0.01"))),
                          []).append(line)
    outcomes, problems, seen = [], [], {}
    for row in rows:
        account, name, amount = normalize_account(_text(row.account)), _text(row.name), _amount(row.amount)
        status = _text(row.status)
        if amount is None:
            problems.append((row.number, "金额", N_("金额「%(text)s」不是数字", text=_text(row.amount))))
            continue
        if status not in (SUCCESS, FAILURE):
            problems.append((row.number, "状态", N_("状态应为「%(success)s」或「%(failure)s」，不是「%(status)s」", success=SUCCESS,
                                                  failure=FAILURE, status=status)))
            continue
        found = by_key.get((account, name, amount), [])
        if not found:
            problems.append((row.number, "账号", N_("批次中没有账号、户名、金额都相同的付款明细")))
        elif len(found) > 1:
            problems.append((row.number, "账号", N_("批次中有%(count)s笔账号、户名、金额都相同的付款明细，无法确定是哪一笔", count=len(found))))
        elif found[0].id in seen:
            problems.append((row.number, "账号", N_("与第%(row)s行是同一笔付款明细", row=seen[found[0].id])))
        elif found[0].status != WAITING:
            problems.append((row.number, "状态", N_("这笔付款的结果已在此前的回单中导入")))
        elif not in_this_payment(found[0]):
            # Bounced by hand since, or reissued and paid in a later batch: applying this line would record a
            # second payment of the case, or return the later one.
            problems.append((row.number, "状态", N_("该案件已不在本批次的发放中（已退票或已在其他批次重新发放），请核对")))
        else:
            seen[found[0].id] = row.number
            reason = _text(row.reason) or None
            if status == FAILURE and not reason:
                problems.append((row.number, "原因", N_("失败的付款须写明银行的退票原因")))
                continue
            if reason and len(reason) > MAX_REASON:
                problems.append((row.number, "原因", N_("原因太长，最多%(limit)s个字", limit=MAX_REASON)))
                continue
            outcomes.append(Outcome(found[0], status == SUCCESS, reason))
    return outcomes, problems
