"""The annual review (年度复核) through the verbs and reads: the worklist of archives not reviewed for twelve months,
the review's outcomes and their events, the proposals the union's head carries out, the six-months-above-the-
standard rule, the district's spot check (at least 30% of each union, reproducible from its seed), and the progress
report's figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from workflows import verbs
from workflows.archive_states import Status
from workflows.errors import Conflict, Forbidden, Invalid, NotFound, Refused
from workflows.infra import audit
from workflows.infra.clock import LOCAL, FixedClock, to_db
from workflows.models import Archive, ArchiveReview, AuditEvent, LivingStandard, SpotCheck, SpotCheckItem
from workflows.reads import reviews as reads
from workflows.rules import reviews as rules

from ..conftest import START
from ..factories import case_data


def household(income="24000", area: str | None = "110105", name="王建国") -> dict:
    """A household of two (net per-capita monthly income = income / 24), of hukou area `area`."""
    data = case_data()
    data.pop("aid")
    data["applicant"]["name"] = name
    data["household"]["annual_income"] = income
    data["national"] = {"hukou_area": area}
    return data


def active(make, union=None, **kwargs) -> Archive:
    """An archive of `union` in 在档 (as the district's approval or an import leaves it), created now."""
    union = union or make.default_union()
    archive = verbs.create_archive(make.session, make.person("cadre", union), make.clock, household(**kwargs))
    archive.status = Status.active
    make.session.flush()
    return archive


def events(session, archive_id: int, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.archive_id == archive_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query.order_by(AuditEvent.seq)))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def standard(session, year: int, monthly: str, area: str = "110105") -> None:
    found = session.get(LivingStandard, (year, area))
    if found is None:
        session.add(LivingStandard(year=year, area_code=area, monthly=Decimal(monthly), set_at=to_db(START)))
    else:
        found.monthly = Decimal(monthly)
    session.flush()


def review(make, archive, who, outcome="confirmed", **kwargs):
    return verbs.review_archive(make.session, who, make.clock, archive.id, archive.version, outcome, **kwargs)


@pytest.fixture
def desk(make):
    union = make.default_union()
    return union, make.person("cadre", union), make.person("head", union)


# ---------------------------------------------------------------- due: twelve months since the last review

def test_an_archive_is_due_twelve_months_after_its_creation_and_not_before(session, make, desk):
    union, cadre, head = desk
    archive = active(make)
    verbs.create_archive(session, cadre, make.clock, household(name="建档中"))  # pending: never due
    make.clock.set(START + dt.timedelta(days=364))
    assert reads.counts(session, cadre, make.clock.now()).due == 0
    assert reads.worklist(session, cadre, make.clock.now()).due == []
    make.clock.set(START.replace(year=2019))
    listed = reads.worklist(session, head, make.clock.now())
    assert [row.archive.id for row in listed.due] == [archive.id] and listed.due_total == 1
    assert (listed.due[0].counted_from, listed.due[0].last_review) == ("建档", None)
    assert reads.counts(session, cadre, make.clock.now()).due == 1


def test_the_twelve_months_count_from_the_last_review_else_from_the_import(session, make, desk):
    union, cadre, head = desk
    imported, reviewed = active(make, name="导入户"), active(make, name="复核户")
    imported.imported_at = to_db(START + dt.timedelta(days=60))
    make.clock.set(START + dt.timedelta(days=30))
    review(make, reviewed, cadre)
    make.clock.set(START.replace(year=2019))
    assert [row.archive.id for row in reads.worklist(session, cadre, make.clock.now()).due] == []
    make.clock.set(START.replace(year=2019) + dt.timedelta(days=30))
    [row] = reads.worklist(session, cadre, make.clock.now()).due
    assert (row.archive.id, row.counted_from, row.last_review.outcome) == (reviewed.id, "上次复核", "confirmed")
    make.clock.set(START.replace(year=2019) + dt.timedelta(days=60))
    assert [r.archive.id for r in reads.worklist(session, cadre, make.clock.now()).due] == [reviewed.id, imported.id]


def test_the_rule_decides_an_archive_and_selects_in_sql_alike(session, make, desk):
    union, cadre, _ = desk
    made = []
    for days, status, reviewed, imported in [(0, Status.active, None, None), (10, Status.active, 400, None),
                                             (20, Status.active, None, 300), (30, Status.exited, None, None),
                                             (40, Status.active, 100, 380), (365, Status.active, None, None)]:
        make.clock.set(START + dt.timedelta(days=days))
        archive = active(make, name=f"户{days}")
        archive.status = status
        archive.reviewed_at = to_db(START + dt.timedelta(days=reviewed)) if reviewed else None
        archive.imported_at = to_db(START + dt.timedelta(days=imported)) if imported else None
        made.append(archive)
    session.flush()
    for now in (START.replace(year=2019), START.replace(year=2019) + dt.timedelta(days=100),
                START.replace(year=2020)):
        selected = set(session.scalars(select(Archive.id).where(rules.due(Archive, now))))
        assert selected == {a.id for a in made if rules.due(a, now)}
        assert selected  # the comparison means something


