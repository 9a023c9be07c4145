"""The anti-fraud views find each of a seeded set of suspicious cases and nothing else (clean cases beside them,
some one step short of suspicious), in a fixed number of queries."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, select

from workflows import verbs
from workflows.actors import CONSOLE
from workflows.errors import Forbidden
from workflows.identity import mask_id
from workflows.inputs import parse_deadline
from workflows.models import Objection
from workflows.reads import fraud
from workflows.states import State

from ..factories import PDF, bank_account, id_number


def applicant(number: str) -> dict:
    return {"name": "王建国", "gender": "male", "id_number": number, "phone": "13912345678", "employer": "华光机械厂"}


def household(number: str) -> dict:
    return {"annual_income": "24000", "housing": "租住公房",
            "members": [{"name": "李秀英", "relation": "配偶", "id_number": number, "monthly_income": "800"}]}


def funds(amount: str) -> dict:
    return {"kind": "funds", "amount": amount, "medical": False}


@dataclass
class Seeded:
    """What each view must find (case ids per view), and the cases no view may list."""

    expected: dict[str, set[int]] = field(default_factory=lambda: {
        "shared_ids": set(), "shared_accounts": set(), "handled": set(), "caps": set()})
    clean: set[int] = field(default_factory=set)
    numbers: dict[str, str] = field(default_factory=dict)  # full numbers that must never show on a screen


def objection(f, case, recorder, resolver) -> None:
    verbs.record_objection(f.session, recorder, f.clock, case.id, "邻居反映其家庭收入不实")
    [pending] = f.session.scalars(select(Objection).where(Objection.case_id == case.id)).all()
    verbs.resolve_objection(f.session, resolver, f.clock, pending.id, "dismissed", "经核实，反映不实")


def typed(f, case, applicant: str | None = None, member: str | None = None):
    """A number written into a case as the data of before the archives held it (migrated, or typed into a draft
    later): one household, one archive keeps a new case from naming a number of another household's archive, so
    the views must still find what came in that way."""
    if applicant:
        case.id_number = applicant
    if member:
        case.members[0].id_number = member
    f.session.flush()
    return case


def seed(f) -> Seeded:
    """Two campaigns of 2018 (caps 2,000 per payment and 3,000 a year), one of 2019, two unions."""
    s = Seeded()
    a = f.campaign(cap_per_payment="2000", cap_per_year="3000")
    b = f.campaign(starts_on=dt.date(2018, 1, 1), deadline=parse_deadline("2018-08-31"), cap_per_payment="2000",
                   cap_per_year="3000")
    later = f.campaign(starts_on=dt.date(2018, 1, 1), deadline=parse_deadline("2019-01-25"))
    u1, u2 = f.union("第一机床厂工会"), f.union("红星纺织厂工会")
    cadre1, head1, cadre2, head2 = (f.person("cadre", u1), f.person("head", u1), f.person("cadre", u2),
                                    f.person("head", u2))
    reviewer = f.person("reviewer")

    # An ID number shared across unions and campaigns: applicant in one case, household member in another.
    p = id_number()
    s.numbers["shared id"] = p
    s.expected["shared_ids"] |= {f.case(State.district_approved, u1, a, applicant=applicant(p)).id,
                                 typed(f, f.case(State.entered, u2, b), member=p).id}
    # The same worker in both campaigns of the year, with their own account each time: a shared ID, not a
    # shared account.
    w, account_w = id_number(), bank_account()
    s.expected["shared_ids"] |= {
        f.case(State.disbursed, u1, a, applicant=applicant(w), bank_account=account_w).id,
        f.case(State.entered, u1, b, applicant=applicant(w), bank_account=account_w).id}
    # One bank account for two different applicants.
    k = bank_account()
    s.numbers["shared account"] = k
    s.expected["shared_accounts"] |= {f.case(State.district_approved, u1, a, bank_account=k).id,
                                      f.case(State.entered, u2, b, bank_account=k).id}

    # Approved by an account that uploaded a paper of the case as a cadre, then became head.
    helper = f.account("cadre", u1)
    h1 = f.draft(u1, a)
    f.attach(h1)
    verbs.add_document(f.session, helper, f.clock, f.uploads, h1.id, "bank_card", "银行卡.pdf", PDF)
    f.fire(h1, "document", cadre1)
    f.visit(h1.archive_id, u1)
    verbs.change_role(f.session, CONSOLE, f.clock, helper.id, "head", u1.code)
    for actor, trigger in ((helper, "approve"), (cadre1, "publicize"), (cadre1, "enter")):
        f.fire(h1, trigger, actor)
    # District-approved by the head who approved it at the union, now a reviewer.
    other_head = f.account("head", u2)
    h2 = f.draft(u2, a)
    f.attach(h2)
    f.visit(h2.archive_id, u2)
    for actor, trigger in ((cadre2, "document"), (other_head, "approve"), (cadre2, "publicize"), (cadre2, "enter")):
        f.fire(h2, trigger, actor)
    verbs.change_role(f.session, CONSOLE, f.clock, other_head.id, "reviewer")
    f.fire(h2, "district_approve", other_head)
    # Paid by the reviewer who approved it, now in finance.
    other_reviewer = f.account("reviewer")
    h3 = f.case(State.entered, u1, a)
    f.fire(h3, "district_approve", other_reviewer)
    verbs.change_role(f.session, CONSOLE, f.clock, other_reviewer.id, "finance")
    f.fire(h3, "disburse", other_reviewer)
    # An objection recorded and dismissed by the same head, and the case entered.
    h4 = f.case(State.publicized, u2, a)
    objection(f, h4, head2, head2)
    f.fire(h4, "enter", cadre2)
    s.expected["handled"] |= {h1.id, h2.id, h3.id, h4.id}

    # At 90% of the cap per payment; above a cap lowered after the approval; 90% of the yearly cap in two cases.
    s.expected["caps"].add(f.case(State.entered, u1, a, aid=funds("1800")).id)
    above = f.case(State.district_approved, u2, b, aid=funds("1500"))
    verbs.update_campaign(f.session, CONSOLE, f.clock, b.id, cap_per_payment="1400")
    s.expected["caps"].add(above.id)
    y = id_number()
    y1 = f.case(State.disbursed, u1, a, applicant=applicant(y), aid=funds("1500"))
    y2 = typed(f, f.case(State.entered, u2, b, aid=funds("1200")), applicant=y)
    s.expected["caps"] |= {y1.id, y2.id}
    s.expected["shared_ids"] |= {y1.id, y2.id}  # the same worker in two campaigns of the year

    # ---- clean cases, several one step short of a finding
    s.clean.add(f.case(State.entered, u1, a, aid=funds("1790")).id)  # 89.5% of the cap
    for state, union in ((State.entered, u1), (State.district_approved, u2), (State.disbursed, u1)):
        s.clean.add(f.case(state, union, a).id)
    q = id_number()  # the same worker, the same account, but another year
    account_q = bank_account()
    s.clean.add(f.case(State.disbursed, u1, a, applicant=applicant(q), bank_account=account_q).id)
    s.clean.add(typed(f, f.case(State.entered, u2, later, bank_account=account_q), applicant=q).id)
    r = id_number()  # a withdrawn case and a draft share numbers with an entered one: not the district's cases
    f.case(State.withdrawn, u1, a, applicant=applicant(r))
    s.clean.add(typed(f, f.case(State.entered, u2, b), applicant=r).id)
    typed(f, f.case(State.drafted, u1, b), member=r)
    dismissed = f.case(State.publicized, u1, a)  # recorded by the cadre, dismissed by the head
    objection(f, dismissed, cadre1, head1)
    f.fire(dismissed, "enter", cadre1)
    s.clean.add(dismissed.id)
    again = f.case(State.documented, u1, a)  # the head returns it, then approves it the second time
    f.fire(again, "return", head1)
    for actor, trigger in ((cadre1, "document"), (head1, "approve"), (cadre1, "publicize"), (cadre1, "enter")):
        f.fire(again, trigger, actor)
    s.clean.add(again.id)
    returned = f.case(State.entered, u2, a)  # the reviewer returns it, then approves it when it comes back
    f.fire(returned, "district_return", reviewer)
    for actor, trigger in ((cadre2, "document"), (head2, "approve"), (cadre2, "publicize"), (cadre2, "enter"),
                           (reviewer, "district_approve")):
        f.fire(returned, trigger, actor)
    s.clean.add(returned.id)
    f.session.flush()
    return s


def found(report: fraud.Report) -> dict[str, set[int]]:
    return {key: {i for finding in findings for i in finding.case_ids} for key, findings in report.sections}


def test_each_view_finds_the_seeded_cases_and_nothing_else(session, make):
    seeded = seed(make)
    report = fraud.report(session, make.person("reviewer"), 2018)
    assert report.year == 2018 and report.years == [2019, 2018]
    assert found(report) == seeded.expected
    listed = set().union(*found(report).values())
    assert not listed & seeded.clean
    # Each finding carries its cases, loaded, numbers masked.
    for _, findings in report.sections:
        for finding in findings:
            assert [c.id for c in finding.cases] == finding.case_ids
            for case in finding.cases:
                assert "*" in case.id_number and "*" in case.bank_account


def test_what_each_finding_says(session, make):
    seeded = seed(make)
    report = fraud.report(session, make.person("auditor"), 2018)
    [shared] = [f for f in report.shared_ids if "家庭成员" in f.notes.values()]
    assert sorted(shared.notes.values()) == ["家庭成员", "申请人"]
    assert shared.title == f"身份证号码 {mask_id(seeded.numbers['shared id'])}"
    [account] = report.shared_accounts
    assert account.title == f"银行账号 {'*' * (len(seeded.numbers['shared account']) - 4)}" \
                            f"{seeded.numbers['shared account'][-4:]}"
    by_kind = {f.kind: f for f in report.caps}
    assert {f.kind for f in report.caps} == {"cap_payment", "cap_year"}
    payment = [f for f in report.caps if f.kind == "cap_payment"]
    assert sorted(f.title for f in payment) == ["单次帮扶金额接近上限", "单次帮扶金额超过上限"]
    assert any(f.detail == "帮扶金额1,500.00元，单次上限1,400.00元（107%）" for f in payment)
    assert by_kind["cap_year"].detail == "本年合计2,700.00元，年度上限3,000.00元（90%）"


def test_handled_names_who_did_what(session, make):
    seed(make)
    titles = sorted(f.title.split("：", 1)[1] for f in fraud.report(session, make.person("reviewer"), 2018).handled)
    assert titles == sorted([
        "上传资料，后又基层审核通过",
        "基层审核通过，后又区总审定通过",
        "区总审定通过，后又发放",
        "登记异议，后又自行认定异议不成立",
    ])


def test_another_year_has_its_own_findings(session, make):
    seed(make)
    report = fraud.report(session, make.person("reviewer"), 2019)
    assert report.year == 2019
    assert found(report) == {"shared_ids": set(), "shared_accounts": set(), "handled": set(), "caps": set()}
    # Unknown or not given: the latest year with a campaign started by then.
    assert fraud.report(session, make.person("reviewer"), 1999).year == 2019
    later = next(c for c in fraud.years(session)[2019])
    later.starts_on = dt.date(2018, 11, 1)
    assert fraud.report(session, make.person("reviewer"), today=dt.date(2018, 10, 31)).year == 2018
    assert fraud.report(session, make.person("reviewer"), today=dt.date(2018, 11, 1)).year == 2019


@pytest.mark.parametrize("role", ["cadre", "head", "finance", "admin"])
def test_only_the_district_reads_them(session, make, role):
    with pytest.raises(Forbidden):
        fraud.report(session, make.account(role, make.default_union() if role in ("cadre", "head") else None))


@contextlib.contextmanager
def counting(session):
    statements: list[str] = []
    connection = session.connection()

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", count)


def test_a_fixed_number_of_queries_however_many_findings(session, make):
    seed(make)
    reviewer = make.person("reviewer")
    with counting(session) as few:
        before = fraud.report(session, reviewer, 2018)
    campaign = make.default_campaign()
    summer = make.campaign(starts_on=dt.date(2018, 1, 1), deadline=parse_deadline("2018-06-30"))
    for _ in range(5):  # more of every kind
        number, account = id_number(), bank_account()
        make.case(State.entered, campaign=campaign, applicant=applicant(number))
        typed(make, make.case(State.entered, campaign=summer, bank_account=account), member=number)
        make.case(State.entered, campaign=campaign, bank_account=account)
        case = make.case(State.publicized, campaign=campaign)
        head = make.person("head", case.union)
        objection(make, case, head, head)
        make.fire(case, "enter", make.person("cadre", case.union))
    with counting(session) as many:
        after = fraud.report(session, reviewer, 2018)
    assert len(after.shared_ids) == len(before.shared_ids) + 5
    assert len(after.shared_accounts) == len(before.shared_accounts) + 5
    assert len(after.handled) == len(before.handled) + 5
    assert 6 <= len(many) == len(few) <= 10, [s[:60] for s in many]
