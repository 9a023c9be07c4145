"""The household archive (一户一档) through the verbs: its life cycle from the table, one household one archive,
applications and the carry-over, approval writing back, transfer, merge, and the yearly cap of a household."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from workflows import rules, verbs
from workflows.archive_states import MOVES, Status
from workflows.errors import Forbidden, Invalid, NotFound, Refused
from workflows.infra import audit
from workflows.infra.clock import FixedClock
from workflows.infra.sealing import digest
from workflows.inputs import parse_deadline
from workflows.models import Archive, ArchiveNumber, AuditEvent
from workflows.reads import archives as reads
from workflows.states import Role, State

from ..factories import case_data, id_number


def household_data(number: str | None = None, *members: str, name: str = "王建国") -> dict:
    data = case_data()
    data.pop("aid")
    data["applicant"] = {**data["applicant"], "name": name, "id_number": number or id_number()}
    data["household"]["members"] = [{"name": f"家属{i}", "relation": "子女", "id_number": m}
                                    for i, m in enumerate(members, 1)]
    return data


def archive(make, union=None, number=None, *members) -> Archive:
    union = union or make.default_union()
    return verbs.create_archive(make.session, make.person("cadre", union), make.clock,
                                household_data(number, *members))


def events(session, archive_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.archive_id == archive_id)
                                .order_by(AuditEvent.seq)))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def fire(make, record: Archive, trigger: str, actor, **kwargs) -> Archive:
    kwargs.setdefault("comment", "经复核")
    return verbs.fire_archive(make.session, actor, make.clock, record.id, trigger, record.version, **kwargs)


# ---------------------------------------------------------------- opening one

class Ticking(FixedClock):
    """A clock that moves on a little every time it is read, as the system's does."""

    def now(self):
        return self.advance(microseconds=3)


def test_a_draft_of_a_new_household_opens_its_archive_at_the_same_moment(session, make):
    # The screens tell a new household from an archived one by that ("一户已有户档案" was said of every new one).
    cadre, clock = make.person("cadre", make.default_union()), Ticking(make.clock.now())
    case = verbs.create_case(session, cadre, clock, make.default_campaign().id, case_data())
    assert case.archive.created_at == case.created_at and case.archive.cases == [case]


def test_an_archive_holds_the_household_and_its_numbers(session, make):
    head, child = id_number(), id_number(dt.date(2005, 3, 1))
    record = archive(make, None, head, child)
    assert record.status == Status.pending
    assert set(session.scalars(select(ArchiveNumber.id_digest).where(ArchiveNumber.archive_id == record.id))) \
        == {digest(head), digest(child)}
    [created] = events(session, record.id)
    assert (created.action, created.to_state, created.case_id) == ("create_archive", "pending", None)
    assert head not in str(created.changes) and child not in str(created.changes)


@pytest.mark.parametrize("where", ["same union", "another union"])
@pytest.mark.parametrize("who", ["head", "member"])
def test_a_second_archive_of_any_member_is_refused_naming_the_holding_union(session, make, where, who):
    first = make.union("第一机床厂工会")
    head, child = id_number(), id_number(dt.date(2006, 1, 1))
    held = archive(make, first, head, child)
    union = first if where == "same union" else make.union("第二纺织厂工会")
    number = head if who == "head" else child
    before = (count(session, Archive), count(session, AuditEvent))
    with pytest.raises(Refused) as caught:
        archive(make, union, None, number)
    assert caught.value.rule == "archive_duplicate"
    assert caught.value.message == (f"身份证号码{number[:6]}********{number[-4:]}已有困难职工档案"
                                    f"（第一机床厂工会，档案#{held.id}），一户只能建一个档案")
    assert (count(session, Archive), count(session, AuditEvent)) == before


def test_an_edit_may_not_take_a_number_of_another_archive(session, make):
    other = id_number()
    archive(make, make.union("别家工会"), other)
    record = archive(make)
    cadre = make.person("cadre", make.default_union())
    with pytest.raises(Refused, match="别家工会"):
        verbs.edit_archive(session, cadre, make.clock, record.id, record.version,
                           {"household": {"members": [{"name": "配偶", "relation": "配偶", "id_number": other}]}})


