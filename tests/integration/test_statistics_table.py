"""The statistics table as the unions report it (sheet 统计表 of the workbook, the JSON's `helped`): households and
persons, by worker group and medical, cash and goods in 万元 with the 元 beside, and where the money came from. Its
totals are held against plain SQL over the cases and the summaries; the district's totals against the unions' rows;
a goods case counts its value as goods, not as cash, and not in the cash budget unless the campaign says so."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from workflows import verbs
from workflows.models import AuditEvent, Union
from workflows.reads import reports
from workflows.rules.caps import money_reasons
from workflows.states import COMMITTED, State
from workflows.vocab import WorkerGroup

from .test_statistics import FUNDS_A, FUNDS_B, Season, build_season, workbook_for

CENT = Decimal("0.01")
GROUPS = [g.value for g in WorkerGroup]
SOURCES = ("upper", "own", "government", "society", "donations")
# Sheet 统计表: 序号, 单位, then these columns (the 万元 ones rounded, the 元 ones exact).
COLUMNS = ("households", "persons", *GROUPS, "medical", "cash_wan", "cash", "goods_wan", "goods",
           *[f"{key}_wan" for key in SOURCES])


@pytest.fixture
def season(make) -> Season:
    return build_season(make)


def yuan(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def wan(value: Decimal) -> Decimal:
    return (value / 10000).quantize(CENT, ROUND_HALF_UP)


def sql_table(session, campaign, unions: list[Union] | None = None) -> dict[str, Any]:
    """The table's figures counted here in plain SQL, over the cases and the summaries in view."""
    where, params = "c.campaign_id = :campaign", {"campaign": campaign.id}
    if unions is not None:
        where += " AND c.union_id IN (" + ", ".join(f":u{i}" for i in range(len(unions))) + ")"
        params.update({f"u{i}": union.id for i, union in enumerate(unions)})
    states = ", ".join(f"'{s.value}'" for s in COMMITTED)
    approved = f"{where} AND c.state IN ({states})"
    one = lambda sql: session.execute(text(sql), params).scalar_one()  # noqa: E731
    figures: dict[str, Any] = {
        "households": one(f"SELECT count(*) FROM cases c WHERE {approved}"),
        "persons": one(f"SELECT count(*) FROM cases c WHERE {approved}")
        + one(f"SELECT count(*) FROM members m JOIN cases c ON c.id = m.case_id WHERE {approved}"),
        "medical": one(f"SELECT count(*) FROM cases c WHERE {approved} AND c.medical"),
        "cash": yuan(one(f"SELECT sum(c.aid_amount) FROM cases c WHERE {approved}"
                         " AND (c.aid_kind IS NULL OR c.aid_kind <> 'goods')")),
        "goods": yuan(one(f"SELECT sum(c.goods_value) FROM cases c WHERE {approved} AND c.aid_kind = 'goods'")),
    }
    for group in GROUPS:
        figures[group] = one(f"SELECT count(*) FROM cases c WHERE {approved} AND c.worker_group = '{group}'")
    summaries = where.replace("c.", "s.")
    for key in SOURCES:
        figures[key] = yuan(one(f"SELECT sum(s.fund_{key}) FROM summaries s WHERE {summaries}"))
    return figures


def sheet_rows(data: bytes) -> tuple[list[dict[str, Any]], dict[str, Any], Any]:
    """Sheet 统计表 read back: the unions' rows and the totals row, each by COLUMNS, with the sheet."""
    sheet = load_workbook(io.BytesIO(data))["统计表"]
    rows = []
    for values in sheet.iter_rows(min_row=6, values_only=True):
        if values[0] is None or str(values[0]).startswith("注"):
            break
        rows.append({"name": values[1], "n": values[0], **dict(zip(COLUMNS, values[2:]))})
    assert rows[-1]["n"] == "合计"
    return rows[:-1], rows[-1], sheet


