"""Finance's batch page: what it lists and totals, numbers masked on screen; the payment export (full numbers,
finance only, audited); payments recorded for a batch all or nothing, the refused case named."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from workflows.models import AuditEvent, Case
from workflows.states import State


def funds(amount: str) -> dict:
    return {"kind": "funds", "amount": amount, "medical": False}


def html(response) -> str:
    return response.get_data(as_text=True)


def fresh(world, case) -> Case:
    world.session.expire_all()
    return world.session.get(Case, case.id)


def events(world, action: str) -> list[AuditEvent]:
    world.session.expire_all()
    return world.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                 .order_by(AuditEvent.seq)).all()


def form(*cases, action: str, reference: str = "", **extra) -> dict:
    data = {"action": action, "reference": reference, "case": [str(c.id) for c in cases]}
    for case in cases:
        data[f"version-{case.id}"] = str(case.version)
    data.update(extra)
    return data


@pytest.fixture
def batch(world):
    """Two unions' district-approved cases, one paid and one still at the district."""
    first, second = world.union("第一机床厂工会"), world.union("红星纺织厂工会")
    cases = {
        "a": world.case(State.district_approved, first, aid=funds("1000")),
        "b": world.case(State.district_approved, second, aid=funds("800.50")),
        "paid": world.case(State.disbursed, first, aid=funds("600")),
        "entered": world.case(State.entered, first, aid=funds("999")),
    }
    world.session.commit()
    return cases


def test_finance_sees_the_cases_to_pay_with_totals_numbers_masked(pages, world, batch):
    finance = pages.as_(world.person("finance"))
    page = html(finance.get("/finance/"))
    for key in ("a", "b"):
        case = batch[key]
        assert f'href="/cases/{case.id}"' in page
        assert case.bank_account not in page
        assert "*" * (len(case.bank_account) - 4) + case.bank_account[-4:] in page
    assert f'href="/cases/{batch["entered"].id}"' not in page
    assert f'href="/cases/{batch["paid"].id}"' not in page  # paid: on the other tab
    assert re.search(r'id="pending-count">2<', page) and re.search(r'id="paid-count">1<', page)
    assert 'id="pending-total">1,800.50<' in page
    assert '>发放</a>' in page  # the header's section

    mine = html(finance.get(f"/finance/?union={batch['a'].union.code}"))
    assert f'href="/cases/{batch["a"].id}"' in mine and f'href="/cases/{batch["b"].id}"' not in mine
    assert 'id="pending-total">1,000.00<' in mine

    paid = html(finance.get("/finance/?state=disbursed"))
    assert f'href="/cases/{batch["paid"].id}"' in paid
    assert batch["paid"].payment_reference in paid
    assert batch["paid"].bank_account not in paid


def test_ticking_all_and_the_budget_left(pages, world):
    campaign = world.campaign(budget="5000")
    cases = [world.case(State.district_approved, campaign=campaign, aid=funds("1000")) for _ in range(2)]
    world.case(State.disbursed, campaign=campaign, aid=funds("1200"))
    world.session.commit()
    finance = pages.as_(world.person("finance"))
    page = html(finance.get(f"/finance/?campaign={campaign.id}&all=1"))
    assert page.count("checked") == 2
    assert 'id="budget-left">3,800.00<' in page
    assert html(finance.get(f"/finance/?campaign={campaign.id}")).count("checked") == 0
    assert all(f'value="{c.id}"' in page for c in cases)


@pytest.mark.parametrize("role", ["cadre", "head", "reviewer", "auditor", "admin"])
def test_only_finance_may_open_the_batch_or_export_it(pages, world, batch, role):
    someone = pages.as_(world.person(role, batch["a"].union))
    assert someone.get("/finance/").status_code == 403
    response = someone.post("/finance/batch", form(batch["a"], action="export"))
    assert response.status_code == 403
    assert batch["a"].bank_account not in html(response)
    response = someone.post("/finance/batch", form(batch["a"], action="disburse", reference="ICBC-1"))
    assert response.status_code == 403
    assert events(world, "payment_export") == [] and fresh(world, batch["a"]).state == State.district_approved