# ---------------------------------------------------------------- the review itself

def test_a_confirmation_marks_the_archive_reviewed_with_one_event(session, make, desk):
    _, cadre, _ = desk
    archive = active(make)
    before = len(events(session, archive.id))
    made = review(make, archive, cadre, comment="入户核实，情况无变化")
    assert (made.outcome, made.union_id, made.reviewed_by_id, made.comment) == (
        "confirmed", archive.union_id, cadre.id, "入户核实，情况无变化")
    assert archive.reviewed_at == to_db(START)
    [event] = events(session, archive.id)[before:]
    assert (event.action, event.from_state, event.to_state, event.comment) == (
        "review_archive", "active", "active", "入户核实，情况无变化")
    assert event.changes["review"] == [None, "confirmed"]
    assert audit.verify(session).ok


def test_an_update_applies_the_data_through_the_archive_edit_and_is_audited_twice(session, make, desk):
    _, cadre, _ = desk
    archive = active(make)
    before = len(events(session, archive.id))
    review(make, archive, cadre, "updated", data={"household": {"annual_income": "36000"}})
    assert archive.annual_income == Decimal("36000") and archive.reviewed_at is not None
    assert [e.action for e in events(session, archive.id)[before:]] == ["edit_archive", "review_archive"]
    assert events(session, archive.id)[-2].changes["annual_income"] == ["24000.00", "36000.00"]
    # The form's way: the archive was edited on its own page; the review says so, and nothing else is written.
    review(make, archive, cadre, "updated")
    assert [e.action for e in events(session, archive.id)[before:]] == ["edit_archive", "review_archive",
                                                                        "review_archive"]


def test_what_each_outcome_asks_for_and_nothing_half_written(session, make, desk):
    _, cadre, _ = desk
    archive = active(make)
    state = lambda: (archive.version, archive.reviewed_at, count(session, ArchiveReview),  # noqa: E731
                     count(session, AuditEvent))
    before = state()
    cases = [
        (dict(outcome="propose_exit"), {"comment": "建议脱困须写明理由"}),
        (dict(outcome="propose_deregister", comment="已退休"), {"reason": "请选择建议注销的原因"}),
        (dict(outcome="propose_deregister", comment="并档", reason="merged"), {"reason": "请选择建议注销的原因"}),
        (dict(outcome="nonsense"), {"outcome": "请选择复核结果"}),
        (dict(outcome="confirmed", data={"household": {"annual_income": "1"}}),
         {"data": "只有选择「已更新档案信息」时才能修改档案"}),
        (dict(outcome="updated", data={"household": {"annual_income": "24000"}}),
         {"data": "提交的修改与档案现有内容相同；没有变化请选择「核实无变化」"}),
        (dict(outcome="updated", data={"applicant": {"id_number": "123"}}), None),
    ]
    for kwargs, fields in cases:
        outcome = kwargs.pop("outcome")
        with pytest.raises(Invalid) as caught:
            review(make, archive, cadre, outcome, **kwargs)
        if fields:
            assert caught.value.fields == fields
        assert state() == before
    made = review(make, archive, cadre, "propose_deregister", comment="户主已退休", reason="retired")
    assert (made.outcome, made.proposed_reason) == ("propose_deregister", "retired")


def test_a_stale_version_is_refused(session, make, desk):
    _, cadre, head = desk
    archive = active(make)
    seen = archive.version
    review(make, archive, head)
    before = count(session, AuditEvent)
    with pytest.raises(Conflict, match="该档案已被他人修改"):
        verbs.review_archive(session, cadre, make.clock, archive.id, seen, "confirmed")
    assert count(session, AuditEvent) == before


def test_only_the_archives_own_union_reviews_it_and_only_an_active_one(session, make, desk):
    archive = active(make)
    other = make.union("红星纺织厂工会")
    with pytest.raises(NotFound):
        review(make, archive, make.person("cadre", other))
    for role in ("reviewer", "auditor", "finance"):
        with pytest.raises(Forbidden):
            review(make, archive, make.person(role))
    archive.status = Status.exited
    session.flush()
    with pytest.raises(Refused, match="档案当前为「脱困」，只有在档的档案需要年度复核"):
        review(make, archive, desk[1])


