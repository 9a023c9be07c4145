"""The household archives through the API (API.md "Archives", DOMAIN.md "Household archive"): one household, one
archive, anywhere in the district; versions; the life cycle (exit, reactivate, deregister, transfer) and merging;
the carry-over of a campaign and applying for archives; field errors in Chinese; who sees what; the export."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.models import Archive, AuditEvent, Campaign, Case
from workflows.states import State

from ..factories import bank_account, case_data, id_number


def spoil(number: str) -> str:
    return number[:-1] + ("1" if number[-1] == "0" else "0")


def archive_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /archives body: the case body without campaign and aid, with some national form fields."""
    data = case_data()
    del data["aid"]
    data["national"] = {"archive_type": "urban_worker", "model_worker": "none", "ethnicity": "汉族",
                        "political": "masses", "marital": "married", "hukou": "non_agricultural",
                        "hukou_area": "110105", "work_status": "on_duty", "employer_nature": "state_owned",
                        "housing_type": "rented", "floor_area": "45.5", "insurance": "employee",
                        "single_parent": False, "zero_employment": True, "bank_name": "中国工商银行",
                        "bank_branch": "朝阳支行"}
    data.update(overrides)
    return data


def counts(world) -> tuple[int, int, int]:
    """Archives, cases and audit events, read on a connection of its own."""
    with Session(world.session.get_bind()) as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) for model in (Archive, Case, AuditEvent))


@pytest.fixture
def desk(api, world):
    union, other = world.union("华光机械厂工会"), world.union("红星纺织厂工会")
    campaign = world.campaign()
    people = SimpleNamespace(
        cadre=world.person("cadre", union), head=world.person("head", union),
        cadre_b=world.person("cadre", other), head_b=world.person("head", other),
        reviewer=world.person("reviewer"), finance=world.person("finance"), auditor=world.person("auditor"),
        admin=world.person("admin"))
    world.session.commit()
    for account in vars(people).values():
        api.token(account)
    return SimpleNamespace(union=union, other=other, campaign=campaign, **vars(people))


def create(api, account, **overrides) -> dict[str, Any]:
    response = api.call("POST", "/archives", account, json=archive_body(**overrides))
    assert response.status_code == 201, response.json
    return response.json


def active_archive(world, desk, union=None) -> dict[str, int]:
    """An archive made active (在档) by an application paid in an earlier campaign: nothing left in progress."""
    case = world.case(State.disbursed, union=union or desk.union, campaign=world.campaign())
    world.session.commit()
    world.session.refresh(case.archive)
    return {"id": case.archive_id, "version": case.archive.version, "case": case.id}


# ------------------------------------------------------------------ opening and reading one

def test_a_cadre_opens_an_archive_and_its_people_read_it_masked(api, world, desk):
    body = archive_body()
    created = api.call("POST", "/archives", desk.cadre, json=body)
    assert created.status_code == 201, created.json
    archive = created.json
    assert archive["status"] == "pending" and archive["status_label"] == "建档中" and archive["version"] >= 1
    assert archive["union"]["code"] == desk.union.code
    assert archive["applicant"]["name"] == "王建国" and archive["applicant"]["id_number"].count("*") == 8
    assert archive["household"]["members"][0]["id_number"].count("*") == 8
    assert archive["bank_account"].endswith(body["bank_account"][-4:]) and "*" in archive["bank_account"]
    text = created.get_data(as_text=True)
    for number in (body["applicant"]["id_number"], body["household"]["members"][0]["id_number"],
                   body["bank_account"]):
        assert number not in text
    # the old cause codes are read as the national ones, a single secondary cause as a list of one
    assert archive["causes"] == {"primary": "serious_illness", "secondary": ["schooling"]}
    assert archive["national"]["archive_type"] == "urban_worker"
    assert Decimal(archive["national"]["floor_area"]) == Decimal("45.5")
    assert archive["national"]["zero_employment"] is True and archive["national"]["hukou_area"] == "110105"
    assert archive["household_size"] == 2 and archive["applications"] == []
    assert archive["triggers"] == [] and archive["blocked"] == {}  # a cadre closes nothing

    opened = api.call("GET", f"/archives/{archive['id']}", desk.head)
    assert opened.status_code == 200
    assert opened.json["triggers"] == ["deregister"]
    history = api.call("GET", f"/archives/{archive['id']}/history", desk.cadre)
    assert history.status_code == 200 and [e["action"] for e in history.json] == ["create_archive"]
    assert body["applicant"]["id_number"] not in history.get_data(as_text=True)


