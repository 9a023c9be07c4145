"""The guards of the transition table (workflows.rules), each at its boundary, through the service verbs a cadre,
head, reviewer or finance officer uses. A refusal must name the rule and say why in words a cadre understands, and
must leave nothing behind: no state change, no new version, no audit event."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from workflows import verbs
from workflows.actors import SYSTEM
from workflows.errors import Conflict, Forbidden, Invalid, NotFound, Refused
from workflows.identity import bank_account_problem, id_check_digit, luhn_complete, mask_account, mask_id
from workflows.infra.clock import LOCAL, from_db
from workflows.inputs import parse_deadline
from workflows.models import AuditEvent, Case, UnionBudget
from workflows.states import FORFEIT_REASON, TRANSITIONS, State
from workflows.verbs.applications import DraftExists
from workflows.vocab import MEDICAL_DOCUMENTS, REQUIRED_DOCUMENTS, SCHOOL_DOCUMENTS, DocumentKind

from ..factories import PDF, bank_account, case_data, id_number

# The seed campaign's deadline: 2018-01-25, end of day, Beijing time.
DEADLINE = dt.datetime(2018, 1, 26, 0, 0, tzinfo=LOCAL)
SECOND = dt.timedelta(seconds=1)
# The papers of the factories' medical case: every case's, the medical ones, and (its household pays for schooling)
# the school's.
MEDICAL_CASE_PAPERS = REQUIRED_DOCUMENTS + MEDICAL_DOCUMENTS + SCHOOL_DOCUMENTS


def count(session, model=AuditEvent) -> int:
    return session.scalar(select(func.count()).select_from(model))


def last_event(session, case=None) -> AuditEvent:
    """The last event of the chain, or of `case`."""
    query = select(AuditEvent) if case is None else select(AuditEvent).where(AuditEvent.case_id == case.id)
    return session.scalars(query.order_by(AuditEvent.seq.desc()).limit(1)).one()


def applicant(number: str) -> dict:
    return {"name": "王建国", "gender": "male", "id_number": number, "phone": "13912345678", "employer": "华光机械厂"}


def household(*numbers: str | None) -> dict:
    return {"annual_income": "24000", "housing": "租住公房",
            "members": [{"name": f"家属{i}", "relation": "子女", "id_number": n, "monthly_income": "0"}
                        for i, n in enumerate(numbers, 1)]}


def funds(amount: str, medical: bool = False) -> dict:
    return {"kind": "funds", "amount": amount, "medical": medical}


class Unchanged:
    """Asserts that a refused action left the case and the audit trail as they were."""

    def __init__(self, session, case: Case) -> None:
        self.session, self.case = session, case
        self.before = (case.state, case.version, count(session))

    def check(self) -> None:
        assert (self.case.state, self.case.version, count(self.session)) == self.before


def refused(session, make, case, trigger, actor, rule, **kwargs) -> Refused:
    unchanged = Unchanged(session, case)
    with pytest.raises(Refused) as caught:
        make.fire(case, trigger, actor, **kwargs)
    assert caught.value.rule == rule, caught.value.message
    unchanged.check()
    return caught.value


# ---------------------------------------------------------------- document: papers and fields

@pytest.mark.parametrize("missing", MEDICAL_CASE_PAPERS, ids=lambda kind: kind.value)
def test_a_medical_case_names_the_one_paper_it_lacks(session, make, missing):
    case = make.case(State.drafted, aid=funds("1000", medical=True))
    make.attach(case, [kind for kind in MEDICAL_CASE_PAPERS if kind != missing])
    error = refused(session, make, case, "document", make.person("cadre", case.union), "documents")
    assert error.message == f"缺少：{missing.label}"


def test_the_medical_papers_by_name(session, make):
    case = make.case(State.drafted, aid=funds("1000", medical=True))
    make.attach(case, [kind for kind in MEDICAL_CASE_PAPERS if kind != DocumentKind.hospital_settlements])
    error = refused(session, make, case, "document", make.person("cadre", case.union), "documents")
    assert error.message == "缺少：近两年住院结算单"


def test_a_non_medical_case_needs_no_medical_papers_and_no_card_copy(session, make):
    case = make.case(State.drafted, aid=funds("1000", medical=False))
    make.attach(case, REQUIRED_DOCUMENTS + SCHOOL_DOCUMENTS)
    make.fire(case, "document", make.person("cadre", case.union))
    assert case.state == State.documented


def test_a_medical_case_with_all_its_papers_is_documented(session, make):
    case = make.case(State.drafted, aid=funds("1000", medical=True))
    make.attach(case)
    make.fire(case, "document", make.person("cadre", case.union))
    assert case.state == State.documented


def test_document_lists_the_fields_still_empty(session, make):
    case = make.case(State.drafted, applicant={"name": "王建国", "gender": "male", "id_number": id_number(),
                                               "employer": "华光机械厂"},
                     bank_account=None, household=household(None), aid={"kind": "funds", "medical": False})
    make.attach(case)
    error = refused(session, make, case, "document", make.person("cadre", case.union), "fields")
    assert error.message == "未填写：联系电话、工商银行账号、帮扶金额、家庭成员1（家属1）的身份证号码"


def test_a_bare_draft_can_be_saved_but_not_documented(session, make):
    cadre = make.person("cadre", make.default_union())
    case = verbs.create_case(session, cadre, make.clock, make.default_campaign().id, {"applicant": {"name": "王"}})
    assert case.state == State.drafted
    error = refused(session, make, case, "document", cadre, "documents")
    assert [r.rule for r in error.reasons] == ["documents", "fields"]
    assert "身份证号码" in error.reasons[1].message and "工商银行账号" in error.reasons[1].message


def test_aid_other_than_money_needs_no_amount(session, make):
    case = make.case(State.drafted, aid={"kind": "policy", "medical": False})
    make.attach(case)
    make.fire(case, "document", make.person("cadre", case.union))
    assert case.state == State.documented


# ---------------------------------------------------------------- create: fields checked at once

def wrong_check_digit(number: str) -> str:
    return number[:17] + ("1" if number[17] != "1" else "2")


@pytest.mark.parametrize(("where", "field"), [("applicant", "applicant.id_number"),
                                              ("member", "household.members.0.id_number")])
def test_an_id_number_with_a_wrong_check_digit_is_refused_at_create_and_nothing_is_written(
        session, make, where, field):
    bad = wrong_check_digit(id_number())
    data = case_data(applicant=applicant(bad)) if where == "applicant" else case_data(household=household(bad))
    cadre = make.person("cadre", make.default_union())
    campaign = make.default_campaign()
    cases, events = count(session, Case), count(session)
    with pytest.raises(Invalid) as caught:
        verbs.create_case(session, cadre, make.clock, campaign.id, data)
    assert caught.value.fields == {field: "身份证号码校验位错误，请核对"}
    assert (count(session, Case), count(session)) == (cases, events)


@pytest.mark.parametrize(("override", "field"), [
    ({"bank_account": "6222020000000000001"}, "bank_account"),
    ({"applicant": {"name": "王建国", "phone": "12345"}}, "applicant.phone"),
    ({"applicant": {"name": "王建国", "phone": "١٣٩١٢٣٤٥٦٧٨"}}, "applicant.phone"),  # Arabic-Indic digits
    ({"causes": {"primary": "illness", "secondary": "illness"}}, "causes.secondary"),
    ({"aid": {"kind": "funds", "amount": "-1"}}, "aid.amount"),
    ({"worker_group": "nobody"}, "worker_group"),
])
def test_other_wrong_fields_are_refused_at_create_by_name(session, make, override, field):
    data = case_data(**override)
    if override.get("bank_account"):  # make sure the number really fails its check digit
        assert bank_account_problem(data["bank_account"]) is not None
    cadre = make.person("cadre", make.default_union())
    campaign = make.default_campaign()
    events = count(session)
    with pytest.raises(Invalid) as caught:
        verbs.create_case(session, cadre, make.clock, campaign.id, data)
    assert field in caught.value.fields
    assert count(session) == events


def test_a_member_may_not_repeat_the_applicants_number(session, make):
    number = id_number()
    with pytest.raises(Invalid) as caught:
        make.draft(applicant=applicant(number), household=household(number))
    assert caught.value.fields == {"household.members.0.id_number": "身份证号码与申请人或其他家庭成员重复"}


def test_only_a_cadre_creates_cases(session, make):
    head = make.person("head", make.default_union())
    with pytest.raises(Forbidden) as caught:
        verbs.create_case(session, head, make.clock, make.default_campaign().id, case_data())
    assert caught.value.rule == "role"


# ---------------------------------------------------------------- one household, one archive; no number twice in a campaign

def two_unions(make):
    return make.union("第一机床厂工会"), make.union("第二纺织厂工会")


def held_elsewhere(number: str, union: str = "第一机床厂工会") -> str:
    return f"身份证号码{mask_id(number)}已有困难职工档案（{union}，档案#"


@pytest.mark.parametrize("how", ["applicant_as_applicant", "applicant_as_member", "member_as_applicant",
                                 "member_as_member"])
def test_a_number_of_another_unions_archive_is_refused_when_the_case_is_opened(session, make, how):
    first, second = two_unions(make)
    number = id_number()
    if how.startswith("applicant"):
        make.case(State.entered, union=first, applicant=applicant(number))
    else:
        make.case(State.entered, union=first, household=household(number))
    data = case_data(applicant=applicant(number)) if how.endswith("as_applicant") else case_data(
        household=household(number))
    events, cases = count(session), count(session, Case)
    with pytest.raises(Refused) as caught:
        verbs.create_case(session, make.person("cadre", second), make.clock, make.default_campaign().id, data)
    assert caught.value.rule == "archive_duplicate"
    assert caught.value.message.startswith(held_elsewhere(number))
    assert number not in caught.value.message
    assert (count(session), count(session, Case)) == (events, cases)


def test_a_draft_holds_its_numbers_too(session, make):
    first, second = two_unions(make)
    number = id_number()
    make.case(State.drafted, union=first, applicant=applicant(number))
    with pytest.raises(Refused, match="已有困难职工档案"):
        make.case(State.drafted, union=second, applicant=applicant(number))


def test_a_number_typed_into_two_applications_of_a_campaign_blocks_document(session, make):
    """Edits of a carried-over application change the case, not its archive, until approval: the campaign's own
    rule still holds each number once."""
    union = make.default_union()
    number = id_number()
    cadre = make.person("cadre", union)
    helped = [make.case(State.disbursed) for _ in range(2)]
    winter = make.campaign(deadline=parse_deadline("2019-01-25"), starts_on=dt.date(2017, 12, 1))
    holder, case = verbs.apply_for(session, cadre, make.clock, winter.id, [c.archive_id for c in helped],
                                   {"kind": "funds", "amount": "800"})
    for draft in (holder, case):
        verbs.edit_case(session, cadre, make.clock, draft.id, draft.version, {"household": household(number)})
    make.attach(case)
    error = refused(session, make, case, "document", cadre, "duplicate")
    assert error.message == f"身份证号码{mask_id(number)}已在本活动的另一个案件中（{union.name}）"
    make.fire(holder, "withdraw", make.person("head", union))
    make.fire(case, "document", cadre)
    assert case.state == State.documented


def test_a_number_of_another_archive_typed_into_a_new_draft_is_refused_at_once(session, make):
    union = make.default_union()
    held = make.case(State.drafted)
    draft = make.draft()
    with pytest.raises(Refused, match=f"档案#{held.archive_id}"):
        verbs.edit_case(session, make.person("cadre", union), make.clock, draft.id, draft.version,
                        {"household": household(held.id_number)})


def test_a_draft_typed_without_a_number_finds_its_archive_when_the_number_is_typed(session, make):
    union = make.default_union()
    helped = make.case(State.disbursed)
    cadre = make.person("cadre", union)
    winter = make.campaign(deadline=parse_deadline("2019-01-25"), starts_on=dt.date(2017, 12, 1))
    draft = verbs.create_case(session, cadre, make.clock, winter.id, {"applicant": {"name": helped.applicant_name}})
    stray = draft.archive
    verbs.edit_case(session, cadre, make.clock, draft.id, draft.version,
                    {"applicant": {"name": helped.applicant_name, "id_number": helped.id_number}})
    assert draft.archive_id == helped.archive_id
    assert (stray.status, stray.status_reason, stray.merged_into_id) == ("deregistered", "merged",
                                                                        helped.archive_id)


def test_the_household_applies_again_in_another_campaign_with_its_archive(session, make):
    number = id_number()
    first = make.case(State.disbursed, applicant=applicant(number))
    other = make.campaign(deadline=parse_deadline("2019-01-25"), starts_on=dt.date(2017, 12, 1))
    case = make.case(State.documented, campaign=other, applicant=applicant(number))
    assert case.archive_id == first.archive_id
    assert (first.application_kind, case.application_kind) == ("new", "existing")


@pytest.mark.parametrize("ended", [State.withdrawn, State.forfeited])
def test_the_archive_keeps_its_numbers_once_its_case_has_ended(session, make, ended):
    first, second = two_unions(make)
    number = id_number()
    make.case(ended, union=first, applicant=applicant(number))
    with pytest.raises(Refused, match="已有困难职工档案"):
        make.case(State.drafted, union=second, applicant=applicant(number))


def test_a_withdrawn_application_may_be_made_again(session, make):
    number = id_number()
    withdrawn = make.case(State.withdrawn, applicant=applicant(number))
    again = make.case(State.documented, applicant=applicant(number))
    assert again.archive_id == withdrawn.archive_id


def test_a_second_application_of_one_household_in_a_campaign_is_refused(session, make):
    number = id_number()
    first = make.case(State.documented, applicant=applicant(number))
    with pytest.raises(Refused, match=f"一户在本活动中已有申请（案件#{first.id}）"):
        make.case(State.drafted, applicant=applicant(number))


def test_a_second_draft_of_one_household_is_answered_with_the_first(session, make):
    """Back, then Save again: the draft there is, which its cadre may open, not a second one."""
    number = id_number()
    first = make.case(State.drafted, applicant=applicant(number))
    with pytest.raises(DraftExists) as exists:
        make.case(State.drafted, applicant=applicant(number))
    assert exists.value.case_id == first.id and exists.value.rule == "draft_exists"


def test_district_approve_still_refuses_a_duplicate(session, make):
    """Two cadres documenting at the same instant could both pass `document`; the district checks again."""
    first, second = two_unions(make)
    number = id_number()
    make.case(State.entered, union=first, applicant=applicant(number))
    case = make.case(State.entered, union=second)
    case.id_number = number  # as if both had been documented at once
    session.flush()
    refused(session, make, case, "district_approve", make.person("reviewer"), "duplicate")


# ---------------------------------------------------------------- approve: four eyes

def promoted(session, account) -> None:
    """An administrator makes a cadre the union's head (the account keeps its history)."""
    account.role = "head"
    session.flush()


