"""The case form (cases.new, cases.edit): what a cadre types is saved through the verbs; anything wrong comes
back beside its input, with everything typed still there, and nothing saved."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from workflows import verbs
from workflows.identity import bank_account_problem, id_number_problem, mask_account, mask_id
from workflows.inputs import parse_deadline
from workflows.models import AuditEvent, Case
from workflows.states import State

from ..factories import bank_account, id_number
from .conftest import snapshot

TODAY = dt.date(2018, 1, 8)


def flashes(client) -> list[str]:
    with client.client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def filled(campaign, **overrides) -> dict[str, str]:
    """Every field of the form, typed as a cadre would; keyword arguments replace fields (by input name)."""
    fields = {
        "campaign": str(campaign.id),
        "applicant.name": "王建国", "applicant.gender": "male", "applicant.id_number": id_number(),
        "applicant.phone": "13912345678", "applicant.employer": "华光机械厂",
        "worker_group": "migrant_worker", "category": "deep", "causes.primary": "serious_illness",
        "causes.secondary": ["schooling", "laid_off"],
        "household.annual_income": "24000", "household.housing": "租住公房",
        "household.members.0.name": "李秀英", "household.members.0.relation": "配偶",
        "household.members.0.id_number": id_number(male=False), "household.members.0.monthly_income": "800.50",
        "household.members.0.health": "慢性病", "household.members.0.occupation": "无业",
        "aid.kind": "funds", "aid.amount": "1500", "aid.medical": "y",
        "bank_account": bank_account(),
        "save": "1",
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


class _Form(HTMLParser):
    """The fields a browser sends for the case form as shown, no button pressed (rows in <template> are not
    part of the form)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.in_form = self.in_template = False
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "case-form" in (a.get("class") or ""):
            self.in_form = True
        elif tag == "template":
            self.in_template = True
        elif not self.in_form or self.in_template:
            return
        elif tag == "input" and a.get("type") in ("text", "hidden"):
            self.fields[a["name"]] = a.get("value") or ""
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            value = a.get("value") or "on"
            before = self.fields.get(a["name"])  # several ticked of one name (the causes): all of them
            self.fields[a["name"]] = value if before is None else [*([before] if isinstance(before, str) else before),
                                                                   value]
        elif tag == "select":
            self.select = a["name"]
            self.fields[self.select] = ""
        elif tag == "option" and self.select and "selected" in a:
            self.fields[self.select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        elif tag == "template":
            self.in_template = False
        elif tag == "select":
            self.select = None


def submitted(page: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(page)
    return parser.fields


# ------------------------------------------------------------------ creating

def test_a_case_for_a_household_with_an_archive_says_so(pages, world, cadre, clock):
    campaign = world.default_campaign()
    held = world.case(State.disbursed, campaign=world.campaign(deadline=parse_deadline("2018-01-10"),
                                                                starts_on=dt.date(2017, 11, 1)))
    world.session.commit()
    clock.advance(minutes=5)
    client = pages.as_(cadre)
    fields = {**filled(campaign), "applicant.id_number": held.id_number}
    response = client.post("/cases/new", fields)
    assert response.status_code == 302
    assert any(f"一户已有户档案#{held.archive_id}" in message for message in flashes(client))
    case = world.session.scalars(select(Case).where(Case.campaign_id == campaign.id)).one()
    assert (case.archive_id, case.application_kind) == (held.archive_id, "existing")


def test_a_cadre_creates_a_case_with_every_field(pages, world, cadre):
    campaign = world.default_campaign()
    closed = world.campaign(deadline=parse_deadline("2018-01-05"), starts_on=dt.date(2017, 11, 1))
    later = world.campaign(deadline=parse_deadline("2019-01-25"), starts_on=dt.date(2018, 12, 1))
    world.session.commit()
    client = pages.as_(cadre)

    page = text_of(client.get("/cases/new"))
    assert campaign.name in page and closed.name not in page and later.name not in page  # open campaigns only
    # Chinese labels, codes submitted; the causes are the national code list, up to three secondary ones ticked.
    assert '<option value="serious_illness">患重特大疾病</option>' in page
    assert '<option value="funds">送资金</option>' in page
    assert '<input type="checkbox" name="causes.secondary" value="schooling"> 子女上学' in page

    fields = filled(campaign)
    response = client.post("/cases/new", fields)

    assert response.status_code == 302
    case = world.session.scalars(select(Case)).one()
    assert response.headers["Location"] == f"/cases/{case.id}"
    assert any("已新建「王建国」" in message for message in flashes(client))
    assert (case.applicant_name, case.gender, case.id_number, case.phone, case.employer) == (
        "王建国", "male", fields["applicant.id_number"], "13912345678", "华光机械厂")
    assert (case.worker_group, case.category, case.primary_cause, case.secondary_causes) == (
        "migrant_worker", "deep", "serious_illness", ["schooling", "laid_off"])
    assert (case.annual_income, case.housing) == (Decimal("24000"), "租住公房")
    assert (case.aid_kind, case.aid_amount, case.medical, case.bank_account) == (
        "funds", Decimal("1500"), True, fields["bank_account"])
    assert (case.state, case.union_id, case.campaign_id) == (State.drafted, cadre.union_id, campaign.id)
    [member] = case.members
    assert (member.name, member.relation, member.id_number, member.monthly_income, member.health,
            member.occupation) == ("李秀英", "配偶", fields["household.members.0.id_number"], Decimal("800.50"),
                                   "慢性病", "无业")
    event = world.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)).one()
    assert (event.action, event.actor_id) == ("create", cadre.id)
    # 先建档，后帮扶: the household's archive was opened with it, in the same request (its own audit event).
    archive = case.archive
    assert (archive.union_id, archive.applicant_name, archive.id_number, archive.status) == (
        cadre.union_id, "王建国", fields["applicant.id_number"], "pending")
    opened = world.session.scalars(select(AuditEvent).where(AuditEvent.archive_id == archive.id,
                                                            AuditEvent.case_id.is_(None))).one()
    assert (opened.action, opened.actor_id) == ("create_archive", cadre.id)


