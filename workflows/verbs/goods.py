"""Goods (送实物): the real-name receipt (实名签收) of a goods case once approved: who handed the goods over, who
received them, when, and the signed scan, kept as a document of the case. One audited event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Invalid, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, local_date, to_db
from workflows.infra.uploads import Uploads
from workflows.inputs import line_problem, parse_day
from workflows.models import GoodsReceipt
from workflows.states import UNION_ROLES, Action, State
from workflows.texts import N_
from workflows.verbs.cases import get_case
from workflows.verbs.documents import label, store
from workflows.vocab import AidKind, DocumentKind

NAME = 50
# The goods are handed over once the district has approved them.
RECEIPT_STATES = (State.district_approved, State.disbursed)


def receipt_reasons(case) -> list[Reason]:
    """Why no receipt can be recorded for `case` now (empty when it can)."""
    if case.aid_kind != AidKind.goods:
        return [Reason("aid_kind", N_("只有帮扶方式为「送实物」的案件需要登记实名签收"))]
    if case.state not in RECEIPT_STATES:
        return [Reason("state", N_("案件当前为「%(state)s」，区总审定后才能登记实物签收", state=State(case.state).label))]
    return []


def record_receipt(session: Session, actor: Actor, clock: Clock, uploads: Uploads, case_id: int, handed_by: Any,
                   received_by: Any, received_on: Any, scan_file_name: str, scan_bytes: bytes) -> GoodsReceipt:
    """A cadre or head of the case's union records who handed the goods over to whom and when, with the signed
    scan (a document of kind goods_receipt, through the same upload machinery as the case's papers)."""
    case = get_case(session, actor, case_id)
    rules.require_role(actor, UNION_ROLES, N_("登记实物签收"))
    now = clock.now()
    problems: dict[str, str] = {}
    names = {}
    for field, value, what in (("handed_by", handed_by, N_("发放人")), ("received_by", received_by, N_("签收人"))):
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            problems[field] = N_("请填写%(what)s", what=what)
        elif len(text) > NAME:
            problems[field] = N_("太长，最多%(limit)s个字", limit=NAME)
        elif problem := line_problem(text):
            problems[field] = problem
        names[field] = text
    day = parse_day(received_on)
    if day is None:
        problems["received_on"] = N_("请填写签收日期，格式如 2018-01-05")
    elif day > local_date(now):
        problems["received_on"] = N_("签收日期不能晚于今天")
    problems |= uploads.problems(scan_file_name, scan_bytes)[1]
    if problems:
        raise Invalid(problems)
    if reasons := receipt_reasons(case):
        raise Refused(*reasons)
    if session.scalar(select(GoodsReceipt.id).where(GoodsReceipt.case_id == case.id)) is not None:
        raise Refused(Reason("receipt", N_("该案件已登记实物签收")))
    document = store(session, actor, now, uploads, case, DocumentKind.goods_receipt, scan_file_name, scan_bytes)
    session.flush()  # the document's row first: the receipt names it, and no relationship tells the flush so
    receipt = GoodsReceipt(case_id=case.id, handed_by=names["handed_by"], received_by=names["received_by"],
                           received_on=day, document_id=document.id, recorded_by_id=actor.id, recorded_at=to_db(now))
    session.add(receipt)
    session.flush()
    audit.record(session, actor, now, Action.record_receipt, case=case, state=case.state,
                 changes=audit.created({**names, "received_on": day, "document": label(document)}))
    return receipt


def receipt_of(session: Session, case) -> GoodsReceipt | None:
    return session.scalar(select(GoodsReceipt).where(GoodsReceipt.case_id == case.id))