def test_a_head_who_drafted_the_case_cannot_approve_it(session, make):
    union = make.default_union()
    author = make.account("cadre", union)
    case = verbs.create_case(session, author, make.clock, make.default_campaign().id, case_data())
    make.attach(case)
    make.fire(case, "document", make.person("cadre", union))
    promoted(session, author)
    error = refused(session, make, case, "approve", author, "four_eyes")
    assert error.message == "不能审核自己起草或提交的案件，须由另一位负责人审核"
    make.fire(case, "approve", make.person("head", union))
    assert case.state == State.grassroots_approved


def test_a_head_who_documented_the_case_cannot_approve_it(session, make):
    union = make.default_union()
    case = make.case(State.drafted, union=union)
    make.attach(case)
    documenter = make.account("cadre", union)
    make.fire(case, "document", documenter)
    promoted(session, documenter)
    refused(session, make, case, "approve", documenter, "four_eyes")
    other_head = make.account("head", union)
    make.fire(case, "approve", other_head)
    assert case.state == State.grassroots_approved
    assert last_event(session).actor_id == other_head.id


def test_a_head_of_another_union_cannot_approve(session, make):
    case = make.case(State.documented)
    with pytest.raises(NotFound):
        make.fire(case, "approve", make.person("head", make.union("别家工会")))


