"""Two finance officers pay a returned payment again at the same moment (PostgreSQL): exactly one reissues and
pays it, every other is told the case changed (Conflict), and the budget counts the case once."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.models import AuditEvent, Case
from workflows.states import COMMITTED, State

from .conftest import THREADS
from .test_concurrency import chain, load, race

pytestmark = pytest.mark.postgres


def paying_again(engine, actor, clock, case_id: int, fresh: bool):
    """Reissue the case and pay it, as one request, with the version the page showed."""
    def job(barrier: threading.Barrier):
        with Session(engine) as session:
            version = session.get(Case, case_id).version
            if fresh:
                session.close()
            barrier.wait()
            try:
                case = verbs.fire(session, actor, clock, case_id, "reissue", version)
                verbs.fire(session, actor, clock, case_id, "disburse", case.version,
                           payment_reference=f"PAY-{actor.username}")
                session.commit()
            except BaseException:
                session.rollback()
                raise
            return actor.username
    return job


def test_two_finance_officers_pay_a_returned_case_again_once(racers, setup, clock):
    session, make = setup
    campaign = make.campaign(budget="1000")
    case = make.case(State.payment_returned, campaign=campaign)
    make.correct_account(case)  # by the union's cadre: either officer may reissue
    officers = [make.account("finance"), make.account("finance")]
    session.commit()

    outcome = race([(f"pay-{i}", paying_again(racers, officers[i % 2], clock, case.id, fresh=i % 4 < 2))
                    for i in range(THREADS)])

    assert not outcome.unexpected(), outcome.unexpected()
    assert len(outcome.winners) == 1 and len(outcome.conflicts) == THREADS - 1
    after = load(racers, case.id)
    assert after.state == State.disbursed and after.payment_reference == f"PAY-{outcome.winners[0].result}"
    with Session(racers) as check:
        actions = list(check.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id,
                                                                     AuditEvent.action.in_(("reissue", "disburse")))
                                     .order_by(AuditEvent.seq)))
        assert actions == ["disburse", "reissue", "disburse"]  # paid, returned, paid again once
        spent = check.scalar(select(func.coalesce(func.sum(Case.aid_amount), 0))
                             .where(Case.campaign_id == campaign.id, Case.state.in_(COMMITTED)))
        assert Decimal(spent) == Decimal("1000") == campaign.budget
    seqs, verification = chain(racers)
    assert seqs == list(range(1, len(seqs) + 1)) and verification.ok, verification.message