def test_only_the_name_is_needed_for_a_draft(pages, world, cadre):
    client = pages.as_(cadre)
    response = client.post("/cases/new", {"campaign": str(world.default_campaign().id), "applicant.name": "张三",
                                          "save": "1"})
    assert response.status_code == 302
    case = world.session.scalars(select(Case)).one()
    assert (case.applicant_name, case.id_number, case.aid_amount, case.members) == ("张三", None, None, [])


def test_only_cadres_open_cases(pages, world, cadre):
    head = world.person("head", world.default_union())
    world.session.commit()
    client = pages.as_(head)
    before = snapshot(world)
    assert client.get("/cases/new").status_code == 403
    assert client.post("/cases/new", filled(world.default_campaign())).status_code == 403
    assert snapshot(world) == before


def test_without_an_open_campaign_the_form_says_so(pages, world, cadre):
    world.clock.set(dt.datetime(2018, 2, 1, 9, tzinfo=world.clock.now().tzinfo))  # the default campaign is over
    page = text_of(pages.as_(cadre).get("/cases/new"))
    assert "目前没有正在进行的送温暖活动" in page and 'name="applicant.name"' not in page


# ------------------------------------------------------------------ household rows

def test_rows_are_added_and_removed_without_javascript_keeping_what_was_typed(pages, world, cadre):
    client = pages.as_(cadre)
    before = snapshot(world)
    fields = filled(world.default_campaign(), **{"applicant.name": "赵六"})
    fields.pop("save")

    added = client.post("/cases/new", {**fields, "add_member": "1"})
    page = text_of(added)
    assert added.status_code == 200
    assert 'name="household.members.1.name" value=""' in page  # one more, empty row
    assert 'value="赵六"' in page and 'value="李秀英"' in page and f'value="{fields["bank_account"]}"' in page
    assert snapshot(world) == before  # nothing saved

    two_rows = {**fields, "household.members.1.name": "赵小明", "household.members.1.relation": "儿子"}
    removed = client.post("/cases/new", {**two_rows, "remove_member": "0"})
    page = text_of(removed)
    assert removed.status_code == 200
    assert "李秀英" not in page
    assert 'name="household.members.0.name" value="赵小明"' in page and 'name="household.members.1.name"' not in page
    assert snapshot(world) == before


