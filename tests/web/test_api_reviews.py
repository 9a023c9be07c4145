"""The annual review through the API: the caller's worklist, a review (versions, errors per API.md, the update
through the archive's own edit), the inbox's reviews_due, the spot check (drawn, read, findings), and the report."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from workflows import verbs
from workflows.archive_states import Status
from workflows.models import Archive, AuditEvent
from workflows.rules import reviews as rules

from ..conftest import START
from ..factories import case_data


def active(world, union, name: str) -> Archive:
    data = case_data()
    data.pop("aid")
    data["applicant"]["name"] = name
    archive = verbs.create_archive(world.session, world.person("cadre", union), world.clock, data)
    archive.status = Status.active
    world.session.flush()
    return archive


def events(world) -> int:
    world.session.commit()
    return world.session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def desk(world, api):
    union, other = world.union("第一机床厂工会"), world.union("红星纺织厂工会")
    world.clock.set(START - dt.timedelta(days=400))
    mine = [active(world, union, name) for name in ("张建华", "李国庆")]
    theirs = active(world, other, "钱红梅")
    world.clock.set(START)
    people = {role: world.person(role, union) for role in ("cadre", "head")}
    people |= {role: world.person(role) for role in ("reviewer", "auditor", "finance")}
    world.session.commit()
    return union, other, mine, theirs, people


def test_the_worklist_and_a_review_through_the_api(api, world, desk):
    union, other, (first, second), theirs, people = desk
    listed = api.call("GET", "/archives/reviews", people["cadre"]).get_json()
    assert [row["id"] for row in listed["due"]] == [first.id, second.id] and listed["total"] == 2
    assert listed["due"][0]["counted_from"] == "建档" and listed["due"][0]["last_review"] is None
    assert listed["pending"] == [] and listed["proposed_exit"] == []

    before = events(world)
    answer = api.call("POST", f"/archives/{first.id}/reviews", people["cadre"],
                      json={"outcome": "updated", "version": first.version,
                            "data": {"household": {"annual_income": "30000"}}})
    assert answer.status_code == 201, answer.get_json()
    made = answer.get_json()
    assert (made["outcome"], made["archive"], made["reviewed_by"]) == ("updated", first.id, people["cadre"].username)
    assert events(world) == before + 2   # the edit's event, and the review's
    archive = api.call("GET", f"/archives/{first.id}", people["cadre"]).get_json()
    assert archive["version"] == made["archive_version"] and archive["household"]["annual_income"] == "30000.00"

    stale = api.call("POST", f"/archives/{first.id}/reviews", people["cadre"],
                     json={"outcome": "confirmed", "version": first.version})
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale"
    invalid = api.call("POST", f"/archives/{second.id}/reviews", people["cadre"],
                       json={"outcome": "propose_exit", "version": second.version})
    assert invalid.status_code == 400
    assert invalid.get_json() == {"error": "invalid", "message": "comment：建议脱困须写明理由",
                                  "fields": {"comment": "建议脱困须写明理由"}}
    assert api.call("POST", f"/archives/{theirs.id}/reviews", people["cadre"],
                    json={"outcome": "confirmed", "version": theirs.version}).status_code == 404
    forbidden = api.call("POST", f"/archives/{second.id}/reviews", people["reviewer"],
                         json={"outcome": "confirmed", "version": second.version})
    assert forbidden.status_code == 403 and forbidden.get_json()["error"] == "forbidden"
    unknown = api.call("POST", f"/archives/{second.id}/reviews", people["cadre"],
                       json={"outcome": "confirmed", "version": second.version, "data": {"nonsense": 1}})
    assert unknown.status_code == 400

    proposed = api.call("POST", f"/archives/{second.id}/reviews", people["cadre"],
                        json={"outcome": "propose_deregister", "version": second.version, "comment": "户主已退休",
                              "reason": "retired"})
    assert proposed.status_code == 201 and proposed.get_json()["proposed_reason"] == "retired"
    listed = api.call("GET", "/archives/reviews", people["head"]).get_json()
    assert listed["total"] == 0
    assert [(p["id"], p["review"]["outcome"], p["review"]["comment"]) for p in listed["pending"]] == [
        (second.id, "propose_deregister", "户主已退休")]
    assert api.call("GET", "/archives/reviews", people["reviewer"]).status_code == 403


def test_the_inbox_says_how_many_are_due(api, world, desk):
    union, other, mine, theirs, people = desk
    assert api.call("GET", "/inbox", people["cadre"]).get_json()["reviews_due"] == {"count": 2, "proposals": None}
    assert api.call("GET", "/inbox", people["head"]).get_json()["reviews_due"] == {"count": 2, "proposals": 0}
    assert api.call("GET", "/inbox", people["reviewer"]).get_json()["reviews_due"] is None


def test_the_spot_check_through_the_api(api, world, desk):
    union, other, mine, theirs, people = desk
    reviewer = people["reviewer"]
    assert api.call("GET", "/spot-checks?year=2018", reviewer).status_code == 404
    low = api.call("POST", "/spot-checks", reviewer, json={"year": 2018, "rate": "0.2"})
    assert low.status_code == 400 and low.get_json()["fields"] == {"rate": "抽查比例须在30%到100%之间（0.30至1）"}
    assert api.call("POST", "/spot-checks", people["head"], json={"year": 2018}).status_code == 403
    drawn = api.call("POST", "/spot-checks", reviewer, json={"year": 2018, "rate": 0.5, "seed": "qz-2018"})
    assert drawn.status_code == 201, drawn.get_json()
    check = drawn.get_json()
    assert (check["year"], check["rate"], check["seed"]) == (2018, "0.50", "qz-2018")
    expected = rules.draw("qz-2018", Decimal("0.50"), {union.code: [a.id for a in mine], other.code: [theirs.id]})
    assert {(i["union"]["code"], i["archive"]) for i in check["items"]} == {
        (code, archive_id) for code, ids in expected.items() for archive_id in ids}
    assert check["drawn_sha256"] == rules.list_digest(expected)
    again = api.call("POST", "/spot-checks", reviewer, json={"year": 2018, "seed": "x"})
    assert again.status_code == 409 and again.get_json()["error"] == "refused"
    item = check["items"][0]["id"]
    found = api.call("POST", f"/spot-checks/items/{item}", reviewer, json={"outcome": "discrepancy",
                                                                          "comment": "家庭人口不符"})
    assert found.status_code == 200 and (found.get_json()["outcome"], found.get_json()["comment"]) == (
        "discrepancy", "家庭人口不符")
    assert api.call("POST", f"/spot-checks/items/{item}", people["auditor"],
                    json={"outcome": "confirmed"}).status_code == 403
    assert api.call("POST", "/spot-checks/items/99999", reviewer, json={"outcome": "confirmed"}).status_code == 404
    read = api.call("GET", "/spot-checks?year=2018", people["auditor"]).get_json()
    assert [i["outcome"] for i in read["items"]].count("discrepancy") == 1
    assert api.call("GET", "/spot-checks?year=2018", people["cadre"]).status_code == 403

    report = api.call("GET", "/reports/reviews?year=2018", people["auditor"]).get_json()
    row = next(r for r in report["unions"] if r["union"]["code"] == union.code)
    assert (row["active"], row["reviewed"], row["due"], row["drawn"], row["checked"]) == (
        2, 0, 2, len(expected[union.code]), int(item in [i["id"] for i in check["items"]
                                                          if i["union"]["code"] == union.code]))
    assert report["total"]["drawn"] == len(check["items"]) and report["total"]["discrepancies"] == 1
    assert api.call("GET", "/reports/reviews", people["finance"]).status_code == 403
