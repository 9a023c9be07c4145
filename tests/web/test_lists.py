"""The inbox and the case list as their users see them: task groups with counts, urgency marks, filters, search,
pages, the reviewer's claims, and the CSV export of what is listed, numbers masked."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from workflows import verbs
from workflows.states import State

from ..factories import id_number


def applicant(name: str, number: str) -> dict:
    return {"name": name, "gender": "male", "id_number": number, "phone": "13912345678", "employer": "华光机械厂"}


def tiles(page: str) -> dict[str, int]:
    """The inbox's task groups: label → count."""
    return {label: int(count) for count, label in
            re.findall(r'<a href="/inbox\?state=\w+"[^>]*><b>(\d+)</b>([^<]+)</a>', page)}


def names(page: str) -> list[str]:
    return re.findall(r'<a href="/cases/\d+">([^<]+)</a>', page)


def test_each_role_sees_its_tasks_grouped_and_counted(pages, world):
    union = world.default_union()
    for state in (State.drafted, State.drafted, State.documented, State.grassroots_approved, State.publicized,
                  State.entered, State.entered, State.district_approved):
        world.case(state)
    world.case(State.drafted, union=world.union("红星纺织厂工会"))  # another union's: counted nowhere here
    world.session.commit()
    cadre = pages.as_(world.person("cadre", union)).get("/inbox").get_data(as_text=True)
    # Publicity is 0 days in the factory's campaign: the publicized case waits to be entered.
    assert tiles(cadre) == {"待补充资料": 2, "待公示": 1, "公示期满待录入": 1}
    head = world.account("head", union)  # a second head: the factory's head approved nothing it drafted
    world.session.commit()
    assert tiles(pages.as_(head).get("/inbox").get_data(as_text=True)) == {"待审核": 1, "待公示": 1}
    reviewer = pages.as_(world.person("reviewer")).get("/inbox").get_data(as_text=True)
    assert tiles(reviewer) == {"待区总审定": 2}
    # Each of finance's moves forward is a tile, the returned payments to send again too (none yet).
    assert tiles(pages.as_(world.person("finance")).get("/inbox").get_data(as_text=True)) == {"待发放": 1,
                                                                                            "退票待重新发放": 0}


def test_the_deadline_near_marks_the_task_at_risk_and_after_it_the_task_is_gone(pages, world, clock):
    case = world.case(State.drafted)
    world.session.commit()
    client = pages.as_(world.person("cadre", case.union))
    page = client.get("/inbox").get_data(as_text=True)
    assert "剩 17 天" in page and 'class="at-risk"' not in page
    clock.set(clock.now() + dt.timedelta(days=15))  # 2018-01-23 09:00, the deadline 2018-01-25 24:00
    client = pages.as_(world.person("cadre", case.union))  # a session lasts 7 days at most: signed in anew
    page = client.get("/inbox").get_data(as_text=True)
    assert '<tr class="at-risk">' in page and "剩 2 天" in page
    clock.set(dt.datetime(2018, 1, 26, 0, 0, 1, tzinfo=clock.now().tzinfo))
    assert names(client.get("/inbox").get_data(as_text=True)) == []  # nothing can move it any more


def test_filters_search_and_pages(pages, world):
    union = world.default_union()
    numbers = [id_number() for _ in range(23)]
    for i, number in enumerate(numbers):
        world.case(State.drafted, applicant=applicant(f"职工{i:02d}", number),
                   worker_group="migrant_worker" if i % 2 else "hardship_worker")
    world.session.commit()
    client = pages.as_(world.person("cadre", union))
    first = client.get("/cases/").get_data(as_text=True)
    assert len(names(first)) == 20 and "共 23 件，第 1 / 2 页" in first
    assert len(names(client.get("/cases/?page=2").get_data(as_text=True))) == 3
    migrants = names(client.get("/cases/?worker_group=migrant_worker").get_data(as_text=True))
    assert len(migrants) == 11 and all(int(n[2:]) % 2 for n in migrants)
    assert names(client.get("/cases/?q=职工07").get_data(as_text=True)) == ["职工07"]
    assert names(client.get(f"/cases/?q={numbers[7][-4:]}").get_data(as_text=True)) == ["职工07"]
    assert names(client.get("/cases/?state=entered").get_data(as_text=True)) == []
    assert len(names(client.get("/cases/?state=bogus&worker_group=x").get_data(as_text=True))) == 20  # ignored


def test_a_reviewer_claims_from_the_inbox_and_finds_it_under_mine(pages, world):
    one, two = world.case(State.entered), world.case(State.entered)
    other_reviewer = world.account("reviewer")
    verbs.claim(world.session, other_reviewer, world.clock, two.id)
    world.session.commit()
    client = pages.as_(world.person("reviewer"))
    assert names(client.get("/inbox").get_data(as_text=True)) == [one.applicant_name]  # two is someone else's
    response = client.post(f"/cases/{one.id}/claim", {"next": "/inbox"})
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    mine = client.get("/inbox?mine=1").get_data(as_text=True)
    assert names(mine) == [one.applicant_name] and "我已认领" in mine


def test_the_csv_export_lists_what_the_filter_shows_with_numbers_masked(pages, world):
    union = world.default_union()
    kept = world.case(State.entered, applicant=applicant('=HYPERLINK("x")', id_number()))
    world.case(State.drafted, applicant=applicant("张三", id_number()))
    world.session.commit()
    response = pages.as_(world.person("cadre", union)).get("/cases/export.csv?state=entered")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:5] == ["档案编号", "基层工会", "活动", "姓名", "身份证号（遮蔽）"]
    assert len(rows) == 2
    assert rows[1][3] == "'=HYPERLINK(\"x\")"  # text, never a formula
    assert rows[1][4] == kept.id_number[:6] + "********" + kept.id_number[-4:]
    assert kept.id_number not in text and kept.bank_account not in text


def test_a_whole_id_number_is_not_searched_for_nor_shown_back(pages, world):
    case = world.case(State.drafted)
    world.session.commit()
    client = pages.as_(world.person("cadre", case.union))
    response = client.get(f"/cases/?q={case.id_number}&state=drafted")
    assert response.status_code == 302 and response.headers["Location"] == "/cases/?state=drafted"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "请只输入身份证号的后4位" in page and case.id_number not in page
    assert names(client.get(f"/cases/?q={case.id_number[-4:]}").get_data(as_text=True)) == [case.applicant_name]


def test_digits_from_inside_an_id_number_find_nothing(pages, world):
    """Only the last four digits are searched: a run from the middle (the birth date, say) would let someone who
    sees only masks recover whole numbers, a few searches at a time."""
    case = world.case(State.drafted)
    world.session.commit()
    client = pages.as_(world.person("cadre", case.union))
    for inner in (case.id_number[6:10], case.id_number[10:14], case.id_number[2:8]):
        assert names(client.get(f"/cases/?q={inner}").get_data(as_text=True)) == [], inner
    assert names(client.get(f"/cases/?q={case.id_number[-4:].lower()}").get_data(as_text=True)) == [case.applicant_name]
