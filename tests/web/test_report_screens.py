"""The statistics table and the campaign dashboard as people see them: the figures on screen are the database's,
the .xlsx download is the table to hand in, a union's people see their own union only (another one is not found),
and the charts are SVG images with their Chinese labels, beside tables of the same figures."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from workflows.states import State

from ..integration.test_statistics import build_season, sql_figures, workbook_for
from ..integration.test_statistics_table import sql_table

CHARTS = ("funnel", "forfeited", "aid-kind", "worker-group", "budget")
SVG = "{http://www.w3.org/2000/svg}"


class Tables(HTMLParser):
    """The tables of a page by id: rows of cell texts (header, body and footer rows alike)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id") or f"table{len(self.tables)}", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def text(response) -> str:
    return response.get_data(as_text=True)


def amount(shown: str) -> Decimal:
    return Decimal(shown.replace(",", ""))


@pytest.fixture
def season(world):
    built = build_season(world)
    world.session.commit()
    return built


# ------------------------------------------------------------------ the statistics table

def test_the_table_on_screen_is_the_database_s(world, pages, season):
    auditor = world.person("auditor")
    page = text(pages.as_(auditor).get(f"/reports/?campaign={season.campaign.id}"))
    expected = sql_figures(world.session, season.campaign)
    tables = Tables(page).tables
    assert f"{season.campaign.name}活动统计表" in page and "某区总工会" in page and "2018年1月26日" in page
    assert re.search(r'id="figure-cases">(\d+)<', page).group(1) == str(expected["cases"])
    assert amount(re.search(r'id="figure-paid">([\d,.]+)<', page).group(1)) == expected["paid"]
    assert amount(re.search(r'id="figure-approved">([\d,.]+)<', page).group(1)) == expected["approved"]
    assert tables["by_state"][1:-1] == [[s.label, str(expected["by_state"].get(s.value, 0))] for s in State]
    assert tables["by_state"][-1] == ["合计", str(expected["cases"])]
    for section in ("by_worker_group", "by_category", "by_aid_kind"):
        totals = tables[section][-1]
        assert totals[0] == "合计" and int(totals[1]) == expected["cases"], section
        assert [amount(totals[2]), amount(totals[3]), int(totals[4])] == \
            [expected["approved"], expected["paid"], expected["forfeited"]], section
    assert ["未填写", "1", "0.00", "0.00", "0"] in tables["by_worker_group"]
    unions = {row[1]: row for row in tables["by_union"][2:-1]}
    for union in (season.a, season.b, season.c):
        mine = sql_figures(world.session, season.campaign, [union])
        row = unions[union.name]
        assert [int(row[2]), int(row[7]), int(row[8]), int(row[9]), amount(row[11]), amount(row[12])] == \
            [mine["cases"], mine["by_state"].get("payment_returned", 0), mine["overdue"], mine["rejected"],
             mine["approved"], mine["paid"]], union.name
    assert tables["by_union"][-1][0] == "合计" and int(tables["by_union"][-1][1]) == expected["cases"]


def test_the_screen_leads_with_the_table_as_the_unions_report_it(world, pages, season):
    page = text(pages.as_(world.person("auditor")).get(f"/reports/?campaign={season.campaign.id}"))
    report = Tables(page).tables["report"]
    assert page.index('id="report"') < page.index('id="by_state"')  # first, before how the cases stand
    assert report[0][:4] == ["序号", "单位", "帮扶户数（户）", "帮扶人数（人）"] and "资金来源（万元）" in report[0]
    assert report[1] == ["困难职工", "困难农民工", "困难劳模", "其他职工", "万元", "元", "万元", "元",
                         "上级工会拨付", "本级工会", "党政支持", "社会募集", "职工捐款"]
    expected = sql_table(world.session, season.campaign)
    rows = {row[1]: row for row in report[2:-1]}
    totals = report[-1]
    # 合计, households, persons, 4 groups, medical, cash 万元 and 元, goods 万元 and 元, the five sources in 万元
    assert totals[0] == "合计"
    assert [int(totals[1]), int(totals[2]), int(totals[7])] == \
        [expected["households"], expected["persons"], expected["medical"]]
    assert [amount(totals[9]), amount(totals[11])] == [expected["cash"], expected["goods"]]
    assert [totals[8], totals[10]] == ["0.47", "0.09"]
    assert totals[12:] == ["0.50", "0.99", "0.10", "0.05", "0.01"]
    assert sum(int(row[2]) for row in rows.values()) == int(totals[1])  # the unions add up to the district
    assert sum(amount(row[10]) for row in rows.values()) == amount(totals[9])  # a row has 序号 and 单位
    assert rows[season.c.name][2:] == ["0"] * 7 + ["0.00"] * 9  # a union with nothing approved and no summary
    assert re.search(r'id="figure-households">(\d+)<', page).group(1) == str(expected["households"])


