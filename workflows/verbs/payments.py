"""Payments: the export for the bank, and the payments of a whole batch recorded in one action.

Every payment is fire(..., "disburse", ...): the caps, the budget and the claims hold for a batch exactly as for
one case. Each payment is flushed (by its audit event) before the next one is checked, so the budget guard
(rules.money_reasons, counting what is disbursed) sees what was paid earlier in the same batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from workflows import rules
from workflows.actors import Actor
from workflows.errors import DomainError, Invalid, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock
from workflows.models import Case, Union
from workflows.reads.payments import PENDING
from workflows.states import Action, Role, State, Trigger
from workflows.verbs.transitions import fire


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def _label(case: Case) -> str:
    return f"{case.applicant_name}（档案编号{case.file_number or case.id}）"


def payment_export(session: Session, actor: Actor, clock: Clock, case_ids: Sequence[int]) -> list[Case]:
    """The cases of a payment batch, full account numbers included, for the bank: finance only, and only cases
    still to be paid (a paid case exported again could be paid twice). The export is one audit event naming the
    cases, their count and total (no account number in it). Returned by union and file number."""
    rules.require_role(actor, (Role.finance,), "导出付款清单")
    ids = _unique(case_ids)
    if not ids:
        raise Invalid({"cases": "请先勾选要导出的案件"})
    cases = session.scalars(
        select(Case).join(Union, Case.union_id == Union.id)
        .where(Case.id.in_(ids), Case.visible_to(actor))
        .options(joinedload(Case.union), joinedload(Case.campaign))
        .order_by(Union.code, Case.file_number, Case.id)).all()
    found = {case.id for case in cases}
    if missing := [i for i in ids if i not in found]:
        raise Refused(Reason("state", f"找不到案件{'、'.join(map(str, missing))}，或您无权导出"))
    for case in cases:
        if case.state != PENDING:
            raise Refused(Reason("state", f"{_label(case)}当前为「{State(case.state).label}」，只有待发放的案件可以导出付款"))
        if not case.bank_account:
            raise Refused(Reason("fields", f"{_label(case)}没有工商银行账号"))
    total = sum((case.aid_amount or Decimal(0) for case in cases), Decimal(0))
    audit.record(session, actor, clock.now(), Action.payment_export,
                 changes=audit.created({"cases": [case.id for case in cases], "count": len(cases), "total": total}))
    return list(cases)


@dataclass(frozen=True)
class Payment:
    case_id: int
    version: int | None = None      # the version the page showed: a case changed since is refused, not paid
    reference: str | None = None    # this case's payment reference; the batch's when empty


class BatchRefused(Refused):
    """One payment of a batch was refused: the batch records nothing (the caller rolls back what went before).
    `case_id` names the case, and the message says which one and why."""

    def __init__(self, case_id: int, label: str, error: DomainError) -> None:
        self.case_id = case_id
        self.cause = error
        message = "；".join(error.fields.values()) if isinstance(error, Invalid) else error.message
        rule = error.rule if isinstance(error, Refused) else error.code
        super().__init__(Reason(rule, f"{label}：{message}"))


def disburse_batch(session: Session, actor: Actor, clock: Clock, payments: Sequence[Payment],
                   reference: str | None = None) -> list[Case]:
    """Record the payment of every case of `payments`, all or nothing: the first refusal raises BatchRefused and
    the caller must roll back the payments recorded before it (this verb, like every verb, never commits)."""
    rules.require_role(actor, (Role.finance,), "记录发放")
    first: dict[int, Payment] = {}
    for payment in payments:
        first.setdefault(payment.case_id, payment)  # a case ticked twice is paid once
    unique = list(first.values())
    if not unique:
        raise Invalid({"cases": "请先勾选要发放的案件"})
    labels = {case_id: f"{name}（档案编号{number or case_id}）" for case_id, name, number in session.execute(
        select(Case.id, Case.applicant_name, Case.file_number)
        .where(Case.id.in_([p.case_id for p in unique]), Case.visible_to(actor)))}
    batch_reference = (reference or "").strip() or None
    paid = []
    for payment in unique:
        try:
            paid.append(fire(session, actor, clock, payment.case_id, Trigger.disburse, payment.version,
                                      payment_reference=(payment.reference or "").strip() or batch_reference))
        except DomainError as error:
            raise BatchRefused(payment.case_id, labels.get(payment.case_id, f"案件{payment.case_id}"), error) \
                from error
    return paid
