"""Payment batches as the bank sees them (DOMAIN.md, Money as the bank and the unions see it): the bank file read
back as the bank would, the bank's result imported (all rows or none), returned payments corrected and paid again,
the budget counting each case once."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.finance import bankfile
from workflows import rules, verbs
from workflows.errors import Forbidden, Refused
from workflows.identity import luhn_complete
from workflows.models import AuditEvent, Case, Notification, PaymentLine
from workflows.states import COMMITTED, State
from workflows.verbs.payments import ResultInvalid

MAX = 10 * 1024 * 1024


def count(session, *where) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(*where))


def ready(make, n=3, **kwargs) -> list[Case]:
    """`n` district-approved cases whose accounts start with a 0, as some do: the file must keep it."""
    cases = [make.case(State.district_approved, **kwargs) for _ in range(n)]
    cases[0].bank_account = luhn_complete("0" + cases[0].bank_account[1:-1])
    return cases


def result_xlsx(rows) -> bytes:
    """The bank's result file as the bank writes it."""
    book = Workbook()
    sheet = book.active
    sheet.append(["账号", "户名", "金额", "状态", "原因"])
    for row in rows:
        sheet.append(list(row))
        sheet.cell(sheet.max_row, 1).number_format = "@"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def outcome_rows(batch, failed: dict[int, str]):
    """One result row per line: 失败 with the reason for the cases in `failed`, 成功 for the others."""
    return [(line.bank_account, line.name, float(line.amount), "失败" if line.case_id in failed else "成功",
             failed.get(line.case_id, "")) for line in batch.lines]


def test_the_bank_file_round_trips_as_the_bank_reads_it(session, make, clock):
    finance = make.person("finance")
    cases = ready(make)
    events = count(session)
    batch = verbs.create_batch(session, finance, clock, [c.id for c in cases])
    assert re.fullmatch(r"PC-\d{8}-001", batch.reference)
    assert [(l.case_id, l.bank_account, l.name, l.amount, l.status) for l in batch.lines] == \
        [(c.id, c.bank_account, c.applicant_name, c.aid_amount, "pending") for c in cases]
    for fmt in ("xlsx", "csv"):
        verbs.bank_file(session, finance, clock, batch.id, fmt)
        content = bankfile.write(batch, fmt)
        if fmt == "xlsx":
            book = load_workbook(io.BytesIO(content))
            assert len(book.worksheets) == 1
            sheet = book.active
            assert not sheet.merged_cells.ranges
            rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
            assert all(sheet.cell(r, 1).data_type == "s" for r in range(2, sheet.max_row + 1))  # accounts as text
            assert all(sheet.cell(r, 3).number_format == "0.00" for r in range(2, sheet.max_row + 1))
        else:
            assert content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel opens the Chinese right
            rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
            assert rows[1][2] == "1000.00"
        assert rows[0] == ["账号", "户名", "金额", "备注"]
        assert len(rows) == 1 + len(cases)  # one header row, one row a case: no title, no totals
        assert [str(r[0]) for r in rows[1:]] == [c.bank_account for c in cases]
        assert str(rows[1][0]).startswith("0")  # leading digits intact
        assert [(r[1], Decimal(str(r[2])), r[3]) for r in rows[1:]] == \
            [(c.applicant_name, Decimal("1000"), c.file_number) for c in cases]
    written = session.scalars(select(AuditEvent).where(AuditEvent.seq > 0).order_by(AuditEvent.seq)).all()[events:]
    assert [e.action for e in written] == ["create_batch", "bank_file", "bank_file"]
    assert all(c.bank_account not in json.dumps(e.changes) for e in written for c in cases)
    assert written[1].changes["format"] == [None, "xlsx"] and written[1].changes["total"] == [None, "3000.00"]


