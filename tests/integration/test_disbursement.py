"""Disbursement: finance's batch and its totals, the audited payment export, and a batch of payments recorded all
or nothing, the budget and the yearly cap counting what the same batch paid before."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from workflows import rules, verbs
from workflows.actors import CONSOLE
from workflows.errors import Forbidden, Invalid, Refused
from workflows.inputs import parse_deadline
from workflows.models import AuditEvent, Case
from workflows.reads import payments as batches
from workflows.reads.payments import BatchFilters
from workflows.states import State
from workflows.verbs.payments import BatchRefused, Payment

from ..factories import id_number


def funds(amount: str) -> dict:
    return {"kind": "funds", "amount": amount, "medical": False}


def applicant(number: str) -> dict:
    return {"name": "王建国", "gender": "male", "id_number": number, "phone": "13912345678", "employer": "华光机械厂"}


def states(session, cases) -> list[str]:
    session.expire_all()
    return [session.get(Case, case.id).state for case in cases]


def attempt(session, verb, *args, **kwargs):
    """Call `verb` as a request does: whatever it did is rolled back when it raises."""
    savepoint = session.begin_nested()
    try:
        result = verb(session, *args, **kwargs)
    except Exception:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result


def payments(*cases, reference=None) -> list[Payment]:
    return [Payment(case.id, case.version, reference) for case in cases]


# ---------------------------------------------------------------- the batch

def test_the_batch_lists_what_finance_pays_with_totals(session, make):
    first, second = make.union("第一机床厂工会"), make.union("红星纺织厂工会")
    other = make.campaign()
    a = make.case(State.district_approved, first, aid=funds("1000"))
    b = make.case(State.district_approved, second, aid=funds("800.50"))
    make.case(State.disbursed, first, aid=funds("600"))
    make.case(State.district_approved, first, other, aid=funds("300"))
    make.case(State.entered, first, aid=funds("999"))  # not the district's decision yet: not finance's
    finance = make.person("finance")

    everything = batches.batch(session, finance, make.clock.now())
    assert {c.id for c in everything.items} >= {a.id, b.id}
    assert all(c.state == State.district_approved for c in everything.items)
    assert (everything.pending.count, everything.pending.amount) == (3, Decimal("2100.50"))
    assert (everything.paid.count, everything.paid.amount) == (1, Decimal("600"))

    mine = batches.batch(session, finance, make.clock.now(),
                         BatchFilters(campaign=make.default_campaign().id, union=first.code))
    assert [c.id for c in mine.items] == [a.id]
    assert (mine.shown.count, mine.shown.amount) == (1, Decimal("1000"))
    assert [(u.name, u.pending.count, u.paid.count) for u in mine.by_union] == [("第一机床厂工会", 1, 1)]
    paid = batches.batch(session, finance, make.clock.now(), BatchFilters(state=State.disbursed))
    assert [c.state for c in paid.items] == [State.disbursed]


def test_a_case_another_finance_officer_claimed_is_not_offered_for_payment(session, make):
    """The batch offers what this officer may pay (the `disburse` turn): not a case someone else has claimed,
    which would refuse the whole batch."""
    a, b = make.case(State.district_approved, aid=funds("1000")), make.case(State.district_approved, aid=funds("500"))
    finance, colleague = make.person("finance"), make.account("finance")
    verbs.claim(session, colleague, make.clock, b.id)
    mine = batches.batch(session, finance, make.clock.now())
    assert [c.id for c in mine.items] == [a.id] and (mine.pending.count, mine.pending.amount) == (1, Decimal("1000"))
    theirs = batches.batch(session, colleague, make.clock.now())
    assert {c.id for c in theirs.items} == {a.id, b.id}


def test_the_batch_shows_what_is_left_of_the_budget(session, make):
    campaign = make.campaign(budget="5000")
    make.case(State.disbursed, campaign=campaign, aid=funds("1200"))
    make.case(State.district_approved, campaign=campaign, aid=funds("1000"))
    result = batches.batch(session, make.person("finance"), make.clock.now(), BatchFilters(campaign=campaign.id))
    assert result.budget_left == Decimal("3800")


@pytest.mark.parametrize("role", ["cadre", "head", "reviewer", "auditor", "admin"])
def test_only_finance_works_the_batch(session, make, role):
    case = make.case(State.district_approved)
    someone = make.person(role, case.union)
    with pytest.raises(Forbidden):
        batches.batch(session, someone, make.clock.now())
    with pytest.raises(Forbidden):
        verbs.payment_export(session, someone, make.clock, [case.id])
    with pytest.raises(Forbidden):
        verbs.disburse_batch(session, someone, make.clock, payments(case), "ICBC-1")
    assert states(session, [case]) == [State.district_approved]


# ---------------------------------------------------------------- the payment export

def test_the_export_has_the_full_numbers_and_is_audited(session, make):
    cases = [make.case(State.district_approved, aid=funds(amount)) for amount in ("1000", "250.50")]
    finance = make.person("finance")
    exported = verbs.payment_export(session, finance, make.clock, [c.id for c in reversed(cases)])
    assert {c.id for c in exported} == {c.id for c in cases}
    assert all(c.bank_account and "*" not in c.bank_account for c in exported)
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (event.action, event.actor_id, event.case_id) == ("payment_export", finance.id, None)
    assert event.changes == {"cases": [None, ",".join(str(c.id) for c in exported)], "count": [None, "2"],
                             "total": [None, "1250.50"]}
    for case in cases:  # the trail carries no account number
        assert case.bank_account not in str(event.changes)


def test_the_export_refuses_what_is_not_to_be_paid(session, make):
    finance = make.person("finance")
    paid = make.case(State.disbursed)
    entered = make.case(State.entered)
    waiting = make.case(State.district_approved)
    before = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    with pytest.raises(Refused, match="已发放」，只有待发放的案件可以导出付款"):
        verbs.payment_export(session, finance, make.clock, [waiting.id, paid.id])
    with pytest.raises(Refused, match=f"找不到案件{entered.id}"):
        verbs.payment_export(session, finance, make.clock, [waiting.id, entered.id])
    with pytest.raises(Invalid):
        verbs.payment_export(session, finance, make.clock, [])
    assert session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) == before


# ---------------------------------------------------------------- a batch of payments

def test_a_batch_is_paid_in_one_action(session, make):
    cases = [make.case(State.district_approved) for _ in range(3)]
    finance = make.person("finance")
    own = Payment(cases[1].id, cases[1].version, "ICBC-OWN-2")
    paid = verbs.disburse_batch(session, finance, make.clock,
                                       [Payment(cases[0].id, cases[0].version), own,
                                        Payment(cases[2].id, cases[2].version), Payment(cases[0].id)],
                                       " ICBC-BATCH-7 ")
    assert [c.id for c in paid] == [c.id for c in cases]  # a case ticked twice is paid once
    assert states(session, cases) == [State.disbursed] * 3
    assert [session.get(Case, c.id).payment_reference for c in cases] == ["ICBC-BATCH-7", "ICBC-OWN-2",
                                                                          "ICBC-BATCH-7"]
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "disburse")
                             .where(AuditEvent.case_id.in_([c.id for c in cases]))).all()
    assert len(events) == 3


def test_a_batch_over_the_budget_is_refused_whole(session, make):
    campaign = make.campaign(budget="3000")
    cases = [make.case(State.district_approved, campaign=campaign, aid=funds("1000")) for _ in range(3)]
    finance = make.person("finance")
    campaign.budget = Decimal("2500")  # cut after the approvals, behind the application's back
    session.flush()
    # Alone, each payment fits: only what the batch paid before it makes the third one too much.
    for case in cases:
        assert rules.blockers(session, case, "disburse", finance, make.clock.now(), payment_reference="X") == []
    with pytest.raises(BatchRefused) as caught:
        attempt(session, verbs.disburse_batch, finance, make.clock, payments(*cases), "ICBC-9")
    third = cases[2]
    assert caught.value.case_id == third.id
    assert caught.value.rule == "budget"
    assert caught.value.message == (f"{third.applicant_name}（档案编号{third.file_number}）："
                                    "超出活动预算：剩余500.00元，本次需要1,000.00元")
    assert states(session, cases) == [State.district_approved] * 3
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "disburse")).all() == []
    # Without the third, the batch goes through.
    attempt(session, verbs.disburse_batch, finance, make.clock, payments(*cases[:2]), "ICBC-9")
    assert states(session, cases) == [State.disbursed, State.disbursed, State.district_approved]


def test_a_batch_over_a_workers_yearly_cap_is_refused_whole(session, make, clock):
    winter = make.campaign(cap_per_year="3000")
    summer = make.campaign(starts_on=dt.date(2018, 1, 1), deadline=parse_deadline("2018-08-31"),
                           cap_per_year="3000")
    number = id_number()
    first = make.case(State.district_approved, campaign=winter, applicant=applicant(number), aid=funds("1500"))
    second = make.case(State.district_approved, campaign=summer, applicant=applicant(number), aid=funds("1200"))
    plain = make.case(State.district_approved, campaign=winter)
    verbs.update_campaign(session, CONSOLE, clock, summer.id, cap_per_year="2500")
    finance = make.person("finance")
    with pytest.raises(BatchRefused) as caught:
        attempt(session, verbs.disburse_batch, finance, clock, payments(plain, first, second), "ICBC-3")
    assert caught.value.case_id == second.id and caught.value.rule == "cap_year"
    assert "超过年度上限2,500.00元" in caught.value.message
    assert states(session, [plain, first, second]) == [State.district_approved] * 3


@pytest.mark.parametrize("problem", ["stale", "claimed", "no reference", "not visible", "too long"])
def test_one_bad_payment_stops_the_batch_and_is_named(session, make, problem):
    cases = [make.case(State.district_approved) for _ in range(3)]
    finance, other = make.person("finance"), make.account("finance")
    bad = cases[1]
    batch = payments(*cases)
    reference = "ICBC-5"
    if problem == "stale":
        batch[1] = Payment(bad.id, bad.version - 1)
    elif problem == "claimed":
        verbs.claim(session, other, make.clock, bad.id)
        batch[1] = Payment(bad.id, None)
    elif problem == "no reference":
        reference = None
        batch = [Payment(c.id, c.version, f"R{i}") for i, c in enumerate(cases)]
        batch[1] = Payment(bad.id, bad.version, "  ")
    elif problem == "not visible":
        bad = make.case(State.entered)
        batch[1] = Payment(bad.id, bad.version)
    else:
        batch[1] = Payment(bad.id, bad.version, "X" * 65)
    with pytest.raises(BatchRefused) as caught:
        attempt(session, verbs.disburse_batch, finance, make.clock, batch, reference)
    assert caught.value.case_id == bad.id
    name = f"{bad.applicant_name}（档案编号{bad.file_number}）" if problem != "not visible" else f"案件{bad.id}"
    assert caught.value.message.startswith(name + "："), caught.value.message
    expected = {"stale": "该案件已被他人修改", "claimed": "已由", "no reference": "请填写批次付款凭证号",
                "not visible": "找不到该案件", "too long": "太长"}[problem]
    assert expected in caught.value.message
    assert states(session, cases) == [State.district_approved] * 3


def test_an_empty_batch_is_refused(session, make):
    with pytest.raises(Invalid) as caught:
        verbs.disburse_batch(session, make.person("finance"), make.clock, [], "ICBC-1")
    assert caught.value.fields == {"cases": "请先勾选要发放的案件"}
