"""The notifications screen and the header's unread count: what a person was told, newest first, read or not."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from workflows.infra.clock import to_db
from workflows.infra.outbox import notify
from workflows.models import Notification
from workflows.states import State

UNREAD = re.compile(r'<span class="badge" id="unread">(\d+)</span>')


def badge(response) -> int:
    """The number on the header's bell; no badge is none unread."""
    found = UNREAD.search(response.get_data(as_text=True))
    return int(found.group(1)) if found else 0


class Rows(HTMLParser):
    """The cell texts of each body row of the table #notifications."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == "notifications":
            self._in_table = True
        elif tag == "tbody" and self._in_table:
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._in_table = self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def rows(page) -> list[list[str]]:
    """The list's rows as shown (of a response or its HTML): time, text (with 未读 before an unread one), and the
    buttons."""
    parser = Rows()
    parser.feed(page if isinstance(page, str) else page.get_data(as_text=True))
    return parser.rows


def texts(page) -> list[str]:
    return [row[1].removeprefix("未读").strip() for row in rows(page) if len(row) == 3]


def flashes(client) -> list[str]:
    with client.client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def stored(world, account) -> list[tuple[int, bool]]:
    """(id, read) of the account's notifications as the database has them."""
    world.session.commit()
    world.session.expire_all()
    return [(n.id, n.read_at is not None) for n in world.session.scalars(
        select(Notification).where(Notification.account_id == account.id).order_by(Notification.id))]


class Notes:
    """Notifications made as the system makes them (workflows.infra.outbox), a minute apart."""

    def __init__(self, world) -> None:
        self.world, self.serial = world, 0

    def __call__(self, account, text=None, case=None, read=False) -> Notification:
        self.serial += 1
        self.world.clock.advance(minutes=1)
        note = notify(self.world.session, key=f"test:{self.serial}", account_id=account.id, kind="reminder",
                      text=text or f"提醒{self.serial}", now=self.world.clock.now(),
                      case_id=case.id if case else None)
        if read:
            note.read_at = to_db(self.world.clock.now())
        self.world.session.flush()
        return note


@pytest.fixture
def note(world):
    return Notes(world)


@pytest.fixture
def cadre(world):
    return world.person("cadre", world.default_union())


def test_the_badge_counts_the_persons_unread_notifications(pages, world, cadre, note):
    head = world.person("head", world.default_union())
    for _ in range(3):
        note(cadre)
    note(cadre, read=True)
    note(head)  # someone else's
    world.session.commit()
    client = pages.as_(cadre)

    for path in ("/notifications/", "/cases/", "/summaries/"):  # on every page, in the header
        assert badge(client.get(path)) == 3
    assert badge(pages.as_(head).get("/notifications/")) == 1
    assert badge(pages.as_(world.person("reviewer")).get("/notifications/")) == 0


def test_marking_one_read_lowers_the_count_and_changes_nothing_else(pages, world, cadre, note):
    first, second = note(cadre, "第一条"), note(cadre, "第二条")
    world.session.commit()
    client = pages.as_(cadre)
    page = client.get("/notifications/")
    assert badge(page) == 2 and [r[1] for r in rows(page)] == ["未读 第二条", "未读 第一条"]

    response = client.post(f"/notifications/{first.id}/read")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/"
    assert stored(world, cadre) == [(first.id, True), (second.id, False)]
    page = client.get("/notifications/")
    assert badge(page) == 1 and [r[1] for r in rows(page)] == ["未读 第二条", "第一条"]
    assert [r[2] for r in rows(page)] == ["标为已读", ""]  # nothing left to do with the one read

    # Marking it again changes nothing, not even the time it was read.
    read_at = world.session.get(Notification, first.id).read_at
    world.clock.advance(hours=1)
    assert client.post(f"/notifications/{first.id}/read").status_code == 302
    assert stored(world, cadre) == [(first.id, True), (second.id, False)]
    assert world.session.get(Notification, first.id).read_at == read_at


def test_read_all_clears_the_count(pages, world, cadre, note):
    for _ in range(4):
        note(cadre)
    other = note(world.person("head", world.default_union()))
    world.session.commit()
    client = pages.as_(cadre)
    assert "全部标为已读" in client.get("/notifications/").get_data(as_text=True)

    response = client.post("/notifications/read-all")
    assert response.status_code == 302 and flashes(client) == ["已全部标记为已读"]
    assert all(read for _id, read in stored(world, cadre))
    assert world.session.get(Notification, other.id).read_at is None  # the head's is untouched
    page = client.get("/notifications/")
    assert badge(page) == 0 and 'id="unread"' not in page.get_data(as_text=True)
    assert "全部标为已读" not in page.get_data(as_text=True) and "未读" not in "".join(texts(page))