def test_one_household_one_archive_anywhere_in_the_district(api, world, desk):
    first = archive_body()
    create(api, desk.cadre, **first)
    member = first["household"]["members"][0]["id_number"]
    before = counts(world)
    # the member's number as another archive's head, in the same union
    again = api.call("POST", "/archives", desk.cadre,
                     json=archive_body(applicant={**first["applicant"], "id_number": member}))
    assert again.status_code == 409 and again.json["error"] == "refused", again.json
    assert again.json["rule"] == "archive_duplicate" and "华光机械厂工会" in again.json["reason"]
    assert member not in again.get_data(as_text=True)
    # the head's number as a member of a household of another union
    elsewhere = archive_body()
    elsewhere["household"]["members"][0]["id_number"] = first["applicant"]["id_number"]
    refused = api.call("POST", "/archives", desk.cadre_b, json=elsewhere)
    assert refused.status_code == 409 and refused.json["rule"] == "archive_duplicate", refused.json
    assert "华光机械厂工会" in refused.json["reason"] and "一户只能建一个档案" in refused.json["reason"]
    assert counts(world) == before


def test_an_edit_needs_the_current_version(api, world, desk):
    archive = create(api, desk.cadre)
    path = f"/archives/{archive['id']}"
    edited = api.call("PATCH", path, desk.cadre,
                      json={"version": archive["version"], "applicant": {"phone": "13800000001"},
                            "causes": {"secondary": ["schooling", "uninsured"]}, "national": {"marital": "widowed"}})
    assert edited.status_code == 200, edited.json
    assert edited.json["version"] > archive["version"]
    assert edited.json["applicant"]["phone"] == "13800000001" and edited.json["applicant"]["name"] == "王建国"
    assert edited.json["causes"]["secondary"] == ["schooling", "uninsured"]
    assert edited.json["national"]["marital"] == "widowed" and edited.json["national"]["hukou"] == "non_agricultural"
    before = counts(world)
    stale = api.call("PATCH", path, desk.cadre,
                     json={"version": archive["version"], "applicant": {"phone": "13800000002"}})
    assert stale.status_code == 409 and stale.json["error"] == "stale", stale.json
    assert counts(world) == before
    assert api.call("GET", path, desk.cadre).json["applicant"]["phone"] == "13800000001"


def test_an_edit_cannot_take_a_number_another_archive_holds(api, world, desk):
    held = create(api, desk.cadre_b)
    number = world.session.get(Archive, held["id"]).id_number  # the API shows it masked
    mine = create(api, desk.cadre)
    refused = api.call("PATCH", f"/archives/{mine['id']}", desk.cadre,
                       json={"version": mine["version"], "household": {"members": [
                           {"name": "张三", "relation": "子", "id_number": number}]}})
    assert refused.status_code == 409 and refused.json["rule"] == "archive_duplicate", refused.json
    assert "红星纺织厂工会" in refused.json["reason"]


# ------------------------------------------------------------------ the life cycle

def test_exit_needs_a_comment_and_reactivate_brings_it_back(api, world, desk):
    archive = active_archive(world, desk)
    path = f"/archives/{archive['id']}/transitions"
    assert api.call("GET", f"/archives/{archive['id']}", desk.head).json["status"] == "active"
    bare = api.call("POST", path, desk.head, json={"trigger": "exit", "version": archive["version"]})
    assert bare.status_code == 409 and bare.json["rule"] == "comment" and "说明" in bare.json["reason"], bare.json
    exited = api.call("POST", path, desk.head, json={"trigger": "exit", "version": archive["version"],
                                                     "comment": "家庭收入已连续六个月高于低保标准"})
    assert exited.status_code == 200, exited.json
    assert exited.json["status"] == "exited" and exited.json["status_label"] == "脱困"
    assert "reactivate" in exited.json["triggers"]
    back = api.call("POST", path, desk.reviewer, json={"trigger": "reactivate", "version": exited.json["version"],
                                                       "comment": "再次患病"})
    assert back.status_code == 200 and back.json["status"] == "active", back.json
    actions = [e["action"] for e in api.call("GET", f"/archives/{archive['id']}/history", desk.auditor).json]
    assert actions[-2:] == ["exit", "reactivate"] and "create_archive" in actions and "disburse" in actions
    # back in hardship: its next application counts as 返困
    applied = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, "archive": archive["id"]})
    assert applied.status_code == 201 and applied.json["application_kind"] == "returned", applied.json