def test_rows_saved_in_their_order_gaps_and_empty_rows_ignored(pages, world, cadre):
    """The script removes rows in the browser and leaves gaps in the numbering; an added row left empty is no
    member."""
    client = pages.as_(cadre)
    fields = filled(world.default_campaign(), **{
        "household.members.3.name": "赵小明", "household.members.3.relation": "儿子",
        "household.members.3.occupation": "小学在读",
        "household.members.7.name": "", "household.members.7.relation": "  ",
    })
    assert client.post("/cases/new", fields).status_code == 302
    case = world.session.scalars(select(Case)).one()
    assert [(m.position, m.name, m.relation, m.occupation) for m in case.members] == [
        (0, "李秀英", "配偶", "无业"), (1, "赵小明", "儿子", "小学在读")]


# ------------------------------------------------------------------ editing

def test_editing_shows_the_case_masks_its_numbers_and_keeps_them_when_left_empty(pages, world, cadre):
    case = world.draft()
    world.session.commit()
    applicant_id, member_id, account = case.id_number, case.members[0].id_number, case.bank_account
    client = pages.as_(cadre)

    page = text_of(client.get(f"/cases/{case.id}/edit"))
    assert 'value="王建国"' in page and 'value="13912345678"' in page and 'value="李秀英"' in page
    assert f'name="version" type="hidden" value="{case.version}"' in page
    for number in (applicant_id, member_id, account):  # never the full number in the page
        assert number not in page
    assert mask_id(applicant_id) in page and mask_id(member_id) in page and mask_account(account) in page

    fields = submitted(page)
    fields.update({"applicant.phone": "13800001111", "household.members.0.name": "李秀芳", "save": "1"})
    response = client.post(f"/cases/{case.id}/edit", fields)

    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.id}"
    assert "修改已保存" in flashes(client)
    world.session.expire_all()
    case = world.session.get(Case, case.id)
    assert (case.phone, case.members[0].name, case.members[0].relation) == ("13800001111", "李秀芳", "配偶")
    assert (case.id_number, case.members[0].id_number, case.bank_account) == (applicant_id, member_id, account)
    event = world.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                  .order_by(AuditEvent.seq.desc())).first()
    assert event.action == "edit" and set(event.changes) == {"phone", "members"}


def test_saving_the_edit_form_unchanged_changes_nothing(pages, world, cadre):
    """The form shows the case exactly as stored: sent back as it is, it is no edit."""
    case = world.draft(aid={"kind": "education", "amount": "1234.50", "medical": True})
    world.session.commit()
    client = pages.as_(cadre)
    fields = submitted(text_of(client.get(f"/cases/{case.id}/edit")))
    assert fields["aid.medical"] == "y" and fields["aid.amount"] == "1234.50"
    before = snapshot(world)
    response = client.post(f"/cases/{case.id}/edit", {**fields, "save": "1"})
    assert response.status_code == 302 and "没有需要保存的修改" in flashes(client)
    assert snapshot(world) == before


def test_a_members_health_and_occupation_are_edited(pages, world, cadre):
    case = world.draft()
    world.session.commit()
    client = pages.as_(cadre)
    fields = submitted(text_of(client.get(f"/cases/{case.id}/edit")))
    fields.update({"household.members.0.health": "需长期服药", "household.members.0.occupation": "退休", "save": "1"})
    response = client.post(f"/cases/{case.id}/edit", fields)
    assert response.status_code == 302
    world.session.expire_all()
    member = world.session.get(Case, case.id).members[0]
    assert (member.health, member.occupation) == ("需长期服药", "退休")


