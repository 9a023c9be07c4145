"""Goods (送实物, issue 13): the case form and the API take the items and their value (物资折款), `document` needs
them for a goods case, and once the district approved it the union records the real-name receipt (who handed
over, who received, when, the signed scan kept as a document of the case), audited; on the case page and the API."""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import select

from workflows import verbs
from workflows.errors import Forbidden, Invalid, Refused
from workflows.models import AuditEvent, Document, GoodsReceipt
from workflows.states import Action, State

from ..factories import PDF

GOODS = {"kind": "goods", "goods_items": "大米25公斤、食用油5升", "goods_value": "300", "medical": False}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def fresh(world, record):
    world.session.commit()
    world.session.expire_all()
    return world.session.get(type(record), record.id)


@pytest.fixture
def desk(world):
    union = world.union()
    people = {role: world.person(role, union) for role in ("cadre", "head")}
    people |= {role: world.person(role) for role in ("reviewer", "finance")}
    people["cadre_b"] = world.person("cadre", world.union("红星纺织厂工会"))
    world.session.commit()
    return union, people


def record(world, actor, case, **overrides):
    values = {"handed_by": "周丽华", "received_by": "王建国", "received_on": "2018-01-08",
              "scan_file_name": "签收单.pdf", "scan_bytes": PDF} | overrides
    return verbs.record_receipt(world.session, actor, world.clock, world.uploads, case.id, **values)


def test_a_goods_case_needs_its_items_and_value_to_be_documented(world, desk):
    union, people = desk
    case = world.draft(union, aid={"kind": "goods", "medical": False})
    world.attach(case)
    with pytest.raises(Refused) as caught:
        world.fire(case, "document", people["cadre"])
    assert "实物名称及数量" in caught.value.message and "物资折款" in caught.value.message
    verbs.edit_case(world.session, people["cadre"], world.clock, case.id, case.version, {"aid": GOODS})
    world.fire(case, "document", people["cadre"])
    assert case.state == State.documented and case.goods_items == "大米25公斤、食用油5升"


def test_the_receipt_is_recorded_once_with_its_scan_and_one_event(world, desk):
    union, people = desk
    case = world.case(State.district_approved, union=union, aid=GOODS)
    receipt = record(world, people["cadre"], case)
    world.session.commit()
    document = world.session.get(Document, receipt.document_id)
    assert document.kind == "goods_receipt" and document.case_id == case.id
    assert world.uploads.read(document.id) == PDF
    (event,) = world.session.scalars(select(AuditEvent).where(AuditEvent.action == Action.record_receipt)).all()
    assert event.case_id == case.id and event.changes["received_by"] == [None, "王建国"]
    with pytest.raises(Refused, match="已登记实物签收"):
        record(world, people["head"], case)


def test_who_and_when_a_receipt_may_be_recorded(world, desk):
    union, people = desk
    funds = world.case(State.district_approved, union=union)
    with pytest.raises(Refused, match="送实物"):
        record(world, people["cadre"], funds)
    entered = world.case(State.entered, union=union, aid=GOODS)
    with pytest.raises(Refused, match="区总审定后"):
        record(world, people["cadre"], entered)
    approved = world.case(State.district_approved, union=union, aid=GOODS)
    with pytest.raises(Forbidden):
        record(world, people["reviewer"], approved)
    with pytest.raises(Invalid) as caught:
        record(world, people["cadre"], approved, handed_by=" ", received_on="明天", scan_bytes=b"not a scan")
    assert set(caught.value.fields) == {"handed_by", "received_on", "file"}
    assert world.session.scalars(select(GoodsReceipt)).all() == []
    disbursed = world.case(State.disbursed, union=union, aid=GOODS)
    assert record(world, people["head"], disbursed).case_id == disbursed.id


def test_the_case_form_takes_goods_and_the_case_page_records_the_receipt(pages, world, desk):
    union, people = desk
    draft = world.draft(union)
    world.session.commit()
    cadre = pages.as_(people["cadre"])
    saved = cadre.post(f"/cases/{draft.id}/edit", {
        "version": str(fresh(world, draft).version), "applicant.name": "王建国", "aid.kind": "goods",
        "aid.goods_items": "棉被一床", "aid.goods_value": "200"})
    assert saved.status_code == 302
    draft = fresh(world, draft)
    assert (draft.aid_kind, draft.goods_items, str(draft.goods_value)) == ("goods", "棉被一床", "200.00")
    assert "棉被一床" in text(cadre.get(f"/cases/{draft.id}"))

    case = world.case(State.district_approved, union=union, aid=GOODS)
    world.session.commit()
    page = text(cadre.get(f"/cases/{case.id}"))
    assert 'id="receipt"' in page and "登记签收" in page
    refused = cadre.post(f"/cases/{case.id}/receipt", {"handed_by": "周丽华", "received_by": "",
                                                       "received_on": "2018-01-08"})
    assert refused.status_code == 400 and "请填写签收人" in text(refused)
    assert 'value="周丽华"' in text(refused)  # what was typed is kept
    done = cadre.post(f"/cases/{case.id}/receipt", {"handed_by": "周丽华", "received_by": "王建国",
                                                    "received_on": "2018-01-08",
                                                    "file": (io.BytesIO(PDF), "签收单.pdf")},
                      content_type="multipart/form-data")
    assert done.status_code == 302
    page = text(cadre.get(f"/cases/{case.id}"))
    assert "王建国" in page and "2018-01-08" in page and "登记签收" not in page
    # Another union's cadre does not see the case at all.
    assert pages.as_(people["cadre_b"]).post(f"/cases/{case.id}/receipt", {}).status_code == 404


def test_the_api_takes_goods_and_the_receipt(api, world, desk):
    union, people = desk
    case = world.case(State.district_approved, union=union, aid=GOODS)
    world.session.commit()
    got = api.call("GET", f"/cases/{case.id}", people["cadre"]).json
    assert got["aid"]["goods_items"] == "大米25公斤、食用油5升" and got["aid"]["goods_value"] == "300.00"
    posted = api.call("POST", f"/cases/{case.id}/receipt", people["cadre"],
                      data={"handed_by": "周丽华", "received_by": "王建国", "received_on": "2018-01-08",
                            "file": (io.BytesIO(PDF), "签收单.pdf")}, content_type="multipart/form-data")
    assert posted.status_code == 201, posted.json
    assert posted.json["received_by"] == "王建国" and posted.json["received_on"] == "2018-01-08"
    documents = api.call("GET", f"/cases/{case.id}", people["cadre"]).json["documents"]
    assert [d["kind"] for d in documents if d["id"] == posted.json["document"]] == ["goods_receipt"]
    again = api.call("POST", f"/cases/{case.id}/receipt", people["cadre"],
                     data={"handed_by": "周丽华", "received_by": "王建国", "received_on": "2018-01-08",
                           "file": (io.BytesIO(PDF), "签收单.pdf")}, content_type="multipart/form-data")
    assert again.status_code == 409
