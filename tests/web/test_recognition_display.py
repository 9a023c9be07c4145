"""Recognition (困难认定, DOMAIN.md "Recognition"), what the issue must show: a household above twice the standard
marked 深度困难 is not documented without a stated reason (the refusal names the category and the figures); with a
reason it is, and the reviewer reads the reason; with the standard changed so that it fits, it is without one. The
exclusions block `document` by their labels; the papers follow the causes, on the checklist and in the API. The
case page, the archive page and the API show the same recognition: net income, the standard used, the category it
fits and whether the chosen one does, the exclusions, the rigid spending and compensation."""

from __future__ import annotations

import html
import io
from types import SimpleNamespace

import pytest

from workflows import verbs
from workflows.models import Case
from workflows.states import State

from ..factories import PDF, case_data

REASON = "配偶罹患尿毒症，每月透析自付约三千元，家庭实际生活困难"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    return page[start:page.index("</section>", start)]


def household(annual_income: str = "24000", **overrides) -> dict:
    """An archive's body (one member: a household of two) in Chaoyang, Beijing (110105)."""
    data = case_data(**overrides)
    del data["aid"]
    data["household"] = {**data["household"], "annual_income": annual_income}
    data.setdefault("national", {"hukou_area": "110105"})
    return data


@pytest.fixture
def desk(api, world):
    union = world.union()
    people = SimpleNamespace(cadre=world.person("cadre", union), head=world.person("head", union),
                             reviewer=world.person("reviewer"), admin=world.person("admin"))
    campaign = world.campaign()  # due 2018-01-25: its standards are 2018's
    world.session.commit()
    return SimpleNamespace(union=union, campaign=campaign, **vars(people))


def applied(api, world, desk, **body) -> dict:
    """A household's archive opened, applied for in the campaign, its papers all in: the draft as the API shows it."""
    archive = api.call("POST", "/archives", desk.cadre, json=household(**body))
    assert archive.status_code == 201, archive.json
    case = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, "archive": archive.json["id"],
                                                         "aid": {"kind": "funds", "amount": "1000"}})
    assert case.status_code == 201, case.json
    world.attach(world.session.get(Case, case.json["id"]))
    world.session.commit()
    return api.call("GET", f"/cases/{case.json['id']}", desk.cadre).json


def fire(api, account, case: dict, trigger: str):
    current = api.call("GET", f"/cases/{case['id']}", account).json
    return api.call("POST", f"/cases/{case['id']}/transitions", account,
                    json={"trigger": trigger, "version": current["version"]})


def set_standard(world, desk, monthly: str, area: str = "110000", year: int = 2018) -> None:
    verbs.set_standard(world.session, desk.admin, world.clock, year, area, monthly)
    world.session.commit()


# ---------------------------------------------------------------- what the issue must show

def test_deep_hardship_above_twice_the_standard_needs_a_reason_until_the_standard_fits(api, world, desk):
    set_standard(world, desk, "400")  # the province's: Chaoyang (110105) falls back to it
    case = applied(api, world, desk)  # 24,000 a year for two: 1,000.00 a month each, above 2 × 400
    assert case["recognition"] == {
        "net_monthly": "1000.00", "standard": "400.00", "standard_year": 2018, "standard_area": "110000",
        "fits": None, "above_line": True, "chosen_fits": False,
        "text": "家庭月人均净收入1,000.00；2018年低保标准每人每月400.00（110000）；按收入高于低保标准2倍，不符合困难认定条件"}

    refused = fire(api, desk.cadre, case, "document")
    assert refused.status_code == 409 and refused.json["rule"] == "category"
    for said in ("深度困难", "1,000.00", "400.00", "类别说明"):
        assert said in refused.json["reason"]
    assert "所选困难类别「深度困难」与收入不符" in case["blocked"]["document"]

    # The standard goes up (through the API): 1,000.00 is now below it, and 深度困难 fits without a word.
    put = api.call("PUT", "/standards/2018/110000", desk.admin, json={"monthly": "1100"})
    assert put.status_code == 200
    now = api.call("GET", f"/cases/{case['id']}", desk.cadre).json
    assert now["recognition"]["fits"] == "deep" and now["recognition"]["chosen_fits"] is True
    assert "document" in now["triggers"]
    assert fire(api, desk.cadre, case, "document").json["state"] == "documented"


