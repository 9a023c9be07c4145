"""The printables: the hardship worker file of a case and a union's public notice list. Both are paper a union
office stamps or posts, so what matters is what is printed, and that no full personal number ever is."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from app.cases.printables import mask_name
from workflows.states import State

from ..factories import id_number


def text(response) -> str:
    return response.get_data(as_text=True)


def no_full_numbers(page: str, case) -> None:
    """Neither the applicant's nor any member's ID number, nor the bank account, appears in any form."""
    numbers = [case.id_number, case.bank_account] + [m.id_number for m in case.members]
    for number in filter(None, numbers):
        assert number not in page
        assert number[:-4] not in page  # not even the masked part's hidden digits next to each other


# ---------------------------------------------------------------- the hardship worker file

@pytest.fixture
def household(world):
    """A case with two household members, as its union's cadre built it."""
    members = [{"name": "李秀英", "relation": "配偶", "id_number": id_number(male=False), "monthly_income": "800",
                "health": "慢性病", "occupation": "无业"},
               {"name": "王小明", "relation": "子女", "id_number": id_number(), "monthly_income": "0",
                "health": "良好", "occupation": "高中在读"}]
    case = world.draft(applicant={"name": "王建国", "gender": "male", "id_number": id_number(), "phone": "13912345678",
                                  "employer": "华光机械厂"},
                       household={"annual_income": "36000", "housing": "租住公房", "members": members})
    world.session.commit()
    return case


def test_the_file_shows_every_field_as_a_form_to_stamp(world, pages, household):
    case = household
    page = text(pages.as_(world.person("cadre", case.union)).get(f"/cases/{case.id}/print"))
    for shown in ("困难职工档案", "王建国", "男", "13912345678", "华光机械厂", case.union.name, case.campaign.name,
                  "困难职工", "深度困难", "患重特大疾病", "子女上学", "租住公房", f"#{case.archive_id}", "增量", "36,000.00", "1,000.00", "1,000.00", "送资金",
                  "李秀英", "配偶", "慢性病", "王小明", "高中在读", "800.00",
                  case.masked_id_number, case.masked_bank_account, "（录入报送后生成）",
                  "基层工会（盖章）", "负责人签字", "日期", "2018-01-08"):
        assert shown in page, shown
    for member in case.members:
        assert member.id_number[:6] + "*" * 8 + member.id_number[-4:] in page
    assert re.search(r"家庭人口</th><td>(\d+)</td>", page).group(1) == "3"
    no_full_numbers(page, case)


def test_the_file_has_a_print_button_wired_by_a_script_file(world, pages, household):
    page = text(pages.as_(world.person("head", household.union)).get(f"/cases/{household.id}/print"))
    assert "data-print" in page and "/static/print.js" in page and "/static/print.css" in page
    assert "onclick" not in page and "<script>" not in page and 'style="' not in page
    script = pages.anonymous().get("/static/print.js")
    try:
        assert script.status_code == 200 and b"window.print()" in script.data
    finally:
        script.close()


def test_an_entered_case_prints_its_file_number(world, pages):
    case = world.case(State.entered)
    world.session.commit()
    for role in ("cadre", "reviewer", "auditor"):
        page = text(pages.as_(world.person(role, case.union)).get(f"/cases/{case.id}/print"))
        assert case.file_number in page and "（录入报送后生成）" not in page
        no_full_numbers(page, case)


@pytest.mark.parametrize("who", ["other cadre", "other head", "reviewer", "finance", "admin"])
def test_people_who_may_not_see_the_case_are_told_it_does_not_exist(world, pages, household, who):
    other = world.union("另一家工会")
    account = {"other cadre": lambda: world.person("cadre", other), "other head": lambda: world.person("head", other),
               "reviewer": lambda: world.person("reviewer"), "finance": lambda: world.person("finance"),
               "admin": lambda: world.account("admin")}[who]()
    world.session.commit()
    response = pages.as_(account).get(f"/cases/{household.id}/print")
    # The administrator works with no case: the cases' gate refuses every page of them (403), existing or not.
    assert response.status_code == (403 if who == "admin" else 404)
    assert "王建国" not in text(response)


def test_signing_in_comes_first(world, pages, household):
    response = pages.anonymous().get(f"/cases/{household.id}/print")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


# ---------------------------------------------------------------- the public notice list

@pytest.mark.parametrize("name, masked", [("张三丰", "张＊＊"), ("张三", "张＊"), ("欧阳娜娜", "欧＊＊＊"), (" 李 ", "李＊"),
                                          ("", "")])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def make_case(world, state, name, **kwargs):
    return world.case(state, applicant={"name": name, "gender": "male", "id_number": id_number(),
                                        "phone": "13912345678", "employer": "华光机械厂"}, **kwargs)