def as_sql(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the sheet with its money as Decimal, in the shape of sql_table()."""
    shaped = {key: row[key] for key in ("households", "persons", "medical", *GROUPS)}
    shaped.update({"cash": yuan(row["cash"]), "goods": yuan(row["goods"])})
    return shaped


# ------------------------------------------------------------------ the totals are the database's

@pytest.mark.parametrize("scope", ["district", "a", "federation", "b", "c"])
def test_the_workbook_totals_equal_sql_sums(session, season, scope):
    union = None if scope == "district" else getattr(season, scope)
    in_view = {"district": None, "a": [season.a], "federation": [season.federation, season.b], "b": [season.b],
               "c": [season.c]}[scope]
    expected = sql_table(session, season.campaign, in_view)
    _rows, totals, _sheet = sheet_rows(workbook_for(session, season.campaign, union))
    assert as_sql(totals) == {key: expected[key] for key in as_sql(totals)}
    for key in ("cash", "goods"):  # 万元 beside the 元: the 元 rounded once
        assert yuan(totals[f"{key}_wan"]) == wan(expected[key])
    for key in SOURCES:
        assert yuan(totals[f"{key}_wan"]) == wan(expected[key]), key


def test_the_season_s_figures(session, season):
    """What the season's cases say, counted by hand: the approved ones are A's 1,200.50 (a household of four) and
    1,500 (medical), B's 2,000 (a model worker, for schooling) and its goods worth 900.25; each other household is
    the applicant and one member."""
    table = reports.statistics(session, season.campaign.id)["helped"]
    assert (table["households"], table["persons"], table["medical"]) == (4, 4 + 2 + 2 + 2, 1)
    assert table["by_worker_group"] == {"hardship_worker": 3, "migrant_worker": 0, "model_worker": 1, "other": 0}
    assert table["cash"] == {"yuan": "4700.50", "wan": "0.47"}
    assert table["goods"] == {"yuan": "900.25", "wan": "0.09"}
    assert table["sources"]["own"] == {"yuan": "9900.00", "wan": "0.99"}


# ------------------------------------------------------------------ the district is the sum of its unions

@pytest.mark.parametrize("scope", ["district", "federation"])
def test_the_totals_are_the_sum_of_the_unions_rows(session, season, scope):
    union = None if scope == "district" else season.federation
    table = reports.statistics(session, season.campaign.id, union)
    rows, total = [row["helped"] for row in table["by_union"]], table["helped"]
    for key in ("households", "persons", "medical"):
        assert total[key] == sum(row[key] for row in rows), key
    for group in GROUPS:
        assert total["by_worker_group"][group] == sum(row["by_worker_group"][group] for row in rows), group
    for key in ("cash", "goods"):
        assert Decimal(total[key]["yuan"]) == sum(Decimal(row[key]["yuan"]) for row in rows), key
    for key in SOURCES:
        assert Decimal(total["sources"][key]["yuan"]) == \
            sum(Decimal(row["sources"][key]["yuan"]) for row in rows), key
    # and so in the workbook: counts and 元 add up exactly
    sheet_union_rows, totals, _sheet = sheet_rows(workbook_for(session, season.campaign, union))
    for key in ("households", "persons", "medical", *GROUPS):
        assert totals[key] == sum(row[key] for row in sheet_union_rows), key
    for key in ("cash", "goods"):
        assert yuan(totals[key]) == sum(yuan(row[key]) for row in sheet_union_rows), key


def test_wan_is_the_yuan_rounded_once(session, season):
    assert [reports.wan(x) for x in ("0", "49.99", "50", "12345", "12350", "9999.99", "1234567.89")] == \
        ["0.00", "0.00", "0.01", "1.23", "1.24", "1.00", "123.46"]
    rows, totals, sheet = sheet_rows(workbook_for(session, season.campaign, None))
    # each union's 4,950 元 of 本级工会 is 0.50 万元; together 9,900 元, 0.99 万元, not 1.00
    assert [yuan(row["own_wan"]) for row in rows if row["name"] in (season.a.name, season.b.name)] == \
        [Decimal("0.50"), Decimal("0.50")]
    assert yuan(totals["own_wan"]) == Decimal("0.99")
    for row in [*rows, totals]:
        for key in ("cash", "goods"):
            assert yuan(row[f"{key}_wan"]) == wan(yuan(row[key])), (row["name"], key)
    money = {cell.column_letter: cell.number_format for cell in sheet[6]}
    assert money["J"] == "0.00" and money["K"] == "#,##0.00" and money["N"] == "0.00"


# ------------------------------------------------------------------ the sources of money are the summaries'

def test_the_sources_are_what_each_union_s_summary_states(session, season):
    table = reports.statistics(session, season.campaign.id)
    rows = {row["code"]: row["helped"]["sources"] for row in table["by_union"]}
    assert {key: rows[season.a.code][key]["yuan"] for key in SOURCES} == \
        {"upper": "3000.00", "own": "4950.00", "government": "1000.50", "society": "0.00", "donations": "120.00"}
    assert {key: rows[season.b.code][key]["yuan"] for key in SOURCES} == \
        {"upper": "2000.00", "own": "4950.00", "government": "0.00", "society": "500.00", "donations": "0.00"}
    assert all(value["yuan"] == "0.00" for value in rows[season.c.code].values())  # no summary handed in
    assert table["helped"]["sources"]["upper"] == {"yuan": "5000.00", "wan": "0.50"}
    assert FUNDS_A["society"] == "" and FUNDS_B.get("government") is None  # left empty: none stated


# ------------------------------------------------------------------ goods count as goods

def test_a_goods_case_counts_its_value_as_goods_not_cash(session, season):
    b = {row["code"]: row["helped"] for row in reports.statistics(session, season.campaign.id)["by_union"]}[
        season.b.code]
    assert b["households"] == 2 and b["cash"]["yuan"] == "2000.00" and b["goods"]["yuan"] == "900.25"


def test_goods_stay_out_of_the_cash_budget_unless_the_campaign_says_so(session, make):
    campaign = make.campaign(budget="1000")
    make.case(State.district_approved, campaign=campaign, aid={"kind": "funds", "amount": "1000", "medical": False})
    goods = make.case(State.entered, campaign=campaign,
                      aid={"kind": "goods", "goods_items": "棉被两床", "goods_value": "600", "medical": False})
    assert money_reasons(session, goods, COMMITTED) == []  # the budget is spent, but not on goods
    admin = make.person("admin")
    verbs.update_campaign(session, admin, make.clock, campaign.id, goods_in_budget=True)  # the admin's setting
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event.action == "update_campaign" and event.changes["goods_in_budget"] == ["False", "True"]
    reasons = money_reasons(session, goods, COMMITTED)
    assert [r.rule for r in reasons] == ["budget"] and "600.00" in reasons[0].message
    campaign.goods_in_budget = False
    make.fire(goods, "district_approve", make.person("reviewer"))
    assert goods.state == State.district_approved
    assert reports.budget(session, campaign)["approved"] == Decimal("1000.00")
    assert reports.statistics(session, campaign.id)["helped"]["goods"] == {"yuan": "600.00", "wan": "0.06"}


# ------------------------------------------------------------------ the printed page

def test_the_table_prints_on_a4_landscape_with_its_headings_on_every_page(session, season):
    _rows, _totals, sheet = sheet_rows(workbook_for(session, season.campaign, None))
    assert sheet.title == "统计表" and sheet.parent.active.title == "统计表"  # what opens first
    assert int(sheet.page_setup.paperSize) == 9 and sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$4:$5"
    assert [sheet.cell(4, c).value for c in (1, 2, 3, 4, 5, 9, 10, 12, 14)] == \
        ["序号", "单位", "帮扶户数（户）", "帮扶人数（人）", "按职工类别（户）", "其中大病（户）", "慰问金", "物资折款",
         "资金来源（万元）"]
    assert [sheet.cell(5, c).value for c in range(5, 9)] == ["困难职工", "困难农民工", "困难劳模", "其他职工"]
    assert [sheet.cell(5, c).value for c in range(10, 19)] == \
        ["万元", "元", "万元", "元", "上级工会拨付", "本级工会", "党政支持", "社会募集", "职工捐款"]
    assert {"A4:A5", "E4:H4", "J4:K4", "N4:R4"} <= {str(r) for r in sheet.merged_cells.ranges}