# ---------------------------------------------------------------- the deadline

BEFORE_DEADLINE = [t for t in TRANSITIONS if t.before_deadline]
AFTER_DEADLINE_TOO = [t for t in TRANSITIONS if not t.before_deadline and t.trigger != "forfeit"]


@pytest.mark.parametrize("transition", BEFORE_DEADLINE, ids=lambda t: t.trigger)
def test_grassroots_moves_are_allowed_until_the_last_second(session, make, clock, transition):
    case = make.case(transition.sources[0])
    if case.state == State.drafted:
        make.attach(case)
    clock.set(DEADLINE - SECOND)
    make.fire(case, transition.trigger, make.person(transition.roles[0].value, case.union))
    assert case.state == transition.dest


@pytest.mark.parametrize("transition", BEFORE_DEADLINE, ids=lambda t: t.trigger)
def test_grassroots_moves_are_refused_from_the_deadline_on(session, make, clock, transition):
    case = make.case(transition.sources[0])
    if case.state == State.drafted:
        make.attach(case)
    for moment in (DEADLINE, DEADLINE + SECOND):
        clock.set(moment)
        error = refused(session, make, case, transition.trigger,
                        make.person(transition.roles[0].value, case.union), "deadline")
        assert error.message.startswith("已过报送截止时间")


@pytest.mark.parametrize("transition", AFTER_DEADLINE_TOO, ids=lambda t: t.trigger)
def test_the_district_and_finance_go_on_after_the_deadline(session, make, clock, transition):
    """After the deadline an unqualified case is rejected (never returned), approved cases are paid, and a payment
    the bank returned is corrected and paid again."""
    case = make.case(transition.sources[0])
    clock.set(DEADLINE + SECOND)
    if transition.trigger == "reissue":
        make.correct_account(case)
    make.fire(case, transition.trigger, make.person(transition.roles[0].value))
    assert case.state == transition.dest


def test_after_the_deadline_the_district_rejects_instead_of_returning(session, make, clock):
    case = make.case(State.entered)
    reviewer = make.person("reviewer")
    clock.set(DEADLINE + SECOND)
    refused(session, make, case, "district_return", reviewer, "deadline")
    make.fire(case, "reject", reviewer)
    assert case.state == State.forfeited