@pytest.fixture
def notice(world):
    """A union's cases in every stage, a case of another union and one of another campaign."""
    union = world.union("华光机械厂工会")
    shown = {state: make_case(world, state, name, union=union) for state, name in (
        (State.publicized, "张三丰"), (State.entered, "李四光"), (State.district_approved, "赵子龙"),
        (State.disbursed, "王五"))}
    hidden = [make_case(world, state, name, union=union) for state, name in (
        (State.drafted, "陈七"), (State.documented, "杨八"), (State.grassroots_approved, "黄九"),
        (State.forfeited, "刘六"))]  # rejected by the district after its notice: no longer proposed for aid
    withdrawn = make_case(world, State.publicized, "周十", union=union)
    world.fire(withdrawn, "withdraw", world.person("head", union))
    returned = make_case(world, State.publicized, "吴十一", union=union)
    world.fire(returned, "return", world.person("head", union))
    hidden += [withdrawn, returned, make_case(world, State.publicized, "孙十二", union=world.union("另一家工会")),
               make_case(world, State.publicized, "马十三", union=union, campaign=world.campaign())]
    world.session.commit()
    return union, shown, hidden


def notice_path(world, union=None) -> str:
    path = f"/cases/notice?campaign={world.default_campaign().id}"
    return path + (f"&union={union.code}" if union else "")


def test_the_list_shows_the_cases_in_or_past_their_notice_masked(world, pages, notice):
    union, shown, hidden = notice
    response = pages.as_(world.person("cadre", union)).get(notice_path(world))
    assert response.status_code == 200
    page = text(response)
    assert f"{world.default_campaign().name} 困难职工帮扶公示名单" in page and union.name in page
    assert "如有异议" in page and "联系人" in page and "2018年1月8日" in page
    for case in shown.values():
        assert mask_name(case.applicant_name) in page and case.masked_id_number in page
        assert case.applicant_name not in page
        no_full_numbers(page, case)
    for case in hidden:
        assert mask_name(case.applicant_name) not in page and case.masked_id_number not in page
    assert page.count("<td class=\"mono\">") == len(shown)
    assert "困难职工" in page and "送资金" in page and "1,000.00" in page
    assert "2018-01-08 至 2018-01-08" in page  # the factory's campaign has a zero-day notice


def test_the_window_is_shown_as_its_first_and_last_local_day(world, pages):
    campaign = world.campaign(publicity_days=5)
    case = make_case(world, State.publicized, "张三丰", campaign=campaign)
    world.session.commit()
    page = text(pages.as_(world.person("head", case.union)).get(f"/cases/notice?campaign={campaign.id}"))
    # Opened Monday 8 January; five working days after it end on Monday the 15th (the window closes at midnight).
    assert "2018-01-08 至 2018-01-15" in page


@pytest.mark.parametrize("role", ["reviewer", "auditor"])
def test_the_district_sees_any_unions_list_once_it_picks_one(world, pages, notice, role):
    union, shown, _hidden = notice
    client = pages.as_(world.person(role))
    choose = client.get(notice_path(world))
    assert choose.status_code == 200 and "请选择一个基层工会" in text(choose)
    assert mask_name(shown[State.publicized].applicant_name) not in text(choose)
    page = text(client.get(notice_path(world, union)))
    assert all(mask_name(case.applicant_name) in page for case in shown.values())


@pytest.mark.parametrize("role, status", [("finance", 403), ("admin", 403)])
def test_finance_and_admin_are_refused(world, pages, notice, role, status):
    union, _shown, _hidden = notice
    account = world.account(role)
    world.session.commit()
    assert pages.as_(account).get(notice_path(world, union)).status_code == status


@pytest.mark.parametrize("role", ["cadre", "head"])
def test_another_unions_people_are_told_it_does_not_exist(world, pages, notice, role):
    union, shown, _hidden = notice
    other = world.union("另一家工会")
    world.session.commit()
    client = pages.as_(world.person(role, other))
    response = client.get(notice_path(world, union))
    assert response.status_code == 404
    assert mask_name(shown[State.publicized].applicant_name) not in text(response)
    own = text(client.get(notice_path(world)))  # their own union's list, by default: empty
    assert other.name in own and "还没有进入公示的案件" in own


def test_unknown_union_campaign_or_a_non_grassroots_union_is_not_found(world, pages, notice):
    union, _shown, _hidden = notice
    client = pages.as_(world.person("reviewer"))
    assert client.get(notice_path(world) + "&union=NOPE").status_code == 404
    assert client.get(f"/cases/notice?campaign=999999&union={union.code}").status_code == 404
    assert client.get(notice_path(world, world.district())).status_code == 404


def test_the_list_takes_one_query_however_many_cases(app, world, pages):
    union = world.union()
    make_case(world, State.publicized, "张三丰", union=union)
    world.session.commit()
    client = pages.as_(world.person("cadre", union))
    engine = app.extensions["songnuan"]["engine"]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def queries() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(notice_path(world)).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    queries()  # the first request warms up what is loaded once per process
    few = queries()
    for name in ("李四光", "王五", "刘六", "陈七", "杨八"):
        make_case(world, State.publicized, name, union=union)
    world.session.commit()
    assert queries() == few