def test_the_bank_file_is_finance_s_alone(session, make, clock):
    cases = ready(make, 1)
    batch = verbs.create_batch(session, make.person("finance"), clock, [cases[0].id])
    for role in ("reviewer", "auditor", "cadre"):
        with pytest.raises(Forbidden):
            verbs.bank_file(session, make.person(role, cases[0].union), clock, batch.id, "xlsx")


def test_a_case_goes_in_one_waiting_batch_only_and_must_be_payable(session, make, clock):
    finance = make.person("finance")
    cases = ready(make, 2)
    verbs.create_batch(session, finance, clock, [cases[0].id])
    with pytest.raises(Refused) as caught:
        verbs.create_batch(session, finance, clock, [cases[1].id, cases[0].id])
    assert caught.value.rule == "batch" and "已在另一个尚未发放的批次中" in caught.value.message
    entered = make.case(State.entered)
    with pytest.raises(Refused) as caught:
        verbs.create_batch(session, finance, clock, [entered.id])
    assert session.scalar(select(func.count()).select_from(PaymentLine)) == 1


def test_a_result_with_one_failed_line_returns_that_case_and_pays_the_rest(session, make, clock):
    finance = make.person("finance")
    cases = ready(make)
    batch = verbs.create_batch(session, finance, clock, [c.id for c in cases])
    verbs.send_batch(session, finance, clock, batch.id)
    assert {c.state for c in cases} == {State.disbursed}
    assert {c.payment_reference for c in cases} == {batch.reference}
    events = count(session)
    rows = bankfile.read_result(result_xlsx(outcome_rows(batch, {cases[1].id: "账户已冻结"})), MAX)
    verbs.bank_result(session, finance, clock, batch.id, rows)
    assert [c.state for c in cases] == [State.disbursed, State.payment_returned, State.disbursed]
    assert [l.status for l in batch.lines] == ["paid", "returned", "paid"]
    assert (cases[1].return_reason, batch.lines[1].reason) == ("账户已冻结", "账户已冻结")
    written = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()[events:]
    assert [e.action for e in written] == ["bounce", "bank_result"]
    assert written[0].comment == "账户已冻结" and written[1].changes["returned"] == [None, "1"]
    told = session.scalars(select(Notification).where(Notification.case_id == cases[1].id)).all()
    assert any("账户已冻结" in n.text for n in told)  # the drafter hears of it at once
    # The same result again settles nothing twice: every row is reported, nothing applied.
    with pytest.raises(ResultInvalid):
        verbs.bank_result(session, finance, clock, batch.id, rows)


def test_unmatched_or_doubled_lines_are_reported_and_nothing_is_applied(session, make, clock):
    finance = make.person("finance")
    cases = ready(make)
    batch = verbs.create_batch(session, finance, clock, [c.id for c in cases])
    verbs.send_batch(session, finance, clock, batch.id)
    good = outcome_rows(batch, {cases[2].id: "户名不符"})
    wrong_amount = (good[1][0], good[1][1], 999.0, "成功", "")
    bad = [good[0], wrong_amount, good[2], good[0], (good[1][0], good[1][1], 1000, "退回", "")]
    events = count(session)
    with pytest.raises(ResultInvalid) as caught:
        verbs.bank_result(session, finance, clock, batch.id, bankfile.read_result(result_xlsx(bad), MAX))
    assert [(r.row, r.message) for r in caught.value.rows] == [
        (3, "批次中没有账号、户名、金额都相同的付款明细"),
        (5, "与第2行是同一笔付款明细"),
        (6, "状态应为「成功」或「失败」，不是「退回」")]
    assert [c.state for c in cases] == [State.disbursed] * 3
    assert {l.status for l in batch.lines} == {"pending"} and batch.result_at is None
    assert count(session) == events


def test_a_line_matching_two_payments_is_never_guessed(session, make, clock):
    finance = make.person("finance")
    cases = ready(make, 2)
    cases[1].bank_account, cases[1].applicant_name = cases[0].bank_account, cases[0].applicant_name
    batch = verbs.create_batch(session, finance, clock, [c.id for c in cases])
    verbs.send_batch(session, finance, clock, batch.id)
    with pytest.raises(ResultInvalid) as caught:
        verbs.bank_result(session, finance, clock, batch.id, bankfile.read_result(
            result_xlsx(outcome_rows(batch, {})[:1]), MAX))
    assert "有2笔账号、户名、金额都相同的付款明细，无法确定是哪一笔" in caught.value.rows[0].message