def test_with_a_stated_reason_it_is_documented_and_the_reviewer_reads_the_reason(api, pages, world, desk):
    set_standard(world, desk, "1100")
    case = applied(api, world, desk, annual_income="60000")  # 2,500.00 a month each, above 2 × 1,100
    assert fire(api, desk.cadre, case, "document").json["rule"] == "category"

    current = api.call("GET", f"/cases/{case['id']}", desk.cadre).json
    edited = api.call("PATCH", f"/cases/{case['id']}", desk.cadre,
                      json={"version": current["version"], "category_reason": REASON})
    assert edited.status_code == 200 and edited.json["category_reason"] == REASON
    assert edited.json["recognition"]["chosen_fits"] is False
    assert fire(api, desk.cadre, case, "document").json["state"] == "documented"

    drafted = world.session.get(Case, case["id"])
    world.visit(drafted.archive_id, desk.union)
    world.notice(desk.campaign, desk.union)  # the proof of the union's public notice, which `enter` waits for
    world.session.commit()
    for account, trigger in ((desk.head, "approve"), (desk.cadre, "publicize"), (desk.cadre, "enter")):
        assert fire(api, account, case, trigger).status_code == 200
    page = text(pages.as_(desk.reviewer).get(f"/cases/{case['id']}"))
    block = section(page, "recognition")
    assert "与收入不符" in block and REASON in block
    assert "2,500.00" in block and "2018年 110000：每人每月1,100.00元" in block
    assert api.call("GET", f"/cases/{case['id']}", desk.reviewer).json["category_reason"] == REASON


def test_the_standard_changed_by_the_verb_lets_the_category_fit(api, world, desk):
    set_standard(world, desk, "300", area="110105")  # the county's own, before the province's
    set_standard(world, desk, "2000")
    case = applied(api, world, desk, category="relative")  # 1,000.00: above 2 × 300
    assert case["recognition"]["standard_area"] == "110105" and case["recognition"]["above_line"] is True
    assert fire(api, desk.cadre, case, "document").json["rule"] == "category"
    set_standard(world, desk, "600", area="110105")  # 1,000.00 is below 2 × 600: 相对困难
    assert fire(api, desk.cadre, case, "document").json["state"] == "documented"


@pytest.mark.parametrize("exclusions, labels", [
    (["private_car"], ["不予建档：拥有非生产经营用机动车"]),
    (["multiple_homes", "business"], ["不予建档：家庭拥有两套及以上住房", "不予建档：经营企业或雇佣他人从事经营活动"]),
    (["private_school"], ["不予建档：子女自费就读高收费私立学校或出国留学"]),
])
def test_an_exclusion_blocks_document_by_its_label(api, pages, world, desk, exclusions, labels):
    set_standard(world, desk, "1100")  # the income fits: only the exclusion blocks
    case = applied(api, world, desk, exclusions=exclusions)
    assert case["exclusions"] == exclusions
    refused = fire(api, desk.cadre, case, "document")
    assert refused.status_code == 409 and refused.json["rule"] == "exclusion"
    assert all(label in refused.json["reason"] for label in labels)
    block = section(text(pages.as_(desk.cadre).get(f"/cases/{case['id']}")), "recognition")
    assert all(label.removeprefix("不予建档：") in block for label in labels)


# ---------------------------------------------------------------- the papers follow the causes

BASE = {"stamped_file", "application", "household_ids", "hardship_proof", "finance_authorisation"}


@pytest.mark.parametrize("overrides, extra", [
    ({}, set()),
    ({"causes": {"primary": "no_work_capacity", "secondary": []}}, {"disability_certificate"}),
    ({"spending": {"disability": "3000"}}, {"disability_certificate"}),
    ({"causes": {"primary": "laid_off", "secondary": ["schooling"]}}, {"school_enrolment", "school_fees"}),
    ({"spending": {"schooling": "5000"}}, {"school_enrolment", "school_fees"}),
    ({"worker_group": "migrant_worker"}, {"labour_contract"}),
    ({"worker_group": "migrant_worker", "causes": {"primary": "schooling", "secondary": ["no_work_capacity"]}},
     {"labour_contract", "school_enrolment", "school_fees", "disability_certificate"}),
], ids=["every-case", "no-work-capacity", "disability-spending", "schooling", "schooling-spending", "migrant",
        "all-three"])
def test_the_papers_required_follow_the_causes(api, pages, world, desk, overrides, extra):
    body = case_data(causes={"primary": "laid_off", "secondary": []})
    spending = overrides.pop("spending", None)
    body.update(overrides)
    if spending:
        body["household"] = {**body["household"], "spending": spending}
    case = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, **body}).json
    assert set(case["missing_documents"]) == BASE | extra

    page = text(pages.as_(desk.cadre).get(f"/cases/{case['id']}"))
    papers = section(page, "documents")
    labels = {"finance_authorisation": "家庭经济状况核对授权书", "disability_certificate": "残疾证",
              "school_enrolment": "子女入学证明", "school_fees": "学费缴费凭证", "labour_contract": "劳动合同"}
    for kind in BASE | extra:
        item = papers[papers.index(f'data-kind="{kind}"'):]
        assert "缺少" in item[:item.index("</li>")]
        if kind in labels:
            assert labels[kind] in item[:item.index("</li>")]
    for kind in set(labels) - BASE - extra:
        assert f'data-kind="{kind}"' not in papers  # not asked for
    for kind, label in labels.items():  # every kind can be uploaded
        assert f'<option value="{kind}">{label}</option>' in papers