def test_an_archive_with_an_application_in_progress_is_not_closed(api, world, desk):
    case = world.case(State.drafted, union=desk.union, campaign=desk.campaign)
    world.session.commit()
    refused = api.call("POST", f"/archives/{case.archive_id}/transitions", desk.head,
                       json={"trigger": "deregister", "version": case.archive.version, "comment": "迁出",
                             "reason": "moved"})
    assert refused.status_code == 409 and refused.json["rule"] == "in_progress", refused.json
    assert f"#{case.id}" in refused.json["reason"]


def test_deregister_needs_a_reason_and_frees_the_numbers(api, world, desk):
    body = archive_body()
    archive = create(api, desk.cadre, **body)
    path = f"/archives/{archive['id']}/transitions"
    without = api.call("POST", path, desk.head, json={"trigger": "deregister", "version": archive["version"],
                                                      "comment": "已调离本市"})
    assert without.status_code == 409 and without.json["rule"] == "reason" and "原因" in without.json["reason"]
    unknown = api.call("POST", path, desk.head, json={"trigger": "deregister", "version": archive["version"],
                                                      "comment": "已调离本市", "reason": "bored"})
    assert unknown.status_code == 409 and unknown.json["rule"] == "reason"
    done = api.call("POST", path, desk.head, json={"trigger": "deregister", "version": archive["version"],
                                                   "comment": "已调离本市", "reason": "moved"})
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["status_reason"], done.json["triggers"]) == ("deregistered", "moved", [])
    # its numbers are free again: the household may be archived anew (here, by the union it moved to)
    create(api, desk.cadre_b, **archive_body(applicant=body["applicant"], household=body["household"]))
    # and a deregistered archive is not edited
    frozen = api.call("PATCH", f"/archives/{archive['id']}", desk.cadre,
                      json={"version": done.json["version"], "applicant": {"phone": "13800000003"}})
    assert frozen.status_code == 409 and frozen.json["rule"] == "state"


def test_a_transfer_moves_the_archive_and_who_sees_it(api, world, desk):
    archive = active_archive(world, desk)
    path = f"/archives/{archive['id']}"
    by_head = api.call("POST", f"{path}/transitions", desk.head,
                       json={"trigger": "transfer", "version": archive["version"], "comment": "原单位关闭",
                             "union": desk.other.code})
    assert by_head.status_code == 403 and by_head.json["error"] == "forbidden"
    nowhere = api.call("POST", f"{path}/transitions", desk.reviewer,
                       json={"trigger": "transfer", "version": archive["version"], "comment": "原单位关闭",
                             "union": "NO-SUCH-UNION"})
    assert nowhere.status_code == 409 and nowhere.json["rule"] == "union"
    moved = api.call("POST", f"{path}/transitions", desk.reviewer,
                     json={"trigger": "transfer", "version": archive["version"], "comment": "原单位关闭",
                           "union": desk.other.code})
    assert moved.status_code == 200, moved.json
    assert moved.json["union"]["code"] == desk.other.code and moved.json["status"] == "active"
    assert api.call("GET", path, desk.cadre).status_code == 404
    assert api.call("GET", path, desk.head).status_code == 404
    seen = api.call("GET", path, desk.cadre_b)
    assert seen.status_code == 200
    # its history follows it; its applications stay with the union that made them (their campaigns' figures do
    # not change), and the archive still lists them
    assert [(a["case"], a["union"]) for a in seen.json["applications"]] == [(archive["case"], "华光机械厂工会")]
    assert api.call("GET", f"{path}/history", desk.cadre_b).json[-1]["action"] == "transfer"
    assert api.call("GET", f"/cases/{archive['case']}", desk.cadre).status_code == 200
    assert api.call("GET", f"/cases/{archive['case']}", desk.cadre_b).status_code == 404
    assert archive["id"] not in {a["id"] for a in api.call("GET", "/archives", desk.cadre).json["items"]}
    assert archive["id"] in {a["id"] for a in api.call("GET", "/archives", desk.cadre_b).json["items"]}