def test_an_edit_is_audited_and_a_stale_version_refused(session, make):
    record = archive(make)
    cadre = make.person("cadre", make.default_union())
    version = record.version
    verbs.edit_archive(session, cadre, make.clock, record.id, version,
                       {"national": {"hukou_area": "110105", "work_status": "laid_off", "single_parent": True}})
    assert (record.hukou_area, record.work_status, record.single_parent) == ("110105", "laid_off", True)
    assert record.version == version + 1
    last = events(session, record.id)[-1]
    assert last.action == "edit_archive" and last.changes["work_status"] == [None, "laid_off"]
    from workflows.errors import Conflict
    with pytest.raises(Conflict):
        verbs.edit_archive(session, cadre, make.clock, record.id, version, {"national": {"ethnicity": "汉族"}})
    for bad in ({"hukou_area": "1101"}, {"hukou_area": "１１０１０５"}, {"single_parent": "yes"}):
        with pytest.raises(Invalid) as caught:
            verbs.edit_archive(session, cadre, make.clock, record.id, record.version, {"national": bad})
        assert f"national.{next(iter(bad))}" in caught.value.fields


def test_causes_follow_the_national_list_with_up_to_three_secondary(session, make):
    data = household_data()
    data["causes"] = {"primary": "illness", "secondary": ["schooling", "laid_off"]}
    record = verbs.create_archive(session, make.person("cadre", make.default_union()), make.clock, data)
    assert (record.primary_cause, record.secondary_causes) == ("serious_illness", ["schooling", "laid_off"])
    data = household_data()
    data["causes"] = {"primary": "accident", "secondary": ["schooling", "laid_off", "uninsured", "other"]}
    with pytest.raises(Invalid) as caught:
        verbs.create_archive(session, make.person("cadre", make.default_union()), make.clock, data)
    assert caught.value.fields == {"causes.secondary": "太多，最多3项"}


# ---------------------------------------------------------------- the life cycle, row by row of the table

def _settled_archive(make, status: Status) -> Archive:
    """An archive in `status` with no application in progress."""
    record = archive(make)
    record.status = status
    make.session.flush()
    return record


@pytest.mark.parametrize("move", [m for m in MOVES if Role.system not in m.roles], ids=lambda m: m.trigger)
@pytest.mark.parametrize("status", list(Status))
def test_every_move_from_every_status_by_every_role(session, make, move, status):
    other = make.union("接收工会")
    for role in (Role.cadre, Role.head, Role.reviewer, Role.auditor):
        record = _settled_archive(make, status)
        actor = make.person(role, record.union)
        kwargs = {"reason": "death", "union": other.code}
        if role in move.roles and status in move.sources:
            fire(make, record, move.trigger, actor, **kwargs)
            assert record.status == (move.dest or status)
            last = events(session, record.id)[-1]
            assert (last.action, last.from_state, last.to_state, last.actor_id) == (
                move.trigger, status, record.status, actor.id)
        else:
            before = (record.status, record.version, len(events(session, record.id)))
            with pytest.raises(Refused) as caught:
                fire(make, record, move.trigger, actor, **kwargs)
            assert caught.value.rule == ("role" if role not in move.roles else "state")
            assert isinstance(caught.value, Forbidden) == (role not in move.roles)
            assert (record.status, record.version, len(events(session, record.id))) == before
    assert audit.verify(session).ok


def test_what_a_move_asks_for(session, make):
    head, reviewer = make.person("head", make.default_union()), make.person("reviewer")
    record = _settled_archive(make, Status.active)
    with pytest.raises(Refused, match="请填写脱困的说明"):
        fire(make, record, "exit", head, comment="")
    with pytest.raises(Refused, match="请选择注销的原因"):
        fire(make, record, "deregister", head, reason="nonsense")
    with pytest.raises(Refused, match="请选择接收档案的基层工会"):
        fire(make, record, "transfer", reviewer, union="NOSUCH")
    with pytest.raises(Refused, match="档案已在该工会"):
        fire(make, record, "transfer", reviewer, union=record.union.code)
    with pytest.raises(Forbidden):
        fire(make, record, "activate", reviewer)
    fire(make, record, "deregister", head, reason="moved")
    assert (record.status, record.status_reason) == (Status.deregistered, "moved")
    # A deregistered archive frees its numbers: the household may be archived again (e.g. moved back).
    assert count(session, ArchiveNumber) == 0 or not session.scalar(
        select(ArchiveNumber).where(ArchiveNumber.archive_id == record.id))
    archive(make, make.union("新工会"), record.id_number)