def test_create_until_the_last_second(session, make, clock):
    cadre = make.person("cadre", make.default_union())
    campaign = make.default_campaign()
    clock.set(DEADLINE - SECOND)
    verbs.create_case(session, cadre, clock, campaign.id, case_data())
    cases, events = count(session, Case), count(session)
    for moment in (DEADLINE, DEADLINE + SECOND):
        clock.set(moment)
        with pytest.raises(Refused) as caught:
            verbs.create_case(session, cadre, clock, campaign.id, case_data())
        assert caught.value.rule == "deadline"
    assert (count(session, Case), count(session)) == (cases, events)


def test_create_waits_for_the_campaign_to_open(session, make, clock):
    cadre = make.person("cadre", make.default_union())
    campaign = make.campaign(starts_on=dt.date(2018, 1, 10))
    cases, events = count(session, Case), count(session)
    clock.set(dt.datetime(2018, 1, 9, 23, 59, 59, tzinfo=LOCAL))
    with pytest.raises(Refused) as caught:
        verbs.create_case(session, cadre, clock, campaign.id, case_data())
    assert caught.value.rule == "campaign" and "2018-01-10" in caught.value.message
    assert (count(session, Case), count(session)) == (cases, events)
    clock.set(dt.datetime(2018, 1, 10, 0, 0, tzinfo=LOCAL))
    verbs.create_case(session, cadre, clock, campaign.id, case_data())


def test_the_deadline_is_named_as_the_day_it_is_due(session, make, clock):
    case = make.case(State.drafted)
    clock.set(DEADLINE)
    with pytest.raises(Refused) as caught:
        verbs.edit_case(session, make.person("cadre", case.union), clock, case.id, case.version,
                           {"housing": "自有住房"})
    assert "2018-01-25 24:00" in caught.value.message


def test_edits_papers_and_objections_stop_at_the_deadline(session, make, clock, uploads):
    draft = make.case(State.drafted)
    publicized = make.case(State.publicized)
    cadre = make.person("cadre", draft.union)
    clock.set(DEADLINE)
    events = count(session)
    with pytest.raises(Refused) as edit:
        verbs.edit_case(session, cadre, clock, draft.id, draft.version, {"applicant": {"phone": "13900000000"}})
    with pytest.raises(Refused) as upload:
        verbs.add_document(session, cadre, clock, uploads, draft.id, "application", "a.pdf", PDF)
    with pytest.raises(Refused) as objection:
        verbs.record_objection(session, cadre, clock, publicized.id, "此人家境并不困难")
    assert [e.value.rule for e in (edit, upload, objection)] == ["deadline"] * 3
    assert count(session) == events
    assert len(draft.documents) == 0


def test_the_system_forfeits_only_from_the_deadline_on(session, make, clock):
    case = make.case(State.publicized)
    clock.set(DEADLINE - SECOND)
    error = refused(session, make, case, "forfeit", SYSTEM, "deadline")
    assert error.message == "报送截止时间未到，不能视为自动放弃"
    clock.set(DEADLINE)
    make.fire(case, "forfeit", SYSTEM)
    assert case.state == State.forfeited
    event = last_event(session)
    assert (event.actor, event.role, event.comment) == ("system", "system", FORFEIT_REASON)


# ---------------------------------------------------------------- the public notice window, in working days

def test_the_notice_window_counts_working_days_across_the_spring_festival(session, make, clock):
    campaign = make.campaign(deadline=parse_deadline("2018-03-31"), publicity_days=5)
    case = make.case(State.grassroots_approved, campaign=campaign)
    cadre = make.person("cadre", case.union)
    # Posted on Friday 2018-02-09. The five working days after it, by the State Council's 2018 schedule:
    #   Sat 02-10 rest; Sun 02-11 make-up working day (1); Mon 02-12 (2); Tue 02-13 (3); Wed 02-14 (4);
    #   Thu 02-15 .. Wed 02-21 Spring Festival holiday; Thu 02-22 (5).
    # The window covers the whole of 02-22 and closes at midnight starting Fri 02-23.
    clock.set(dt.datetime(2018, 2, 9, 10, 0, tzinfo=LOCAL))
    make.fire(case, "publicize", cadre)
    closes = dt.datetime(2018, 2, 23, 0, 0, tzinfo=LOCAL)
    assert from_db(case.notice_closes_at) == closes
    for moment in (dt.datetime(2018, 2, 12, 9, 0, tzinfo=LOCAL), dt.datetime(2018, 2, 21, 12, 0, tzinfo=LOCAL),
                   closes - dt.timedelta(microseconds=1)):
        clock.set(moment)
        error = refused(session, make, case, "enter", cadre, "notice_window")
        assert error.message == "公示期未满，公示至2018-02-22，期满后才能录入"
    clock.set(closes)
    make.fire(case, "enter", cadre)
    assert case.state == State.entered


def test_a_zero_day_notice_may_be_entered_at_once(session, make, clock):
    case = make.case(State.publicized)  # the factory's campaign has publicity_days=0
    assert case.notice_closes_at == case.publicized_at
    make.fire(case, "enter", make.person("cadre", case.union))
    assert case.state == State.entered
    assert case.file_number == f"2018-{case.union.code}-{case.id:06d}"


# ---------------------------------------------------------------- objections

def test_an_open_objection_blocks_enter(session, make, clock):
    case = make.case(State.publicized)
    cadre = make.person("cadre", case.union)
    verbs.record_objection(session, cadre, clock, case.id, "申请人有两套房产")
    assert last_event(session).action == "object"
    error = refused(session, make, case, "enter", cadre, "objection")
    assert "未处理的异议" in error.message


def test_a_dismissed_objection_lets_the_case_go_on(session, make, clock):
    case = make.case(State.publicized)
    cadre, head = make.person("cadre", case.union), make.person("head", case.union)
    objection = verbs.record_objection(session, cadre, clock, case.id, "申请人有两套房产")
    verbs.resolve_objection(session, head, clock, objection.id, "dismissed", "经核实，房产已出售")
    make.fire(case, "enter", cadre)
    assert case.state == State.entered


