"""The administration screens (/admin/): unions, accounts and campaigns, for system administrators only. What an
administrator types is saved through workflows.verbs; anything wrong comes back beside its input, as typed,
with nothing saved."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from workflows import verbs
from workflows.actors import CONSOLE
from workflows.infra.clock import LOCAL, to_db
from workflows.inputs import parse_deadline
from workflows.models import Account, ApiToken, AuditEvent, Campaign, Union, UnionBudget
from workflows.states import Role

from .conftest import CSRF

PASSWORD = "old-password-1"


def signed_in(pages, account):
    """A signed-in client whose posts carry the CSRF token of a page it was shown (a 403 page has one too)."""
    client = pages.as_(account)
    client._token = CSRF.search(client.get("/admin/").get_data(as_text=True)).group(1)
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(client) -> list[str]:
    with client.client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def counts(world, *models) -> tuple[int, ...]:
    world.session.commit()  # a fresh look at the database, not the session's last one
    return tuple(world.session.scalar(select(func.count()).select_from(m)) for m in models)


def last_event(world) -> AuditEvent:
    world.session.commit()
    return world.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))


def inputs(page: str) -> dict[str, str]:
    """The text inputs of a page and their values, as a browser would send them back (the CSRF token aside)."""
    found = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        if "name" in attrs and attrs["name"] != "csrf_token":
            found[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return found


def fresh(world, model, key):
    world.session.commit()
    world.session.expire_all()
    return world.session.get(model, key)


@pytest.fixture
def admin(world):
    account = world.account("admin", username="root.admin")
    world.session.commit()
    return account


@pytest.fixture
def browser(pages, admin):
    return signed_in(pages, admin)


# ---------------------------------------------------------------- access

def routes(world) -> list[tuple[str, str]]:
    account = world.account("cadre", world.default_union())
    campaign = world.default_campaign()
    world.session.commit()
    a, c = f"/admin/accounts/{account.id}", f"/admin/campaigns/{campaign.id}/edit"
    return [("GET", "/admin/"), ("GET", "/admin/unions"), ("POST", "/admin/unions"), ("GET", "/admin/accounts"),
            ("GET", "/admin/accounts/new"), ("POST", "/admin/accounts/new"), ("GET", a), ("POST", f"{a}/profile"),
            ("POST", f"{a}/role"), ("POST", f"{a}/password"), ("POST", f"{a}/disable"), ("POST", f"{a}/enable"),
            ("GET", "/admin/campaigns"), ("GET", "/admin/campaigns/new"), ("POST", "/admin/campaigns/new"),
            ("GET", c), ("POST", c)]


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.admin, Role.system)])
def test_every_other_role_gets_403_on_every_admin_page(world, pages, role):
    union = world.default_union() if role in (Role.cadre, Role.head) else None
    person = world.account(role, union)
    paths = routes(world)
    client = signed_in(pages, person)
    before = counts(world, Union, Account, Campaign, AuditEvent, ApiToken)
    for method, path in paths:
        data = {"code": "X1", "name": "某工会", "username": "someone", "role": "admin", "password": "long enough 1",
                "deadline_day": "2018-01-25"}
        response = client.get(path) if method == "GET" else client.post(path, data)
        assert response.status_code == 403, (method, path)
        assert "只有系统管理员可以管理工会、账号和活动" in text(response)
    assert counts(world, Union, Account, Campaign, AuditEvent, ApiToken) == before


def test_anonymous_visitors_are_sent_to_sign_in(world, pages):
    client = pages.anonymous()
    token = CSRF.search(client.get("/signin").get_data(as_text=True)).group(1)
    for method, path in routes(world):
        response = client.get(path) if method == "GET" else client.post(path, {"csrf_token": token})
        assert response.status_code == 302 and response.location.startswith("/signin"), (method, path)


def test_the_admin_lands_on_the_administration(browser, world):
    assert browser.get("/").location == "/admin/"
    page = text(browser.get("/admin/"))
    assert "工会组织" in page and "账号" in page and "活动" in page


# ---------------------------------------------------------------- unions

def test_the_unions_tree_shows_each_union_with_its_code_kind_and_accounts(browser, world):
    district = world.district()
    verbs.create_union(world.session, CONSOLE, world.clock, "FED1", "城东街道工会联合会", district.code,
                              "federation")
    under = verbs.create_union(world.session, CONSOLE, world.clock, "JC9", "环卫所工会", "FED1")
    world.account("cadre", under)
    world.account("head", under)
    world.session.commit()
    page = text(browser.get("/admin/unions"))
    assert page.index("某区总工会") < page.index("城东街道工会联合会") < page.index("环卫所工会")
    assert "FED1" in page and "工会联合会/产业工会" in page and "基层工会" in page
    node = re.search(r"环卫所工会</b>.*?(\d+) 个账号", page, re.S)
    assert node and node.group(1) == "2"


def test_an_admin_creates_a_union_under_a_parent(browser, world):
    district = world.district()
    world.session.commit()
    assert f'value="{district.code}" selected' in browser.get(f"/admin/unions?parent={district.code}").get_data(
        as_text=True)
    response = browser.post("/admin/unions", {"parent": district.code, "kind": "grassroots", "code": "JC100",
                                              "name": "红星纺织厂工会"})
    assert response.status_code == 302 and "已新建工会：红星纺织厂工会" in flashes(browser)
    union = world.session.scalar(select(Union).where(Union.code == "JC100"))
    assert union.parent_id == district.id and union.kind == "grassroots"
    assert last_event(world).action == "create_union"
    assert "红星纺织厂工会" in text(browser.get("/admin/unions"))


@pytest.mark.parametrize("field, typed, message", [
    ("code", "DUP", "代码DUP已被使用"),
    ("code", "", "请填写代码"),
    ("code", "有 空格", "代码只能是1到32位字母、数字、下划线或连字符"),
    ("name", "", "请填写名称"),
    ("parent", "GRASS", "基层工会下不能再设工会"),
    ("parent", "NOPE", "没有代码为NOPE的上级工会"),
])
def test_a_bad_union_is_refused_with_its_message_and_nothing_saved(browser, world, field, typed, message):
    district = world.district()
    world.session.add_all([Union(code="DUP", name="已有工会", kind="grassroots", parent_id=district.id),
                           Union(code="GRASS", name="某基层工会", kind="grassroots", parent_id=district.id)])
    before = counts(world, Union, AuditEvent)
    data = {"parent": district.code, "kind": "grassroots", "code": "NEW1", "name": "新工会名称"} | {field: typed}
    response = browser.post("/admin/unions", data)
    page = text(response)
    assert response.status_code == 400 and message in page and "尚未保存" in page
    assert counts(world, Union, AuditEvent) == before
    for name in ("code", "name"):
        if data[name]:
            assert f'value="{data[name]}"' in page  # as typed


# ---------------------------------------------------------------- accounts

def test_the_account_list_filters_by_role_and_union(browser, world):
    one, two = world.union("一号工会"), world.union("二号工会")
    world.session.add(Account(username="cadre.one", password_hash="-", role="cadre", union_id=one.id,
                              display_name="周丽华", email="zhou@example.org", created_at=to_db(world.clock.now())))
    world.account("cadre", two, username="cadre.two")
    world.account("head", one, username="head.one")
    world.account("reviewer", username="the.reviewer").active = False
    world.session.commit()
    page = text(browser.get("/admin/accounts"))
    for name in ("cadre.one", "cadre.two", "head.one", "the.reviewer", "root.admin"):
        assert name in page
    assert "周丽华" in page and "zhou@example.org" in page and "基层工会干部" in page and "一号工会" in page
    assert "已停用" in page
    page = text(browser.get("/admin/accounts?role=cadre"))
    assert "cadre.one" in page and "cadre.two" in page and "head.one" not in page and "the.reviewer" not in page
    page = text(browser.get(f"/admin/accounts?union={one.code}"))
    assert "cadre.one" in page and "head.one" in page and "cadre.two" not in page
    page = text(browser.get(f"/admin/accounts?role=head&union={one.code}"))
    assert "head.one" in page and "cadre.one" not in page


def test_an_admin_creates_an_account_with_a_typed_password(browser, world, client):
    union = world.default_union()
    world.session.commit()
    response = browser.post("/admin/accounts/new", {"username": "zhou.lihua", "display_name": "周丽华", "role": "cadre",
                                                    "union": union.code, "email": "zhou@example.org",
                                                    "password": "typed-pass-1"})
    assert response.status_code == 302 and "已新建账号：zhou.lihua" in flashes(browser)
    account = world.session.scalar(select(Account).where(Account.username == "zhou.lihua"))
    assert (account.role, account.union_id, account.email, account.display_name) == (
        "cadre", union.id, "zhou@example.org", "周丽华")
    assert check_password_hash(account.password_hash, "typed-pass-1")
    assert "typed-pass-1" not in text(browser.get(response.location))
    assert last_event(world).action == "create_account"


def test_a_generated_password_is_shown_once_and_works(browser, world):
    response = browser.post("/admin/accounts/new", {"username": "he.xiaomin", "display_name": "何晓敏",
                                                    "role": "reviewer", "union": "", "email": "", "password": ""})
    assert response.status_code == 200
    password = re.search(r'<p class="once" id="password">([^<]+)</p>', response.get_data(as_text=True)).group(1)
    account = world.session.scalar(select(Account).where(Account.username == "he.xiaomin"))
    assert len(password) >= 12 and check_password_hash(account.password_hash, password)
    assert password not in text(browser.get(f"/admin/accounts/{account.id}"))  # never again


@pytest.mark.parametrize("field, typed, message", [
    ("username", "taken.name", "用户名taken.name已被使用"),
    ("username", "Taken.Name", "用户名Taken.Name与已有的taken.name只差大小写"),  # two look-alike operators
    ("username", "", "请填写用户名"),
    ("username", "有空格 的名字", "用户名只能是2到64位字母"),
    ("role", "", "请选择角色"),
    ("union", "", "基层工会干部和负责人须属于一个基层工会"),
    ("password", "short", "密码至少8位"),
    ("email", "not-an-address", "电子邮箱格式不对"),
])
def test_a_bad_account_is_refused_with_its_message_and_nothing_saved(browser, world, field, typed, message):
    union = world.default_union()
    world.account("finance", username="taken.name")
    before = counts(world, Account, AuditEvent)
    data = {"username": "new.cadre", "display_name": "马秀梅", "role": "cadre", "union": union.code,
            "email": "ma@example.org", "password": "good-password"} | {field: typed}
    response = browser.post("/admin/accounts/new", data)
    page = text(response)
    assert response.status_code == 400 and message in page and "尚未保存" in page
    assert counts(world, Account, AuditEvent) == before
    for name in ("username", "display_name", "email", "password"):
        if data[name]:
            assert f'value="{data[name]}"' in page
    if data["union"]:
        assert f'value="{union.code}" selected' in page


def test_a_reviewer_belongs_to_no_union(browser, world):
    union = world.default_union()
    before = counts(world, Account)
    response = browser.post("/admin/accounts/new", {"username": "rev", "role": "reviewer", "union": union.code,
                                                    "password": "good-password"})
    assert response.status_code == 400 and "其他角色不选工会" in text(response)
    assert counts(world, Account) == before


def test_disabling_an_account_ends_its_sessions_and_tokens(browser, world, pages, api):
    cadre = world.account("cadre", world.default_union())
    world.session.commit()
    victim = pages.as_(cadre)
    assert victim.get("/").location == "/inbox"
    assert api.call("GET", "/cases", cadre).status_code == 200

    response = browser.post(f"/admin/accounts/{cadre.id}/disable")
    assert response.status_code == 302 and "账号已停用，其登录已全部失效" in flashes(browser)
    assert victim.get("/").location.startswith("/signin")
    assert api.call("GET", "/cases", cadre).status_code == 401
    tokens = world.session.scalars(select(ApiToken).where(ApiToken.account_id == cadre.id)).all()
    assert {t.kind for t in tokens} == {"web", "api"} and all(t.revoked_at for t in tokens)
    assert fresh(world, Account, cadre.id).active is False
    event = last_event(world)
    assert event.action == "disable_account" and event.changes["active"] == ["True", "False"]
    assert "已停用" in text(browser.get("/admin/accounts"))

    # Re-enabled: the account may sign in again, but the sessions ended stay ended.
    response = browser.post(f"/admin/accounts/{cadre.id}/enable")
    assert response.status_code == 302 and fresh(world, Account, cadre.id).active is True
    assert victim.get("/").location.startswith("/signin")
    assert pages.as_(cadre).get("/").location == "/inbox"


def test_an_admin_cannot_disable_themselves(browser, world, admin):
    before = counts(world, AuditEvent)
    response = browser.post(f"/admin/accounts/{admin.id}/disable")
    assert response.status_code == 409 and "不能停用自己的账号" in text(response)
    assert fresh(world, Account, admin.id).active is True and counts(world, AuditEvent) == before
    assert browser.get("/admin/").status_code == 200


def test_a_password_reset_shows_the_new_one_once_and_signs_the_owner_out(browser, world, pages, client):
    cadre = world.account("cadre", world.default_union())
    world.session.commit()
    victim = pages.as_(cadre)
    response = browser.post(f"/admin/accounts/{cadre.id}/password", {"password": ""})
    password = re.search(r'<p class="once" id="password">([^<]+)</p>', response.get_data(as_text=True)).group(1)
    assert check_password_hash(fresh(world, Account, cadre.id).password_hash, password)
    assert victim.get("/").location.startswith("/signin")
    assert last_event(world).action == "reset_password"
    # The owner signs in with it through the sign-in form.
    token = CSRF.search(client.get("/signin").get_data(as_text=True)).group(1)
    signed = client.post("/signin", data={"username": cadre.username, "password": password, "csrf_token": token})
    assert signed.status_code == 302 and signed.location == "/"


def test_a_typed_password_reset(browser, world):
    cadre = world.account("cadre", world.default_union())
    world.session.commit()
    response = browser.post(f"/admin/accounts/{cadre.id}/password", {"password": "brand-new-pass"})
    assert response.status_code == 302 and "已重置密码" in flashes(browser)
    assert check_password_hash(fresh(world, Account, cadre.id).password_hash, "brand-new-pass")
    before = counts(world, AuditEvent)
    response = browser.post(f"/admin/accounts/{cadre.id}/password", {"password": "short"})
    assert response.status_code == 400 and "密码至少8位" in text(response) and 'value="short"' in text(response)
    assert counts(world, AuditEvent) == before
    assert check_password_hash(fresh(world, Account, cadre.id).password_hash, "brand-new-pass")


def test_an_admin_changes_a_role_and_its_union(browser, world, pages):
    one, two = world.union("一号工会"), world.union("二号工会")
    person = world.account("cadre", one)
    world.session.commit()
    response = browser.post(f"/admin/accounts/{person.id}/role", {"role": "head", "union": two.code})
    assert response.status_code == 302 and "已更改角色" in flashes(browser)
    changed = fresh(world, Account, person.id)
    assert (changed.role, changed.union_id) == ("head", two.id)
    event = last_event(world)
    assert event.action == "change_role" and event.changes["role"] == ["cadre", "head"]
    assert event.changes["union"] == [one.code, two.code]

    response = browser.post(f"/admin/accounts/{person.id}/role", {"role": "auditor", "union": ""})
    assert response.status_code == 302
    changed = fresh(world, Account, person.id)
    assert (changed.role, changed.union_id) == ("auditor", None)
    assert pages.as_(changed).get("/").location == "/cases/"  # the new role's landing page


@pytest.mark.parametrize("data, message", [
    ({"role": "head", "union": ""}, "基层工会干部和负责人须属于一个基层工会"),
    ({"role": "finance", "union": "KEEP"}, "其他角色不选工会"),
    ({"role": "", "union": ""}, "请选择角色"),
    ({"role": "system", "union": ""}, "角色只能是"),
])
def test_a_bad_role_change_is_refused_and_changes_nothing(browser, world, data, message):
    union = world.default_union()
    person = world.account("reviewer")
    world.session.commit()
    data = {**data, "union": union.code if data["union"] == "KEEP" else data["union"]}
    before = counts(world, AuditEvent)
    response = browser.post(f"/admin/accounts/{person.id}/role", data)
    assert response.status_code == 400 and message in text(response)
    assert counts(world, AuditEvent) == before
    assert fresh(world, Account, person.id).role == "reviewer"


def test_an_admin_cannot_change_their_own_role(browser, world, admin):
    response = browser.post(f"/admin/accounts/{admin.id}/role", {"role": "auditor", "union": ""})
    assert response.status_code == 400 and "不能更改自己的角色" in text(response)
    assert fresh(world, Account, admin.id).role == "admin"


def test_an_admin_edits_a_name_and_an_address(browser, world):
    person = world.account("finance")
    world.session.commit()
    response = browser.post(f"/admin/accounts/{person.id}/profile", {"display_name": "林淑贞",
                                                                     "email": "lin@example.org"})
    assert response.status_code == 302
    changed = fresh(world, Account, person.id)
    assert (changed.display_name, changed.email) == ("林淑贞", "lin@example.org")
    response = browser.post(f"/admin/accounts/{person.id}/profile", {"display_name": "林淑贞", "email": "lin@"})
    assert response.status_code == 400 and "电子邮箱格式不对" in text(response) and 'value="lin@"' in text(response)
    assert fresh(world, Account, person.id).email == "lin@example.org"


# ---------------------------------------------------------------- campaigns

def campaign_form(**overrides) -> dict[str, str]:
    data = {"name": "2019年元旦春节送温暖", "starts_on": "2018-12-01", "ends_on": "2019-02-28",
            "deadline_day": "2019-01-25", "deadline_time": "17:00", "report_day": "2019-01-31", "report_time": "",
            "publicity_days": "5", "reminder_days": "7，3, 1", "cap_per_payment": "2000", "cap_per_year": "5000",
            "budget": "200000"}
    data.update(overrides)
    return data


def test_the_campaign_list_shows_the_settings(browser, world):
    world.campaign(name="2018年元旦春节送温暖", budget="100000", cap_per_payment="2000",
                   deadline=parse_deadline("2018-01-25"))
    world.session.commit()
    page = text(browser.get("/admin/campaigns"))
    assert "2018年元旦春节送温暖" in page and "2018-01-25 24:00" in page and "100,000.00" in page
    assert "7、3、1" in page


def test_an_admin_creates_a_campaign_with_every_setting(browser, world):
    one, two = world.union("一号工会"), world.union("二号工会")
    world.session.commit()
    form = inputs(browser.get("/admin/campaigns/new").get_data(as_text=True))
    assert form["reminder_days"] == "7,3,1" and form["publicity_days"] == "5"
    prefix = {code: name[:-len("-code")] for name, code in form.items() if name.endswith("-code")}
    data = campaign_form(**{f"{prefix[one.code]}-code": one.code, f"{prefix[one.code]}-amount": "1200.50",
                            f"{prefix[two.code]}-code": two.code, f"{prefix[two.code]}-amount": ""})
    response = browser.post("/admin/campaigns/new", data)
    assert response.status_code == 302, text(response)
    campaign = world.session.scalar(select(Campaign).where(Campaign.name == "2019年元旦春节送温暖"))
    assert campaign.deadline == to_db(dt.datetime(2019, 1, 25, 17, tzinfo=LOCAL))
    assert campaign.report_deadline == to_db(dt.datetime(2019, 2, 1, tzinfo=LOCAL))  # end of 31 January
    assert (campaign.starts_on, campaign.ends_on) == (dt.date(2018, 12, 1), dt.date(2019, 2, 28))
    assert (campaign.publicity_days, campaign.reminder_days) == (5, [7, 3, 1])
    assert (campaign.cap_per_payment, campaign.cap_per_year, campaign.budget) == (
        Decimal("2000"), Decimal("5000"), Decimal("200000"))
    assert [(b.union_id, b.amount) for b in campaign.union_budgets] == [(one.id, Decimal("1200.50"))]
    assert last_event(world).action == "create_campaign"
    page = text(browser.get("/admin/campaigns"))
    assert "2019-01-25 17:00" in page and "2019-01-31 24:00" in page


def test_a_campaign_for_a_drill_has_no_notice_no_reminders_and_no_limits(browser, world):
    data = campaign_form(name="演练活动", publicity_days="0", reminder_days="", cap_per_payment="",
                         cap_per_year="", budget="", report_day="", deadline_time="")
    assert browser.post("/admin/campaigns/new", data).status_code == 302
    campaign = world.session.scalar(select(Campaign).where(Campaign.name == "演练活动"))
    assert (campaign.publicity_days, campaign.reminder_days, campaign.budget) == (0, [], None)
    assert campaign.deadline == campaign.report_deadline == to_db(dt.datetime(2019, 1, 26, tzinfo=LOCAL))


def test_an_admin_edits_a_campaign(browser, world):
    union = world.default_union()
    campaign = world.campaign(name="2018年元旦春节送温暖", budget="100000")
    world.session.add(UnionBudget(campaign_id=campaign.id, union_id=union.id, amount=Decimal("3000")))
    world.session.commit()
    form = text(browser.get(f"/admin/campaigns/{campaign.id}/edit"))
    assert 'value="2018年元旦春节送温暖"' in form and 'value="2018-01-25"' in form and 'value="3000.00"' in form
    assert 'value="100000.00"' in form
    data = inputs(form)
    data.update({"deadline_day": "2018-01-31", "deadline_time": "12:00", "cap_per_payment": "1500",
                 "budget": "120000", "shares-0-amount": "5000", "publicity_days": "3"})
    response = browser.post(f"/admin/campaigns/{campaign.id}/edit", data)
    assert response.status_code == 302 and "已保存活动：2018年元旦春节送温暖" in flashes(browser)
    changed = fresh(world, Campaign, campaign.id)
    assert changed.deadline == to_db(dt.datetime(2018, 1, 31, 12, tzinfo=LOCAL))
    assert (changed.cap_per_payment, changed.budget, changed.publicity_days) == (Decimal("1500"), Decimal("120000"), 3)
    assert [b.amount for b in changed.union_budgets] == [Decimal("5000")]
    event = last_event(world)
    assert event.action == "update_campaign"
    assert event.changes["budget"] == ["100000.00", "120000.00"]
    assert event.changes[f"union_budget.{union.code}"] == ["3000.00", "5000.00"]
    assert "name" not in event.changes  # only what changed


@pytest.mark.parametrize("overrides, field, message", [
    ({"name": ""}, "name", "请填写活动名称"),
    ({"name": "已有的活动"}, "name", "已有名为「已有的活动」的活动"),
    ({"budget": "-5"}, "budget", "不能小于0"),
    ({"cap_per_payment": "两千"}, "cap_per_payment", "应为数字，如 1500、1,500 或 1500.50"),
    ({"cap_per_year": "1.234"}, "cap_per_year", "最多两位小数"),
    ({"starts_on": "2018-13-45"}, "starts_on", "日期格式应为 2018-01-25"),
    ({"deadline_day": ""}, "deadline_day", "请填写日期"),
    ({"deadline_time": "25:99"}, "deadline_time", "时间格式应为 17:00"),
    ({"ends_on": "2018-11-30"}, "starts_on", "开始日期不能晚于结束日期"),
    ({"deadline_day": "2019-03-25"}, "deadline_day", "报送截止时间应在活动期间（2018-12-01至2019-02-28）内"),
    ({"report_day": "2019-01-25", "report_time": "12:00"}, "report_day", "总结报送截止时间不能早于案件报送截止时间"),
    ({"publicity_days": "五"}, "publicity_days", "公示天数应在0到60个工作日之间"),
    ({"publicity_days": "-1"}, "publicity_days", "公示天数应在0到60个工作日之间"),
    ({"reminder_days": "7,x"}, "reminder_days", "例如 7,3,1"),
    ({"reminder_days": "0"}, "reminder_days", "提醒天数应在1到60天之间"),
    ({"budget": "1000", "shares-0-amount": "800", "shares-1-amount": "300"}, "budget",
     "各基层工会预算合计1,100.00元，超过活动总预算1,000.00元"),
    ({"shares-0-amount": "-1"}, "shares-0-amount", "不能小于0"),
])
def test_a_bad_campaign_is_refused_with_its_message_and_nothing_saved(browser, world, overrides, field, message):
    one, two = world.union("一号工会"), world.union("二号工会")
    world.campaign(name="已有的活动")
    data = campaign_form(**{"shares-0-code": one.code, "shares-0-amount": "", "shares-1-code": two.code,
                            "shares-1-amount": ""})
    data.update(overrides)
    before = counts(world, Campaign, UnionBudget, AuditEvent)
    response = browser.post("/admin/campaigns/new", data)
    page = text(response)
    assert response.status_code == 400 and "尚未保存" in page
    beside = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert beside and message in beside.group(1), page
    assert counts(world, Campaign, UnionBudget, AuditEvent) == before
    for name, value in data.items():
        if value and not name.endswith("-code"):
            assert f'value="{value}"' in page, name  # every input as typed


def test_a_bad_edit_changes_nothing(browser, world):
    campaign = world.campaign(name="2018年元旦春节送温暖", budget="100000")
    world.session.commit()
    data = campaign_form(name="2018年元旦春节送温暖", starts_on="2017-12-01", ends_on="2018-02-28",
                         deadline_day="2018-01-25", report_day="", budget="abc", cap_per_payment="999")
    before = counts(world, AuditEvent)
    response = browser.post(f"/admin/campaigns/{campaign.id}/edit", data)
    assert response.status_code == 400 and "应为数字，如 1500、1,500 或 1500.50" in text(response)
    assert counts(world, AuditEvent) == before
    unchanged = fresh(world, Campaign, campaign.id)
    assert (unchanged.budget, unchanged.cap_per_payment) == (Decimal("100000"), None)


def test_a_budget_is_not_cut_below_what_is_approved(browser, world):
    case = world.case("district_approved")  # 1000 yuan of the default campaign
    campaign = case.campaign
    world.session.commit()
    data = inputs(browser.get(f"/admin/campaigns/{campaign.id}/edit").get_data(as_text=True))
    response = browser.post(f"/admin/campaigns/{campaign.id}/edit", data | {"budget": "999.99"})
    assert response.status_code == 400 and "不能少于已审定和已发放的金额合计1,000.00元" in text(response)
    assert browser.post(f"/admin/campaigns/{campaign.id}/edit", data | {"budget": "1000"}).status_code == 302


def test_an_unknown_campaign_or_account_is_404(browser):
    assert browser.get("/admin/campaigns/999999/edit").status_code == 404
    assert browser.get("/admin/accounts/999999").status_code == 404
    assert browser.post("/admin/accounts/999999/disable").status_code == 404


def test_dates_beyond_sensible_years_are_refused_beside_their_fields(pages, world):
    admin = pages.as_(world.person("admin"))
    before = world.session.query(Campaign).count()
    response = admin.post("/admin/campaigns/new", {
        "name": "9999年活动", "starts_on": "2017-12-01", "ends_on": "9999-12-31", "deadline_day": "9999-12-31",
        "publicity_days": "5", "reminder_days": "7,3,1"})
    assert response.status_code == 400
    assert "年份应在2000年至2100年之间" in response.get_data(as_text=True)
    assert world.session.query(Campaign).count() == before