def test_the_new_kinds_are_uploaded_through_the_api(api, world, desk):
    body = case_data(worker_group="migrant_worker", causes={"primary": "no_work_capacity", "secondary": []})
    case = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, **body}).json
    for kind in ("finance_authorisation", "disability_certificate", "labour_contract", "school_fees"):
        added = api.call("POST", f"/cases/{case['id']}/documents", desk.cadre,
                         data={"kind": kind, "file": (io.BytesIO(PDF), f"{kind}.pdf")},
                         content_type="multipart/form-data")
        assert added.status_code == 201 and added.json["kind"] == kind, added.json
    after = api.call("GET", f"/cases/{case['id']}", desk.cadre).json
    assert set(after["missing_documents"]) == BASE - {"finance_authorisation"}
    assert {d["kind_label"] for d in after["documents"]} == {"家庭经济状况核对授权书", "残疾证", "劳动合同", "学费缴费凭证"}


# ---------------------------------------------------------------- the recognition block and the JSON

def test_the_archive_and_case_show_the_same_recognition_and_echo_the_inputs(api, pages, world, desk):
    set_standard(world, desk, "900")
    body = household(category="relative", category_reason="", exclusions=[])
    body["household"]["spending"] = {"illness": "2400", "disability": None, "schooling": "1200"}
    body["household"]["compensation"] = "600"
    archive = api.call("POST", "/archives", desk.cadre, json=body).json
    # (24,000 + 600 − 2,400 − 1,200) / 12 / 2
    expected = {"net_monthly": "875.00", "standard": "900.00", "standard_year": 2018, "standard_area": "110000",
                "fits": "deep", "above_line": False, "chosen_fits": False,
                "text": "家庭月人均净收入875.00；2018年低保标准每人每月900.00（110000）；按收入符合深度困难"}
    assert archive["recognition"] == expected
    archive = api.call("GET", f"/archives/{archive['id']}", desk.cadre).json  # as stored
    assert archive["household"]["spending"] == {"illness": "2400.00", "disability": None, "schooling": "1200.00"}
    assert archive["household"]["compensation"] == "600.00"
    assert archive["category_reason"] is None and archive["exclusions"] == []

    case = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, "archive": archive["id"],
                                                         "aid": {"kind": "funds", "amount": "1000"}}).json
    assert case["recognition"] == expected
    assert case["household"]["spending"] == archive["household"]["spending"]
    assert case["household"]["compensation"] == "600.00"

    client = pages.as_(desk.cadre)
    for path in (f"/archives/{archive['id']}", f"/cases/{case['id']}"):
        block = section(text(client.get(path)), "recognition")
        assert 'id="net-monthly">875.00' in block
        assert "2018年 110000：每人每月900.00元" in block
        assert 'id="fits">深度困难' in block
        assert "相对困难" in block and "与收入不符" in block
        assert "未说明理由" in block  # no reason yet: document will refuse
        assert "医疗 2,400.00 · 残疾 — · 就学 1,200.00" in block
        assert 'id="compensation">600.00' in block
        assert 'id="exclusions">无' in block


def test_without_a_standard_or_an_area_the_recognition_says_what_is_missing(api, pages, world, desk):
    no_standard = api.call("POST", "/archives", desk.cadre, json=household()).json
    assert no_standard["recognition"]["standard"] is None and no_standard["recognition"]["chosen_fits"] is True
    assert no_standard["recognition"]["text"].endswith("2018年110105地区尚未设定低保标准")
    block = section(text(pages.as_(desk.cadre).get(f"/archives/{no_standard['id']}")), "recognition")
    assert "2018年 110105：尚未设定" in block and "无法判断" in block
    # No 户口所在地 yet: where the head's ID number was issued (110105 in the factories' numbers), said so.
    set_standard(world, desk, "400")
    no_area = api.call("POST", "/archives", desk.cadre, json=household(national={})).json
    assert no_area["recognition"]["standard"] == "400.00" and no_area["recognition"]["standard_area"] == "110000"
    assert "按身份证号前6位" in no_area["recognition"]["text"]
    block = section(text(pages.as_(desk.cadre).get(f"/archives/{no_area['id']}")), "recognition")
    assert "按身份证号前6位" in block


def test_an_archive_is_judged_by_this_years_standard(api, world, desk):
    set_standard(world, desk, "400", year=2017)
    set_standard(world, desk, "1100", year=2018)
    archive = api.call("POST", "/archives", desk.cadre, json=household()).json
    assert archive["recognition"]["standard"] == "1100.00" and archive["recognition"]["standard_year"] == 2018
    world.clock.set(world.clock.now().replace(year=2017))
    assert api.call("GET", f"/archives/{archive['id']}", desk.cadre).json["recognition"]["standard"] == "400.00"


def test_state_after_document_keeps_the_block(world, desk, pages, api):
    """Sanity: a documented case (whose category fits) still shows its block, without the missing-reason mark."""
    set_standard(world, desk, "1100")
    case = applied(api, world, desk)
    assert fire(api, desk.cadre, case, "document").json["state"] == State.documented
    block = section(text(pages.as_(desk.head).get(f"/cases/{case['id']}")), "recognition")
    assert "与收入相符" in block and "未说明理由" not in block and 'id="category-reason"' not in block