# ---------------------------------------------------------------- proposals: the head's task

def test_a_proposal_waits_for_the_head_who_carries_it_out_or_leaves_it(session, make, desk):
    _, cadre, head = desk
    leaving, closing, left = active(make, name="脱困户"), active(make, name="注销户"), active(make, name="不采纳户")
    review(make, leaving, cadre, "propose_exit", comment="配偶已就业，收入稳定")
    review(make, closing, cadre, "propose_deregister", comment="户主已退休", reason="retired")
    review(make, left, cadre, "propose_exit", comment="收入有所提高")
    now = make.clock.now()
    assert reads.counts(session, head, now).proposals == 3
    pending = reads.worklist(session, head, now).pending
    assert [(row.archive.id, row.review.outcome, row.review.comment) for row in pending] == [
        (leaving.id, "propose_exit", "配偶已就业，收入稳定"), (closing.id, "propose_deregister", "户主已退休"),
        (left.id, "propose_exit", "收入有所提高")]
    assert reads.pending_of(session, leaving).comment == "配偶已就业，收入稳定"

    verbs.fire_archive(session, head, make.clock, leaving.id, "exit", leaving.version, comment="按复核建议脱困")
    verbs.fire_archive(session, head, make.clock, closing.id, "deregister", closing.version, comment="按复核建议注销",
                       reason=reads.pending_of(session, closing).proposed_reason)
    review(make, left, head, "confirmed", comment="核实后仍困难，不采纳脱困建议")
    assert (leaving.status, closing.status, closing.status_reason) == ("exited", "deregistered", "retired")
    assert reads.counts(session, head, make.clock.now()).proposals == 0
    assert reads.worklist(session, head, make.clock.now()).pending == []
    assert reads.pending_of(session, leaving) is None


# ---------------------------------------------------------------- six months above the standard

AREA = "110105"
T0 = START - dt.timedelta(days=400)


def lookup(monthly: dict[int, str]):
    """Standards by year for AREA, as rules.reviews.standards gives them."""
    return lambda year, area: (LivingStandard(year=year, area_code=AREA, monthly=Decimal(monthly[year]))
                               if area == AREA and year in monthly else None)


def test_five_months_above_is_not_yet_six_is_and_a_raised_standard_is_not():
    clock = FixedClock(dt.datetime(2018, 6, 1, 9, tzinfo=LOCAL))
    raised_at = dt.datetime(2018, 1, 1, 9, tzinfo=LOCAL)
    history = [(to_db(T0), Decimal("800")), (to_db(raised_at), Decimal("1200"))]
    standards = lookup({2017: "500", 2018: "500"})  # the line: 1,000 a month
    assert not rules.proposes_exit(history, AREA, clock.now(), standards)   # five months above
    clock.set(dt.datetime(2018, 7, 1, 9, tzinfo=LOCAL))
    assert rules.above_standard_since(history, AREA, clock.now(), standards) == raised_at.replace(month=7)
    # The standard of 2018 raised to 650: 1,200 is no longer twice it.
    assert not rules.proposes_exit(history, AREA, clock.now(), lookup({2017: "500", 2018: "650"}))
    # Exactly twice the standard is above every hardship line (相对困难 is below twice).
    assert rules.proposes_exit(history, AREA, clock.now(), lookup({2017: "500", 2018: "600"}))


def test_the_six_months_need_a_history_a_standard_and_an_income_for_each_of_them():
    now = dt.datetime(2018, 3, 1, 9, tzinfo=LOCAL)
    above = Decimal("5000")
    since = lambda **delta: to_db(now - dt.timedelta(**delta))  # noqa: E731
    both = lookup({2017: "500", 2018: "500"})
    assert rules.proposes_exit([(since(days=200), above)], AREA, now, both)
    assert not rules.proposes_exit([(since(days=90), above)], AREA, now, both)      # history too short
    assert not rules.proposes_exit([(since(days=200), above)], AREA, now, lookup({2018: "500"}))  # 2017 unknown
    assert not rules.proposes_exit([(since(days=200), above)], "120101", now, both)  # no standard for the area
    assert not rules.proposes_exit([(since(days=200), None)], AREA, now, both)       # income not known
    assert not rules.proposes_exit([], AREA, now, both)
    # A dip below in the middle restarts the six months.
    dipped = [(since(days=300), above), (since(days=120), Decimal("900")), (since(days=100), above)]
    assert not rules.proposes_exit(dipped, AREA, now, both)