def test_an_upheld_objection_blocks_enter_until_returned_and_publicized_again(session, make, clock):
    case = make.case(State.publicized)
    cadre, head = make.person("cadre", case.union), make.person("head", case.union)
    objection = verbs.record_objection(session, cadre, clock, case.id, "家庭收入填报不实")
    clock.advance(hours=1)
    verbs.resolve_objection(session, head, clock, objection.id, "upheld", "属实，须更正收入")
    refused(session, make, case, "enter", cadre, "objection")
    clock.advance(hours=1)
    make.fire(case, "return", head, comment="更正家庭收入")
    verbs.edit_case(session, cadre, clock, case.id, case.version, {"household": {"annual_income": "30000"}})
    make.fire(case, "document", cadre)
    make.fire(case, "approve", head)
    make.fire(case, "publicize", cadre)
    make.fire(case, "enter", cadre)
    assert case.state == State.entered


def test_an_upheld_objection_lets_the_head_withdraw(session, make, clock):
    case = make.case(State.publicized)
    head = make.person("head", case.union)
    objection = verbs.record_objection(session, head, clock, case.id, "不符合条件")
    verbs.resolve_objection(session, head, clock, objection.id, "upheld", "属实")
    make.fire(case, "withdraw", head, comment="异议成立，撤回")
    assert case.state == State.withdrawn


def test_only_the_head_resolves_an_objection_and_only_once(session, make, clock):
    case = make.case(State.publicized)
    cadre, head = make.person("cadre", case.union), make.person("head", case.union)
    objection = verbs.record_objection(session, cadre, clock, case.id, "不符合条件")
    with pytest.raises(Forbidden):
        verbs.resolve_objection(session, cadre, clock, objection.id, "dismissed", "不成立")
    with pytest.raises(Invalid) as caught:
        verbs.resolve_objection(session, head, clock, objection.id, "dismissed", "  ")
    assert "comment" in caught.value.fields
    verbs.resolve_objection(session, head, clock, objection.id, "dismissed", "不成立")
    with pytest.raises(Refused) as again:
        verbs.resolve_objection(session, head, clock, objection.id, "upheld", "成立")
    assert again.value.rule == "objection"
    assert objection.status == "dismissed"


def test_objections_are_recorded_only_during_the_notice(session, make, clock):
    case = make.case(State.grassroots_approved)
    with pytest.raises(Refused) as caught:
        verbs.record_objection(session, make.person("cadre", case.union), clock, case.id, "不符合条件")
    assert caught.value.rule == "state"


# ---------------------------------------------------------------- money: caps and budget

def test_cap_per_payment_at_document_and_district_approve(session, make):
    campaign = make.campaign(cap_per_payment="1000")
    reviewer = make.person("reviewer")
    over = make.draft(campaign=campaign, aid=funds("1000.01"))
    make.attach(over)
    # Refused as soon as the union says the papers are complete, not only when the district looks at it.
    error = refused(session, make, over, "document", make.person("cadre", over.union), "cap_payment")
    assert error.message == "帮扶金额1,000.01元超过单次上限1,000.00元"
    at_cap = make.case(State.entered, campaign=campaign, aid=funds("1000"))
    campaign.cap_per_payment = Decimal("999")  # the cap is lowered while the case is under review
    session.flush()
    refused(session, make, at_cap, "district_approve", reviewer, "cap_payment")
    campaign.cap_per_payment = Decimal("1000")
    session.flush()
    make.fire(at_cap, "district_approve", reviewer)
    assert at_cap.state == State.district_approved
    campaign.cap_per_payment = Decimal("800")  # the cap is lowered before the payment: finance checks again
    session.flush()
    error = refused(session, make, at_cap, "disburse", make.person("finance"), "cap_payment")
    assert error.message == "帮扶金额1,000.00元超过单次上限800.00元"


def test_cap_per_person_per_year_counts_every_campaign_of_the_year(session, make):
    number = id_number()
    reviewer = make.person("reviewer")
    new_year = make.campaign(cap_per_year="1500")                                            # deadline 2018-01-25
    opened = dt.date(2017, 12, 1)  # all three take cases already
    summer = make.campaign(cap_per_year="1500", deadline=parse_deadline("2018-06-30"), starts_on=opened)
    next_year = make.campaign(cap_per_year="1500", deadline=parse_deadline("2019-01-25"), starts_on=opened)
    # Two applications of one household under way at once: each fits the cap when documented.
    over = make.case(State.entered, campaign=summer, applicant=applicant(number), aid=funds("600"))
    make.case(State.district_approved, campaign=new_year, applicant=applicant(number), aid=funds("1000"))
    error = refused(session, make, over, "district_approve", reviewer, "cap_year")
    assert error.message == "该户2018年已获帮扶1,000.00元，加上本次600.00元超过年度上限1,500.00元"
    later = make.case(State.entered, campaign=next_year, applicant=applicant(number), aid=funds("600"))
    make.fire(later, "district_approve", reviewer)
    assert later.state == State.district_approved
    # The amount of a case under review is changed by the union: the district returns it first.
    make.fire(over, "district_return", reviewer, comment="超过年度上限，请改为500元")
    cadre = make.person("cadre", over.union)
    # Until it is changed, the union cannot say it is complete again (the yearly cap checked at `document`).
    refused(session, make, over, "document", cadre, "cap_year")
    verbs.edit_case(session, cadre, make.clock, over.id, over.version, {"aid": {"amount": "500"}})
    for role, trigger in [("cadre", "document"), ("head", "approve"), ("cadre", "publicize"), ("cadre", "enter"),
                          ("reviewer", "district_approve")]:
        make.fire(over, trigger, make.person(role, over.union))
    assert over.state == State.district_approved


def test_a_campaign_due_on_new_years_eve_belongs_to_the_year_it_ends_in(session, make, clock):
    """parse_deadline("2018-12-31") is the end of that day, stored as midnight starting 2019-01-01: still 2018."""
    number = id_number()
    new_year = make.campaign(cap_per_year="1500")
    year_end = make.campaign(cap_per_year="1500", deadline=parse_deadline("2018-12-31"))
    make.case(State.district_approved, campaign=new_year, applicant=applicant(number), aid=funds("1000"))
    clock.set(dt.datetime(2018, 12, 1, 9, 0, tzinfo=LOCAL))
    case = make.draft(campaign=year_end, applicant=applicant(number), aid=funds("600"))
    make.attach(case)
    error = refused(session, make, case, "document", make.person("cadre", case.union), "cap_year")
    assert error.message.startswith("该户2018年已获帮扶1,000.00元")


