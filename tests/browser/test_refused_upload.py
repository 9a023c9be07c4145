"""A refused upload in a real browser, on a phone: a file of the wrong type, or one over the size limit (refused by
the server before it reads it, 413), leaves the cadre on the case page at the upload control, the message beside it
and in view, the chosen document kind still chosen; nothing is stored, and a reload posts nothing again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflows.infra.uploads import MAX_BYTES
from workflows.models import Document
from workflows.states import State

from .conftest import PHONE, in_view, posts

pytestmark = pytest.mark.slow  # a real browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def documents(world, case) -> int:
    world.session.commit()  # a new transaction: what the server committed meanwhile
    return world.session.scalar(select(func.count()).select_from(Document).where(Document.case_id == case.id))


@pytest.mark.parametrize("file, message", [
    ({"name": "申请表.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00" + b"\x00" * 64},
     "PDF"),
    ({"name": "申请表.pdf", "mimeType": "application/pdf", "buffer": PDF + b"\x00" * (MAX_BYTES + 128 * 1024)},
     "文件太大"),
], ids=["wrong-type", "too-large"])
def test_a_refused_upload_keeps_the_case_page_and_the_chosen_kind(tab, people, world, file, message):
    case = world.case(State.drafted)
    world.session.commit()
    before = documents(world, case)
    browser = tab(PHONE, "cadre_b", f"/cases/{case.id}")
    page = browser.page

    page.select_option("#document-kind", "household_ids")
    page.set_input_files("#document-file", files=[file])
    page.locator("form.upload button[type=submit]").click()
    page.wait_for_load_state()

    assert message in page.locator("#upload-error").inner_text() and in_view(page, "#upload-error")
    assert page.url == f"{browser.base}/cases/{case.id}#documents"  # the case page, not a bare error page
    assert page.input_value("#document-kind") == "household_ids"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    browser.shot(f"upload-refused-phone-{'too-large' if '太大' in message else 'wrong-type'}")

    sent = posts(page)
    page.reload()
    page.wait_for_load_state()
    assert sent == [] and documents(world, case) == before