@pytest.mark.parametrize("body, field", [
    ({"trigger": "exit", "version": 1, "comment": "理" * 2001}, "comment"),
    ({"trigger": "exit", "version": 1, "colour": "red"}, "colour"),
    ({"trigger": "exit"}, "version"),
    ({"version": 1}, "trigger"),
    ({"trigger": "fly", "version": 1}, "trigger"),
    ({"trigger": "transfer", "version": 1, "union": "U" * 33}, "union"),
], ids=["comment of 2001", "unknown field", "no version", "no trigger", "unknown trigger", "union code of 33"])
def test_a_transition_with_bad_input_is_invalid(api, world, desk, body, field):
    archive = create(api, desk.cadre)
    before = counts(world)
    response = api.call("POST", f"/archives/{archive['id']}/transitions", desk.head, json=body)
    assert response.status_code == 400 and response.json["error"] == "invalid", response.json
    assert field in response.json["fields"], response.json
    assert counts(world) == before


def test_a_stale_version_is_refused_on_a_transition(api, world, desk):
    archive = create(api, desk.cadre)
    api.call("PATCH", f"/archives/{archive['id']}", desk.cadre,
             json={"version": archive["version"], "applicant": {"phone": "13800000001"}})
    stale = api.call("POST", f"/archives/{archive['id']}/transitions", desk.head,
                     json={"trigger": "deregister", "version": archive["version"], "comment": "死亡",
                           "reason": "death"})
    assert stale.status_code == 409 and stale.json["error"] == "stale"


# ------------------------------------------------------------------ merging

def test_a_reviewer_merges_two_archives_of_one_household(api, world, desk):
    kept = create(api, desk.cadre)
    case = world.case(State.drafted, union=desk.other, campaign=desk.campaign)
    world.session.commit()
    other_id = case.archive_id
    path = f"/archives/{kept['id']}/merge"
    by_cadre = api.call("POST", path, desk.cadre, json={"other": other_id, "version": kept["version"]})
    assert by_cadre.status_code == 403 and by_cadre.json["error"] == "forbidden"
    itself = api.call("POST", path, desk.reviewer, json={"other": kept["id"], "version": kept["version"]})
    assert itself.status_code == 400 and "other" in itself.json["fields"]
    stale = api.call("POST", path, desk.reviewer, json={"other": other_id, "version": kept["version"] + 5})
    assert stale.status_code == 409 and stale.json["error"] == "stale"
    merged = api.call("POST", path, desk.reviewer,
                      json={"other": other_id, "version": kept["version"], "comment": "同一户重复建档"})
    assert merged.status_code == 200, merged.json
    assert merged.json["version"] > kept["version"]
    # its application moves over; its people of the same names as this household's (王建国, 李秀英) are taken for
    # the same people under other numbers: not added twice, but named in the event for the reviewer to check
    assert merged.json["household_size"] == 2
    assert [a["case"] for a in merged.json["applications"]] == [case.id]
    gone = api.call("GET", f"/archives/{other_id}", desk.reviewer).json
    assert (gone["status"], gone["status_reason"], gone["merged_into"]) == ("deregistered", "merged", kept["id"])
    history = api.call("GET", f"/archives/{kept['id']}/history", desk.auditor).json
    [merge] = [e for e in history if e["action"] == "merge_archive"]
    assert "not_added" in merge["changes"]
    again = api.call("POST", path, desk.reviewer, json={"other": other_id, "version": merged.json["version"]})
    assert again.status_code == 409 and again.json["rule"] == "state"


# ------------------------------------------------------------------ applying: carry-over and POST /cases

