"""One case from draft to disbursed through the API alone, each step by the right account, then the chain."""

from workflows.vocab import REQUIRED_DOCUMENTS, SCHOOL_DOCUMENTS

from ..factories import PDF, case_data


def test_a_case_from_draft_to_disbursed_through_the_api(api, world):
    union = world.union()
    campaign = world.campaign()
    cadre, head = world.person("cadre", union), world.person("head", union)
    reviewer, finance, auditor = world.person("reviewer"), world.person("finance"), world.person("auditor")
    world.session.commit()

    created = api.call("POST", "/cases", cadre, json={"campaign": campaign.id, **case_data()})
    assert created.status_code == 201, created.json
    case = created.json
    assert case["state"] == "drafted" and case["version"] == 1
    assert case["applicant"]["id_number"].count("*") == 8
    # Every case's papers, and the school's: the household of case_data() pays for schooling.
    assert set(case["missing_documents"]) == set(REQUIRED_DOCUMENTS + SCHOOL_DOCUMENTS)
    assert "document" in case["blocked"] and "缺少" in case["blocked"]["document"]

    version = case["version"]
    for kind in REQUIRED_DOCUMENTS + SCHOOL_DOCUMENTS:
        added = api.call("POST", f"/cases/{case['id']}/documents", cadre,
                         data={"kind": kind, "file": (__import__("io").BytesIO(PDF), f"{kind}.pdf")},
                         content_type="multipart/form-data")
        assert added.status_code == 201, added.json
        version += 1
    # A household never helped: its first public notice waits for the home visit, written on its archive.
    visited = api.call("POST", f"/archives/{case['archive']}/visits", cadre,
                       json={"visited_on": "2018-01-05", "visitors": "周丽华", "findings": "入户核实，情况属实"})
    assert visited.status_code == 201, visited.json
    # The union's proof of its public notice, which `enter` waits for.
    posted = api.call("POST", "/notices", cadre, data={"campaign": str(case["campaign"]), "place": "厂区公告栏",
                                                        "posted_on": "2018-01-05",
                                                        "file": (__import__("io").BytesIO(PDF), "notice.pdf")},
                      content_type="multipart/form-data")
    assert posted.status_code == 201, posted.json

    steps = [(cadre, "document", {}), (head, "approve", {}), (cadre, "publicize", {}), (cadre, "enter", {}),
             (reviewer, "district_approve", {}), (finance, "disburse", {"payment_reference": "ICBC-0001"})]
    for account, trigger, extra in steps:
        current = api.call("GET", f"/cases/{case['id']}", account).json
        assert trigger in current["triggers"], (trigger, current["blocked"])
        moved = api.call("POST", f"/cases/{case['id']}/transitions", account,
                         json={"trigger": trigger, "version": current["version"], **extra})
        assert moved.status_code == 200, moved.json
        assert moved.json["version"] == current["version"] + 1
    assert moved.json["state"] == "disbursed" and moved.json["payment_reference"] == "ICBC-0001"
    assert moved.json["file_number"]

    history = api.call("GET", f"/cases/{case['id']}/history", cadre).json
    assert [e["action"] for e in history][-6:] == [t for _, t, _ in steps]
    verified = api.call("GET", "/audit/verify", auditor)
    assert verified.status_code == 200 and verified.json["ok"] is True and verified.json["events"] >= 12