def test_the_export_has_the_full_account_numbers_and_is_audited(pages, world, batch):
    finance = world.person("finance")
    response = pages.as_(finance).post("/finance/batch", form(batch["b"], batch["a"], action="export"))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment; filename=payment-batch-" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert "付款清单" in rows[0][0]
    assert rows[2] == ["序号", "档案编号", "基层工会", "收款人姓名", "工商银行账号", "金额（元）", "活动"]
    body = {row[4]: row for row in rows[3:-1]}
    assert set(body) == {batch["a"].bank_account, batch["b"].bank_account}  # full numbers, as text
    for case in (batch["a"], batch["b"]):
        row = body[case.bank_account]
        assert row[1:4] == [case.file_number, case.union.name, case.applicant_name]
        assert Decimal(str(row[5])) == case.aid_amount
    assert rows[-1][:2] == ["合计", "2件"] and Decimal(str(rows[-1][5])) == Decimal("1800.50")
    [event] = events(world, "payment_export")
    assert event.actor_id == finance.id
    assert event.changes["count"] == [None, "2"] and event.changes["total"] == [None, "1800.50"]
    assert set(event.changes["cases"][1].split(",")) == {str(batch["a"].id), str(batch["b"].id)}
    assert fresh(world, batch["a"]).state == State.district_approved  # exporting pays nothing


def test_an_export_of_nothing_or_of_a_paid_case_is_refused(pages, world, batch):
    finance = pages.as_(world.person("finance"))
    response = finance.post("/finance/batch", {"action": "export"})
    assert response.status_code == 400 and "请先勾选要导出的案件" in html(response)
    response = finance.post("/finance/batch", form(batch["a"], batch["paid"], action="export"))
    assert response.status_code == 409 and "只有待发放的案件可以导出付款" in html(response)
    assert events(world, "payment_export") == []


def test_a_batch_is_recorded_in_one_action(pages, world, batch):
    finance = pages.as_(world.person("finance"))
    data = form(batch["a"], batch["b"], action="disburse", reference="ICBC-20180110-01",
                **{f"ref-{batch['b'].id}": "ICBC-OWN-B"})
    response = finance.post("/finance/batch", data)
    assert response.status_code == 302
    page = html(finance.get(response.headers["Location"]))
    assert "已记录 2 件发放，合计 1,800.50 元" in page
    assert fresh(world, batch["a"]).payment_reference == "ICBC-20180110-01"
    assert fresh(world, batch["b"]).payment_reference == "ICBC-OWN-B"
    assert fresh(world, batch["b"]).state == State.disbursed


def test_a_batch_over_the_budget_records_nothing_and_names_the_case(pages, world):
    campaign = world.campaign(budget="3000")
    cases = [world.case(State.district_approved, campaign=campaign, aid=funds("1000")) for _ in range(3)]
    campaign.budget = Decimal("2500")  # cut behind the application's back after the approvals
    world.session.commit()
    finance = pages.as_(world.person("finance"))
    data = form(*cases, action="disburse", reference="ICBC-7", **{f"ref-{cases[0].id}": "ICBC-OWN-1"})
    response = finance.post("/finance/batch", data)
    assert response.status_code == 409
    page = html(response)
    third = cases[2]
    assert f"{third.applicant_name}（档案编号{third.file_number}）：超出活动预算：剩余500.00元，本次需要1,000.00元" in page
    assert f'class="has-error refused" id="case-{third.id}"' in page
    assert 'value="ICBC-OWN-1"' in page and 'value="ICBC-7"' in page  # what was typed is kept
    assert page.count("checked") == 3
    assert [fresh(world, c).state for c in cases] == [State.district_approved] * 3
    assert events(world, "disburse") == []


def test_a_reference_typed_on_a_row_not_ticked_is_pointed_out(pages, world, batch):
    finance = pages.as_(world.person("finance"))
    data = form(batch["a"], action="disburse", reference="ICBC-1", **{f"ref-{batch['b'].id}": "ICBC-B"})
    response = finance.post("/finance/batch", data)
    assert response.status_code == 400
    assert "有案件填写了付款凭证号但没有勾选" in html(response)
    assert fresh(world, batch["a"]).state == State.district_approved


def test_nothing_ticked_or_no_reference(pages, world, batch):
    finance = pages.as_(world.person("finance"))
    response = finance.post("/finance/batch", {"action": "disburse", "reference": "ICBC-1"})
    assert response.status_code == 400 and "请先勾选要发放的案件" in html(response)
    response = finance.post("/finance/batch", form(batch["a"], action="disburse"))
    assert response.status_code == 409 and "请填写批次付款凭证号" in html(response)
    assert world.session.scalar(select(func.count()).select_from(Case).where(Case.state == State.disbursed)) == 1


def test_the_case_page_masks_the_account_for_finance(pages, world, batch):
    case = batch["a"]
    page = html(pages.as_(world.person("finance")).get(f"/cases/{case.id}"))
    assert case.bank_account not in page and case.bank_account[-4:] in page