def test_the_csv_result_is_read_too(session, make, clock):
    finance = make.person("finance")
    cases = ready(make, 2)
    batch = verbs.create_batch(session, finance, clock, [c.id for c in cases])
    verbs.send_batch(session, finance, clock, batch.id)
    text = "账号,户名,金额,状态,原因\r\n" + "".join(
        f"{a},{n},{m:.2f},{s},{r}\r\n" for a, n, m, s, r in outcome_rows(batch, {cases[0].id: "账号不存在"}))
    verbs.bank_result(session, finance, clock, batch.id, bankfile.read_result(text.encode("gb18030"), MAX))
    assert [c.state for c in cases] == [State.payment_returned, State.disbursed]


def test_a_returned_payment_is_paid_again_once_and_the_budget_counts_it_once(session, make, clock):
    campaign = make.campaign(budget="2000")
    finance, other = make.person("finance"), make.account("finance")
    a, b = ready(make, 2, campaign=campaign)
    first = verbs.create_batch(session, finance, clock, [a.id, b.id])
    verbs.send_batch(session, finance, clock, first.id)
    verbs.bank_result(session, finance, clock, first.id, bankfile.read_result(
        result_xlsx(outcome_rows(first, {a.id: "账户已销户"})), MAX))
    assert a.state == State.payment_returned and State.payment_returned in COMMITTED
    # The returned money is still spoken for: a third case does not fit the budget meanwhile.
    third = make.case(State.entered, campaign=campaign, aid={"kind": "funds", "amount": "1", "medical": False})
    assert [r.rule for r in rules.guards.work_reasons(session, third, "district_approve", clock.now())] == ["budget"]
    with pytest.raises(Refused):
        verbs.create_batch(session, finance, clock, [a.id])  # not payable until reissued
    with pytest.raises(Refused) as caught:
        make.fire(a, "reissue", other)
    assert caught.value.rule == "account"
    make.correct_account(a)  # by the union's cadre
    make.fire(a, "reissue", finance)
    assert a.state == State.district_approved
    second = verbs.create_batch(session, other, clock, [a.id])
    assert second.reference.endswith("-002") and second.lines[0].bank_account == a.bank_account
    verbs.send_batch(session, other, clock, second.id)
    verbs.bank_result(session, other, clock, second.id, bankfile.read_result(
        result_xlsx(outcome_rows(second, {})), MAX))
    assert (a.state, a.payment_reference) == (State.disbursed, second.reference)
    with pytest.raises(Refused):
        make.fire(a, "disburse", finance)  # paid once: nothing pays it a third time
    spent = session.scalar(select(func.sum(Case.aid_amount)).where(Case.campaign_id == campaign.id,
                                                                   Case.state.in_(COMMITTED)))
    assert spent == Decimal("2000")  # two cases, each counted once, though one was paid twice
    assert count(session, AuditEvent.case_id == a.id, AuditEvent.action == "disburse") == 2
    assert count(session, AuditEvent.case_id == a.id, AuditEvent.action == "bounce") == 1


def test_a_batch_is_sent_once_and_its_result_waits_for_it(session, make, clock):
    finance = make.person("finance")
    cases = ready(make, 1)
    batch = verbs.create_batch(session, finance, clock, [cases[0].id])
    with pytest.raises(Refused) as caught:
        verbs.bank_result(session, finance, clock, batch.id, bankfile.read_result(
            result_xlsx(outcome_rows(batch, {})), MAX))
    assert "尚未记录发放" in caught.value.message
    verbs.send_batch(session, finance, clock, batch.id)
    with pytest.raises(Refused):
        verbs.send_batch(session, finance, clock, batch.id)