def test_an_archive_with_an_application_in_progress_is_not_closed_or_moved(session, make):
    case = make.case(State.entered)
    record = case.archive
    record.status = Status.active
    session.flush()
    reasons = rules.archives.blockers(session, record, "exit", make.person("head", case.union), comment="x")
    assert [r.rule for r in reasons] == ["in_progress"]
    assert f"#{case.id}" in reasons[0].message and "已录入报送" in reasons[0].message


def test_the_buttons_come_from_the_table(session, make):
    record = _settled_archive(make, Status.active)
    allowed, blocked = rules.archives.available(session, record, make.person("reviewer"))
    assert allowed == ["exit", "deregister", "transfer"]
    assert blocked == {}
    assert rules.archives.available(session, record, make.person("cadre", record.union)) == ([], {})


# ---------------------------------------------------------------- applications

def test_a_case_opened_with_the_whole_household_creates_its_archive_and_is_its_application(session, make):
    case = make.draft()
    assert case.archive.status == Status.pending
    assert case.application_kind == "new"
    assert case.archive.numbers == case.numbers
    # The factory's home visit aside (an event of the archive, after both).
    [opened, created] = session.scalars(select(AuditEvent).where(AuditEvent.action != "record_visit")
                                        .order_by(AuditEvent.seq.desc()).limit(2))
    assert (created.action, opened.action) == ("create_archive", "create")
    assert opened.archive_id == case.archive_id and opened.case_id == case.id


def test_approval_makes_the_archive_active_with_the_household_as_approved(session, make):
    case = make.case(State.entered)
    reviewer = make.person("reviewer")
    make.fire(case, "district_approve", reviewer)
    record = case.archive
    assert record.status == Status.active
    assert (record.last_helped_campaign_id, record.applicant_name) == (case.campaign_id, case.applicant_name)
    last = events(session, record.id)[-1]
    assert (last.action, last.from_state, last.to_state, last.actor_id) == ("activate", "pending", "active",
                                                                             reviewer.id)


def test_a_case_keeps_the_household_as_applied_for_when_the_archive_changes(session, make):
    case = make.case(State.disbursed)
    cadre = make.person("cadre", case.union)
    verbs.edit_archive(session, cadre, make.clock, case.archive_id, case.archive.version,
                       {"household": {"annual_income": "99999"}})
    assert case.archive.annual_income == 99999
    assert case.annual_income == 24000


def campaign_ahead(make, name_year: int = 2019):
    return make.campaign(deadline=parse_deadline(f"{name_year}-01-25"), starts_on=dt.date(2017, 12, 1))


def test_carry_over_lists_the_active_archives_not_yet_applied_for_and_applies_for_many(session, make):
    union = make.default_union()
    cadre = make.person("cadre", union)
    helped = [make.case(State.disbursed) for _ in range(3)]
    make.case(State.drafted)  # pending: not helped yet, not carried over
    make.case(State.disbursed, union=make.union("别家工会"))  # another union's
    winter = campaign_ahead(make)
    listed = reads.carry_over(session, cadre, winter.id)
    assert [a.id for a in listed] == sorted((c.archive_id for c in helped),
                                            key=lambda i: (session.get(Archive, i).applicant_name, i))
    cases = verbs.apply_for(session, cadre, make.clock, winter.id, [c.archive_id for c in helped[:2]])
    assert [c.application_kind for c in cases] == ["existing", "existing"]
    for case, before in zip(cases, helped):
        assert (case.state, case.campaign_id, case.archive_id) == (State.drafted, winter.id, before.archive_id)
        assert (case.applicant_name, case.id_number, case.bank_account) == (
            before.applicant_name, before.id_number, before.bank_account)
        assert [m.id_number for m in case.members] == [m.id_number for m in before.members]
    assert [a.id for a in reads.carry_over(session, cadre, winter.id)] == [helped[2].archive_id]
    assert reads.carry_over_count(session, cadre, [winter.id]) == 1
    with pytest.raises(Refused, match="一户在本活动中已有申请"):
        verbs.apply_for(session, cadre, make.clock, winter.id, [helped[2].archive_id, helped[0].archive_id])
    with pytest.raises(Invalid) as caught:
        verbs.apply_for(session, cadre, make.clock, winter.id, [helped[2].archive_id], {"amount": "-5"})
    assert caught.value.fields == {"aid.amount": "不能小于0"}
    assert reads.carry_over_count(session, cadre, [winter.id]) == 1  # all or none


