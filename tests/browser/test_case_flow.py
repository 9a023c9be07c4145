"""One case from draft to disbursed through the screens, as cadre, head, reviewer and finance in turn: what each
sees in the inbox, a blocked action with its reason, and the counts changing as the case moves."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.infra import audit
from workflows.models import Case
from workflows.vocab import REQUIRED_DOCUMENTS

from ..factories import PDF, bank_account, id_number

pytestmark = pytest.mark.slow  # a real browser
FIELDS = {
    "applicant.name": "王秀英", "applicant.id_number": None, "applicant.phone": "13812345678",
    "applicant.employer": "华光机械厂", "household.annual_income": "18000", "household.housing": "租住公房一间",
    "aid.amount": "1500", "bank_account": None,
}
SELECTS = {"applicant.gender": "female", "worker_group": "hardship_worker", "category": "deep",
           "causes.primary": "serious_illness", "aid.kind": "funds"}


def group_count(page, label: str) -> int:
    """The number on the inbox tile of a task group (0 when the group is not shown)."""
    tile = page.locator(".groups a", has_text=label)
    return int(tile.locator("b").inner_text()) if tile.count() else 0


def press(page, label: str) -> None:
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()


def test_a_case_from_draft_to_disbursed_through_the_screens(browser, people, world, tmp_path, committed):
    world.default_campaign()
    world.session.commit()
    page = browser.page

    # The cadre drafts the case: nothing to do yet, then the draft waits for its papers.
    browser.sign_in("cadre_b")
    assert group_count(page, "待补充资料") == 0
    browser.go("/cases/new")
    for name, value in FIELDS.items():
        value = value or (id_number(male=False) if name == "applicant.id_number" else bank_account())
        page.fill(f'[name="{name}"]', value)
    for name, value in SELECTS.items():
        page.select_option(f'[name="{name}"]', value)
    page.locator("button[name=save]").last.click()
    page.wait_for_load_state()
    assert re.search(r"/cases/\d+$", page.url), page.inner_text("main")
    case_path = page.url.removeprefix(browser.base)
    assert "王秀英" in page.inner_text("h1") and "已起草" in page.inner_text("#case-state")

    # Marking it documented is blocked, and the page says why.
    blocked = page.locator(".blocked", has_text="资料齐全")
    assert "缺少" in blocked.inner_text() and "困难职工档案" in blocked.inner_text()
    assert page.get_by_role("button", name="资料齐全，提交审核").is_disabled()
    browser.shot("case-page-blocked")
    browser.go("/inbox")
    assert group_count(page, "待补充资料") == 1
    browser.shot("inbox-cadre")

    # The papers, one upload each, then documented.
    for kind in REQUIRED_DOCUMENTS:
        browser.go(case_path)
        paper = tmp_path / f"{kind.value}.pdf"
        paper.write_bytes(PDF)
        page.select_option("#document-kind", kind.value)
        page.set_input_files("#document-file", str(paper))
        page.get_by_role("button", name="上传", exact=True).click()
        page.wait_for_load_state()
    assert "必需资料已齐全" in page.inner_text("#documents")
    press(page, "资料齐全，提交审核")
    assert "资料齐全" in page.inner_text("#case-state")
    # The household was never helped: its first public notice waits for a home visit, written on its archive.
    page.locator("#case-archive").click()
    page.wait_for_load_state()
    assert "首次公示前须入户调查" in page.inner_text("main")
    page.fill("#visitors", "郑海涛、工会小组长")
    page.fill("#findings", "住房狭小，配偶患病，与申报一致")
    page.locator("#visit-form button[type=submit]").click()
    page.wait_for_load_state()
    assert "郑海涛、工会小组长" in page.inner_text("#visits")
    browser.go(case_path)
    browser.go("/inbox")
    assert group_count(page, "待补充资料") == 0
    browser.sign_out()

    # The head approves and posts the public notice.
    browser.sign_in("head_b")
    assert group_count(page, "待审核") == 1
    browser.shot("inbox-head")
    page.get_by_role("link", name="王秀英").click()
    press(page, "基层审核通过")
    assert "基层已审核" in page.inner_text("#case-state")
    press(page, "开始公示")
    assert "公示中" in page.inner_text("#case-state")
    # The list is posted on the notice board: where, when and a photo, recorded on the list's page (enter waits).
    browser.go(f"/cases/notice?campaign={world.default_campaign().id}")
    photo = tmp_path / "notice.pdf"
    photo.write_bytes(PDF)
    page.fill("#place", "厂区公告栏")
    page.fill("#posted_on", "2018-01-08")
    page.set_input_files("#notice-file", str(photo))
    page.get_by_role("button", name="登记张贴情况").click()
    page.wait_for_load_state()
    assert "厂区公告栏" in page.inner_text("#postings")
    browser.go("/inbox")
    assert group_count(page, "待审核") == 0
    browser.sign_out()

    # The notice (0 working days in this campaign) is over: the cadre enters the case, with its file number.
    browser.sign_in("cadre_b")
    assert group_count(page, "公示期满待录入") == 1
    browser.go(case_path)
    press(page, "录入报送")
    assert "已录入报送" in page.inner_text("#case-state")
    assert "档案编号" in page.inner_text(".case-head")
    browser.shot("case-page-entered")
    browser.go(case_path + "/print")
    assert "困难职工档案" in page.inner_text("body")
    browser.shot("printable-worker-file")
    browser.sign_out()

    # The reviewer claims and approves it.
    browser.sign_in("reviewer_b")
    assert group_count(page, "待区总审定") == 1
    browser.shot("inbox-reviewer")
    page.get_by_role("link", name="王秀英").click()
    press(page, "认领该案件")
    assert "已认领" in page.inner_text("main")
    press(page, "区总审定通过")
    assert "区总已审定" in page.inner_text("#case-state")
    browser.go("/inbox")
    assert group_count(page, "待区总审定") == 0
    browser.sign_out()

    # Finance pays it: without a payment reference the page says what is missing; with one it is disbursed.
    browser.sign_in("finance_b")
    assert group_count(page, "待发放") == 1
    page.get_by_role("link", name="王秀英").click()
    press(page, "发放")
    assert "请填写付款凭证号" in page.inner_text("#actions")
    page.fill("#payment_reference", "ICBC-2018-0001")
    press(page, "发放")
    assert "已发放" in page.inner_text("#case-state")
    browser.go("/inbox")
    assert group_count(page, "待发放") == 0
    browser.sign_out()

    # No script or asset failed; the one refused action (409) is the page answering as it should.
    assert [e for e in browser.console_errors if "status of 409" not in e] == []
    with Session(committed) as session:
        case = session.scalar(select(Case))
        assert (case.state, case.payment_reference) == ("disbursed", "ICBC-2018-0001")
        assert audit.verify(session).ok