# ---------------------------------------------------------------- what a hostile reading found

def test_a_result_for_a_case_bounced_by_hand_and_reissued_applies_nothing(session, make, clock):
    finance, other = make.person("finance"), make.account("finance")
    cases = ready(make, n=2)
    first = verbs.create_batch(session, finance, clock, [c.id for c in cases])
    verbs.send_batch(session, finance, clock, first.id)
    make.fire(cases[0], "bounce", finance, comment="柜面退回")  # by hand, before the bank's file came
    make.correct_account(cases[0])
    make.fire(cases[0], "reissue", other)
    second = verbs.create_batch(session, finance, clock, [cases[0].id])
    verbs.send_batch(session, finance, clock, second.id)
    for outcome in ("成功", "失败"):  # either would record a second payment or return the later one
        rows = [(line.bank_account, line.name, float(line.amount), outcome, "户名不符") for line in first.lines]
        with pytest.raises(ResultInvalid) as refused:
            verbs.bank_result(session, finance, clock, first.id, bankfile.read_result(result_xlsx(rows), MAX))
        assert "已不在本批次的发放中" in refused.value.rows[0].message
    assert cases[0].state == State.disbursed and cases[0].payment_reference == second.reference
    assert {line.status for line in first.lines} == {"pending"}


def test_a_case_waiting_in_a_batch_is_paid_by_that_batch_only(session, make, clock):
    finance = make.person("finance")
    [case] = ready(make, n=1)
    verbs.create_batch(session, finance, clock, [case.id])
    with pytest.raises(Refused, match="已在尚未发放的批次中"):
        verbs.payment_export(session, finance, clock, [case.id])
    with pytest.raises(Refused, match="已在尚未发放的批次中"):
        verbs.disburse_batch(session, finance, clock, [verbs.payments.Payment(case.id, case.version)], "ICBC-1")
    assert case.state == State.district_approved


def test_a_goods_case_or_a_formula_name_is_kept_out_of_a_bank_batch(session, make, clock):
    finance = make.person("finance")
    [case] = ready(make, n=1)
    case.aid_amount = None  # goods: handed over against a receipt
    with pytest.raises(Refused, match="没有现金帮扶金额"):
        verbs.create_batch(session, finance, clock, [case.id])
    case.aid_amount, case.applicant_name = Decimal("1000"), "=HYPERLINK(1)"
    with pytest.raises(Refused, match="户名不能以"):
        verbs.create_batch(session, finance, clock, [case.id])


def test_an_amount_too_large_to_read_is_a_problem_of_its_row(session, make, clock):
    finance = make.person("finance")
    cases = ready(make, n=1)
    batch = verbs.create_batch(session, finance, clock, [c.id for c in cases])
    verbs.send_batch(session, finance, clock, batch.id)
    line = batch.lines[0]
    content = ("\ufeff账号,户名,金额,状态,原因\r\n" + f"{line.bank_account},{line.name},1e999999999,成功,\r\n").encode()
    with pytest.raises(ResultInvalid) as refused:
        verbs.bank_result(session, finance, clock, batch.id, bankfile.read_result(content, MAX))
    assert refused.value.rows[0].message == "金额「1e999999999」不是数字"


def test_the_banks_reason_is_kept_masked(session, make, clock):
    finance = make.person("finance")
    cases = ready(make, n=1)
    batch = verbs.create_batch(session, finance, clock, [c.id for c in cases])
    verbs.send_batch(session, finance, clock, batch.id)
    account = batch.lines[0].bank_account
    rows = outcome_rows(batch, {cases[0].id: f"账号{account}已销户"})
    verbs.bank_result(session, finance, clock, batch.id, bankfile.read_result(result_xlsx(rows), MAX))
    assert account not in cases[0].return_reason and account[-4:] in cases[0].return_reason
    assert all(account not in (e.comment or "") for e in session.scalars(select(AuditEvent)))