def test_the_carry_over_lists_and_applies_for_many(api, world, desk):
    first, second = active_archive(world, desk), active_archive(world, desk)
    elsewhere = active_archive(world, desk, union=desk.other)
    pending = create(api, desk.cadre)
    campaign = desk.campaign
    listed = api.call("GET", f"/archives/carry-over?campaign={campaign.id}", desk.cadre)
    assert listed.status_code == 200
    assert {a["id"] for a in listed.json} == {first["id"], second["id"]}  # active ones of my union only
    assert pending["id"] not in {a["id"] for a in listed.json}
    assert {a["id"] for a in api.call("GET", f"/archives/carry-over?campaign={campaign.id}",
                                      desk.cadre_b).json} == {elsewhere["id"]}
    # The inbox says so, as the screen's tile does: a cadre's task, nobody else's.
    tile = api.call("GET", "/inbox", desk.cadre).json["carry_over"]
    assert tile["count"] >= 2 and tile["campaign"] in {c.id for c in world.session.scalars(select(Campaign))}
    assert api.call("GET", "/inbox", desk.reviewer).json["carry_over"] is None

    applied = api.call("POST", "/archives/carry-over", desk.cadre,
                       json={"campaign": campaign.id, "archives": [first["id"], second["id"]],
                             "aid": {"kind": "funds", "amount": "800"}})
    assert applied.status_code == 201, applied.json
    assert [c["archive"] for c in applied.json] == [first["id"], second["id"]]
    for case in applied.json:
        assert case["state"] == "drafted" and case["campaign"] == campaign.id
        assert case["application_kind"] == "existing"  # helped before: 存量
        assert (case["aid"]["kind"], Decimal(case["aid"]["amount"]), case["aid"]["medical"]) == \
            ("funds", Decimal(800), False)
        assert case["applicant"]["id_number"].count("*") == 8 and len(case["household"]["members"]) == 1
    assert api.call("GET", f"/archives/carry-over?campaign={campaign.id}", desk.cadre).json == []
    shown = api.call("GET", f"/archives/{first['id']}", desk.cadre).json["applications"]
    assert shown[0]["case"] == applied.json[0]["id"] and shown[0]["kind"] == "existing"
    assert shown[0]["state"] == "drafted" and shown[0]["campaign_name"] == campaign.name

    before = counts(world)
    twice = api.call("POST", "/archives/carry-over", desk.cadre,
                     json={"campaign": campaign.id, "archives": [pending["id"], first["id"]]})
    assert twice.status_code == 409 and twice.json["rule"] == "applied", twice.json
    assert counts(world) == before  # all or none: the pending archive got no application either
    foreign = api.call("POST", "/archives/carry-over", desk.cadre,
                       json={"campaign": campaign.id, "archives": [elsewhere["id"]]})
    assert foreign.status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"archives": []}, "archives"),
    ({"archives": ["x"]}, "archives.0"),
    ({"archives": [1], "aid": {"medical": "yes"}}, "aid.medical"),
    ({"archives": [1], "campaign": None}, "campaign"),
], ids=["no archives", "an id that is not a number", "medical not a boolean", "no campaign"])
def test_a_carry_over_with_bad_input_is_invalid(api, world, desk, body, field):
    response = api.call("POST", "/archives/carry-over", desk.cadre, json={"campaign": desk.campaign.id, **body})
    assert response.status_code == 400 and field in response.json["fields"], response.json


def test_a_carry_over_of_a_campaign_that_does_not_exist_is_invalid(api, desk):
    response = api.call("GET", "/archives/carry-over?campaign=999999", desk.cadre)
    assert response.status_code == 400 and response.json["fields"] == {"campaign": "没有这个活动"}


def test_a_cadre_applies_for_one_archive_through_post_cases(api, world, desk):
    archive = create(api, desk.cadre)
    created = api.call("POST", "/cases", desk.cadre,
                       json={"campaign": desk.campaign.id, "archive": archive["id"],
                             "aid": {"kind": "funds", "amount": "1000"}})
    assert created.status_code == 201, created.json
    case = created.json
    assert case["archive"] == archive["id"] and case["application_kind"] == "new"  # never helped: 增量
    assert case["applicant"] == archive["applicant"] and case["causes"] == archive["causes"]
    assert Decimal(case["aid"]["amount"]) == 1000 and case["bank_account"] == archive["bank_account"]
    history = api.call("GET", f"/cases/{case['id']}/history", desk.cadre).json
    assert [e["action"] for e in history] == ["create"]
    again = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, "archive": archive["id"]})
    assert again.status_code == 409 and again.json["rule"] == "applied"

    foreign = create(api, desk.cadre_b)
    hidden = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, "archive": foreign["id"]})
    assert hidden.status_code == 404
    missing = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, "archive": 999999})
    assert (missing.status_code, missing.json) == (hidden.status_code, hidden.json)


