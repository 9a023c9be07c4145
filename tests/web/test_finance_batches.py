"""Finance's screens of money as the bank sees it: batches made from the cases to pay, the bank file downloaded, the
payments recorded, the bank's result uploaded (bad rows shown by row, nothing applied), the 退票 list with its age,
and a returned case's page: the account corrected by its cadre, then 重新发放 by finance."""

from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from workflows.models import AuditEvent, Case, PaymentBatch
from workflows.states import State

from ..factories import bank_account


def html(response) -> str:
    return response.get_data(as_text=True)


def fresh(world, case_id: int) -> Case:
    world.session.rollback()  # a new transaction: what the requests committed, not this session's snapshot
    world.session.expire_all()
    return world.session.get(Case, case_id)


def test_a_batch_from_the_screens_to_the_bank_and_back(pages, world):
    cases = [world.case(State.district_approved) for _ in range(2)]
    world.session.commit()
    finance = pages.as_(world.person("finance"))
    page = html(finance.get("/finance/batches"))
    assert all(f'name="case" value="{c.id}"' in page for c in cases)
    assert all(c.bank_account not in page for c in cases)
    made = finance.post("/finance/batches", {"case": [str(c.id) for c in cases]})
    assert made.status_code == 302
    batch = world.session.scalars(select(PaymentBatch)).one()
    page = html(finance.get(made.headers["Location"]))
    assert batch.reference in page and "待发放" in page
    assert all(c.bank_account not in page for c in cases)
    # Not offered for another batch while this one waits.
    assert f'name="case" value="{cases[0].id}"' not in html(finance.get("/finance/batches"))

    file = finance.post(f"/finance/batches/{batch.id}/bank-file", {"format": "xlsx"})
    assert file.status_code == 200 and file.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(file.data)).active
    assert [c.value for c in sheet[1]] == ["账号", "户名", "金额", "备注"] and sheet.max_row == 3

    assert finance.post(f"/finance/batches/{batch.id}/send").status_code == 302
    assert {fresh(world, c.id).state for c in cases} == {State.disbursed}
    rows = [[str(sheet.cell(r, 1).value), sheet.cell(r, 2).value, sheet.cell(r, 3).value] for r in (2, 3)]
    bad = "账号,户名,金额,状态,原因\r\n" + f"{rows[0][0]},{rows[0][1]},5.00,成功,\r\n"
    refused = finance.post(f"/finance/batches/{batch.id}/result", {"file": (io.BytesIO(bad.encode()), "回单.csv")},
                           content_type="multipart/form-data")
    assert refused.status_code == 400
    shown = html(refused)
    assert 'id="result-errors"' in shown and "批次中没有账号、户名、金额都相同的付款明细" in shown
    assert re.search(r"<td class=\"num\">2</td>", shown)  # by its row in the file
    good = "账号,户名,金额,状态,原因\r\n" + f"{rows[0][0]},{rows[0][1]},{rows[0][2]},失败,账户已销户\r\n" \
        + f"{rows[1][0]},{rows[1][1]},{rows[1][2]},成功,\r\n"
    done = finance.post(f"/finance/batches/{batch.id}/result", {"file": (io.BytesIO(good.encode()), "回单.csv")},
                        content_type="multipart/form-data")
    assert done.status_code == 302
    assert [fresh(world, c.id).state for c in cases] == [State.payment_returned, State.disbursed]


def test_a_goods_case_is_not_offered_for_a_bank_batch(pages, world):
    """Every case is ticked when the page opens: one that the batch must refuse would make that first click fail."""
    money, goods = world.case(State.district_approved), world.case(State.district_approved)
    goods.aid_amount = None  # goods (送实物): handed over against a receipt
    world.session.commit()
    finance = pages.as_(world.person("finance"))
    page = html(finance.get("/finance/batches"))
    assert f'name="case" value="{money.id}"' in page and f'name="case" value="{goods.id}"' not in page
    assert finance.post("/finance/batches", {"case": [str(money.id)]}).status_code == 302


def test_the_returned_list_shows_age_reason_and_correction(pages, world, clock):
    case = world.case(State.payment_returned)
    clock.set(clock.now() + dt.timedelta(days=3))
    world.session.commit()
    finance = pages.as_(world.person("finance"))
    page = html(finance.get("/finance/returned"))
    row = page[page.index(f'id="returned-{case.id}"'):]
    assert f'href="/cases/{case.id}"' in row and "账户已销户" in row and "未更正" in row
    assert '<td class="num">3</td>' in row
    assert pages.as_(world.person("cadre", case.union)).get("/finance/returned").status_code == 403


def test_a_returned_case_is_corrected_on_its_page_and_reissued_by_finance(pages, world):
    case = world.case(State.payment_returned)
    world.session.commit()
    finance = pages.as_(world.person("finance"))
    page = html(finance.get(f"/cases/{case.id}"))
    assert 'id="correct-account"' in page and "重新发放" in page
    assert "退票后尚未更正银行账号" in page  # the blocked button says why
    cadre = pages.as_(world.person("cadre", case.union))
    page = html(cadre.get(f"/cases/{case.id}"))
    assert 'id="correct-account"' in page and "账户已销户" in page
    wrong = cadre.post(f"/cases/{case.id}/account", {"version": str(case.version), "bank_account": "6222000000000000001"})
    assert wrong.status_code == 400 and "银行账号校验位错误" in html(wrong)
    assert "6222000000000000001" in html(wrong)  # what was typed comes back
    number = bank_account()
    done = cadre.post(f"/cases/{case.id}/account", {"version": str(case.version), "bank_account": number})
    assert done.status_code == 302, html(done)
    assert fresh(world, case.id).bank_account == number
    page = html(finance.get(f"/cases/{case.id}"))
    assert number not in page and 'name="trigger" value="reissue"' in page
    assert finance.post(f"/cases/{case.id}/act", {"trigger": "reissue",
                                                  "version": str(fresh(world, case.id).version)}).status_code == 302
    assert fresh(world, case.id).state == State.district_approved
    assert [e.action for e in world.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                                    .order_by(AuditEvent.seq))][-2:] == ["correct_account", "reissue"]


def test_select_all_keeps_what_was_typed(pages, world):
    campaign = world.campaign()
    cases = [world.case(State.district_approved, campaign=campaign) for _ in range(2)]
    world.session.commit()
    finance = pages.as_(world.person("finance"))
    data = {"action": "select_all", "campaign": str(campaign.id), "reference": "ICBC-2018-01",
            f"ref-{cases[0].id}": "ICBC-A", f"version-{cases[0].id}": str(cases[0].version)}
    page = html(finance.post("/finance/batch", data))
    assert page.count("checked") == 2
    assert 'value="ICBC-A"' in page and 'value="ICBC-2018-01"' in page
    page = html(finance.post("/finance/batch", {**data, "action": "select_none"}))
    assert page.count("checked") == 0 and 'value="ICBC-A"' in page