def test_opening_a_notifications_case_marks_it_read_and_goes_there(pages, world, cadre, note):
    case = world.case(State.documented)
    world.fire(case, "return", world.person("head", case.union), comment="请补充户口本")
    [returned] = world.session.scalars(select(Notification).where(Notification.account_id == cadre.id)).all()
    plain = note(cadre, "请在截止前提交活动总结")
    world.session.commit()
    client = pages.as_(cadre)

    page = client.get("/notifications/").get_data(as_text=True)
    assert page.count("查看案件") == 1  # only the one about a case offers it
    assert "请补充户口本" in page

    response = client.post(f"/notifications/{returned.id}/read", {"open": "1"})
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.id}"
    assert stored(world, cadre) == [(returned.id, True), (plain.id, False)]
    assert badge(client.get(response.headers["Location"])) == 1

    # A notification without a case goes back to the list, read.
    response = client.post(f"/notifications/{plain.id}/read", {"open": "1"})
    assert response.headers["Location"] == "/notifications/" and stored(world, cadre)[1] == (plain.id, True)


def test_someone_elses_notification_is_not_found_and_stays_unread(pages, world, cadre, note):
    head = world.person("head", world.default_union())
    case = world.case(State.documented)
    theirs = note(head, "负责人的通知", case=case)
    world.session.commit()
    client = pages.as_(cadre)

    for form in ({}, {"open": "1"}):
        response = client.post(f"/notifications/{theirs.id}/read", form)
        assert response.status_code == 404 and "找不到该通知" in response.get_data(as_text=True)
    assert client.post("/notifications/999999/read").status_code == 404
    assert stored(world, head) == [(theirs.id, False)]
    assert "负责人的通知" not in client.get("/notifications/").get_data(as_text=True)


def test_the_list_shows_only_ones_own_newest_first_in_pages(pages, world, cadre, note):
    head = world.person("head", world.default_union())
    for i in range(1, 36):
        note(cadre, f"通知{i:02d}")
        if i % 10 == 0:
            note(head, f"负责人通知{i}")
    world.session.commit()
    client = pages.as_(cadre)

    first = client.get("/notifications/")
    assert texts(first) == [f"通知{i:02d}" for i in range(35, 5, -1)]  # 30 a page
    shown = html.unescape(first.get_data(as_text=True))
    assert "共 35 条，第 1 / 2 页" in shown and "负责人通知" not in shown
    assert 'href="/notifications/?page=2' in shown and "上一页" not in shown
    times = [row[0] for row in rows(first)]
    assert times == sorted(times, reverse=True) and times[0] == "2018-01-08 09:38"  # 35 and the head's 3

    second = client.get("/notifications/?page=2")
    assert texts(second) == [f"通知{i:02d}" for i in range(5, 0, -1)]
    shown = html.unescape(second.get_data(as_text=True))
    assert "共 35 条，第 2 / 2 页" in shown and "下一页" not in shown and 'href="/notifications/?page=1' in shown


def test_unread_only(pages, world, cadre, note):
    for i in range(1, 7):
        note(cadre, f"通知{i}", read=i % 2 == 0)
    world.session.commit()
    client = pages.as_(cadre)

    page = client.get("/notifications/?unread=1")
    assert texts(page) == ["通知5", "通知3", "通知1"]
    shown = html.unescape(page.get_data(as_text=True))
    assert "共 3 条" in shown and "显示全部" in shown and badge(page) == 3

    everything = client.get("/notifications/")
    assert len(texts(everything)) == 6 and "只看未读" in everything.get_data(as_text=True)

    client.post("/notifications/read-all")
    page = client.get("/notifications/?unread=1")
    assert texts(page) == [] and "没有通知" in page.get_data(as_text=True)


def test_marking_read_on_a_later_page_of_unread_comes_back_to_it(pages, world, cadre, note):
    notes = [note(cadre, f"通知{i:02d}") for i in range(1, 33)]
    world.session.commit()
    client = pages.as_(cadre)
    page = client.get("/notifications/?unread=1&page=2").get_data(as_text=True)
    assert texts(page) == ["通知02", "通知01"]
    assert 'name="next" value="/notifications/?unread=1&amp;page=2"' in page

    response = client.post(f"/notifications/{notes[0].id}/read", {"next": "/notifications/?unread=1&page=2"})
    assert response.headers["Location"] == "/notifications/?unread=1&page=2"
    assert texts(client.get(response.headers["Location"]).get_data(as_text=True)) == ["通知02"]
    # Its last one read, the page is gone: the list shows the last page there is instead of an empty one.
    response = client.post(f"/notifications/{notes[1].id}/read", {"next": "/notifications/?unread=1&page=2"})
    page = client.get(response.headers["Location"])
    assert texts(page)[-1] == "通知03" and len(texts(page)) == 30
    assert "共 30 条，第 1 / 1 页" in html.unescape(page.get_data(as_text=True))
    # Never to another site.
    response = client.post(f"/notifications/{notes[2].id}/read", {"next": "https://example.org/"})
    assert response.headers["Location"] == "/notifications/"
    assert [read for _id, read in stored(world, cadre)][:4] == [True, True, True, False]

