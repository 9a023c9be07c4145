"""Long lists as their users see them: following the next-page link shows every row once and in order even while
rows are being added (keyset pages: the link carries the last row's key), and a count past the bound reads
"1,000+" instead of scanning the whole list on every view, on the screens and in the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import insert

from workflows.infra.clock import to_db
from workflows.models import Archive, Case
from workflows.reads.worklists import COUNT_LIMIT
from workflows.states import State

LINK = re.compile(r'href="([^"]*[?;]after=[0-9.]+[^"]*)"[^>]*>下一页<')


def load(world, union, how_many: int, state: State = State.drafted, start: int = 0, step: int = 0) -> None:
    """`how_many` cases of `union` in `state`, each with an archive of its own, written in bulk (what is measured
    is the reading); the n-th changed `step` seconds after the (n-1)-th."""
    cadre = world.person("cadre", union)
    base = world.clock.now()
    archives, cases = [], []
    for i in range(start, start + how_many):
        at = to_db(base + dt.timedelta(seconds=step * (i - start)))
        archives.append(dict(version=1, union_id=union.id, status="active", applicant_name=f"职工{i:04d}",
                             created_at=at, updated_at=at, single_parent=False, zero_employment=False,
                             secondary_causes=[]))
    ids = world.session.execute(insert(Archive).returning(Archive.id), archives).scalars().all()
    for n, (i, archive_id) in enumerate(zip(range(start, start + how_many), ids)):
        at = to_db(base + dt.timedelta(seconds=step * n))
        cases.append(dict(version=1, campaign_id=world.default_campaign().id, union_id=union.id,
                          archive_id=archive_id, state=state, applicant_name=f"职工{i:04d}",
                          worker_group="hardship_worker", aid_kind="funds", aid_amount=500, created_by_id=cadre.id,
                          created_at=at, updated_at=at, medical=False, secondary_causes=[]))
    world.session.execute(insert(Case), cases)
    world.session.commit()


def shown(page: str, kind: str) -> list[str]:
    return re.findall(rf'<a href="/{kind}/\d+">(职工\d+)</a>', page)


def html(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def next_link(page: str) -> str | None:
    found = LINK.search(page)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.mark.parametrize("path, kind", [("/inbox", "cases"), ("/cases/", "cases"), ("/archives/", "archives")])
def test_paging_forward_shows_every_row_once_in_order_while_rows_are_added(pages, world, path, kind):
    union = world.default_union()
    load(world, union, 45, step=1)
    client = pages.as_(world.person("cadre", union))
    first = html(client.get(path))
    seen, link = shown(first, kind), next_link(first)
    assert len(seen) == 20 and "第 1 / 3 页" in first
    added = 0
    while link:
        # Someone drafts more while this person reads: with numbered pages (OFFSET) the rows would shift under
        # the reader, one seen twice or one never; the link's key keeps its place.
        load(world, union, 3, start=100 + added, step=0)
        added += 3
        page = html(client.get(link))
        seen += shown(page, kind)
        link = next_link(page)
    original = [f"职工{i:04d}" for i in range(45)]
    # The inbox: the longest waiting first; the lists: the newest first. The rows added meanwhile come after the
    # reader's place in the inbox (they have waited least) and before it in the lists (they are newer).
    expected = original if path == "/inbox" else original[::-1]
    assert [name for name in seen if name in original] == expected
    assert len(seen) == len(set(seen))


def test_numbered_pages_still_work(pages, world):
    """`page=` alone (old links, API clients) pages by offset as before."""
    union = world.default_union()
    load(world, union, 25, step=1)
    client = pages.as_(world.person("cadre", union))
    assert shown(html(client.get("/cases/?page=2")), "cases") == [f"职工{i:04d}" for i in range(4, -1, -1)]


def test_a_count_past_the_bound_reads_1000_plus_and_exact_below_it(pages, world):
    union = world.default_union()
    load(world, union, COUNT_LIMIT + 5)
    load(world, union, 3, state=State.documented, start=5000)
    client = pages.as_(world.person("cadre", union))
    inbox = html(client.get("/inbox"))
    assert '<b id="count-all">1,000+</b>' in inbox and "<b>1,000+</b>待补充资料" in inbox
    cases = html(client.get("/cases/"))
    assert "共 1,000+ 件，第 1 页" in cases and next_link(cases)
    assert "共 3 件，第 1 / 1 页" in html(client.get("/cases/?state=documented"))
    archives = html(client.get("/archives/"))
    assert "共 1,000+ 户，第 1 页" in archives
    second = html(client.get(next_link(cases)))
    assert "共 1,000+ 件，第 2 页" in second
    # In English, the same bound.
    client.client.set_cookie("lang", "en")
    assert "Cases: 1,000+ · page 1" in html(client.get("/cases/"))
    assert "Households: 1,000+ · page 1" in html(client.get("/archives/"))


def test_the_api_pages_by_cursor_and_says_when_the_count_is_bounded(api, world):
    union = world.default_union()
    load(world, union, COUNT_LIMIT + 5)
    cadre = world.person("cadre", union)
    page = api.call("GET", "/cases?per_page=100", cadre).json
    assert (page["total"], page["more"], len(page["items"])) == (COUNT_LIMIT, True, 100) and page["after"]
    seen, after = [item["id"] for item in page["items"]], page["after"]
    while after:
        page = api.call("GET", f"/cases?per_page=100&after={after}", cadre).json
        seen += [item["id"] for item in page["items"]]
        after = page["after"]
    assert len(seen) == len(set(seen)) == COUNT_LIMIT + 5 and seen == sorted(seen, reverse=True)
    small = api.call("GET", "/inbox?per_page=5", cadre).json
    assert small["more"] is True and small["groups"]["待补充资料"] == COUNT_LIMIT
    refused = api.call("GET", "/cases?after=x'1", cadre)
    assert refused.status_code == 400 and "after" in refused.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/cases?after=20180101000000000000.5", "/archives?after=7",
                                  "/inbox?after=7", "/cases?after=2147483648"])
def test_the_api_refuses_a_cursor_that_no_page_of_that_list_gave(api, world, path):
    """A program that sends another list's cursor, or one past any id, is told so instead of being given the first
    page again (it would loop over page 1 for ever)."""
    union = world.default_union()
    load(world, union, 3)
    answer = api.call("GET", path, world.person("cadre", union))
    assert answer.status_code == 400 and "翻页标记无效" in answer.get_data(as_text=True)


def test_an_empty_list_shows_no_pager_and_says_so(pages, world):
    union = world.default_union()
    load(world, union, 2)
    client = pages.as_(world.person("cadre", union))
    empty = html(client.get("/cases/?state=disbursed"))
    assert "没有符合条件的案件" in empty and "共 0 件" not in empty and 'class="pager' not in empty
    assert "共 2 件，第 1 / 1 页" in html(client.get("/cases/"))
    # The inbox says the filters found nothing, not that there is nothing to do.
    inbox = html(client.get("/inbox?q=没有这个人"))
    assert "没有符合条件的案件" in inbox and "眼下没有需要您处理的案件" not in inbox and 'class="pager' not in inbox
    assert "共 0 条" not in html(client.get("/notifications/"))
    admin = pages.as_(world.person("admin"))
    accounts = html(admin.get("/admin/accounts?role=finance&union=" + union.code))
    assert "没有符合条件的账号" in accounts and "共 0 个账号" not in accounts


def test_the_folded_filters_still_say_what_was_searched_for(pages, world):
    union = world.default_union()
    load(world, union, 2)
    client = pages.as_(world.person("cadre", union))
    found = html(client.get("/cases/?q=职工0001"))
    assert "筛选（已选 1 项，搜索“职工0001”）" in found
    client.client.set_cookie("lang", "en")
    assert "(1 chosen, searching \"职工0001\")" in html(client.get("/cases/?q=职工0001"))


@pytest.mark.parametrize("path", ["/cases/?after=99999999999999999999", "/cases/?after=2147483648",
                                  "/archives/?after=20180101000000000000.99999999999999999999",
                                  "/inbox?after=20180101000000000000.20180101000000000000.99999999999999999999"])
def test_a_cursor_beyond_any_row_opens_the_first_page(pages, world, path):
    """A link edited by hand to a number no id can be (past the 32-bit id columns) is a garbled link, not a 500."""
    union = world.default_union()
    load(world, union, 3)
    client = pages.as_(world.person("cadre", union))
    answer = client.get(path)
    assert answer.status_code == 200 and "职工0000" in answer.get_data(as_text=True)
