"""Payments: the export for the bank, the payments of a whole batch recorded in one action, the batches sent to the
bank (批量代发) with the bank's file and its result, and the returned payments (退票) with their corrected account.

Every payment is fire(..., "disburse", ...): the caps, the budget and the claims hold for a batch exactly as for
one case. Each payment is flushed (by its audit event) before the next one is checked, so the budget guard
(rules.money_reasons, counting what is disbursed) sees what was paid earlier in the same batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from workflows import rules
from workflows.actors import Actor
from workflows.errors import DomainError, Forbidden, Invalid, NotFound, Reason, Refused
from workflows.identity import bank_account_problem, mask_numbers, normalize_account
from workflows.infra import audit
from workflows.infra.clock import Clock, local_date, to_db
from workflows.infra.db import lost_race
from workflows.models import Case, PaymentBatch, PaymentLine, Union
from workflows.reads.payments import PENDING
from workflows.rules.payments import PAID, RETURNED, WAITING, ResultRow, correction_reasons, match_result
from workflows.states import Action, Role, State, Trigger
from workflows.texts import Joined, N_
from workflows.verbs.cases import check_version, get_case, touch
from workflows.verbs.imports import RowError
from workflows.verbs.transitions import fire


def _unique(ids: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(ids))


def _label(case: Case) -> str:
    return N_("%(name)s（档案编号%(number)s）", name=case.applicant_name, number=case.file_number or case.id)


def payment_export(session: Session, actor: Actor, clock: Clock, case_ids: Sequence[int]) -> list[Case]:
    """The cases of a payment batch, full account numbers included, for the bank: finance only, and only cases
    still to be paid (a paid case exported again could be paid twice). The export is one audit event naming the
    cases, their count and total (no account number in it). Returned by union and file number."""
    rules.require_role(actor, (Role.finance,), N_("导出付款清单"))
    ids = _unique(case_ids)
    if not ids:
        raise Invalid({"cases": N_("请先勾选要导出的案件")})
    cases = session.scalars(
        select(Case).join(Union, Case.union_id == Union.id)
        .where(Case.id.in_(ids), Case.visible_to(actor))
        .options(joinedload(Case.union), joinedload(Case.campaign))
        .order_by(Union.code, Case.file_number, Case.id)).all()
    found = {case.id for case in cases}
    if missing := [i for i in ids if i not in found]:
        raise Refused(Reason("state", N_("找不到案件%(missing)s，或您无权导出", missing=list(map(str, missing)))))
    queued = queued_case_ids(session, ids)
    for case in cases:
        if case.state != PENDING:
            raise Refused(Reason("state", N_("%(label)s当前为「%(state)s」，只有待发放的案件可以导出付款", label=_label(case),
                                             state=State(case.state).label)))
        if case.id in queued:  # its batch's own bank file carries it: a second file would pay it twice
            raise Refused(Reason("batch", N_("%(label)s已在尚未发放的批次中，请从该批次导出银行代发文件", label=_label(case))))
        if not case.bank_account:
            raise Refused(Reason("fields", N_("%(label)s没有工商银行账号", label=_label(case))))
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
        message = Joined(error.fields.values()) if isinstance(error, Invalid) else error.message
        rule = error.rule if isinstance(error, Refused) else error.code
        super().__init__(Reason(rule, N_("%(label)s：%(message)s", label=label, message=message)))


def disburse_batch(session: Session, actor: Actor, clock: Clock, payments: Sequence[Payment],
                   reference: str | None = None) -> list[Case]:
    """Record the payment of every case of `payments`, all or nothing: the first refusal raises BatchRefused and
    the caller must roll back the payments recorded before it (this verb, like every verb, never commits)."""
    rules.require_role(actor, (Role.finance,), N_("记录发放"))
    first: dict[int, Payment] = {}
    for payment in payments:
        first.setdefault(payment.case_id, payment)  # a case ticked twice is paid once
    unique = list(first.values())
    if not unique:
        raise Invalid({"cases": N_("请先勾选要发放的案件")})
    labels = {case_id: N_("%(name)s（档案编号%(number)s）", name=name,
                          number=number or case_id) for case_id, name, number in session.execute(
        select(Case.id, Case.applicant_name, Case.file_number)
        .where(Case.id.in_([p.case_id for p in unique]), Case.visible_to(actor)))}
    batch_reference = (reference or "").strip() or None
    # A case waiting in a batch is paid by that batch only (send_batch names it), never by hand meanwhile.
    queued = queued_case_ids(session, [p.case_id for p in unique]) if batch_reference is None or not \
        session.scalar(select(PaymentBatch.id).where(PaymentBatch.reference == batch_reference)) else set()
    if queued:
        case_id = min(queued)
        raise BatchRefused(case_id, labels.get(case_id, N_("案件%(case)s", case=case_id)),
                           Refused(Reason("batch", N_("已在尚未发放的批次中，请在该批次记录发放"))))
    if batch_reference is None and (bare := [p.case_id for p in unique if not (p.reference or "").strip()]):
        # Said of the batch, where the person left it empty, naming the first case it leaves without one.
        raise BatchRefused(bare[0], labels.get(bare[0], N_("案件%(case)s", case=bare[0])), Refused(Reason(
            "payment_reference", N_("请填写批次付款凭证号，或在本件中填写付款凭证号"))))
    paid = []
    for payment in unique:
        try:
            paid.append(fire(session, actor, clock, payment.case_id, Trigger.disburse, payment.version,
                                      payment_reference=(payment.reference or "").strip() or batch_reference))
        except DomainError as error:
            raise BatchRefused(payment.case_id, labels.get(payment.case_id, N_("案件%(case)s",
                                                                               case=payment.case_id)), error) \
                from error
    return paid


# ---------------------------------------------------------------- returned payments (退票)

def correct_account(session: Session, actor: Actor, clock: Clock, case_id: int, version: int | None,
                    bank_account: str | None) -> Case:
    """The corrected bank account of a returned case (退票), checked as the case form checks it. Who corrected it is
    kept: `reissue` then needs another finance officer (rules.guards EXTRA). One event, both numbers masked."""
    case = get_case(session, actor, case_id)
    if reasons := correction_reasons(case, actor):
        raise (Forbidden if reasons[0].rule == "role" else Refused)(*reasons)
    check_version(case, version)
    number = normalize_account(bank_account or "")
    if not number:
        raise Invalid({"bank_account": N_("请填写更正后的工商银行账号")})
    if problem := bank_account_problem(number):
        raise Invalid({"bank_account": problem})
    now = clock.now()
    # The same number again is a confirmation (the account was reopened): still a correction, shown as such.
    changes = audit.diff({"bank_account": case.bank_account}, {"bank_account": number}) or \
        {"bank_account": [audit.text(case.bank_account, "bank_account"), audit.text(number, "bank_account")]}
    case.bank_account = number
    case.account_corrected_by_id = actor.id
    case.account_corrected_at = to_db(now)
    touch(case, now)
    audit.record(session, actor, now, Action.correct_account, case=case, state=case.state, changes=changes)
    return case


# ---------------------------------------------------------------- payment batches (批量代发)

BATCH_PREFIX = "PC"


def _batch(session: Session, actor: Actor, batch_id: int, what: str, lock: bool = False) -> PaymentBatch:
    rules.require_role(actor, (Role.finance,), what)
    batch = session.get(PaymentBatch, batch_id, with_for_update=lock)
    if batch is None:
        raise NotFound(N_("找不到该发放批次"))
    return batch


def _next_reference(session: Session, now: dt.datetime) -> str:
    prefix = f"{BATCH_PREFIX}-{local_date(now):%Y%m%d}-"
    taken = session.scalar(select(func.count()).where(PaymentBatch.reference.like(prefix + "%")))
    return f"{prefix}{taken + 1:03d}"


def _numbered(session: Session, now: dt.datetime, make: Callable[[], PaymentBatch]) -> PaymentBatch:
    """A batch made by `make`, with the day's next reference, flushed. Two batches made at once both count the
    same batches before them: the one whose insert loses on the reference's key counts again (the winner has
    committed by then, on PostgreSQL as on SQLite) and takes the number after it, so both are made."""
    for attempt in range(5):
        batch = make()
        batch.reference = _next_reference(session, now)
        try:
            with session.begin_nested():
                session.add(batch)
                session.flush()
            return batch
        except IntegrityError as error:
            if not lost_race(error) or attempt == 4:
                raise
    raise AssertionError("unreachable")


def queued_case_ids(session: Session, case_ids: Sequence[int] | None = None) -> set[int]:
    """The cases already in a batch whose payments are not recorded yet."""
    query = select(PaymentLine.case_id).join(PaymentBatch).where(PaymentBatch.sent_at.is_(None))
    if case_ids is not None:
        query = query.where(PaymentLine.case_id.in_(case_ids))
    return set(session.scalars(query))


# A bank file carries the name exactly as recorded (the bank matches its result by it), so a name a spreadsheet would
# take for a formula is refused when the batch is made, never rewritten in the file.
UNSAFE_NAME_STARTS = ("=", "+", "-", "@", "\t", "\r")


def create_batch(session: Session, actor: Actor, clock: Clock, case_ids: Sequence[int]) -> PaymentBatch:
    """A batch of district-approved cases with an account, none in another batch not yet sent: one line per case
    keeping the account, name and amount the bank file will carry. Finance only; one event."""
    rules.require_role(actor, (Role.finance,), N_("新建发放批次"))
    ids = _unique(case_ids)
    if not ids:
        raise Invalid({"cases": N_("请先勾选要放入批次的案件")})
    now = clock.now()
    # Locked: two batches made at once cannot take the same case.
    cases = session.scalars(select(Case).where(Case.id.in_(ids), Case.visible_to(actor))
                            .order_by(Case.union_id, Case.file_number, Case.id).with_for_update(of=Case)).all()
    found = {case.id for case in cases}
    if missing := [i for i in ids if i not in found]:
        raise Refused(Reason("state", N_("找不到案件%(missing)s，或您无权发放", missing=list(map(str, missing)))))
    queued = queued_case_ids(session, ids)
    for case in cases:
        if case.state != PENDING:
            raise Refused(Reason("state", N_("%(label)s当前为「%(state)s」，只有待发放的案件可以放入批次", label=_label(case),
                                             state=State(case.state).label)))
        if not case.bank_account:
            raise Refused(Reason("fields", N_("%(label)s没有工商银行账号", label=_label(case))))
        if case.applicant_name.startswith(UNSAFE_NAME_STARTS):
            raise Refused(Reason("name", N_("%(label)s：户名不能以=、+、-、@开头，请先核对姓名", label=_label(case))))
        if not case.aid_amount:  # goods (送实物) are handed over against a receipt, never a bank transfer
            raise Refused(Reason("amount", N_("%(label)s没有现金帮扶金额（送实物的案件凭实名签收发放），不能放入银行代发批次", label=_label(case))))
        if case.id in queued:
            raise Refused(Reason("batch", N_("%(label)s已在另一个尚未发放的批次中", label=_label(case))))
        if turn := [r for r in rules.guards.turn_reasons(case, Trigger.disburse, actor, now) if r.rule != "state"]:
            raise Refused(Reason(turn[0].rule, N_("%(label)s：%(message)s", label=_label(case),
                                                  message=turn[0].message)))
    batch = _numbered(session, now, lambda: PaymentBatch(
        created_by_id=actor.id, created_at=to_db(now),
        lines=[PaymentLine(case_id=case.id, bank_account=case.bank_account, name=case.applicant_name,
                           amount=case.aid_amount or Decimal(0), status=WAITING) for case in cases]))
    total = sum((line.amount for line in batch.lines), Decimal(0))
    audit.record(session, actor, now, Action.create_batch, changes=audit.created(
        {"batch": batch.reference, "cases": [case.id for case in cases], "count": len(cases), "total": total}))
    return batch


def send_batch(session: Session, actor: Actor, clock: Clock, batch_id: int) -> PaymentBatch:
    """The batch's payments recorded: every case `disburse`d with the batch's reference (disburse_batch: the caps,
    budget and claims hold as for one case), all or nothing."""
    batch = _batch(session, actor, batch_id, N_("记录发放"))
    if batch.sent_at is not None:
        raise Refused(Reason("state", N_("批次%(reference)s已记录发放", reference=batch.reference)))
    disburse_batch(session, actor, clock, [Payment(line.case_id) for line in batch.lines], batch.reference)
    batch.sent_at = to_db(clock.now())
    session.flush()
    return batch


BANK_FORMATS = ("xlsx", "csv")


def bank_file(session: Session, actor: Actor, clock: Clock, batch_id: int, fmt: str) -> PaymentBatch:
    """The batch for the bank's file (its lines carry the full accounts): finance only, each export one event
    naming the batch, the format, the count and the total, never an account number. The caller writes the file."""
    batch = _batch(session, actor, batch_id, N_("导出银行代发文件"))
    if fmt not in BANK_FORMATS:
        raise Invalid({"format": N_("格式只能是xlsx或csv")})
    now = clock.now()
    batch.exported_at = to_db(now)
    total = sum((line.amount for line in batch.lines), Decimal(0))
    audit.record(session, actor, now, Action.bank_file, changes=audit.created(
        {"batch": batch.reference, "format": fmt, "count": len(batch.lines), "total": total}))
    return batch


class ResultInvalid(Invalid):
    """The bank's result file has rows that match no payment, or several, or cannot be read: nothing applied."""

    def __init__(self, problems: list[tuple[int, str, str]]) -> None:
        self.rows = [RowError(row, column, message) for row, column, message in problems]
        super().__init__({"file": N_("银行回单有%(count)s处问题，没有导入任何结果；请核对后重新上传", count=len(problems))})