def test_the_download_is_the_table_to_hand_in(world, pages, season):
    reviewer = world.person("reviewer")
    response = pages.as_(reviewer).get(f"/reports/statistics.xlsx?campaign={season.campaign.id}&union={season.b.code}")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]  # the Chinese name survives

    def cells(data: bytes):
        return {s.title: list(s.iter_rows(values_only=True)) for s in load_workbook(io.BytesIO(data))}

    assert cells(response.get_data()) == cells(workbook_for(world.session, season.campaign, season.b))


def test_a_cadre_sees_the_own_union_and_no_other(world, pages, season):
    cadre = pages.as_(world.person("cadre", season.a))
    own = text(cadre.get(f"/reports/?campaign={season.campaign.id}"))
    assert f'<b id="unit">{season.a.name}</b>' in own
    assert re.search(r'id="figure-cases">(\d+)<', own).group(1) == "8"
    assert season.b.name not in own  # neither in the figures nor in a picker
    assert 'name="union"' not in own
    for path in ("/reports/", "/reports/statistics.xlsx", "/reports/dashboard", "/reports/charts/forfeited.svg"):
        refused = cadre.get(f"{path}?campaign={season.campaign.id}&union={season.b.code}")
        assert refused.status_code == 404, path
        assert "找不到该工会" in text(refused) and season.b.name not in text(refused)
    named = cadre.get(f"/reports/?campaign={season.campaign.id}&union={season.a.code}")
    assert named.status_code == 200


@pytest.mark.parametrize("role, status", [("cadre", 404), ("head", 404), ("reviewer", 200), ("finance", 200),
                                          ("auditor", 200), ("admin", 200)])
def test_who_sees_another_union_s_figures(world, pages, season, role, status):
    person = world.person(role, season.a if role in ("cadre", "head") else None)
    client = pages.as_(person)
    for path in ("/reports/", "/reports/dashboard", "/reports/statistics.xlsx", "/reports/charts/funnel.svg"):
        assert client.get(f"{path}?campaign={season.campaign.id}&union={season.b.code}").status_code == status, path
    assert client.get(f"/reports/?campaign={season.campaign.id}").status_code == 200


@pytest.mark.parametrize("query, status, message", [
    ("campaign=abc", 404, "找不到该活动"), ("campaign=99999999", 404, "找不到该活动"),
    ("campaign=1234567890123", 404, "找不到该活动"), ("campaign={campaign}&union=NOPE", 404, "找不到该工会"),
])
def test_bad_input_is_a_clear_page(world, pages, season, query, status, message):
    client = pages.as_(world.person("auditor"))
    for path in ("/reports/", "/reports/dashboard", "/reports/statistics.xlsx", "/reports/charts/budget.svg"):
        response = client.get(f"{path}?{query.format(campaign=season.campaign.id)}")
        assert response.status_code == status and message in text(response), path
        assert "Traceback" not in text(response)
    assert client.get(f"/reports/charts/pie.svg?campaign={season.campaign.id}").status_code == 404


def test_without_a_campaign_the_pages_say_so(world, pages):
    client = pages.as_(world.person("reviewer"))
    for path in ("/reports/", "/reports/dashboard"):
        response = client.get(path)
        assert response.status_code == 200 and "还没有活动" in text(response)


def test_the_latest_campaign_is_shown_by_default(world, pages, season):
    page = text(pages.as_(world.person("auditor")).get("/reports/"))
    assert f'<option value="{season.other.id}" selected>' in page
    assert re.search(r'id="figure-cases">(\d+)<', page).group(1) == "1"


def test_signing_in_comes_first(client, season):
    for path in ("/reports/", "/reports/dashboard", "/reports/charts/funnel.svg?campaign=1"):
        response = client.get(path)
        assert response.status_code == 302 and "/signin" in response.headers["Location"]


# ------------------------------------------------------------------ the dashboard