def test_the_campaign_budget_at_district_approve(session, make):
    campaign = make.campaign(budget="1500")
    reviewer = make.person("reviewer")
    make.case(State.district_approved, campaign=campaign, aid=funds("1000"))
    make.case(State.entered, campaign=campaign, aid=funds("900"))  # entered only: not yet spoken for
    over = make.case(State.entered, campaign=campaign, aid=funds("500.01"))
    error = refused(session, make, over, "district_approve", reviewer, "budget")
    assert error.message == "超出活动预算：剩余500.00元，本次需要500.01元"
    exact = make.case(State.entered, campaign=campaign, aid=funds("500"))
    make.fire(exact, "district_approve", reviewer)
    assert exact.state == State.district_approved


def test_the_campaign_budget_at_disburse_counts_what_is_paid(session, make):
    campaign = make.campaign(budget="1500")
    finance = make.person("finance")
    first = make.case(State.district_approved, campaign=campaign, aid=funds("1000"))
    second = make.case(State.district_approved, campaign=campaign, aid=funds("500"))
    campaign.budget = Decimal("1200")  # the district cuts the budget after approving both
    session.flush()
    make.fire(first, "disburse", finance)
    error = refused(session, make, second, "disburse", finance, "budget")
    assert error.message == "超出活动预算：剩余200.00元，本次需要500.00元"


def test_a_unions_share_of_the_budget(session, make):
    campaign = make.campaign()
    mine, theirs = make.union("第一机床厂工会"), make.union("第二纺织厂工会")
    session.add(UnionBudget(campaign_id=campaign.id, union_id=mine.id, amount=Decimal("1200")))
    session.flush()
    reviewer, finance = make.person("reviewer"), make.person("finance")
    approved = make.case(State.district_approved, union=mine, campaign=campaign, aid=funds("1000"))
    over = make.case(State.entered, union=mine, campaign=campaign, aid=funds("200.01"))
    error = refused(session, make, over, "district_approve", reviewer, "budget")
    assert error.message == "超出本工会的预算额度：剩余200.00元，本次需要200.01元"
    elsewhere = make.case(State.entered, union=theirs, campaign=campaign, aid=funds("300"))
    make.fire(elsewhere, "district_approve", reviewer)
    fits = make.case(State.entered, union=mine, campaign=campaign, aid=funds("200"))
    make.fire(fits, "district_approve", reviewer)
    assert (elsewhere.state, fits.state) == (State.district_approved, State.district_approved)
    # At disburse only what is paid counts; a share cut below what was approved stops the last payment.
    session.get(UnionBudget, (campaign.id, mine.id)).amount = Decimal("1100")
    session.flush()
    make.fire(approved, "disburse", finance)
    error = refused(session, make, fits, "disburse", finance, "budget")
    assert error.message == "超出本工会的预算额度：剩余100.00元，本次需要200.00元"


# ---------------------------------------------------------------- comments and payment references

NEEDS_COMMENT = [t for t in TRANSITIONS if t.needs_comment]


@pytest.mark.parametrize("blank", [None, "", "   \n"], ids=["none", "empty", "spaces"])
@pytest.mark.parametrize("transition", NEEDS_COMMENT, ids=lambda t: t.trigger)
def test_a_comment_is_required(session, make, transition, blank):
    case = make.case(transition.sources[-1])
    actor = make.person(transition.roles[0].value, case.union)
    error = refused(session, make, case, transition.trigger, actor, "comment", comment=blank)
    assert error.message == f"请填写「{transition.label}」的理由"


def test_a_comment_has_a_length_limit(session, make):
    case = make.case(State.documented)
    with pytest.raises(Invalid) as caught:
        make.fire(case, "return", make.person("head", case.union), comment="理" * 2001)
    assert "comment" in caught.value.fields
    make.fire(case, "return", make.person("head", case.union), comment="理" * 2000)
    assert case.state == State.drafted


@pytest.mark.parametrize("blank", [None, "  "], ids=["none", "spaces"])
def test_disburse_needs_a_payment_reference(session, make, blank):
    case = make.case(State.district_approved)
    error = refused(session, make, case, "disburse", make.person("finance"), "payment_reference",
                    payment_reference=blank)
    assert error.message == "请填写付款凭证号"
    make.fire(case, "disburse", make.person("finance"), payment_reference=" ICBC-2018-0001 ")
    assert case.payment_reference == "ICBC-2018-0001"


def test_a_payment_reference_has_the_length_the_record_keeps(session, make):
    case = make.case(State.district_approved)
    unchanged = Unchanged(session, case)
    with pytest.raises(Invalid) as caught:
        make.fire(case, "disburse", make.person("finance"), payment_reference="P" * 65)
    assert caught.value.fields == {"payment_reference": "太长，最多64个字"}
    unchanged.check()
    make.fire(case, "disburse", make.person("finance"), payment_reference="P" * 64)
    assert case.state == State.disbursed


# ---------------------------------------------------------------- claims

def test_a_claimed_case_is_left_to_the_reviewer_who_claimed_it(session, make, clock):
    case = make.case(State.entered)
    first, second = make.account("reviewer"), make.account("reviewer")
    verbs.claim(session, first, clock, case.id)
    assert (case.claimed_by_id, last_event(session).action) == (first.id, "claim")
    for trigger in ("district_approve", "district_return", "reject"):
        error = refused(session, make, case, trigger, second, "claimed", comment="不合格")
        assert error.message == f"该案件已由{first.name}认领，由其办理"
    with pytest.raises(Refused) as claim:
        verbs.claim(session, second, clock, case.id)
    with pytest.raises(Refused) as release:
        verbs.release(session, second, clock, case.id)
    assert (claim.value.rule, release.value.rule) == ("claimed", "claimed")
    verbs.release(session, first, clock, case.id)
    assert case.claimed_by_id is None
    make.fire(case, "district_approve", second)
    assert case.state == State.district_approved


def test_the_claimer_acts_and_the_claim_ends_with_the_move(session, make, clock):
    case = make.case(State.district_approved)
    first, second = make.account("finance"), make.account("finance")
    verbs.claim(session, first, clock, case.id)
    refused(session, make, case, "disburse", second, "claimed")
    make.fire(case, "disburse", first)
    assert (case.state, case.claimed_by_id) == (State.disbursed, None)


