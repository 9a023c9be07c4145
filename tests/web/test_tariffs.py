"""Tariffs (标准) and the caps from the saved draft on (issue 13): the administrators set a campaign's amount by
category and worker group (screen, API, audited); a funds case without an amount starts with it; another amount
needs a reason; over a cap or off the tariff without a reason is a warning beside the amount once saved, and
`document` refuses it with the cap in the reason."""

from __future__ import annotations

import html
from decimal import Decimal

import pytest
from sqlalchemy import select

from workflows import verbs
from workflows.errors import Forbidden, Invalid, Refused
from workflows.models import AuditEvent, Tariff
from workflows.states import Action, State

from ..factories import case_data


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def fresh(world, record):
    world.session.commit()
    world.session.expire_all()
    return world.session.get(type(record), record.id)


@pytest.fixture
def desk(world):
    union = world.union()
    campaign = world.campaign(cap_per_payment="2000")
    people = {role: world.person(role, union) for role in ("cadre", "head")}
    people |= {role: world.person(role) for role in ("admin", "reviewer")}
    world.session.commit()
    return union, campaign, people


def tariff_events(world) -> list[AuditEvent]:
    world.session.commit()
    return list(world.session.scalars(select(AuditEvent).where(AuditEvent.action == Action.set_tariff)
                                      .order_by(AuditEvent.seq)))


# ---------------------------------------------------------------- the verb

def test_a_tariff_is_set_changed_and_deleted_each_time_one_event_with_before_and_after(world, desk):
    _, campaign, people = desk
    admin = people["admin"]
    verbs.set_tariff(world.session, admin, world.clock, campaign.id, "deep", "hardship_worker", "1500")
    verbs.set_tariff(world.session, admin, world.clock, campaign.id, "deep", "hardship_worker", "1500.00")  # same
    verbs.set_tariff(world.session, admin, world.clock, campaign.id, "deep", "hardship_worker", "1600")
    verbs.set_tariff(world.session, admin, world.clock, campaign.id, "deep", "hardship_worker", None)
    assert world.session.scalars(select(Tariff)).all() == []
    created, changed, deleted = tariff_events(world)
    assert created.changes["amount"] == [None, "1500.00"]
    assert created.changes["category"] == ["深度困难", "深度困难"]
    assert changed.changes["amount"] == ["1500.00", "1600.00"]
    assert deleted.changes["amount"] == ["1600.00", None]


def test_only_administrators_set_tariffs_and_wrong_values_are_named(world, desk):
    _, campaign, people = desk
    with pytest.raises(Forbidden):
        verbs.set_tariff(world.session, people["cadre"], world.clock, campaign.id, "deep", "hardship_worker", "1")
    with pytest.raises(Invalid) as caught:
        verbs.set_tariff(world.session, people["admin"], world.clock, campaign.id, "rich", "nobody", "-5")
    assert set(caught.value.fields) == {"category", "worker_group", "amount"}


# ---------------------------------------------------------------- the amount defaults to it; another needs a reason

def test_a_funds_case_without_an_amount_starts_with_the_tariff(world, desk):
    union, campaign, people = desk
    verbs.set_tariff(world.session, people["admin"], world.clock, campaign.id, "deep", "hardship_worker", "1500")
    case = verbs.create_case(world.session, people["cadre"], world.clock, campaign.id,
                             case_data(aid={"kind": "funds"}))
    assert case.aid_amount == Decimal("1500")
    other = verbs.create_case(world.session, people["cadre"], world.clock, campaign.id,
                              case_data(category="relative", aid={"kind": "funds"}))
    assert other.aid_amount is None  # no tariff for 相对困难: nothing to default to


def test_applying_for_an_archive_with_kind_funds_and_no_amount_takes_the_tariff(world, desk):
    union, campaign, people = desk
    verbs.set_tariff(world.session, people["admin"], world.clock, campaign.id, "deep", "hardship_worker", "1200")
    archive = verbs.create_archive(world.session, people["cadre"], world.clock,
                                   {k: v for k, v in case_data().items() if k != "aid"})
    (case,) = verbs.apply_for(world.session, people["cadre"], world.clock, campaign.id, [archive.id],
                              {"kind": "funds"})
    assert case.aid_amount == Decimal("1200")


def test_an_amount_other_than_the_tariff_needs_a_reason_at_document(world, desk):
    union, campaign, people = desk
    verbs.set_tariff(world.session, people["admin"], world.clock, campaign.id, "deep", "hardship_worker", "1500")
    case = world.draft(union, campaign, aid={"kind": "funds", "amount": "1800"})
    world.attach(case)
    with pytest.raises(Refused) as caught:
        world.fire(case, "document", people["cadre"])
    assert caught.value.rule == "tariff"
    assert "与本活动的标准1,500.00元不同" in caught.value.message
    verbs.edit_case(world.session, people["cadre"], world.clock, case.id, case.version,
                    {"aid": {"amount_reason": "家中两人重病，经工会研究提高标准"}})
    world.fire(case, "document", people["cadre"])
    assert case.state == State.documented


# ---------------------------------------------------------------- caps at `document` (the must-show)

def test_an_over_cap_amount_is_refused_at_document_with_the_cap_in_the_reason(world, desk):
    union, campaign, people = desk
    case = world.draft(union, campaign, aid={"kind": "funds", "amount": "99999999"})
    world.attach(case)
    with pytest.raises(Refused) as caught:
        world.fire(case, "document", people["cadre"])
    assert caught.value.rule == "cap_payment"
    assert "帮扶金额99,999,999.00元超过单次上限2,000.00元" in caught.value.message
    assert fresh(world, case).state == State.drafted