def test_the_dashboard_shows_the_figures_beside_the_charts(world, pages, season):
    page = text(pages.as_(world.person("reviewer")).get(f"/reports/dashboard?campaign={season.campaign.id}"))
    tables = Tables(page).tables
    funnel = {row[0]: row[1:] for row in tables["funnel"][1:]}
    assert funnel["已起草"] == ["11", "2"] and funnel["公示中"] == ["7", "0"] and funnel["已发放"] == ["2", "2"]
    assert funnel["视为自动放弃"] == ["—", "2"] and funnel["已撤回"] == ["—", "1"]
    forfeited = {row[0]: row[1:] for row in tables["forfeited"][1:]}
    assert forfeited == {season.a.name: ["0", "1", "1"], season.b.name: ["1", "0", "1"], "合计": ["1", "1", "2"]}
    by_kind = {row[0]: row[1:] for row in tables["aid-kind"][1:]}
    assert by_kind["送资金"] == ["8", "2,700.50", "1,500.00"] and by_kind["送助学"] == ["1", "2,000.00", "2,000.00"]
    assert by_kind["送实物"] == ["1", "0.00", "0.00"]  # goods: a value (物资折款), no amount of money
    assert by_kind["合计"] == ["11", "4,700.50", "3,500.00"]
    by_group = {row[0]: row[1:] for row in tables["worker-group"][1:]}
    assert by_group["困难劳模"] == ["1", "2,000.00", "2,000.00"] and by_group["合计"][0] == "11"
    budget = {row[0]: row[1] for row in tables["budget"]}
    assert budget == {"预算总额（元）": "50,000.00", "已审定（含已发放）（元）": "4,700.50", "其中已发放（元）": "3,500.00",
                      "已审定待发放（元）": "1,200.50", "剩余（元）": "45,299.50", "使用率": "9.4%"}
    for name in CHARTS:  # each chart is an image of its own address, for this campaign
        assert f'src="/reports/charts/{name}.svg?campaign={season.campaign.id}"' in page
    # what the Content-Security-Policy forbids in a page: no inline script, no style attribute, no <style>
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " style=" not in page and "<style" not in page


def test_a_union_s_dashboard_is_its_own(world, pages, season):
    page = text(pages.as_(world.person("head", season.b)).get(f"/reports/dashboard?campaign={season.campaign.id}"))
    tables = Tables(page).tables
    assert {row[0] for row in tables["forfeited"][1:]} == {season.b.name, "合计"}
    assert {row[0]: row[1] for row in tables["budget"]}["预算总额（元）"] == "10,000.00"  # its share
    assert f"union={season.b.code}" in page and season.a.name not in page


@pytest.mark.parametrize("name, labels", [
    ("funnel", ["案件办理漏斗", "已起草", "资料齐全", "已发放", "曾到达此环节", "现处此环节"]),
    ("forfeited", ["视为自动放弃的案件（按工会）", "华光机械厂工会", "红星纺织厂工会", "逾期未报", "审核不合格"]),
    ("aid-kind", ["审定与发放金额（按帮扶方式）", "送资金", "送助学", "审定金额（元）", "发放金额（元）"]),
    ("worker-group", ["审定与发放金额（按职工类别）", "困难职工", "困难劳模"]),
    ("budget", ["预算使用（预算 50,000.00 元）", "已发放", "已审定待发放", "剩余"]),
])
def test_each_chart_is_valid_svg_with_its_chinese_labels(world, pages, season, name, labels):
    response = pages.as_(world.person("auditor")).get(f"/reports/charts/{name}.svg?campaign={season.campaign.id}")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "script-src" not in response.headers["Content-Security-Policy"]  # nothing may run in it
    root = ET.fromstring(response.get_data())  # well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("width") and root.get("viewBox")
    texts = {"".join(node.itertext()).strip() for node in root.iter(f"{SVG}text")}
    texts |= {"".join(node.itertext()).strip() for node in root.iter(f"{SVG}title")}
    for label in labels:
        assert label in texts, (label, texts)
    assert not list(root.iter(f"{SVG}script"))
    style = "".join(node.text or "" for node in root.iter(f"{SVG}style"))
    assert '"Noto Sans CJK SC"' in style and '"Microsoft YaHei"' in style


def test_an_empty_campaign_draws_charts_that_say_so(world, pages, season):
    empty = world.campaign()
    world.session.commit()
    client = pages.as_(world.person("auditor"))
    for name in CHARTS:
        response = client.get(f"/reports/charts/{name}.svg?campaign={empty.id}")
        root = ET.fromstring(response.get_data())
        texts = {"".join(node.itertext()).strip() for node in root.iter(f"{SVG}text")}
        assert response.status_code == 200 and "暂无数据" in texts, name
    page = client.get(f"/reports/dashboard?campaign={empty.id}")
    assert page.status_code == 200 and "没有视为自动放弃的案件" in text(page)


def test_the_pages_switch_to_english(world, pages, season):
    client = pages.as_(world.person("auditor"))
    client.post("/language", {"lang": "en", "next": "/reports/"})
    for path in ("/reports/", "/reports/dashboard"):
        response = client.get(f"{path}?campaign={season.campaign.id}")
        assert response.status_code == 200 and '<html lang="en">' in text(response)