def test_the_list_finds_a_household_by_a_member_too(session, make):
    child = id_number(dt.date(2009, 9, 9))
    record = archive(make, None, None, child)
    cadre = make.person("cadre", make.default_union())
    for q in (child[-4:], "家属1", record.applicant_name):
        assert [a.id for a in reads.listing(session, cadre, reads.ArchiveFilters(q=q)).items] == [record.id], q
    assert reads.listing(session, cadre, reads.ArchiveFilters(q=child[-8:-4])).items == []


def test_carry_over_of_another_unions_archive_is_not_found(session, make):
    helped = make.case(State.disbursed, union=make.union("别家工会"))
    with pytest.raises(NotFound):
        verbs.apply_for(session, make.person("cadre", make.default_union()), make.clock, campaign_ahead(make).id,
                        [helped.archive_id])


def test_a_household_back_in_hardship_applies_as_returned_and_approval_reactivates_it(session, make):
    case = make.case(State.disbursed)
    record = case.archive
    fire(make, record, "exit", make.person("head", case.union), comment="已再就业，脱困")
    winter = campaign_ahead(make)
    [again] = verbs.apply_for(session, make.person("cadre", case.union), make.clock, winter.id, [record.id],
                              {"kind": "funds", "amount": "800"})
    assert again.application_kind == "returned"
    make.attach(again)
    for role, trigger in [("cadre", "document"), ("head", "approve"), ("cadre", "publicize"), ("cadre", "enter"),
                          ("reviewer", "district_approve")]:
        make.fire(again, trigger, make.person(role, again.union))
    assert record.status == Status.active
    assert events(session, record.id)[-1].action == "reactivate"


# ---------------------------------------------------------------- transfer and merge

def test_a_transfer_moves_the_archive_and_its_history_to_the_new_union(session, make):
    old, new = make.default_union(), make.union("新单位工会")
    case = make.case(State.disbursed)
    record = case.archive
    fire(make, record, "transfer", make.person("reviewer"), union=new.code, comment="原单位关闭")
    with pytest.raises(NotFound):
        verbs.get_archive(session, make.person("cadre", old), record.id)
    assert verbs.get_archive(session, make.person("cadre", new), record.id) is record
    assert record.union is new
    last = events(session, record.id)[-1]
    assert (last.action, last.changes["union"]) == ("transfer", [old.name, new.name])
    # Its history follows it: the application paid by the old union, and that case's events.
    [paid] = reads.applications(session, record)
    assert (paid.case, paid.union, paid.state) == (case.id, old.name, State.disbursed)
    assert {e.case_id for e in reads.timeline(session, record)} == {case.id, None}
    # The old union keeps its own case of that campaign (its figures do not change).
    assert verbs.get_case(session, make.person("cadre", old), case.id) is case
    # The new union applies for the household in the next campaign.
    [again] = verbs.apply_for(session, make.person("cadre", new), make.clock, campaign_ahead(make).id, [record.id])
    assert (again.union_id, again.application_kind) == (new.id, "existing")


def test_the_assistance_center_may_keep_an_archive(session, make):
    record = _settled_archive(make, Status.active)
    fire(make, record, "transfer", make.person("reviewer"), union=make.district().code, comment="单位撤销，暂由帮扶中心保管")
    assert record.union is make.district()
    with pytest.raises(NotFound):
        verbs.get_archive(session, make.person("cadre", make.default_union()), record.id)