def test_editing_replaces_numbers_removes_members_and_adds_rows(pages, world, cadre):
    case = world.draft()
    world.session.commit()
    client = pages.as_(cadre)
    new_id, new_account = id_number(), bank_account()
    response = client.post(f"/cases/{case.id}/edit", {
        "version": str(case.version), "applicant.name": "王建国", "applicant.id_number": new_id,
        "bank_account": new_account, "household.members.0.name": "王小红", "household.members.0.relation": "女儿",
        "save": "1"})  # the spouse's row is gone, a daughter's row is new
    assert response.status_code == 302
    world.session.expire_all()
    case = world.session.get(Case, case.id)
    assert (case.id_number, case.bank_account) == (new_id, new_account)
    assert [(m.name, m.relation, m.id_number) for m in case.members] == [("王小红", "女儿", None)]


def test_a_stale_version_is_refused_and_what_was_typed_stays(pages, world, cadre):
    case = world.draft()
    world.session.commit()
    client = pages.as_(cadre)
    seen = case.version
    client.get(f"/cases/{case.id}/edit")
    verbs.edit_case(world.session, cadre, world.clock, case.id, seen, {"applicant": {"phone": "13700000000"}})
    before = snapshot(world)

    response = client.post(f"/cases/{case.id}/edit", {
        "version": str(seen), "applicant.name": "王建国", "applicant.employer": "新华印刷厂",
        "household.housing": "自有住房六十平方米", "save": "1"})

    page = text_of(response)
    assert response.status_code == 409
    assert "该案件已被他人修改" in page
    assert 'value="新华印刷厂"' in page and 'value="自有住房六十平方米"' in page
    assert snapshot(world) == before
    world.session.expire_all()
    assert world.session.get(Case, case.id).phone == "13700000000"


def test_only_drafts_of_ones_own_union_are_edited(pages, world, cadre):
    documented = world.case(State.documented)
    elsewhere = world.draft(union=world.union("另一工会"))
    world.session.commit()
    client = pages.as_(cadre)
    before = snapshot(world)

    refused = client.get(f"/cases/{documented.id}/edit")
    assert refused.status_code == 302 and refused.headers["Location"] == f"/cases/{documented.id}"
    assert any("只有已起草的案件可以修改" in message for message in flashes(client))
    post = client.post(f"/cases/{documented.id}/edit", {"version": str(documented.version),
                                                        "applicant.name": "改名", "save": "1"})
    assert post.status_code == 409 and "只有已起草的案件可以修改" in text_of(post) and 'value="改名"' in text_of(post)

    assert client.get(f"/cases/{elsewhere.id}/edit").status_code == 404
    assert client.post(f"/cases/{elsewhere.id}/edit", {"version": str(elsewhere.version),
                                                       "applicant.name": "改名", "save": "1"}).status_code == 404
    assert snapshot(world) == before


# ------------------------------------------------------------------ refusals

BAD_ID = "110105197506010000"  # wrong check digit
BAD_ACCOUNT = "6222020000000000001"  # wrong Luhn digit

BAD_INPUT = [
    ("aid.amount", "一千五", "应为数字"),
    ("household.annual_income", "2万4", "应为数字"),
    ("household.members.0.monthly_income", "八百元", "应为数字"),
    ("aid.amount", "12.345", "最多两位小数"),
    ("applicant.employer", "华" * 101, "太长，最多100个字"),
    ("household.housing", "房" * 201, "太长，最多200个字"),
    ("household.members.0.relation", "关" * 21, "太长，最多20个字"),
    ("applicant.id_number", BAD_ID, id_number_problem(BAD_ID, TODAY)),
    ("applicant.id_number", "11010519750601", id_number_problem("11010519750601", TODAY)),
    ("household.members.0.id_number", BAD_ID, id_number_problem(BAD_ID, TODAY)),
    ("bank_account", BAD_ACCOUNT, bank_account_problem(BAD_ACCOUNT)),
    ("bank_account", "6222-abc", bank_account_problem("6222-abc")),
    ("applicant.phone", "12345", "电话号码格式不对"),
    ("applicant.name", "", "不能为空"),
    ("household.members.0.name", "", "不能为空"),
    ("causes.secondary", "serious_illness", "次要原因不能与主要原因相同"),
    ("causes.secondary", ["schooling", "laid_off", "uninsured", "accident"], "太多，最多3项"),
]