def test_an_application_by_archive_takes_no_household_fields(api, world, desk):
    archive = create(api, desk.cadre)
    before = counts(world)
    mixed = api.call("POST", "/cases", desk.cadre,
                     json={"campaign": desk.campaign.id, "archive": archive["id"],
                           "applicant": {"name": "王建国"}, "bank_account": bank_account()})
    assert mixed.status_code == 400 and set(mixed.json["fields"]) == {"applicant", "bank_account"}, mixed.json
    neither = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id})
    assert neither.status_code == 400 and neither.json["fields"] == {"applicant": "必填"}
    assert counts(world) == before


def test_the_whole_household_body_still_opens_the_archive_with_the_case(api, world, desk):
    data = case_data()
    created = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, **data})
    assert created.status_code == 201, created.json
    case = created.json
    assert case["application_kind"] == "new" and case["causes"] == {"primary": "serious_illness",
                                                                    "secondary": ["schooling"]}
    archive = api.call("GET", f"/archives/{case['archive']}", desk.cadre).json
    assert archive["status"] == "pending" and archive["applications"][0]["case"] == case["id"]
    assert archive["applicant"]["id_number"] == case["applicant"]["id_number"]
    # the same household in the next campaign applies on the same archive
    later = world.campaign()
    world.session.commit()
    again = api.call("POST", "/cases", desk.cadre, json={"campaign": later.id, **data})
    assert again.status_code == 201 and again.json["archive"] == case["archive"], again.json
    # another union may not apply with a household archived here
    refused = api.call("POST", "/cases", desk.cadre_b, json={"campaign": later.id, **case_data(
        applicant={**data["applicant"]})})
    assert refused.status_code == 409 and "华光机械厂工会" in refused.json["reason"], refused.json


def test_up_to_three_secondary_causes_on_a_case(api, world, desk):
    created = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, **case_data(
        causes={"primary": "laid_off", "secondary": ["schooling", "uninsured", "disability"]})})
    assert created.status_code == 201, created.json
    assert created.json["causes"] == {"primary": "laid_off",
                                      "secondary": ["schooling", "uninsured", "no_work_capacity"]}
    edited = api.call("PATCH", f"/cases/{created.json['id']}", desk.cadre,
                      json={"version": created.json["version"], "causes": {"secondary": "schooling"}})
    assert edited.status_code == 200 and edited.json["causes"]["secondary"] == ["schooling"], edited.json
    four = api.call("POST", "/cases", desk.cadre, json={"campaign": desk.campaign.id, **case_data(
        causes={"primary": "laid_off", "secondary": ["schooling", "uninsured", "disability", "accident"]})})
    assert four.status_code == 400 and four.json["fields"]["causes.secondary"] == "太多，最多3项"


# ------------------------------------------------------------------ field errors

def _set(body: dict, path: str, value: Any) -> dict:
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return body


FIELD_ERRORS = [
    ("applicant.id_number", lambda b: spoil(b["applicant"]["id_number"]), "校验位"),
    ("household.members.0.id_number", lambda b: spoil(b["household"]["members"][0]["id_number"]), "校验位"),
    ("bank_account", lambda b: spoil(b["bank_account"]), "校验位"),
    ("applicant.phone", lambda b: "12345", "电话号码格式不对"),
    ("applicant.name", lambda b: "王" * 51, "太长，最多50个字"),
    ("worker_group", lambda b: "boss", "不是可选的值"),
    ("causes.primary", lambda b: "laziness", "不是可选的值"),
    ("causes.secondary", lambda b: ["schooling", "schooling"], "次要原因有重复"),
    ("national.archive_type", lambda b: "farmer", "不是可选的值"),
    ("national.hukou_area", lambda b: "11010", "格式不对"),
    ("national.floor_area", lambda b: "-1", "不能小于0"),
    ("national.single_parent", lambda b: "yes", "应为是或否"),
    ("national.colour", lambda b: "red", "不认识的字段"),
    ("nickname", lambda b: "老王", "不认识的字段"),
    ("aid", lambda b: {"kind": "funds"}, "不认识的字段"),
]