def test_a_case_is_claimed_only_in_the_claimers_own_stage(session, make, clock):
    case = make.case(State.district_approved)
    with pytest.raises(Refused) as caught:
        verbs.claim(session, make.person("reviewer"), clock, case.id)
    assert caught.value.rule == "state"
    with pytest.raises(Forbidden):
        verbs.claim(session, make.person("auditor"), clock, case.id)


# ---------------------------------------------------------------- reveal

def test_a_cadre_of_the_union_reveals_the_full_number_and_it_is_audited(session, make, clock):
    number, account = id_number(), bank_account()
    case = make.case(State.documented, applicant=applicant(number), bank_account=account)
    cadre = make.person("cadre", case.union)
    events = count(session)
    assert verbs.reveal(session, cadre, clock, case.id, "id_number") == number
    assert verbs.reveal(session, cadre, clock, case.id, "bank_account") == account
    assert count(session) == events + 2
    event = last_event(session)
    assert (event.action, event.actor_id, event.case_id) == ("reveal", cadre.id, case.id)
    assert event.changes == {"revealed": [None, "bank_account"]}
    assert number not in json.dumps(event.changes) and account not in json.dumps(event.changes)


def test_the_district_reveals_once_the_case_is_entered(session, make, clock):
    case = make.case(State.district_approved)
    assert verbs.reveal(session, make.person("reviewer"), clock, case.id, "id_number") == case.id_number
    assert verbs.reveal(session, make.person("finance"), clock, case.id, "bank_account") == case.bank_account


@pytest.mark.parametrize(("who", "error"), [("auditor", Forbidden), ("admin", NotFound), ("stranger", NotFound),
                                            ("reviewer", NotFound)])
def test_others_cannot_reveal(session, make, clock, who, error):
    case = make.case(State.documented)
    actor = make.person("cadre", make.union("别家工会")) if who == "stranger" else make.person(who)
    events = count(session)
    with pytest.raises(error) as caught:
        verbs.reveal(session, actor, clock, case.id, "id_number")
    assert type(caught.value) is error
    assert count(session) == events


# ---------------------------------------------------------------- edit

def test_edit_only_while_drafted(session, make, clock):
    case = make.case(State.documented)
    with pytest.raises(Refused) as caught:
        verbs.edit_case(session, make.person("cadre", case.union), clock, case.id, case.version,
                           {"applicant": {"phone": "13900000000"}})
    assert caught.value.rule == "state"


def test_edit_with_a_stale_version_is_a_conflict(session, make, clock):
    case = make.case(State.drafted)
    cadre = make.person("cadre", case.union)
    seen = case.version
    verbs.edit_case(session, cadre, clock, case.id, seen, {"applicant": {"phone": "13900000000"}})
    unchanged = Unchanged(session, case)
    with pytest.raises(Conflict):
        verbs.edit_case(session, cadre, clock, case.id, seen, {"applicant": {"phone": "13911111111"}})
    unchanged.check()
    assert case.phone == "13900000000"


def test_a_transition_with_a_stale_version_is_a_conflict(session, make, clock):
    case = make.case(State.documented)
    unchanged = Unchanged(session, case)
    with pytest.raises(Conflict):
        verbs.fire(session, make.person("head", case.union), clock, case.id, "approve", case.version - 1)
    unchanged.check()


def test_an_edit_writes_one_event_with_before_and_after_masked(session, make, clock):
    old_id, new_id, old_account, new_account = id_number(), id_number(), bank_account(), bank_account()
    case = make.case(State.drafted, applicant=applicant(old_id), bank_account=old_account)
    cadre = make.person("cadre", case.union)
    events, version = count(session), case.version
    verbs.edit_case(session, cadre, clock, case.id, version,
                       {"applicant": {"id_number": new_id, "phone": "13900000000"}, "bank_account": new_account})
    # The case's event, and its archive's: opened with the draft, the archive follows it.
    assert (count(session), case.version) == (events + 2, version + 1)
    event = last_event(session, case)
    assert (event.action, event.from_state, event.to_state) == ("edit", "drafted", "drafted")
    followed = last_event(session)
    assert (followed.action, followed.archive_id, followed.case_id) == ("update_archive", case.archive_id, None)
    assert followed.changes["id_number"] == event.changes["id_number"]
    assert event.changes == {
        "id_number": [mask_id(old_id), mask_id(new_id)],
        "phone": ["13912345678", "13900000000"],
        "bank_account": [mask_account(old_account), mask_account(new_account)],
    }
    assert (case.id_number, case.bank_account) == (new_id, new_account)


def same_mask(number: str, mask) -> str:
    """Another valid number that its mask shows the same: a hidden digit (and, for the check digit to stay, the
    next one) changed."""
    complete = luhn_complete if len(number) != 18 else (lambda first: first + id_check_digit(first))
    for i, j in ((i, j) for i in range(10) for j in range(10)):
        body = number[:8] + str(i) + str(j) + number[10:-1]  # 8 and 9: the birth day of an ID, any bank digit
        other = complete(body)
        if other != number and mask(other) == mask(number):
            return other
    raise AssertionError("no such number")


@pytest.mark.parametrize("field", ["bank_account", "id_number"])
def test_a_corrected_hidden_digit_is_saved_and_audited_though_its_mask_looks_the_same(session, make, clock, field):
    """A typing error in the hidden digits of a number is corrected like any other: the case changes and the event
    names the field (its before and after masked alike)."""
    if field == "bank_account":
        old, mask = bank_account(), mask_account
        new = same_mask(old, mask)
        case, patch = make.case(State.drafted, bank_account=old), {"bank_account": new}
    else:
        old, mask = id_number(born=dt.date(1975, 6, 11)), mask_id
        new = same_mask(old, mask)
        case, patch = make.case(State.drafted, applicant=applicant(old)), {"applicant": {"id_number": new}}
    events, version = count(session), case.version
    verbs.edit_case(session, make.person("cadre", case.union), clock, case.id, version, patch)
    assert (count(session), case.version, getattr(case, field)) == (events + 2, version + 1, new)
    assert last_event(session, case).changes == {field: [mask(old), mask(new)]}
    assert getattr(case.archive, field) == new


def test_an_edit_that_changes_nothing_writes_nothing(session, make, clock):
    case = make.case(State.drafted)
    unchanged = Unchanged(session, case)
    verbs.edit_case(session, make.person("cadre", case.union), clock, case.id, case.version,
                       {"applicant": {"phone": case.phone}})
    unchanged.check()


