"""The administration verbs (workflows.verbs: unions, accounts, campaigns) on a real database: what each changes, the audit event it
writes, and what it refuses (changing nothing)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from workflows import verbs
from workflows.errors import Forbidden, Invalid, NotFound, Refused
from workflows.infra.clock import LOCAL, to_db
from workflows.inputs import parse_deadline
from workflows.models import ApiToken, AuditEvent, Campaign, UnionBudget
from workflows.states import Role, State


@pytest.fixture
def admin(make):
    return make.account("admin")


def events(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent))


def last_event(session) -> AuditEvent:
    return session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))


def refused_without_change(session, call, error=Invalid):
    """`call` raises `error` and writes no audit event (the verbs check before they change anything)."""
    before = events(session)
    with pytest.raises(error) as raised:
        call()
    assert events(session) == before
    return raised.value


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.admin, Role.system)])
def test_only_administrators_may_use_the_verbs(make, session, clock, role):
    person = make.account(role, make.default_union() if role in ("cadre", "head") else None)
    target = make.account("finance")
    campaign, district = make.default_campaign(), make.district()
    for call in (lambda: verbs.set_account_active(session, person, clock, target.id, False),
                 lambda: verbs.reset_password(session, person, clock, target.id),
                 lambda: verbs.change_role(session, person, clock, target.id, "auditor"),
                 lambda: verbs.update_account(session, person, clock, target.id, display_name="某人"),
                 lambda: verbs.update_campaign(session, person, clock, campaign.id, budget="1"),
                 lambda: verbs.create_union(session, person, clock, "X1", "某工会", district.code)):
        refused_without_change(session, call, Forbidden)


# ---------------------------------------------------------------- accounts

def test_disabling_revokes_every_live_token_in_the_same_transaction(make, session, clock, admin):
    cadre = make.account("cadre", make.default_union())
    web = verbs.issue_token(session, clock, cadre, kind="web")
    api = verbs.issue_token(session, clock, cadre)
    other = verbs.issue_token(session, clock, admin, kind="web")
    clock.advance(minutes=5)
    verbs.set_account_active(session, admin, clock, cadre.id, False)
    rows = session.scalars(select(ApiToken).where(ApiToken.account_id == cadre.id)).all()
    assert len(rows) == 2 and all(row.revoked_at == to_db(clock.now()) for row in rows)
    assert verbs.account_for_token(session, clock, web, kind="web") is None
    assert verbs.account_for_token(session, clock, api) is None
    assert verbs.account_for_token(session, clock, other, kind="web") is not None  # nobody else's
    event = last_event(session)
    assert (event.action, event.actor, event.role) == ("disable_account", admin.username, "admin")
    assert event.changes == {"username": [cadre.username, cadre.username], "active": ["True", "False"],
                             "sessions_ended": ["0", "2"]}

    # Enabled again: it may sign in, but the tokens stay revoked; a second click changes nothing.
    verbs.set_account_active(session, admin, clock, cadre.id, True)
    assert cadre.active and verbs.account_for_token(session, clock, web, kind="web") is None
    assert last_event(session).action == "enable_account"
    before = events(session)
    verbs.set_account_active(session, admin, clock, cadre.id, True)
    assert events(session) == before


def test_an_administrator_cannot_disable_themselves(session, clock, admin):
    error = refused_without_change(session, lambda: verbs.set_account_active(session, admin, clock, admin.id, False),
                                   Refused)
    assert error.message == "不能停用自己的账号" and admin.active


def test_an_unknown_account_is_not_found(session, clock, admin):
    refused_without_change(session, lambda: verbs.set_account_active(session, admin, clock, 999_999, False), NotFound)
    refused_without_change(session, lambda: verbs.reset_password(session, admin, clock, 999_999), NotFound)


def test_a_password_reset_generated_or_typed_ends_the_sessions(make, session, clock, admin):
    cadre = make.account("cadre", make.default_union())
    web = verbs.issue_token(session, clock, cadre, kind="web")
    password = verbs.reset_password(session, admin, clock, cadre.id)
    assert len(password) == 12 and set(password) <= set(verbs.accounts.PASSWORD_ALPHABET)
    assert check_password_hash(cadre.password_hash, password)
    assert verbs.account_for_token(session, clock, web, kind="web") is None
    assert last_event(session).changes == {"username": [cadre.username] * 2, "sessions_ended": ["0", "1"]}
    assert password not in str(last_event(session).changes)

    assert verbs.reset_password(session, admin, clock, cadre.id, "typed password") == "typed password"
    assert check_password_hash(cadre.password_hash, "typed password")
    error = refused_without_change(session, lambda: verbs.reset_password(session, admin, clock, cadre.id, "short"))
    assert error.fields == {"password": "密码至少8位"}
    assert check_password_hash(cadre.password_hash, "typed password")


def test_an_administrator_resetting_their_own_password_stays_signed_in(session, clock, admin):
    mine = verbs.issue_token(session, clock, admin, kind="web")
    verbs.reset_password(session, admin, clock, admin.id, "a new password")
    assert verbs.account_for_token(session, clock, mine, kind="web") is not None


def test_change_role_moves_people_between_roles_and_unions(make, session, clock, admin):
    one, two = make.union("一号工会"), make.union("二号工会")
    person = make.account("cadre", one)
    verbs.change_role(session, admin, clock, person.id, "head", two.code)
    assert (person.role, person.union_id) == ("head", two.id)
    assert last_event(session).changes == {"username": [person.username] * 2, "role": ["cadre", "head"],
                                           "union": [one.code, two.code]}
    verbs.change_role(session, admin, clock, person.id, "reviewer")
    assert (person.role, person.union_id) == ("reviewer", None)


@pytest.mark.parametrize("role, union, field, message", [
    ("cadre", None, "union", "基层工会干部和负责人须属于一个基层工会"),
    ("head", "DISTRICT", "union", "基层工会干部和负责人须属于一个基层工会"),
    ("auditor", "GRASSROOTS", "union", "只有基层工会干部和负责人属于基层工会，其他角色不选工会"),
    ("cadre", "NOPE", "union", "没有代码为NOPE的工会"),
    ("system", None, "role", "角色只能是 cadre、head、reviewer、finance、auditor 或 admin"),
    ("boss", None, "role", "角色只能是 cadre、head、reviewer、finance、auditor 或 admin"),
])
def test_a_bad_role_changes_nothing(make, session, clock, admin, role, union, field, message):
    codes = {"DISTRICT": make.district().code, "GRASSROOTS": make.default_union().code, "NOPE": "NOPE", None: None}
    person = make.account("finance")
    error = refused_without_change(session, lambda: verbs.change_role(session, admin, clock, person.id, role,
                                                                    codes[union]))
    assert error.fields == {field: message} and (person.role, person.union_id) == ("finance", None)


def test_an_administrator_keeps_their_own_role(session, clock, admin):
    error = refused_without_change(session, lambda: verbs.change_role(session, admin, clock, admin.id, "auditor"))
    assert error.fields == {"role": "不能更改自己的角色"} and admin.role == "admin"


def test_update_account_edits_the_name_and_the_address(make, session, clock, admin):
    person = make.account("finance")
    verbs.update_account(session, admin, clock, person.id, display_name=" 林淑贞 ", email="lin@example.org")
    assert (person.display_name, person.email) == ("林淑贞", "lin@example.org")
    assert last_event(session).changes["email"] == [None, "lin@example.org"]
    verbs.update_account(session, admin, clock, person.id, display_name="林淑贞", email="")
    assert person.email is None
    error = refused_without_change(session, lambda: verbs.update_account(
        session, admin, clock, person.id, display_name="名" * 65, email="x@"))
    assert set(error.fields) == {"name", "email"} and person.display_name == "林淑贞"


# ---------------------------------------------------------------- campaigns

def test_create_campaign_with_a_budget_split(make, session, clock, admin):
    one, two = make.union("一号工会"), make.union("二号工会")
    campaign = verbs.create_campaign(session, admin, clock, name="2019年元旦春节送温暖",
                                   deadline=parse_deadline("2019-01-25T17:00"), starts_on=dt.date(2018, 12, 1),
                                   ends_on=dt.date(2019, 2, 28), publicity_days="5", reminder_days="7，3、1",
                                   budget="10000", union_budgets={one.code: "6000", two.code: ""},
                                   report_deadline=parse_deadline("2019-01-31"))
    assert campaign.reminder_days == [7, 3, 1] and campaign.publicity_days == 5
    assert [(b.union_id, b.amount) for b in campaign.union_budgets] == [(one.id, Decimal("6000"))]
    changes = last_event(session).changes
    assert changes[f"union_budget.{one.code}"] == [None, "6000.00"]
    assert changes["deadline"] == [None, "2019-01-25T09:00:00+00:00"]  # in UTC, with its zone


@pytest.mark.parametrize("settings, field, message", [
    ({"starts_on": dt.date(2019, 1, 26)}, "deadline", "报送截止时间应在活动期间（2019-01-26至2019-02-28）内"),
    ({"ends_on": dt.date(2019, 1, 24)}, "deadline", "报送截止时间应在活动期间（2018-12-01至2019-01-24）内"),
    ({"report_deadline": parse_deadline("2019-01-24")}, "report_deadline", "总结报送截止时间不能早于案件报送截止时间"),
    ({"reminder_days": [7, 0]}, "reminder_days", "提醒天数应在1到60天之间"),
    ({"reminder_days": "7,-3"}, "reminder_days", "应为用逗号分开的天数（正整数），例如 7,3,1"),
    ({"publicity_days": 61}, "publicity_days", "公示天数应在0到60个工作日之间"),
    ({"publicity_days": True}, "publicity_days", "公示天数应在0到60个工作日之间"),
    ({"budget": "-1"}, "budget", "不能小于0"),
    ({"cap_per_year": "abc"}, "cap_per_year", "应为数字，如 1500、1,500 或 1500.50"),
    ({"budget": "100", "union_budgets": {"U": "60", "V": "60"}}, "union_budgets",
     "各基层工会预算合计120.00元，超过活动总预算100.00元"),
    ({"union_budgets": {"D": "60"}}, "union_budgets.D", "不是基层工会，不能单独分配预算"),
    ({"union_budgets": {"U": "-60"}}, "union_budgets.U", "不能小于0"),
])
def test_bad_campaign_settings_are_refused(make, session, clock, admin, settings, field, message):
    codes = {"U": make.union("一号工会").code, "V": make.union("二号工会").code, "D": make.district().code}
    if "union_budgets" in settings:
        settings = {**settings, "union_budgets": {codes[k]: v for k, v in settings["union_budgets"].items()}}
        field = field.replace(".U", f".{codes['U']}").replace(".D", f".{codes['D']}")
    values = {"name": "2019年元旦春节送温暖", "deadline": parse_deadline("2019-01-25"), "starts_on": dt.date(2018, 12, 1),
              "ends_on": dt.date(2019, 2, 28)} | settings
    before = session.scalar(select(func.count()).select_from(Campaign))
    error = refused_without_change(session, lambda: verbs.create_campaign(session, admin, clock, **values))
    assert message in error.fields[field]
    assert session.scalar(select(func.count()).select_from(Campaign)) == before


def test_update_campaign_changes_what_is_given_and_records_before_and_after(make, session, clock, admin):
    union = make.default_union()
    campaign = make.campaign(name="2018年元旦春节送温暖", budget="5000", union_budgets={union.code: "2000"})
    later = parse_deadline("2018-01-31T12:00")
    error = refused_without_change(session, lambda: verbs.update_campaign(session, admin, clock, campaign.id,
                                                                        deadline=later))
    assert error.fields == {"report_deadline": "总结报送截止时间不能早于案件报送截止时间"}  # kept at the 25th
    verbs.update_campaign(session, admin, clock, campaign.id, budget="6000", cap_per_payment="1500",
                        deadline=later, report_deadline=None, union_budgets={union.code: "2500"})
    assert campaign.budget == Decimal("6000") and campaign.cap_per_payment == Decimal("1500")
    assert campaign.deadline == to_db(dt.datetime(2018, 1, 31, 12, tzinfo=LOCAL))
    assert campaign.name == "2018年元旦春节送温暖" and campaign.publicity_days == 0  # not given: kept
    assert [b.amount for b in campaign.union_budgets] == [Decimal("2500")]
    event = last_event(session)
    assert event.action == "update_campaign"
    assert event.changes == {
        "campaign": [str(campaign.id)] * 2, "budget": ["5000.00", "6000.00"], "cap_per_payment": [None, "1500.00"],
        "deadline": ["2018-01-25T16:00:00+00:00", "2018-01-31T04:00:00+00:00"],
        "report_deadline": ["2018-01-25T16:00:00+00:00", "2018-01-31T04:00:00+00:00"],
        f"union_budget.{union.code}": ["2000.00", "2500.00"]}

    verbs.update_campaign(session, admin, clock, campaign.id, union_budgets={})  # the split removed
    session.flush()
    assert campaign.union_budgets == [] and session.scalar(select(func.count()).select_from(UnionBudget)) == 0
    # Its own name is no duplicate; another campaign's is.
    verbs.update_campaign(session, admin, clock, campaign.id, name="2018年元旦春节送温暖")
    other = make.campaign(name="另一个活动")
    error = refused_without_change(session, lambda: verbs.update_campaign(
        session, admin, clock, other.id, name="2018年元旦春节送温暖"))
    assert error.fields == {"name": "已有名为「2018年元旦春节送温暖」的活动"}


def test_a_refused_update_changes_nothing(make, session, clock, admin):
    campaign = make.campaign(budget="5000")
    before = {c.key: getattr(campaign, c.key) for c in Campaign.__table__.columns}
    error = refused_without_change(session, lambda: verbs.update_campaign(
        session, admin, clock, campaign.id, budget="6000", cap_per_payment="x", ends_on=dt.date(2017, 1, 1)))
    assert set(error.fields) == {"cap_per_payment", "start"}
    session.expire_all()
    assert {c.key: getattr(campaign, c.key) for c in Campaign.__table__.columns} == before


def test_a_deadline_does_not_move_into_the_past(make, session, clock, admin):
    campaign = make.campaign()
    error = refused_without_change(session, lambda: verbs.update_campaign(
        session, admin, clock, campaign.id, deadline=clock.now() - dt.timedelta(minutes=1)))
    assert "不能改到已经过去的时间" in error.fields["deadline"]
    verbs.update_campaign(session, admin, clock, campaign.id, deadline=clock.now() + dt.timedelta(days=1))


def test_a_budget_is_not_cut_below_what_is_approved_or_paid(make, session, clock, admin):
    approved = make.case(State.district_approved)  # 1000 yuan
    make.case(State.disbursed, union=approved.union)  # 1000 more
    make.case(State.entered, union=approved.union)  # not yet decided: not counted
    campaign, code = approved.campaign, approved.union.code
    error = refused_without_change(session, lambda: verbs.update_campaign(
        session, admin, clock, campaign.id, budget="1999.99", union_budgets={code: "1500"}))
    assert error.fields == {"budget": "不能少于已审定和已发放的金额合计2,000.00元",
                            f"union_budgets.{code}": "不能少于该工会已审定和已发放的金额合计2,000.00元"}
    verbs.update_campaign(session, admin, clock, campaign.id, budget="2000", union_budgets={code: "2000"})
    assert campaign.budget == Decimal("2000")


def test_unknown_settings_are_a_programming_error(make, session, clock, admin):
    with pytest.raises(TypeError):
        verbs.update_campaign(session, admin, clock, make.default_campaign().id, budjet="1")


def test_a_district_union_has_no_parent(make, session, clock, admin):
    district = make.district()
    error = refused_without_change(session, lambda: verbs.create_union(session, admin, clock, "D2", "另一区总工会",
                                                                     district.code, "district"))
    assert error.fields == {"kind": "区总工会没有上级工会"}
    error = refused_without_change(session, lambda: verbs.create_union(session, admin, clock, "U2", "某工会", "NOPE"))
    assert error.fields == {"parent": "没有代码为NOPE的上级工会"}