def test_a_household_reactivated_by_hand_applies_as_returned(session, make):
    case = make.case(State.disbursed)
    head = make.person("head", case.union)
    fire(make, case.archive, "exit", head)
    fire(make, case.archive, "reactivate", head, comment="再次失业")
    assert case.archive.status == Status.active
    [again] = verbs.apply_for(session, make.person("cadre", case.union), make.clock, campaign_ahead(make).id,
                              [case.archive_id])
    assert again.application_kind == "returned"


def test_merging_a_helped_archive_into_a_new_one_makes_it_active(session, make):
    helped = make.case(State.disbursed)
    fresh = archive(make)
    merged = verbs.merge_archives(session, make.person("reviewer"), make.clock, fresh.id, helped.archive_id,
                                  fresh.version)
    assert (merged.status, merged.last_helped_campaign_id) == (Status.active, helped.campaign_id)
    assert events(session, merged.id)[-1].changes["status"] == ["pending", "active"]


def test_a_merge_does_not_add_the_same_person_twice_under_a_mistyped_number(session, make):
    keep = archive(make, None, None, id_number(dt.date(2006, 1, 1)))
    data = household_data(name=keep.applicant_name)  # the same head, another (mistyped) number
    data["household"]["members"] = [{"name": keep.members[0].name, "relation": "子女",
                                     "id_number": id_number(dt.date(2007, 1, 1))}]
    other = verbs.create_archive(session, make.person("cadre", make.union("别家工会")), make.clock, data)
    merged = verbs.merge_archives(session, make.person("reviewer"), make.clock, keep.id, other.id, keep.version)
    assert merged.household_size == 2
    assert "not_added" in events(session, merged.id)[-1].changes


def test_a_reviewer_merges_two_archives_of_one_household(session, make):
    keep = make.case(State.disbursed)
    spouse = id_number(male=False)
    data = case_data(applicant={"name": "王小红", "gender": "female", "id_number": spouse, "phone": "13912345678",
                                "employer": "纺织厂"}, household={"annual_income": "1000", "members": []})
    other = verbs.create_case(session, make.person("cadre", make.union("纺织厂工会")), make.clock,
                              campaign_ahead(make).id, data)
    gone = other.archive
    merged = verbs.merge_archives(session, make.person("reviewer"), make.clock, keep.archive_id, gone.id,
                                  keep.archive.version)
    assert (gone.status, gone.status_reason, gone.merged_into_id) == (Status.deregistered, "merged", merged.id)
    assert other.archive_id == merged.id
    assert spouse in merged.numbers
    assert session.get(ArchiveNumber, digest(spouse)).archive_id == merged.id
    assert {e.case_id for e in reads.timeline(session, merged)} >= {keep.id, other.id}
    with pytest.raises(Forbidden):
        verbs.merge_archives(session, make.person("head", keep.union), make.clock, keep.archive_id, gone.id, None)
    assert audit.verify(session).ok


# ---------------------------------------------------------------- the household's yearly cap

def test_the_yearly_cap_counts_every_number_of_the_household(session, make):
    reviewer = make.person("reviewer")
    winter = make.campaign(cap_per_year="1500")
    summer = make.campaign(cap_per_year="1500", deadline=parse_deadline("2018-06-30"), starts_on=dt.date(2017, 12, 1))
    helped = make.case(State.district_approved, campaign=winter, aid={"kind": "funds", "amount": "1000"})
    member = helped.members[0].id_number
    # The spouse's own case, typed in before the archives knew her (another household's archive, her number).
    other = make.case(State.entered, campaign=summer, union=make.union("别家工会"),
                      aid={"kind": "funds", "amount": "600"})
    other.members[0].id_number = member
    session.flush()
    reasons = rules.blockers(session, other, "district_approve", reviewer, make.clock.now())
    assert "cap_year" in [r.rule for r in reasons]
    assert any(r.message == "该户2018年已获帮扶1,000.00元，加上本次600.00元超过年度上限1,500.00元" for r in reasons)