@pytest.mark.parametrize("field,typed,message", BAD_INPUT,
                         ids=[f"{f}={t[:12] if isinstance(t, str) else len(t)}" for f, t, _m in BAD_INPUT])
def test_bad_input_is_named_beside_its_field_and_nothing_is_saved_or_lost(pages, world, cadre, field, typed,
                                                                          message):
    client = pages.as_(cadre)
    fields = filled(world.default_campaign(), **{field: typed})
    before = snapshot(world)

    response = client.post("/cases/new", fields)

    page = text_of(response)
    assert response.status_code == 400
    assert re.search(rf'id="{re.escape(field)}-error">[^<]*{re.escape(message)}', page), "message beside the input"
    summary = page[page.index('id="error-summary"'):]
    assert f'href="#{field}"' in summary[:summary.index("</ul>")] and message in summary
    for name, value in fields.items():  # everything typed is back in its input
        if name not in ("save", "campaign", "aid.medical") and not re.fullmatch(r"applicant.gender|worker_group|"
                                                                               r"category|causes\..*|aid.kind", name):
            assert f'name="{name}" value="{value}"' in page, name
    for name in ("worker_group", "causes.primary", "aid.kind"):
        assert re.search(rf'name="{re.escape(name)}".*?value="{fields[name]}" selected', page, re.S), name
    ticked = fields["causes.secondary"]
    for code in [ticked] if isinstance(ticked, str) else ticked:  # the causes ticked stay ticked
        assert f'name="causes.secondary" value="{code}" checked' in page, code
    assert re.search(r'<input checked[^>]*name="aid.medical"', page)
    assert snapshot(world) == before


def test_a_bad_edit_changes_nothing(pages, world, cadre):
    case = world.draft()
    world.session.commit()
    client = pages.as_(cadre)
    before = snapshot(world)
    response = client.post(f"/cases/{case.id}/edit", {
        "version": str(case.version), "applicant.name": "王建国", "applicant.phone": "13800001111",
        "household.members.0.name": "李秀英", "household.members.0.relation": "配偶",
        "household.members.0.id_number": BAD_ID, "aid.amount": "很多", "save": "1"})
    page = text_of(response)
    assert response.status_code == 400
    assert 'id="aid.amount-error">应为数字' in page
    assert f'value="{BAD_ID}"' in page and 'value="很多"' in page and 'value="13800001111"' in page
    assert snapshot(world) == before
    world.session.expire_all()
    assert world.session.get(Case, case.id).phone == "13912345678"


def test_a_closed_campaign_is_refused_with_what_was_typed(pages, world, cadre):
    closed = world.campaign(deadline=parse_deadline("2018-01-05"), starts_on=dt.date(2017, 11, 1))
    world.session.commit()
    client = pages.as_(cadre)
    before = snapshot(world)
    response = client.post("/cases/new", filled(closed, **{"applicant.employer": "东风纺织厂"}))
    page = text_of(response)
    assert response.status_code == 409 and "截止" in page and 'value="东风纺织厂"' in page
    assert snapshot(world) == before


def test_a_post_without_the_csrf_token_is_refused(pages, world, cadre):
    case = world.draft()
    world.session.commit()
    client = pages.as_(cadre)
    before = snapshot(world)
    assert client.post("/cases/new", filled(world.default_campaign()), csrf=False).status_code == 400
    response = client.post(f"/cases/{case.id}/edit", {"version": str(case.version), "applicant.name": "改名",
                                                      "save": "1"}, csrf=False)
    assert response.status_code == 400 and "页面已过期" in text_of(response)
    assert snapshot(world) == before