def bank_result(session: Session, actor: Actor, clock: Clock, batch_id: int,
                rows: Sequence[ResultRow]) -> PaymentBatch:
    """The bank's result of a sent batch, all rows or none: each matched to its line (rules.payments.match_result);
    成功 marks the line paid, 失败 marks it returned and `bounce`s its case with the bank's reason. One event for
    the batch, besides the bounces' own."""
    # Locked: the same result imported twice at once is imported once, then refused case by case.
    batch = _batch(session, actor, batch_id, N_("导入银行回单"), lock=True)
    if batch.sent_at is None:
        raise Refused(Reason("state", N_("批次%(reference)s尚未记录发放，不能导入银行回单", reference=batch.reference)))
    if not rows:
        raise Invalid({"file": N_("回单中没有付款记录")})
    outcomes, problems = match_result(batch.lines, rows)
    if problems:
        raise ResultInvalid(problems)
    now = clock.now()
    for outcome in outcomes:
        # The bank's words may carry an account number: kept masked, as every text outside the bank file.
        outcome.line.status, outcome.line.reason = (PAID, None) if outcome.paid else (RETURNED,
                                                                                     mask_numbers(outcome.reason))
        if not outcome.paid:
            case = outcome.line.case
            label = _label(case)  # read now: a refused bounce may leave the case expired
            try:
                fire(session, actor, clock, case.id, Trigger.bounce, None, comment=mask_numbers(outcome.reason))
            except DomainError as error:
                raise BatchRefused(case.id, label, error) from error
    batch.result_at = to_db(now)
    paid = sum(1 for o in outcomes if o.paid)
    audit.record(session, actor, now, Action.bank_result, changes=audit.created(
        {"batch": batch.reference, "paid": paid, "returned": len(outcomes) - paid}))
    return batch