def test_the_worklist_proposes_the_household_above_for_six_months_until_a_review_has_seen_it(session, make, desk):
    _, cadre, head = desk
    standard(session, 2018, "600")   # the line: 1,200 a month; each household starts at 1,000 (相对困难)
    rising, poor = active(make, name="收入提高户"), active(make, name="仍困难户")
    make.clock.set(START + dt.timedelta(days=10))
    verbs.edit_archive(session, cadre, make.clock, rising.id, rising.version, {"household": {"annual_income": "60000"}})
    raised = make.clock.now()
    make.clock.set(raised + dt.timedelta(days=150))   # five months above
    assert reads.worklist(session, cadre, make.clock.now()).proposed == []
    make.clock.set(START.replace(month=7, day=20))     # six months and more
    [row] = reads.worklist(session, cadre, make.clock.now()).proposed
    assert (row.archive.id, row.since) == (rising.id, to_db(rules.shift_months(raised, 6)))
    assert "2,500.00" in row.recognition.text() and row.recognition.above_line
    # The cadre proposes 脱困: a proposal waiting for the head, no longer the rule's.
    review(make, rising, cadre, "propose_exit", comment="家庭人均收入连续六个月高于低保标准两倍")
    listed = reads.worklist(session, head, make.clock.now())
    assert (listed.proposed, [p.archive.id for p in listed.pending]) == ([], [rising.id])
    # Left by the head: reviewed since the rule fired, it is not proposed again.
    review(make, rising, head, "confirmed", comment="该户有大额医疗支出待补录，暂不脱困")
    assert reads.worklist(session, head, make.clock.now()).proposed == []
    assert poor.id not in {r.archive.id for r in reads.worklist(session, head, make.clock.now()).proposed}


# ---------------------------------------------------------------- the district's spot check

@pytest.fixture
def district(session, make):
    """Three grassroots unions with 10, 7 and 1 active archives, and a closed one in each."""
    unions = [make.union(name) for name in ("甲厂工会", "乙厂工会", "丙厂工会")]
    made = {}
    for union, n in zip(unions, (10, 7, 1)):
        made[union.code] = [active(make, union, name=f"户{i}").id for i in range(n)]
        closed = active(make, union, name="已脱困")
        closed.status = Status.exited
    session.flush()
    return unions, made


def test_the_spot_check_draws_at_least_30_percent_of_each_union_reproducibly(session, make, district):
    unions, made = district
    reviewer = make.person("reviewer")
    check = verbs.draw_spot_check(session, reviewer, make.clock, 2018, seed="qz-2018")
    drawn: dict[str, list[int]] = {}
    for item in check.items:
        drawn.setdefault(next(u.code for u in unions if u.id == item.union_id), []).append(item.archive_id)
    assert {code: len(ids) for code, ids in drawn.items()} == {unions[0].code: 3, unions[1].code: 3,
                                                               unions[2].code: 1}
    for code, ids in drawn.items():
        assert set(ids) <= set(made[code]) and len(ids) >= Decimal("0.30") * len(made[code])
    # Anyone with the seed and the population draws the same list, and its digest is the one recorded.
    assert rules.draw("qz-2018", Decimal("0.30"), made) == {code: sorted(ids) for code, ids in drawn.items()}
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "draw_spot_check"))
    assert event.changes["seed"] == [None, "qz-2018"] and event.changes["rate"] == [None, "0.30"]
    assert event.changes["drawn_sha256"] == [None, rules.list_digest(drawn)]
    assert event.changes["population_sha256"] == [None, rules.list_digest(made)]
    assert event.changes["drawn"][1] == f"{unions[0].code}:3,{unions[1].code}:3,{unions[2].code}:1"
    # Another seed, another list (of the same sizes).
    other = rules.draw("another", Decimal("0.30"), made)
    assert other != rules.draw("qz-2018", Decimal("0.30"), made)
    assert [len(v) for v in other.values()] == [3, 3, 1]


