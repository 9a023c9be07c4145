"""Money through the API (API.md "Money"): batches, the bank file, the bank's result (400 with the rows, nothing
applied), and a returned case's account corrected by PATCH."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.identity import mask_account
from workflows.models import AuditEvent, Case
from workflows.states import State

from ..factories import bank_account
from .test_api_ledger import multipart


def states(world, ids) -> list[str]:
    with Session(world.session.get_bind()) as session:
        return [session.get(Case, i).state for i in ids]


def test_a_batch_its_bank_file_and_the_bank_s_result(api, world):
    cases = [world.case(State.district_approved) for _ in range(2)]
    finance = world.person("finance")
    world.session.commit()
    made = api.call("POST", "/payments/batches", finance, json={"cases": [c.id for c in cases]})
    assert made.status_code == 201, made.json
    batch = made.json
    assert batch["count"] == 2 and batch["amount"] == "2000.00" and batch["pending"] == 2
    assert [line["bank_account"] for line in batch["lines"]] == [mask_account(c.bank_account) for c in cases]
    assert api.call("GET", "/payments/batches", finance).json[0]["reference"] == batch["reference"]

    file = api.call("GET", f"/payments/batches/{batch['id']}/bank-file?format=csv", finance)
    assert file.status_code == 200 and file.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(file.data.decode("utf-8-sig"))))
    assert rows[0] == ["账号", "户名", "金额", "备注"] and [r[0] for r in rows[1:]] == [c.bank_account for c in cases]

    # The payments are recorded (the cases disbursed with the batch's reference), once; then the bank answers.
    sent = api.call("POST", f"/payments/batches/{batch['id']}/send", finance)
    assert sent.status_code == 200 and sent.json["sent_at"], sent.json
    assert states(world, [c.id for c in cases]) == [State.disbursed, State.disbursed]
    again = api.call("POST", f"/payments/batches/{batch['id']}/send", finance)
    assert again.status_code == 409 and "已记录发放" in again.json["message"]
    result = "账号,户名,金额,状态,原因\r\n" + "".join(
        f"{r[0]},{r[1]},{r[2]},{'失败' if i == 0 else '成功'},{'账户已冻结' if i == 0 else ''}\r\n"
        for i, r in enumerate(rows[1:]))
    wrong = result.replace(",1000.00,", ",100.00,", 1)
    refused = api.call("POST", f"/payments/batches/{batch['id']}/bank-result", finance,
                       **multipart(wrong.encode("utf-8-sig"), "回单.csv"))
    assert refused.status_code == 400 and refused.json["error"] == "invalid"
    assert refused.json["rows"] == [{"row": 2, "column": "账号", "message": "批次中没有账号、户名、金额都相同的付款明细"}]
    assert states(world, [c.id for c in cases]) == [State.disbursed, State.disbursed]
    done = api.call("POST", f"/payments/batches/{batch['id']}/bank-result", finance,
                    **multipart(result.encode("utf-8-sig"), "回单.csv"))
    assert done.status_code == 200 and done.json == {"paid": 1, "returned": 1}
    assert states(world, [c.id for c in cases]) == [State.payment_returned, State.disbursed]
    shown = api.call("GET", f"/payments/batches/{batch['id']}", finance).json
    assert [(line["status"], line["reason"]) for line in shown["lines"]] == [("returned", "账户已冻结"), ("paid", None)]


def test_patch_corrects_a_returned_case_s_account_and_nothing_else(api, world):
    case = world.case(State.payment_returned)
    cadre, head = world.person("cadre", case.union), world.person("head", case.union)
    world.session.commit()
    old, new = case.bank_account, bank_account()
    refused = api.call("PATCH", f"/cases/{case.id}", cadre, json={"version": case.version, "bank_account": new,
                                                                  "applicant": {"phone": "13800000001"}})
    assert refused.status_code == 400 and refused.json["fields"] == {"applicant": "退票待处理的案件只能更正银行账号"}
    bad = api.call("PATCH", f"/cases/{case.id}", cadre, json={"version": case.version, "bank_account": "12345"})
    assert bad.status_code == 400 and "bank_account" in bad.json["fields"]
    done = api.call("PATCH", f"/cases/{case.id}", cadre, json={"version": case.version, "bank_account": new})
    assert done.status_code == 200 and done.json["bank_account"] == mask_account(new)
    stale = api.call("PATCH", f"/cases/{case.id}", head, json={"version": case.version, "bank_account": new})
    assert stale.status_code == 409 and stale.json["error"] == "stale"
    with Session(world.session.get_bind()) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "correct_account")).one()
        assert event.changes == {"bank_account": [mask_account(old), mask_account(new)]}
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "correct_account")) == 1
    # Finance reissues it; the triggers say so.
    finance = world.person("finance")
    shown = api.call("GET", f"/cases/{case.id}", finance).json
    assert "reissue" in shown["triggers"]
