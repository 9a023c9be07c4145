"""The minimum living standards (低保标准, DOMAIN.md "Recognition"): the administrators' screen (list, filter by year,
the form that sets one, a refusal beside its input with what was typed kept), the API (any signed-in role reads,
only an administrator sets; field errors in Chinese), and one audited event with before and after per change."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from workflows import verbs
from workflows.errors import Forbidden, Invalid
from workflows.models import AuditEvent, LivingStandard
from workflows.states import Action


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def events(world) -> list[AuditEvent]:
    world.session.commit()
    world.session.expire_all()
    return list(world.session.scalars(select(AuditEvent).where(AuditEvent.action == Action.set_standard)
                                      .order_by(AuditEvent.seq)))


def standards(world) -> dict[tuple[int, str], Decimal]:
    world.session.commit()
    world.session.expire_all()
    return {(s.year, s.area_code): s.monthly for s in world.session.scalars(select(LivingStandard))}


@pytest.fixture
def people(world):
    union = world.union()
    admin = world.person("admin")
    others = [world.person(role, union) for role in ("cadre", "head")] + [
        world.person(role) for role in ("reviewer", "finance", "auditor")]
    world.session.commit()
    return admin, others


# ---------------------------------------------------------------- the verb

def test_setting_a_standard_creates_it_then_changes_it_each_time_one_event(world, people):
    admin, _ = people
    verbs.set_standard(world.session, admin, world.clock, 2018, "110000", "1000")
    world.clock.advance(days=30)
    verbs.set_standard(world.session, admin, world.clock, "2018", " 110000 ", Decimal("1100.50"))
    assert standards(world) == {(2018, "110000"): Decimal("1100.50")}
    created, changed = events(world)
    assert created.changes == {"year": [None, "2018"], "area_code": [None, "110000"], "monthly": [None, "1000.00"]}
    assert changed.changes == {"year": ["2018", "2018"], "area_code": ["110000", "110000"],
                               "monthly": ["1000.00", "1100.50"]}
    assert changed.actor == admin.username


@pytest.mark.parametrize("year, area, monthly, field, message", [
    (1999, "110000", "1000", "year", "年度应为2000到2100之间"),
    ("二〇一八", "110000", "1000", "year", "年度应为2000到2100之间"),
    (2018, "11000", "1000", "area", "行政区划代码应为6位数字"),
    (2018, "１１００００", "1000", "area", "行政区划代码应为6位数字"),  # full-width digits are not the code
    (2018, "990000", "1000", "area", "前两位不是省级代码"),
    (2018, "110000", "0", "monthly", "应大于0"),
    (2018, "110000", "-5", "monthly", "应大于0"),
    (2018, "110000", "1000.005", "monthly", "最多两位小数"),
    (2018, "110000", "100000", "monthly", "金额太大"),
    (2018, "110000", "一千", "monthly", "请填写每人每月的金额"),
    (2018, "110000", "NaN", "monthly", "请填写每人每月的金额"),
])
def test_a_wrong_field_is_named_in_chinese_and_nothing_is_kept(world, people, year, area, monthly, field, message):
    admin, _ = people
    with pytest.raises(Invalid) as refused:
        verbs.set_standard(world.session, admin, world.clock, year, area, monthly)
    assert list(refused.value.fields) == [field] and message in refused.value.fields[field]
    assert standards(world) == {} and events(world) == []


def test_only_an_administrator_sets_a_standard(world, people):
    _, others = people
    for account in others:
        with pytest.raises(Forbidden, match="只有系统管理员可以设定低保标准"):
            verbs.set_standard(world.session, account, world.clock, 2018, "110000", "1000")
    assert standards(world) == {}


# ---------------------------------------------------------------- the screen

def test_the_admin_screen_lists_filters_and_sets_a_standard(pages, world, people):
    admin, _ = people
    verbs.set_standard(world.session, admin, world.clock, 2017, "110000", "900")
    world.session.commit()
    client = pages.as_(admin)

    page = text(client.get("/admin/standards"))
    assert 'href="/admin/standards"' in page and "低保标准" in page  # the section's tab
    assert 'data-standard="2017/110000"' in page and "900.00" in page
    assert 'name="year"' in page and 'value="2018"' in page  # this year, by default

    saved = client.post("/admin/standards", {"year": "2018", "area": "110100", "monthly": "1080"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/admin/standards?year=2018")
    page = text(client.get("/admin/standards?year=2018"))
    assert "已设定2018年110100的低保标准：每人每月1,080.00元" in page
    assert 'data-standard="2018/110100"' in page and 'data-standard="2017/110000"' not in page  # the filter
    assert standards(world) == {(2017, "110000"): Decimal("900.00"), (2018, "110100"): Decimal("1080.00")}


def test_a_refused_standard_is_said_beside_its_input_with_what_was_typed(pages, world, people):
    admin, _ = people
    world.session.commit()
    client = pages.as_(admin)
    refused = client.post("/admin/standards", {"year": "2018", "area": "11010", "monthly": "1080.123"})
    assert refused.status_code == 400
    page = text(refused)
    assert "尚未保存" in page and "行政区划代码应为6位数字" in page and "金额最多两位小数" in page
    assert 'value="11010"' in page and 'value="1080.123"' in page
    assert standards(world) == {} and events(world) == []


@pytest.mark.parametrize("role", ["cadre", "reviewer", "auditor"])
def test_the_screen_is_the_administrators(pages, world, people, role):
    _, others = people
    account = next(a for a in others if a.role == role)
    client = pages.as_(account)
    assert client.get("/admin/standards").status_code == 403
    assert client.post("/admin/standards", {"year": "2018", "area": "110000", "monthly": "1"}).status_code == 403
    assert standards(world) == {}


# ---------------------------------------------------------------- the API

def test_every_signed_in_role_reads_the_standards_by_year(api, world, people):
    admin, others = people
    verbs.set_standard(world.session, admin, world.clock, 2017, "110000", "900")
    verbs.set_standard(world.session, admin, world.clock, 2018, "110000", "1000")
    verbs.set_standard(world.session, admin, world.clock, 2018, "310000", "1160")
    world.session.commit()
    for account in [admin, *others]:
        listed = api.call("GET", "/standards?year=2018", account)
        assert listed.status_code == 200
        assert [(s["year"], s["area"], s["monthly"]) for s in listed.json] == [
            (2018, "110000", "1000.00"), (2018, "310000", "1160.00")]
    every = api.call("GET", "/standards", others[0]).json
    assert [(s["year"], s["area"]) for s in every] == [(2018, "110000"), (2018, "310000"), (2017, "110000")]
    assert every[0]["set_by"] == admin.username
    assert api.call("GET", "/standards").status_code == 401


def test_an_administrator_puts_a_standard_and_others_are_refused(api, world, people):
    admin, others = people
    world.session.commit()
    put = api.call("PUT", "/standards/2018/110105", admin, json={"monthly": 1000})
    assert put.status_code == 200, put.json
    assert put.json["year"] == 2018 and put.json["area"] == "110105" and put.json["monthly"] == "1000.00"
    assert put.json["set_by"] == admin.username
    again = api.call("PUT", "/standards/2018/110105", admin, json={"monthly": "1050.5"})
    assert again.status_code == 200 and again.json["monthly"] == "1050.50"
    for account in others:
        refused = api.call("PUT", "/standards/2018/110105", account, json={"monthly": 1})
        assert refused.status_code == 403 and refused.json["error"] == "forbidden"
        assert "只有系统管理员可以设定低保标准" in refused.json["message"]
    assert standards(world) == {(2018, "110105"): Decimal("1050.50")}
    assert [e.changes["monthly"] for e in events(world)] == [[None, "1000.00"], ["1000.00", "1050.50"]]


@pytest.mark.parametrize("path, body, field, message", [
    ("/standards/1999/110000", {"monthly": 1000}, "year", "年度应为2000到2100之间"),
    ("/standards/2018/1100", {"monthly": 1000}, "area", "行政区划代码应为6位数字"),
    ("/standards/2018/110000", {"monthly": 0}, "monthly", "应大于0"),
    ("/standards/2018/110000", {"monthly": "12.345"}, "monthly", "最多两位小数"),
    ("/standards/2018/110000", {"monthly": "abc"}, "monthly", "应为数字"),
    ("/standards/2018/110000", {}, "monthly", "必填"),
])
def test_a_wrong_put_is_a_400_naming_the_field(api, world, people, path, body, field, message):
    admin, _ = people
    world.session.commit()
    refused = api.call("PUT", path, admin, json=body)
    assert refused.status_code == 400 and refused.json["error"] == "invalid"
    assert message in refused.json["fields"][field]
    assert standards(world) == {}


def test_no_standard_is_counted_twice(world, people):
    admin, _ = people
    for amount in ("1000", "1000", "1010"):
        verbs.set_standard(world.session, admin, world.clock, 2018, "110000", amount)
    world.session.commit()
    assert world.session.scalar(select(func.count()).select_from(LivingStandard)) == 1
    assert len(events(world)) == 3
