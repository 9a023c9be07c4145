"""The home visit (入户调查, DOMAIN.md "Recognition": evidence): a household never helped waits for one before its
first public notice, which the archive page and the case page say (with the way to the archive); the archive page
lists the visits and offers its union's cadres and heads the form (a refusal beside it, what was typed kept); the
API records one and lists them in the archive's JSON; an imported or already helped household needs none."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import func, select

from workflows import verbs
from workflows.infra.clock import LOCAL, to_db
from workflows.models import Archive, AuditEvent, Case, HomeVisit
from workflows.states import State

from ..factories import case_data

VISIT_NEEDED = "首次公示前须入户调查"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def visits(world) -> int:
    world.session.commit()
    return world.session.scalar(select(func.count()).select_from(HomeVisit))


def approved(world, union, campaign, **data) -> Case:
    """A new household's case, approved by the union's head, its archive never visited."""
    cadre = world.person("cadre", union)
    case = verbs.create_case(world.session, cadre, world.clock, campaign.id, case_data(**data))
    world.attach(case)
    world.fire(case, "document", cadre)
    world.fire(case, "approve", world.person("head", union))
    world.session.commit()
    return case


@pytest.fixture
def desk(world):
    union, other = world.union(), world.union("红星纺织厂工会")
    campaign = world.campaign()
    people = {"cadre": world.person("cadre", union), "head": world.person("head", union),
              "reviewer": world.person("reviewer"), "auditor": world.person("auditor"),
              "stranger": world.person("cadre", other)}
    world.session.commit()
    return union, campaign, people


# ---------------------------------------------------------------- the rule: publicize waits for it

def test_a_never_helped_household_is_publicized_only_after_a_home_visit(api, world, desk):
    union, campaign, people = desk
    case = approved(world, union, campaign)
    before = api.call("GET", f"/cases/{case.id}", people["cadre"]).json
    assert "publicize" not in before["triggers"] and VISIT_NEEDED in before["blocked"]["publicize"]
    refused = api.call("POST", f"/cases/{case.id}/transitions", people["cadre"],
                       json={"trigger": "publicize", "version": before["version"]})
    assert refused.status_code == 409 and refused.json["rule"] == "home_visit"
    assert VISIT_NEEDED in refused.json["reason"]
    archive = api.call("GET", f"/archives/{case.archive_id}", people["cadre"]).json
    assert archive["needs_visit"] is True and archive["visits"] == []

    recorded = api.call("POST", f"/archives/{case.archive_id}/visits", people["cadre"],
                        json={"visited_on": "2018-01-06", "visitors": "周丽华、李明", "findings": "住房简陋，配偶无业，与申报一致"})
    assert recorded.status_code == 201, recorded.json
    assert recorded.json["visited_on"] == "2018-01-06" and recorded.json["visitors"] == "周丽华、李明"
    assert recorded.json["recorded_by"] == people["cadre"].username

    after = api.call("GET", f"/cases/{case.id}", people["cadre"]).json
    assert "publicize" in after["triggers"]
    moved = api.call("POST", f"/cases/{case.id}/transitions", people["cadre"],
                     json={"trigger": "publicize", "version": after["version"]})
    assert moved.status_code == 200 and moved.json["state"] == "publicized"
    archive = api.call("GET", f"/archives/{case.archive_id}", people["cadre"]).json
    assert archive["needs_visit"] is False
    assert [(v["visited_on"], v["findings"]) for v in archive["visits"]] == [("2018-01-06", "住房简陋，配偶无业，与申报一致")]


@pytest.mark.parametrize("past", ["imported_at", "last_helped_at"])
def test_an_imported_or_already_helped_household_needs_no_visit(world, desk, past):
    union, campaign, people = desk
    case = approved(world, union, campaign)
    archive = world.session.get(Archive, case.archive_id)
    setattr(archive, past, to_db(dt.datetime(2017, 3, 1, 9, tzinfo=LOCAL)))  # from the ledger; helped last winter
    world.session.flush()
    world.fire(case, "publicize", people["cadre"])
    assert case.state == State.publicized and visits(world) == 0


# ---------------------------------------------------------------- the screens

def test_the_archive_and_case_pages_say_the_visit_is_needed_until_it_is_recorded(pages, world, desk):
    union, campaign, people = desk
    case = approved(world, union, campaign)
    client = pages.as_(people["cadre"])

    page = text(client.get(f"/cases/{case.id}"))
    assert 'id="visit-needed"' in page and VISIT_NEEDED in page
    assert f'href="/archives/{case.archive_id}#visits"' in page
    page = text(client.get(f"/archives/{case.archive_id}"))
    assert 'id="visit-needed"' in page and VISIT_NEEDED in page
    assert "还没有入户调查记录" in page and 'id="visit-form" open' in page

    saved = client.post(f"/archives/{case.archive_id}/visits",
                        {"visited_on": "2018-01-07", "visitors": "周丽华、工会小组长李明", "findings": "两居室租房，配偶患病在家"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/archives/{case.archive_id}#visits")
    page = text(client.get(f"/archives/{case.archive_id}"))
    assert "已登记入户调查" in page and 'id="visit-needed"' not in page
    listed = page[page.index('id="visit-list"'):page.index("</tbody>", page.index('id="visit-list"'))]
    for shown in ("2018-01-07", "周丽华、工会小组长李明", "两居室租房，配偶患病在家", people["cadre"].display_name):
        assert shown in listed
    assert 'id="visit-needed"' not in text(client.get(f"/cases/{case.id}"))


def test_a_refused_visit_is_said_beside_the_form_with_what_was_typed(pages, world, desk):
    union, campaign, people = desk
    case = approved(world, union, campaign)
    client = pages.as_(people["head"])
    refused = client.post(f"/archives/{case.archive_id}/visits",
                          {"visited_on": "2018-02-01", "visitors": "吴国庆", "findings": "家中有病人"})
    assert refused.status_code == 400
    page = text(refused)
    form = page[page.index('id="visit-form"'):page.index("</details>", page.index('id="visit-form"'))]
    assert "调查日期不能晚于今天" in form and " open" in form.split(">", 1)[0]
    assert 'value="2018-02-01"' in form and 'value="吴国庆"' in form and ">家中有病人</textarea>" in form
    refused = text(client.post(f"/archives/{case.archive_id}/visits", {"visited_on": "2018-01-08", "visitors": "",
                                                                      "findings": ""}))
    assert "请填写调查人" in refused and "请填写调查情况" in refused
    assert visits(world) == 0


def test_the_form_is_for_the_unions_cadres_and_heads(pages, world, desk):
    union, campaign, people = desk
    case = approved(world, union, campaign)
    verbs.record_visit(world.session, people["head"], world.clock, case.archive_id, "2018-01-08", "吴国庆",
                       "属实")
    world.session.commit()
    for role in ("cadre", "head"):
        assert 'id="visit-form"' in text(pages.as_(people[role]).get(f"/archives/{case.archive_id}"))
    for role in ("reviewer", "auditor"):
        page = text(pages.as_(people[role]).get(f"/archives/{case.archive_id}"))
        assert 'id="visit-form"' not in page and "属实" in page  # the district reads the visits
    refused = pages.as_(people["reviewer"]).post(f"/archives/{case.archive_id}/visits",
                                                 {"visited_on": "2018-01-08", "visitors": "何晓敏", "findings": "抽查"})
    assert refused.status_code == 403 and "只有基层工会干部、基层工会负责人可以登记入户调查" in text(refused)
    assert pages.as_(people["stranger"]).post(f"/archives/{case.archive_id}/visits",
                                              {"visited_on": "2018-01-08", "visitors": "某", "findings": "某"}
                                              ).status_code == 404
    assert visits(world) == 1


# ---------------------------------------------------------------- the API

def test_the_api_refuses_a_visit_as_the_rules_say(api, world, desk):
    union, campaign, people = desk
    case = approved(world, union, campaign)
    path = f"/archives/{case.archive_id}/visits"
    body = {"visited_on": "2018-01-08", "visitors": "何晓敏", "findings": "属实"}
    assert api.call("POST", path, people["reviewer"], json=body).status_code == 403
    assert api.call("POST", path, people["stranger"], json=body).status_code == 404
    invalid = api.call("POST", path, people["cadre"], json={"visited_on": "08/01/2018", "visitors": " "})
    assert invalid.status_code == 400 and set(invalid.json["fields"]) == {"visited_on", "visitors", "findings"}
    assert "格式如 2018-01-05" in invalid.json["fields"]["visited_on"]
    assert api.call("POST", path, people["cadre"], json={**body, "extra": 1}).status_code == 400

    household = case_data()
    del household["aid"]
    archive = verbs.create_archive(world.session, people["cadre"], world.clock, household)
    verbs.fire_archive(world.session, people["head"], world.clock, archive.id, "deregister", archive.version,
                       comment="已迁出本区", reason="moved")
    world.session.commit()
    closed = api.call("POST", f"/archives/{archive.id}/visits", people["cadre"], json=body)
    assert closed.status_code == 409 and "档案已注销，不能登记入户调查" in closed.json["reason"]
    assert visits(world) == 0
    assert world.session.scalar(select(func.count()).select_from(AuditEvent)
                                .where(AuditEvent.action == "record_visit")) == 0