def test_an_invalid_edit_is_refused_by_field_and_writes_nothing(session, make, clock):
    case = make.case(State.drafted)
    unchanged = Unchanged(session, case)
    with pytest.raises(Invalid) as caught:
        verbs.edit_case(session, make.person("cadre", case.union), clock, case.id, case.version,
                           {"household": household(wrong_check_digit(id_number()))})
    assert list(caught.value.fields) == ["household.members.0.id_number"]
    unchanged.check()


def test_no_full_personal_number_reaches_the_audit_trail(session, make, clock):
    """A whole life of a case, every verb that records something; then every event is searched."""
    numbers = [id_number(), id_number(), id_number(male=False), id_number(male=False)]
    accounts = [bank_account(), bank_account()]
    case = make.case(State.drafted, applicant=applicant(numbers[0]), household=household(numbers[2]),
                     bank_account=accounts[0], aid=funds("800"))
    cadre, head = make.person("cadre", case.union), make.person("head", case.union)
    verbs.edit_case(session, cadre, clock, case.id, case.version,
                       {"applicant": {"id_number": numbers[1]}, "household": household(numbers[3]),
                        "bank_account": accounts[1]})
    make.attach(case)
    for field in ("id_number", "bank_account"):
        verbs.reveal(session, cadre, clock, case.id, field)
    make.fire(case, "document", cadre)
    make.fire(case, "approve", head)
    make.fire(case, "publicize", cadre)
    objection = verbs.record_objection(session, cadre, clock, case.id, "有人反映其收入不实")
    verbs.resolve_objection(session, head, clock, objection.id, "dismissed", "经核实不成立")
    make.fire(case, "enter", cadre)
    reviewer = make.person("reviewer")
    verbs.claim(session, reviewer, clock, case.id)
    verbs.reveal(session, reviewer, clock, case.id, "id_number")
    make.fire(case, "district_approve", reviewer)
    make.fire(case, "disburse", make.person("finance"))

    events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)).all()
    assert {"create", "edit", "add_document", "reveal", "document", "object", "resolve_objection", "claim",
            "disburse"} <= {e.action for e in events}
    text = "\n".join(json.dumps(e.changes, ensure_ascii=False) + (e.comment or "") for e in events)
    assert mask_id(numbers[1]) in text and mask_account(accounts[1]) in text  # masked values are there...
    for number in numbers + accounts:
        assert number not in text  # ...the full ones are not
    without_hashes = re.sub(r"SHA-256 [0-9a-f]{64}", "", text)
    assert not re.search(r"\d{17}[\dX]|\d{16,19}", without_hashes)


@pytest.mark.parametrize("state, who, trigger", [(State.documented, "head", "return"),
                                                 (State.entered, "reviewer", "district_return")])
def test_the_cadre_is_notified_once_when_a_case_is_returned(session, make, state, who, trigger):
    from workflows.models import Notification

    case = make.case(state)
    make.fire(case, trigger, make.person(who, case.union), comment="请补充住院结算单")
    notes = session.scalars(select(Notification).where(Notification.case_id == case.id)).all()
    assert [(n.account_id, n.kind) for n in notes] == [(case.created_by_id, "returned")]
    assert "请补充住院结算单" in notes[0].text and case.applicant_name in notes[0].text


def test_a_case_returned_by_the_district_is_the_unions_again_until_it_is_entered_again(session, make, clock):
    case = make.case(State.entered)
    reviewer = make.person("reviewer")
    make.fire(case, "district_return", reviewer, comment="请补充材料")
    with pytest.raises(NotFound):
        verbs.reveal(session, reviewer, clock, case.id, "id_number")
    cadre, head = make.person("cadre", case.union), make.person("head", case.union)
    for actor, trigger in [(cadre, "document"), (head, "approve"), (cadre, "publicize"), (cadre, "enter")]:
        make.fire(case, trigger, actor)
    assert verbs.get_case(session, reviewer, case.id) is case


# ---------------------------------------------------------------- returned payments (退票)

def test_a_returned_payment_is_reissued_only_to_a_corrected_account_by_someone_else(session, make, clock):
    case = make.case(State.payment_returned)
    assert (case.return_reason, case.account_corrected_at) == ("账户已销户", None)
    finance, other = make.person("finance"), make.account("finance")
    error = refused(session, make, case, "reissue", finance, "account")
    assert "尚未更正银行账号" in error.message
    old = case.bank_account
    make.correct_account(case, finance)  # finance heard the bank: it may correct, but not confirm its own correction
    assert case.bank_account != old and case.account_corrected_by_id == finance.id
    error = refused(session, make, case, "reissue", finance, "four_eyes")
    assert "须由另一位财务人员" in error.message
    make.fire(case, "reissue", other)
    assert case.state == State.district_approved
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "correct_account")).one()
    assert event.changes["bank_account"] == [mask_account(old), mask_account(case.bank_account)]
    assert old not in json.dumps(event.changes) and case.bank_account not in json.dumps(event.changes)


def test_an_account_is_corrected_only_on_a_returned_case_by_its_people(session, make, clock):
    case = make.case(State.disbursed)
    with pytest.raises(Refused) as caught:
        verbs.correct_account(session, make.person("finance"), clock, case.id, case.version, bank_account())
    assert caught.value.rule == "state"
    make.fire(case, "bounce", make.person("finance"))
    for role in ("reviewer", "auditor"):
        with pytest.raises(Forbidden):
            verbs.correct_account(session, make.person(role), clock, case.id, case.version, bank_account())
    with pytest.raises(NotFound):
        verbs.correct_account(session, make.person("cadre", make.union("别家工会")), clock, case.id, case.version,
                              bank_account())
    with pytest.raises(Invalid) as bad:
        verbs.correct_account(session, make.person("head", case.union), clock, case.id, case.version,
                              "6222 0200 0000 0000 001")
    assert bad.value.fields["bank_account"] == "银行账号校验位错误，请核对"
    with pytest.raises(Conflict):
        verbs.correct_account(session, make.person("head", case.union), clock, case.id, case.version - 1,
                              bank_account())
    number = bank_account()
    spaced = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    verbs.correct_account(session, make.person("head", case.union), clock, case.id, case.version, spaced)
    assert case.bank_account == number  # normalised as the case form does
