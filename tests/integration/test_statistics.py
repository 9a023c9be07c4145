"""The statistics table (送温暖活动统计表) as the .xlsx a union office hands in, opened back with openpyxl: how the cases
stand (sheets 办理情况 and 分单位办理情况), its totals the database's, counted here with plain SQL; a union's file
counts that union (and those under it) only; and the figures of the dashboard (funnel, forfeited by union, budget)
are what the cases say. The unions' own layout (sheet 统计表) is tests/integration/test_statistics_table.py's."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from app.exports import statistics_workbook
from workflows import verbs
from workflows.actors import CONSOLE, SYSTEM
from workflows.errors import NotFound
from workflows.infra.clock import LOCAL
from workflows.models import Campaign, Union
from workflows.reads import reports
from workflows.states import State

from ..factories import Factory, id_number

CENT = Decimal("0.01")
AFTER_DEADLINE = dt.datetime(2018, 1, 26, 9, 0, tzinfo=LOCAL)
# Each 4,950 元 of 本级工会 is 0.50 万元 rounded, the two together 0.99 万元: the totals row is the 元's, rounded once.
FUNDS_A = {"upper": "3000", "own": "4950", "government": "1000.50", "society": "", "donations": "120"}
FUNDS_B = {"upper": "2000", "own": "4950", "society": "500"}


@dataclass
class Season:
    campaign: Campaign
    other: Campaign
    federation: Union
    a: Union  # grassroots, under the district
    b: Union  # grassroots, under the federation
    c: Union  # grassroots, no case


def build_season(make: Factory) -> Season:
    """Cases of one campaign in several states, unions, groups and kinds, with amounts; one forfeited by the
    deadline and one rejected; a case of another campaign, which no figure may count."""
    session, clock = make.session, make.clock
    district = make.district()
    federation = verbs.create_union(session, CONSOLE, clock, "FED7", "某产业工会联合会", district.code,
                                           "federation")
    a = make.union("华光机械厂工会")
    b = verbs.create_union(session, CONSOLE, clock, "FB7", "红星纺织厂工会", federation.code)
    c = make.union("城东环卫所工会")
    campaign = make.campaign(budget="50000", union_budgets={a.code: "20000", b.code: "10000"})
    other = make.campaign()

    def case(state: State, union: Union, amount: str | None, kind: str | None = "funds", medical: bool = False,
             **data: Any):
        aid = {"kind": kind, "amount": amount, "medical": medical}
        aid.update({key: data.pop(key) for key in ("goods_items", "goods_value") if key in data})
        return make.case(state, union=union, campaign=campaign, aid=aid, **data)

    case(State.drafted, a, "500")
    case(State.drafted, a, None, kind=None, worker_group=None, category=None)  # nothing chosen yet
    case(State.documented, a, "600", category="relative")
    case(State.entered, a, "800", worker_group="migrant_worker")
    case(State.district_approved, a, "1200.50", category="accident", household=household(3))
    case(State.disbursed, a, "1500", medical=True)
    case(State.forfeited, a, "700")  # rejected: 不合格
    case(State.withdrawn, a, "300")
    case(State.disbursed, b, "2000", kind="education", worker_group="model_worker")
    case(State.district_approved, b, None, kind="goods", goods_items="大米一袋、食用油一桶", goods_value="900.25")
    late = case(State.publicized, b, "400")
    make.case(State.disbursed, union=a, campaign=other)
    # Where the money came from, as unions A and B state it in their summaries (C hands in none).
    for union, funds in ((a, FUNDS_A), (b, FUNDS_B)):
        verbs.submit_summary(session, make.person("cadre", union), clock, make.uploads, campaign.id,
                             "走访慰问困难职工，详见统计表。", funds=funds)
    clock.set(AFTER_DEADLINE)
    verbs.fire(session, SYSTEM, clock, late.id, "forfeit", None)  # 逾期未报
    session.flush()
    return Season(campaign, other, federation, a, b, c)


def household(members: int) -> dict[str, Any]:
    """A household of the applicant and `members` others."""
    return {"annual_income": "24000", "housing": "租住公房",
            "members": [{"name": f"成员{i}", "relation": "子女", "id_number": id_number(dt.date(2005, 1, 1 + i)),
                         "monthly_income": "0", "health": "良好", "occupation": "学生"} for i in range(members)]}


@pytest.fixture
def season(make) -> Season:
    return build_season(make)


# ------------------------------------------------------------------ the database's own figures, in plain SQL

def sql_figures(session, campaign: Campaign, unions: list[Union] | None = None) -> dict[str, Any]:
    where, params = "campaign_id = :campaign", {"campaign": campaign.id}
    if unions is not None:
        where += " AND union_id IN (" + ", ".join(f":u{i}" for i in range(len(unions))) + ")"
        params.update({f"u{i}": union.id for i, union in enumerate(unions)})
    cases, approved, paid, forfeited = session.execute(text(
        "SELECT count(*),"
        " coalesce(sum(CASE WHEN state IN ('district_approved', 'disbursed') THEN aid_amount ELSE 0 END), 0),"
        " coalesce(sum(CASE WHEN state = 'disbursed' THEN aid_amount ELSE 0 END), 0),"
        " coalesce(sum(CASE WHEN state = 'forfeited' THEN 1 ELSE 0 END), 0)"
        f" FROM cases WHERE {where}"), params).one()
    by_state = dict(session.execute(text(f"SELECT state, count(*) FROM cases WHERE {where} GROUP BY state"),
                                    params).all())
    overdue = session.execute(text(
        "SELECT count(*) FROM cases JOIN audit_events e ON e.case_id = cases.id"
        f" WHERE {where.replace('campaign_id', 'cases.campaign_id').replace('union_id', 'cases.union_id')}"
        " AND e.action = 'forfeit'"), params).scalar_one()
    return {"cases": cases, "approved": money(approved), "paid": money(paid), "forfeited": forfeited,
            "overdue": overdue, "rejected": forfeited - overdue, "by_state": by_state}


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


# ------------------------------------------------------------------ reading the workbook back

@dataclass
class Book:
    title: str
    unit: str
    date: str
    blocks: dict[str, list[list[Any]]]  # heading → rows (label first), the totals row last
    unions: list[list[Any]]  # sheet 2's rows, the totals row last
    workbook: Any


def read(data: bytes) -> Book:
    workbook = load_workbook(io.BytesIO(data))
    head = [list(row) for row in workbook["统计表"].iter_rows(max_row=2, values_only=True)]
    rows = [list(row) for row in workbook["办理情况"].iter_rows(values_only=True)]
    blocks: dict[str, list[list[Any]]] = {}
    current = None
    for row in rows[3:]:
        if row[0] is None:
            current = None
        elif current is None and row[1] in ("件数", "数量"):
            current = blocks.setdefault(row[0], [])
        elif current is not None:
            current.append(row)
    union_rows = [list(row) for row in workbook["分单位办理情况"].iter_rows(min_row=6, values_only=True)]
    date = next(value for value in head[1][1:] if value)
    return Book(head[0][0], head[1][0], date, blocks, union_rows, workbook)


def workbook_for(session, campaign: Campaign, union: Union | None, now=AFTER_DEADLINE) -> bytes:
    return statistics_workbook(reports.statistics(session, campaign.id, union), campaign, union, now)


def figures_of(book: Book) -> dict[str, Any]:
    overall = {row[0].strip("　"): row[1] for row in book.blocks["总体情况"]}
    return {"cases": overall["案件总数（件）"], "approved": money(overall["审定金额合计（元）"]),
            "paid": money(overall["发放金额合计（元）"]), "forfeited": overall["视为自动放弃（件）"],
            "overdue": overall["其中：逾期未报（件）"], "rejected": overall["审核不合格（件）"]}


# ------------------------------------------------------------------ the tests

@pytest.mark.parametrize("scope", ["district", "a", "federation", "b", "c"])
def test_the_workbook_totals_equal_the_database(session, season, scope):
    union = None if scope == "district" else getattr(season, scope)
    in_view = {"district": None, "a": [season.a], "federation": [season.federation, season.b], "b": [season.b],
               "c": [season.c]}[scope]
    expected = sql_figures(session, season.campaign, in_view)
    book = read(workbook_for(session, season.campaign, union))

    assert {key: value for key, value in figures_of(book).items()} == \
        {key: expected[key] for key in ("cases", "approved", "paid", "forfeited", "overdue", "rejected")}
    states = book.blocks["案件状态"]
    assert states[:-1] == [[s.label, expected["by_state"].get(s.value, 0), None, None, None] for s in State]
    assert states[-1][:2] == ["合计", expected["cases"]]
    for heading in ("职工类别", "困难类别", "帮扶方式"):
        rows, totals = book.blocks[heading][:-1], book.blocks[heading][-1]
        assert totals[0] == "合计"
        assert [totals[1], money(totals[2]), money(totals[3]), totals[4]] == \
            [expected["cases"], expected["approved"], expected["paid"], expected["forfeited"]], heading
        assert sum(row[1] for row in rows) == totals[1]  # the rows add up to the totals row
    unions, totals = book.unions[:-1], book.unions[-1]
    assert totals[0] == "合计"
    assert [totals[2], money(totals[11]), money(totals[12])] == [expected["cases"], expected["approved"],
                                                                  expected["paid"]]
    assert sum(row[2] for row in unions) == totals[2]  # the unions' rows add up to the totals row
    assert [totals[8], totals[9]] == [expected["overdue"], expected["rejected"]]
    assert totals[7] == expected["by_state"].get("payment_returned", 0)
    assert sum(totals[3:11]) == totals[2]  # every case is at one stage or one exit


def test_each_union_row_is_that_union_s_cases(session, season):
    book = read(workbook_for(session, season.campaign, None))
    # every grassroots union, the one without a case too, by code; not the federation
    assert [row[1] for row in book.unions[:-1]] == \
        [u.name for u in sorted((season.a, season.b, season.c), key=lambda u: u.code)]
    for row in book.unions[:-1]:
        union = next(u for u in (season.a, season.b, season.c) if u.name == row[1])
        expected = sql_figures(session, season.campaign, [union])
        assert [row[2], money(row[11]), money(row[12]), row[8], row[9]] == \
            [expected["cases"], expected["approved"], expected["paid"], expected["overdue"], expected["rejected"]]
        assert row[10] == expected["by_state"].get("withdrawn", 0)


def test_a_union_s_file_counts_that_union_only(session, season):
    book = read(workbook_for(session, season.campaign, season.a))
    assert book.unit == f"填报单位：{season.a.name}"
    assert [row[1] for row in book.unions[:-1]] == [season.a.name]
    assert figures_of(book)["cases"] == 8 and figures_of(book)["paid"] == Decimal("1500.00")
    # the other campaign's disbursed case of union A is not counted
    assert figures_of(book)["approved"] == Decimal("2700.50")


def test_the_layout_is_the_one_a_union_office_hands_in(session, season):
    book = read(workbook_for(session, season.campaign, None))
    assert book.workbook.sheetnames == ["统计表", "办理情况", "分单位办理情况"]  # the unions' table first
    sheet = book.workbook["办理情况"]
    assert sheet["A1"].value == f"{season.campaign.name}活动办理情况"
    assert book.title == f"{season.campaign.name}活动统计表"
    assert book.unit == "填报单位：某区总工会"  # the district's own name
    assert book.date == "填报日期：2018年1月26日"
    assert "A1:E1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet["A1"].font.bold and sheet["A1"].font.size >= 16
    headings = [row for row in sheet.iter_rows(values_only=True) if row[0] == "帮扶方式"][0]
    assert list(headings) == ["帮扶方式", "件数", "审定金额（元）", "发放金额（元）", "视为自动放弃（件）"]
    money_cells = [row[2] for row in sheet.iter_rows(min_row=4) if row[0].value == "送资金"]
    assert money_cells and all(cell.number_format == "#,##0.00" for cell in money_cells)
    assert all(sheet.column_dimensions[c].width >= 12 for c in "ABCDE")
    assert int(sheet.page_setup.paperSize) == 9 and sheet.page_setup.fitToWidth == 1  # A4, one page wide
    unions = book.workbook["分单位办理情况"]
    assert unions["A4"].value == "序号" and unions["C4"].value == "案件数（件）" and unions["L4"].value == "金额（元）"
    assert unions["H5"].value == "退票待处理"
    assert unions.print_title_rows == "$4:$5" and unions.page_setup.orientation == "landscape"


def test_a_case_without_a_group_yet_is_counted_as_not_filled_in(session, season):
    table = reports.statistics(session, season.campaign.id, season.a)
    for section in ("by_worker_group", "by_category", "by_aid_kind"):
        assert table[section]["unset"]["label"] == "未填写" and table[section]["unset"]["cases"] == 1
        assert sum(row["cases"] for row in table[section].values()) == table["cases"]
    assert "unset" not in reports.statistics(session, season.campaign.id, season.b)["by_worker_group"]


def test_the_funnel_counts_how_far_each_case_got(session, season):
    stages = {row["state"]: row for row in reports.funnel(session, season.campaign.id)}
    # 11 cases: all were drafted; the withdrawn one went no further; the rejected one reached `entered`, the late
    # one `publicized`
    assert [stages[s]["reached"] for s in ("drafted", "documented", "grassroots_approved", "publicized", "entered",
                                           "district_approved", "disbursed")] == [11, 8, 7, 7, 6, 4, 2]
    assert stages["drafted"]["now"] == 2 and stages["disbursed"]["now"] == 2
    b_only = {row["state"]: row["reached"] for row in reports.funnel(session, season.campaign.id, season.b)}
    assert b_only["drafted"] == 3 and b_only["publicized"] == 3 and b_only["disbursed"] == 1


def test_the_budget_is_what_district_approval_spoke_for(session, season):
    district = reports.budget(session, season.campaign)
    # the goods case (900.25 of goods) is not cash: the campaign does not count goods in its budget
    assert district == {"total": Decimal("50000.00"), "approved": Decimal("4700.50"), "paid": Decimal("3500.00"),
                        "committed": Decimal("1200.50"), "left": Decimal("45299.50")}
    season.campaign.goods_in_budget = True
    assert reports.budget(session, season.campaign)["approved"] == Decimal("5600.75")
    season.campaign.goods_in_budget = False
    assert reports.budget(session, season.campaign, season.a)["left"] == Decimal("20000") - Decimal("2700.50")
    assert reports.budget(session, season.campaign, season.federation)["total"] == Decimal("10000")
    assert reports.budget(session, season.campaign, season.c)["total"] is None  # no share of its own
    assert reports.budget(session, season.other)["total"] is None


def test_scope_keeps_a_union_s_people_to_their_own_union(session, season, make):
    cadre = make.person("cadre", season.a)
    assert reports.scope(session, cadre, season.campaign.id, None) == (season.campaign, season.a)
    with pytest.raises(NotFound):
        reports.scope(session, cadre, season.campaign.id, season.b.code)
    auditor = make.person("auditor")
    assert reports.scope(session, auditor, season.campaign.id, season.b.code) == (season.campaign, season.b)
    assert reports.scope(session, auditor, season.campaign.id, None) == (season.campaign, None)


def test_a_name_that_looks_like_a_formula_stays_text_in_the_workbook(session, make):
    from app.exports import statistics_workbook

    union = make.union('=HYPERLINK("http://x","点我")')
    make.case(State.entered, union=union)
    campaign = make.default_campaign()
    table = reports.statistics(session, campaign.id)
    book = load_workbook(io.BytesIO(statistics_workbook(table, campaign, None, make.clock.now())))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert any(cell.value == '=HYPERLINK("http://x","点我")' for cell in cells)
    assert all(cell.data_type != "f" for cell in cells)