@pytest.mark.parametrize("field, value, words", FIELD_ERRORS, ids=[f for f, _, _ in FIELD_ERRORS])
def test_a_bad_field_is_named_in_chinese_and_nothing_is_stored(api, world, desk, field, value, words):
    body = archive_body()
    _set(body, field, value(body))
    before = counts(world)
    response = api.call("POST", "/archives", desk.cadre, json=body)
    assert response.status_code == 400 and response.json["error"] == "invalid", response.json
    assert words in response.json["fields"][field], response.json
    assert counts(world) == before


@pytest.mark.parametrize("field, value", [f[:2] for f in FIELD_ERRORS if f[0] not in ("aid",)],
                         ids=[f[0] for f in FIELD_ERRORS if f[0] not in ("aid",)])
def test_a_bad_field_in_an_edit_is_named(api, world, desk, field, value):
    archive = create(api, desk.cadre)
    body = {"version": archive["version"], **archive_body()}
    _set(body, field, value(body))
    before = counts(world)
    response = api.call("PATCH", f"/archives/{archive['id']}", desk.cadre, json=body)
    assert response.status_code == 400 and field in response.json["fields"], response.json
    assert counts(world) == before


@pytest.mark.parametrize("query, field", [
    ("/archives?status=lost", "status"), ("/archives?page=0", "page"), ("/archives?per_page=1000", "per_page"),
    ("/archives?category=rich", "category"), ("/archives/0", "archive_id"), ("/archives/carry-over", "campaign"),
    ("/archives/export?format=csv", "format"),
])
def test_a_bad_query_is_invalid(api, desk, query, field):
    response = api.call("GET", query, desk.cadre)
    assert response.status_code == 400 and field in response.json["fields"], response.json


# ------------------------------------------------------------------ who sees what

def test_who_reads_and_who_changes_archives(api, world, desk):
    archive = create(api, desk.cadre)
    path = f"/archives/{archive['id']}"
    for account in (desk.cadre, desk.head, desk.reviewer, desk.auditor):
        assert api.call("GET", path, account).status_code == 200, account.role
        assert archive["id"] in {a["id"] for a in api.call("GET", "/archives", account).json["items"]}
    for account in (desk.cadre_b, desk.head_b, desk.finance, desk.admin):
        hidden = api.call("GET", path, account)
        missing = api.call("GET", "/archives/999999", account)
        assert (hidden.status_code, hidden.json) == (missing.status_code, missing.json), account.role
        assert hidden.status_code == 404
    assert archive["id"] not in {a["id"] for a in api.call("GET", "/archives", desk.cadre_b).json["items"]}
    for account in (desk.finance, desk.admin):
        listed = api.call("GET", "/archives", account)
        assert listed.status_code == 403 and listed.json["error"] == "forbidden"
    # the auditor reads everything and changes nothing
    for method, sub, body in (("PATCH", "", {"version": archive["version"], "applicant": {"phone": "13800000001"}}),
                              ("POST", "/transitions", {"trigger": "deregister", "version": archive["version"],
                                                        "comment": "死亡", "reason": "death"}),
                              ("POST", "/merge", {"other": archive["id"], "version": archive["version"]})):
        response = api.call(method, path + sub, desk.auditor, json=body)
        assert response.status_code == 403 and response.json["error"] == "forbidden", (sub, response.json)
    assert api.call("POST", "/archives", desk.auditor, json=archive_body()).status_code == 403
    assert api.call("POST", "/archives", desk.head, json=archive_body()).status_code == 403