def test_a_second_draw_of_the_year_is_refused_and_the_rate_is_at_least_30_percent(session, make, district):
    reviewer = make.person("reviewer")
    for rate, message in [(Decimal("0.29"), "抽查比例须在30%到100%之间（0.30至1）"),
                          (Decimal("1.01"), "抽查比例须在30%到100%之间（0.30至1）"),
                          ("0.355", "抽查比例最多两位小数，如 0.35"), ("三成", "请填写抽查比例，如 0.30")]:
        with pytest.raises(Invalid) as caught:
            verbs.draw_spot_check(session, reviewer, make.clock, 2018, rate)
        assert caught.value.fields == {"rate": message}
    with pytest.raises(Invalid) as caught:
        verbs.draw_spot_check(session, reviewer, make.clock, 1999, seed="有空格 的种子")
    assert set(caught.value.fields) == {"year", "seed"}
    with pytest.raises(Forbidden):
        verbs.draw_spot_check(session, make.person("cadre", district[0][0]), make.clock, 2018)
    check = verbs.draw_spot_check(session, reviewer, make.clock, 2018, Decimal("1"))
    assert len(check.seed) == 32 and len(check.items) == 18   # a random seed, recorded; every active archive
    before = (count(session, SpotCheck), count(session, SpotCheckItem), count(session, AuditEvent))
    with pytest.raises(Refused, match="2018年度已于2018-01-08抽取抽查名单，每年只抽一次"):
        verbs.draw_spot_check(session, reviewer, make.clock, 2018, seed="again")
    assert (count(session, SpotCheck), count(session, SpotCheckItem), count(session, AuditEvent)) == before
    verbs.draw_spot_check(session, reviewer, make.clock, 2019)


def test_findings_are_recorded_on_the_archive(session, make, district):
    reviewer = make.person("reviewer")
    check = verbs.draw_spot_check(session, reviewer, make.clock, 2018, seed="s")
    first, second = check.items[:2]
    with pytest.raises(Invalid) as caught:
        verbs.check_spot_item(session, reviewer, make.clock, first.id, "discrepancy", " ")
    assert caught.value.fields == {"comment": "抽查不符时请写明不符之处"}
    with pytest.raises(Invalid):
        verbs.check_spot_item(session, reviewer, make.clock, first.id, "maybe", None)
    with pytest.raises(NotFound):
        verbs.check_spot_item(session, reviewer, make.clock, 999999, "confirmed", None)
    with pytest.raises(Forbidden):
        verbs.check_spot_item(session, make.person("auditor"), make.clock, first.id, "confirmed", None)
    verbs.check_spot_item(session, reviewer, make.clock, first.id, "confirmed", None)
    verbs.check_spot_item(session, reviewer, make.clock, second.id, "discrepancy", "家庭成员少报一人")
    assert (second.outcome, second.comment, second.checked_by_id) == ("discrepancy", "家庭成员少报一人", reviewer.id)
    [event] = events(session, second.archive_id, "check_spot_item")
    assert (event.comment, event.changes["spot_check"]) == ("家庭成员少报一人", [None, "discrepancy"])
    listed = reads.spot_check(session, 2018)
    assert [(i.item.id, i.item.outcome, i.checked_by) for i in listed.items if i.item.outcome] == [
        (first.id, "confirmed", reviewer.display_name), (second.id, "discrepancy", reviewer.display_name)]
    assert len(listed.items) == 7 and listed.drawn_by == reviewer.display_name
    assert reads.spot_check(session, 2017) is None


# ---------------------------------------------------------------- the progress report

def test_the_progress_report_shows_what_was_done(session, make, district):
    unions, made = district
    a, b, c = unions
    cadre_a, head_b = make.person("cadre", a), make.person("head", b)
    make.clock.set(START.replace(year=2019) + dt.timedelta(days=1))   # every archive is a year old: all due
    for archive_id in made[a.code][:4]:
        review(make, make.session.get(Archive, archive_id), cadre_a)
    review(make, make.session.get(Archive, made[b.code][0]), head_b, "propose_exit", comment="收入提高")
    reviewer = make.person("reviewer")
    check = verbs.draw_spot_check(session, reviewer, make.clock, 2019, seed="p")
    a_items = [i for i in check.items if i.union_id == a.id]
    verbs.check_spot_item(session, reviewer, make.clock, a_items[0].id, "confirmed", None)
    verbs.check_spot_item(session, reviewer, make.clock, a_items[1].id, "discrepancy", "住房情况不符")
    rows = {row.union.code if row.union else "total": row
            for row in reads.progress(session, make.clock.now(), 2019)}
    figures = lambda row: (row.active, row.reviewed, row.reviewed_share, row.due, row.proposals,  # noqa: E731
                           row.drawn, row.checked, row.discrepancies)
    assert figures(rows[a.code]) == (10, 4, 40, 6, 0, 3, 2, 1)
    assert figures(rows[b.code]) == (7, 1, 14, 6, 1, 3, 0, 0)
    assert figures(rows[c.code]) == (1, 0, 0, 1, 0, 1, 0, 0)
    assert figures(rows["total"]) == (18, 5, 28, 13, 1, 7, 2, 1)
    assert list(rows)[-1] == "total"
    assert reads.progress(session, make.clock.now(), 2018)[-1].drawn == 0