def test_the_api_case_says_why_document_is_blocked(api, world, desk):
    union, campaign, people = desk
    case = world.draft(union, campaign, aid={"kind": "funds", "amount": "99999999"})
    world.attach(case)
    world.session.commit()
    got = api.call("GET", f"/cases/{case.id}", people["cadre"]).json
    assert "document" not in got["triggers"]
    assert "超过单次上限2,000.00元" in got["blocked"]["document"]


# ---------------------------------------------------------------- the warning beside the amount after save

def test_saving_an_over_cap_draft_warns_beside_the_amount_and_on_the_case_page(pages, world, desk):
    union, campaign, people = desk
    case = world.draft(union, campaign)
    world.session.commit()
    cadre = pages.as_(people["cadre"])
    form = text(cadre.get(f"/cases/{case.id}/edit"))
    assert 'id="aid.amount-warning"' not in form
    saved = cadre.post(f"/cases/{case.id}/edit", {
        "version": str(fresh(world, case).version), "applicant.name": "王建国", "aid.kind": "funds",
        "aid.amount": "99999999", "worker_group": "hardship_worker", "category": "deep"})
    assert saved.status_code == 302  # saved: a draft may be wrong; `document` is what refuses
    shown = text(cadre.get(saved.headers["Location"]))
    assert "帮扶金额99,999,999.00元超过单次上限2,000.00元" in shown
    edit = text(cadre.get(f"/cases/{case.id}/edit"))
    beside = edit.split('id="amount-field"', 1)[1].split("</div>", 1)[0]
    assert "帮扶金额99,999,999.00元超过单次上限2,000.00元" in beside
    assert fresh(world, case).aid_amount == Decimal("99999999")


def test_the_form_takes_the_reason_for_another_amount_and_shows_the_tariff(pages, world, desk):
    union, campaign, people = desk
    verbs.set_tariff(world.session, people["admin"], world.clock, campaign.id, "deep", "hardship_worker", "1500")
    case = world.draft(union, campaign, aid={"kind": "funds", "amount": "1800"})
    world.session.commit()
    cadre = pages.as_(people["cadre"])
    edit = text(cadre.get(f"/cases/{case.id}/edit"))
    assert "本活动标准：1,500.00元" in edit and "请填写「金额与标准不同的理由」" in edit
    saved = cadre.post(f"/cases/{case.id}/edit", {
        "version": str(fresh(world, case).version), "applicant.name": "王建国", "aid.kind": "funds",
        "aid.amount": "1800", "aid.amount_reason": "家中两人重病", "worker_group": "hardship_worker",
        "category": "deep"})
    assert saved.status_code == 302
    assert fresh(world, case).amount_reason == "家中两人重病"
    assert "请填写「金额与标准不同的理由」" not in text(cadre.get(f"/cases/{case.id}/edit"))


# ---------------------------------------------------------------- the screen and the API

def test_the_admin_sets_the_grid_all_or_none(pages, world, desk):
    _, campaign, people = desk
    admin = pages.as_(people["admin"])
    page = text(admin.get(f"/admin/campaigns/{campaign.id}/tariffs"))
    assert "深度困难" in page and "困难农民工" in page
    assert f"/admin/campaigns/{campaign.id}/tariffs" in text(admin.get(f"/admin/campaigns/{campaign.id}/edit"))
    bad = admin.post(f"/admin/campaigns/{campaign.id}/tariffs", {"tariff.deep.hardship_worker": "1500",
                                                                  "tariff.relative.other": "abc"})
    assert bad.status_code == 400 and "应为数字，如 1500、1,500 或 1500.50" in text(bad)
    assert world.session.scalars(select(Tariff)).all() == []  # nothing kept of a refused grid
    done = admin.post(f"/admin/campaigns/{campaign.id}/tariffs", {"tariff.deep.hardship_worker": "1500",
                                                                   "tariff.relative.other": "800"})
    assert done.status_code == 302
    world.session.commit()
    assert {(t.category, t.worker_group): t.amount for t in world.session.scalars(select(Tariff))} == {
        ("deep", "hardship_worker"): Decimal("1500"), ("relative", "other"): Decimal("800")}
    assert 'value="1500.00"' in text(admin.get(f"/admin/campaigns/{campaign.id}/tariffs"))


def test_the_api_sets_and_lists_tariffs(api, world, desk):
    _, campaign, people = desk
    path = f"/campaigns/{campaign.id}/tariffs"
    put = api.call("PUT", f"{path}/deep/model_worker", people["admin"], json={"amount": "1000"})
    assert put.status_code == 200 and put.json["amount"] == "1000.00"
    assert api.call("PUT", f"{path}/deep/model_worker", people["cadre"], json={"amount": "1"}).status_code == 403
    bad = api.call("PUT", f"{path}/nothing/model_worker", people["admin"], json={"amount": "1"})
    assert bad.status_code == 400 and "category" in bad.json["fields"]
    listed = api.call("GET", path, people["cadre"]).json
    assert listed == [{"campaign": campaign.id, "category": "deep", "worker_group": "model_worker",
                       "amount": "1000.00"}]
    gone = api.call("PUT", f"{path}/deep/model_worker", people["admin"], json={"amount": None})
    assert gone.status_code == 200 and gone.json["amount"] is None
    assert api.call("GET", path, people["cadre"]).json == []
