"""workflows.reads.trail: the audit events an auditor asks for are exactly those the database holds, page by page, in
either order; dates are Beijing days; campaign and union come through the case; everything shown is masked."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import JSON, bindparam, select, text

from workflows import verbs
from workflows.actors import SYSTEM
from workflows.errors import Invalid
from workflows.identity import mask_account, mask_id
from workflows.infra import audit
from workflows.infra.clock import LOCAL
from workflows.models import AuditEvent, Case
from workflows.reads import trail
from workflows.states import State

from ..factories import bank_account, id_number

ID, BANK = id_number(), bank_account()
# One ID number ending in X and one ending in a digit, whatever the factory's counter gives.
X_ID = next(n for n in (id_number() for _ in range(50)) if n.endswith("X"))
DIGIT_ID = next(n for n in (id_number() for _ in range(50)) if not n.endswith("X"))


@pytest.fixture
def trail_data(session, make):
    """Two unions, two campaigns, cases through several verbs on several local days, sign-ins, reveals."""
    north, south = make.union("北方机械厂工会"), make.union("南方纺织厂工会")
    spring, other = make.default_campaign(), make.campaign()
    verbs.issue_token(session, make.clock, make.person("reviewer"), kind="web")
    first = make.case(State.entered, union=north, applicant={"name": "张三", "gender": "male", "id_number": ID,
                                                                 "phone": "13912345678", "employer": "北方机械厂"},
                      bank_account=BANK)
    make.clock.set(dt.datetime(2018, 1, 9, 23, 59, 59, tzinfo=LOCAL))  # the last second of the 9th in Beijing
    verbs.reveal(session, make.person("cadre", north), make.clock, first.id, "id_number")
    make.clock.set(dt.datetime(2018, 1, 10, 0, 0, 0, tzinfo=LOCAL))   # the first of the 10th (still the 9th in UTC)
    verbs.reveal(session, make.person("reviewer"), make.clock, first.id, "bank_account")
    make.clock.advance(hours=3)
    make.case(State.documented, union=south)
    make.case(State.publicized, union=north, campaign=other)
    make.clock.advance(days=2)
    withdrawn = make.case(State.drafted, union=south, campaign=other)
    make.fire(withdrawn, "withdraw", make.person("head", south), comment=f"本人撤回，身份证{ID}")
    verbs.issue_token(session, make.clock, make.person("cadre", south), kind="web")
    session.flush()
    return {"north": north, "south": south, "spring": spring, "other": other, "first": first}


def expected(session, filters: trail.EventFilters) -> list[int]:
    """The sequence numbers a filter must give, worked out in Python from every row, the slow and obvious way."""
    cases = {c.id: c for c in session.scalars(select(Case))}
    unions = {c.id: c.union.code for c in cases.values()}
    rows = []
    for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        case = cases.get(e.case_id)
        local_day = e.occurred_at.replace(tzinfo=dt.timezone.utc).astimezone(LOCAL).date()
        if filters.campaign is not None and (case is None or case.campaign_id != filters.campaign):
            continue
        if filters.union is not None and (case is None or unions[case.id] != filters.union):
            continue
        if any(value is not None and value != actual for value, actual in (
                (filters.case, e.case_id), (filters.actor, e.actor), (filters.role, e.role),
                (filters.action, e.action))):
            continue
        if (filters.since and local_day < filters.since) or (filters.until and local_day > filters.until):
            continue
        rows.append(e.seq)
    return rows[::-1] if filters.newest_first else rows


def all_pages(session, filters, per_page=4) -> list[int]:
    seqs, page = [], 1
    while True:
        result = trail.events(session, filters, page, per_page)
        seqs += [e.seq for e in result.items]
        if page >= result.pages:
            assert result.total == len(seqs)
            return seqs
        page += 1


FILTERS = {
    "everything": lambda d: trail.EventFilters(),
    "oldest first": lambda d: trail.EventFilters(newest_first=False),
    "campaign": lambda d: trail.EventFilters(campaign=d["spring"].id),
    "other campaign": lambda d: trail.EventFilters(campaign=d["other"].id, newest_first=False),
    "union": lambda d: trail.EventFilters(union=d["north"].code),
    "campaign and union": lambda d: trail.EventFilters(campaign=d["other"].id, union=d["south"].code),
    "case": lambda d: trail.EventFilters(case=d["first"].id),
    "actor": lambda d: trail.EventFilters(actor=d["first"].created_by.username),
    "role": lambda d: trail.EventFilters(role="head"),
    "action": lambda d: trail.EventFilters(action="reveal"),
    "sign-ins (no case)": lambda d: trail.EventFilters(action="sign_in"),
    "the 9th, Beijing": lambda d: trail.EventFilters(since=dt.date(2018, 1, 9), until=dt.date(2018, 1, 9)),
    "from the 10th": lambda d: trail.EventFilters(since=dt.date(2018, 1, 10)),
    "until the 8th": lambda d: trail.EventFilters(until=dt.date(2018, 1, 8)),
    "nothing": lambda d: trail.EventFilters(union="NO-SUCH-UNION"),
    "all at once": lambda d: trail.EventFilters(
        campaign=d["spring"].id, union=d["north"].code, case=d["first"].id, role="reviewer", action="reveal",
        since=dt.date(2018, 1, 10), until=dt.date(2018, 1, 10)),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter_gives_exactly_the_events_the_database_holds(session, trail_data, name):
    filters = FILTERS[name](trail_data)
    want = expected(session, filters)

    assert trail.count(session, filters) == len(want)
    assert all_pages(session, filters) == want
    assert [e.seq for e in trail.each(session, filters, limit=10_000, batch=3)] == want
    if name != "nothing":
        assert want, "the data should give every filter something to find"


def test_local_days_and_events_without_a_case(session, trail_data):
    first = trail_data["first"]
    ninth = trail.events(session, trail.EventFilters(since=dt.date(2018, 1, 9), until=dt.date(2018, 1, 9)))
    tenth = trail.events(session, trail.EventFilters(since=dt.date(2018, 1, 10), until=dt.date(2018, 1, 10),
                                                     action="reveal"))
    # 23:59:59 on the 9th in Beijing is the 9th; midnight after it is the 10th, though both are the 9th in UTC.
    assert [(e.action, e.revealed_field) for e in ninth.items] == [("reveal", "身份证号")]
    assert [(e.action, e.revealed_field) for e in tenth.items] == [("reveal", "工商银行账号")]
    assert {e.occurred_at.date() for e in ninth.items + tenth.items} == {dt.date(2018, 1, 9)}

    # Sign-ins have no case: listed without a campaign or union filter, left out with one.
    everything = trail.events(session, trail.EventFilters(), per_page=200).items
    assert {e.action for e in everything if e.case_id is None} >= {"sign_in", "create_union", "create_campaign"}
    for filters in (trail.EventFilters(campaign=trail_data["spring"].id), trail.EventFilters(union=first.union.code)):
        assert all(e.case_id is not None for e in trail.events(session, filters, per_page=200).items)
    # The case's union and campaign come along with each of its events.
    [reveal] = ninth.items
    assert (reveal.applicant, reveal.union, reveal.campaign) == ("张三", "北方机械厂工会", first.campaign.name)


def test_each_stops_at_its_limit_in_either_order(session, trail_data):
    newest = [e.seq for e in trail.each(session, trail.EventFilters(), limit=5, batch=2)]
    oldest = [e.seq for e in trail.each(session, trail.EventFilters(newest_first=False), limit=5, batch=2)]
    every = expected(session, trail.EventFilters(newest_first=False))
    assert oldest == every[:5] and newest == every[::-1][:5]


def test_pages_beyond_the_last_are_empty_and_per_page_is_bounded(session, trail_data):
    total = trail.count(session, trail.EventFilters())
    assert trail.events(session, trail.EventFilters(), page=1000).items == []
    assert trail.events(session, trail.EventFilters(), page=1000).total == total
    assert trail.events(session, trail.EventFilters(), per_page=10_000).per_page == trail.MAX_PER_PAGE


def test_a_case_history_is_every_event_of_the_case_oldest_first(session, trail_data):
    first = trail_data["first"]
    history = trail.case_history(session, first.id)
    assert history.case.id == first.id
    assert [e.seq for e in history.items] == expected(session, trail.EventFilters(case=first.id, newest_first=False))
    # Seven papers: every case's five and, for the household's schooling, enrolment and fees.
    assert [e.action for e in history.items] == ["create", *["add_document"] * 7, "document", "approve",
                                                 "publicize", "enter", "reveal", "reveal"]
    # Events outlive their case row: a history still shows them.
    assert trail.case_history(session, 999_999).items == [] and trail.case_history(session, 999_999).case is None


def test_an_event_has_every_column_its_changes_labelled_and_masked(session, trail_data):
    first = trail_data["first"]
    create = trail.case_history(session, first.id).items[0]
    row = session.scalar(select(AuditEvent).where(AuditEvent.seq == create.seq))
    shown = trail.event(session, create.seq)
    for name in ("seq", "occurred_at", "actor_id", "actor", "role", "case_id", "action", "from_state", "to_state",
                 "comment", "prev_hash", "hash"):
        assert getattr(shown, name) == getattr(row, name), name
    assert shown.intact and shown.action_label == "起草申请"
    changes = {c.field: c for c in shown.changes}
    assert set(changes) == set(row.changes)
    assert (changes["id_number"].label, changes["id_number"].before, changes["id_number"].after) == \
        ("身份证号", None, mask_id(ID))
    assert changes["bank_account"].after == mask_account(BANK)
    assert changes["worker_group"].after == "困难职工"  # codes by their labels
    assert trail.event(session, 10**9) is None


def test_free_text_is_masked_and_a_changed_row_no_longer_matches_its_hash(session, trail_data):
    withdraw = trail.events(session, trail.EventFilters(action="withdraw")).items[0]
    assert ID not in withdraw.comment and mask_id(ID) in withdraw.comment
    session.execute(text("UPDATE audit_events SET comment = 'x' WHERE seq = :seq"), {"seq": withdraw.seq})
    session.expire_all()
    assert not trail.event(session, withdraw.seq).intact
    assert audit.verify(session).first_bad == withdraw.seq


def test_changes_written_by_hand_in_another_shape_are_still_shown(session, make):
    audit.record(session, SYSTEM, make.clock.now(), "edit")
    session.execute(text("UPDATE audit_events SET changes = :c WHERE action = 'edit'").bindparams(
        bindparam("c", type_=JSON())), {"c": ["x", ID]})
    session.expire_all()
    shown = trail.events(session, trail.EventFilters(action="edit")).items[0]
    assert not shown.intact
    assert [(c.label, c.after) for c in shown.changes] == [("变更内容", f"['x', '{mask_id(ID)}']")]


def test_unmasked_changes_written_by_a_careless_verb_are_masked_on_the_way_out(session, make):
    other_id, other_bank = id_number(male=False), bank_account()
    audit.append_many(session, [audit.row(SYSTEM, make.clock.now(), "edit", changes={
        "id_number": [other_id, None], "note": [None, f"卡号 {other_bank[:4]} {other_bank[4:]}"]})])
    shown = trail.events(session, trail.EventFilters(action="edit")).items[0]
    assert [(c.before, c.after) for c in shown.changes] == [
        (mask_id(other_id), None), (None, f"卡号 {mask_account(other_bank)}")]
    assert other_id not in shown.changes_text() and other_bank[4:] not in shown.changes_text()


@pytest.mark.parametrize("raw, shown", [
    (f"身份证{ID}号", f"身份证{mask_id(ID)}号"),
    (f"ID:{ID[:6]} {ID[6:14]} {ID[14:]}", f"ID:{mask_id(ID)}"),
    (f"{ID[:17]}X", f"{ID[:6]}********{ID[14:17]}X"),                 # ending in X: an ID, check digit or not
    (f"账号{BANK}", f"账号{mask_account(BANK)}"),
    (f"{BANK[:4]}-{BANK[4:8]}-{BANK[8:12]}-{BANK[12:16]}-{BANK[16:]}", mask_account(BANK)),
    (X_ID + DIGIT_ID, mask_account(X_ID + DIGIT_ID)),                # two run together: masked as one
    (DIGIT_ID + X_ID, mask_account(DIGIT_ID + X_ID)),
    (f"{X_ID}，{DIGIT_ID}", f"{mask_id(X_ID)}，{mask_id(DIGIT_ID)}"),
    (X_ID.lower(), mask_id(X_ID)),
    ("2018-01-25 2018-01-26", "2018-01-25 2018-01-26"),             # dates are left alone
    ("13912345678、13800001111", "13912345678、13800001111"),        # phone numbers too
    ("SHA-256 " + "0123456789" * 3 + "ab" * 17, "SHA-256 " + "0123456789" * 3 + "ab" * 17),  # and hashes
    (mask_id(ID), mask_id(ID)),                                       # already masked
    (None, None),
])
def test_mask_numbers(raw, shown):
    assert trail.mask_numbers(raw) == shown


@pytest.mark.parametrize("args, field", [
    ({"since": "2018-13-01"}, "since"),
    ({"until": "明天"}, "until"),
    ({"since": "0001-01-01"}, "since"),
    ({"since": "2018-01-10", "until": "2018-01-09"}, "until"),
    ({"case": "abc"}, "case"),
    ({"case": "0"}, "case"),
    ({"campaign": "1; DROP TABLE cases"}, "campaign"),
    ({"role": "boss"}, "role"),
    ({"action": "DROP"}, "action"),
    ({"actor": "x" * 65}, "actor"),
])
def test_unreadable_filters_are_refused_with_a_message(args, field):
    with pytest.raises(Invalid) as raised:
        trail.parse_filters(args)
    assert list(raised.value.fields) == [field]


def test_filters_read_from_a_query_string():
    filters = trail.parse_filters({"campaign": "3", "union": " U1 ", "case": "#12", "actor": "cadre1",
                                   "role": "cadre", "action": "reveal", "since": "2018-01-01",
                                   "until": "2018-01-31", "order": "oldest", "page": "2"})
    assert filters == trail.EventFilters(3, "U1", 12, "cadre1", "cadre", "reveal", dt.date(2018, 1, 1),
                                         dt.date(2018, 1, 31), newest_first=False)
    assert trail.parse_filters({}) == trail.EventFilters()
    assert trail.local_day_start(dt.date(2018, 1, 10)) == dt.datetime(2018, 1, 9, 16, 0)


def test_a_filter_described_in_words(session, trail_data):
    filters = trail.EventFilters(campaign=trail_data["spring"].id, union=trail_data["north"].code, case=7,
                                 actor="cadre1", role="reviewer", action="district_approve",
                                 since=dt.date(2018, 1, 1), newest_first=False)
    assert trail.describe(session, filters) == (
        f"活动：{trail_data['spring'].name}；基层工会：北方机械厂工会；案件：7号；操作人：cadre1；角色：帮扶中心审核员；"
        "操作：区总审定通过；日期：2018-01-01 至 最新（北京时间）；排序：最早在前")
    assert trail.describe(session, trail.EventFilters()) == "全部事件；排序：最新在前"
    assert dataclasses.replace(filters, newest_first=True).newest_first


def test_moments_read_the_same_in_the_trail_whichever_format_their_event_was_written_in(session, make):
    """Events written before the one audit writer kept moments as `2018-01-10 01:00:00.000000` (naive UTC); now
    every verb writes ISO 8601 with its zone. Both stay as written (their chain verifies) and read alike."""
    case = make.case(State.entered)
    [entered] = [c for c in trail.case_history(session, case.id).items if c.action == "enter"]
    new = next(c for c in entered.changes if c.field == "entered_at")
    assert new.after.endswith("（北京时间）") and "+00:00" in entered.recorded["entered_at"][1]
    audit.append_many(session, [audit.row(SYSTEM, make.clock.now(), "edit", case_id=case.id, changes={
        "entered_at": [None, entered.recorded["entered_at"][1].replace("T", " ").replace("+00:00", ".000000")]})])
    old = trail.case_history(session, case.id).items[-1].changes[0]
    assert old.after == new.after
    assert audit.verify(session).ok