def test_the_list_filters(api, world, desk):
    wang = archive_body()
    wang_id = create(api, desk.cadre, **wang)["id"]
    li = create(api, desk.cadre, applicant={"name": "李春花", "gender": "female", "id_number": id_number(male=False)},
                category="relative", worker_group="migrant_worker")["id"]
    theirs = create(api, desk.cadre_b)["id"]

    def ids(query: str, account=desk.reviewer) -> set[int]:
        response = api.call("GET", f"/archives{query}", account)
        assert response.status_code == 200, response.json
        assert response.json["total"] == len(response.json["items"])
        return {a["id"] for a in response.json["items"]}

    assert ids("") == {wang_id, li, theirs}
    assert ids("", desk.cadre) == {wang_id, li}
    assert ids(f"?union={desk.other.code}") == {theirs}
    assert ids("?q=春花") == {li}
    assert ids(f"?q={wang['applicant']['id_number'][-4:]}") == {wang_id}
    assert ids(f"?q={wang['applicant']['id_number'][6:14]}") == set()  # never a run from inside a number
    assert ids("?category=relative") == {li}
    assert ids("?worker_group=migrant_worker") == {li}
    assert ids("?status=pending") == {wang_id, li, theirs} and ids("?status=active") == set()
    page = api.call("GET", "/archives?per_page=2&page=2", desk.reviewer).json
    assert page["total"] == 3 and len(page["items"]) == 1 and page["page"] == 2
    item = page["items"][0]
    assert item["id_number"].count("*") == 8 and item["status_label"] == "建档中"


# ------------------------------------------------------------------ the export

def _sheet(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(response.data))
    rows = [list(row) for row in book["困难职工档案"].iter_rows(values_only=True)]
    members = [list(row) for row in book["家庭成员"].iter_rows(values_only=True)]
    return rows[0], [dict(zip(rows[0], row)) for row in rows[1:]], members


def test_the_export_in_the_national_layout(api, world, desk):
    body = archive_body()
    mine = create(api, desk.cadre, **body)
    theirs = create(api, desk.cadre_b)
    header, rows, members = _sheet(api.call("GET", "/archives/export?format=national", desk.cadre))
    for name in ("档案类型", "姓名", "性别", "民族", "身份证号码", "政治面貌", "婚姻状况", "户口类型", "户口所在地行政区划",
                 "工作状态", "单位性质", "住房类型", "建筑面积（平方米）", "医保状况", "单亲家庭", "零就业家庭", "开户银行",
                 "职工编号", "困难类别", "主要致困原因", "次要致困原因", "工商银行账号", "劳模类型", "职工类别"):
        assert name in header, name
    assert [row["档案编号"] for row in rows] == [mine["id"]]  # my union's only
    row = rows[0]
    assert (row["姓名"], row["性别"], row["档案类型"], row["职工类别"], row["困难类别"]) == \
        ("王建国", "男", "城镇困难职工", "困难职工", "深度困难")
    assert (row["主要致困原因"], row["次要致困原因"], row["户口类型"], row["零就业家庭"], row["单亲家庭"]) == \
        ("患重特大疾病", "子女上学", "非农业", "是", "否")
    assert row["户口所在地行政区划"] == "110105" and row["档案状态"] == "建档中" and row["所属工会"] == "华光机械厂工会"
    assert row["身份证号码"] == mine["applicant"]["id_number"] and row["工商银行账号"] == mine["bank_account"]
    assert members[1][3] == "李秀英" and members[1][5].count("*") == 8
    everything = json.dumps([header, rows, members], ensure_ascii=False, default=str)
    for number in (body["applicant"]["id_number"], body["household"]["members"][0]["id_number"],
                   body["bank_account"]):
        assert number not in everything

    _, rows, _ = _sheet(api.call("GET", "/archives/export", desk.reviewer))
    assert {row["档案编号"] for row in rows} == {mine["id"], theirs["id"]}
    _, rows, _ = _sheet(api.call("GET", f"/archives/export?union={desk.other.code}", desk.auditor))
    assert [row["档案编号"] for row in rows] == [theirs["id"]]
    foreign = api.call("GET", f"/archives/export?union={desk.other.code}", desk.cadre)
    assert foreign.status_code == 404
    assert api.call("GET", "/archives/export", desk.finance).status_code == 403


def test_the_openapi_document_describes_the_archives(api, client):
    document = client.get("/api/v1/openapi.json").json
    paths = document["paths"]
    for path in ("/api/v1/archives", "/api/v1/archives/{archive_id}", "/api/v1/archives/{archive_id}/transitions",
                 "/api/v1/archives/{archive_id}/merge", "/api/v1/archives/carry-over", "/api/v1/archives/export"):
        assert path in paths, path
    assert set(paths["/api/v1/archives/carry-over"]) == {"get", "post"}
