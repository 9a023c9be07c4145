"""The annual review screens: the inbox's tiles, the union's worklist and the review form (its refusals beside the
control, what was typed kept), the proposal on the archive page beside the moves that carry it out, the district's
spot check (drawn, listed by union, findings recorded; auditors read it), the progress report, and who may open
what."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select

from workflows import verbs
from workflows.archive_states import Status
from workflows.models import Archive, ArchiveReview, AuditEvent, SpotCheck

from ..conftest import START
from ..factories import case_data
from .conftest import counting


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def active(world, union, name: str) -> Archive:
    data = case_data()
    data.pop("aid")
    data["applicant"]["name"] = name
    archive = verbs.create_archive(world.session, world.person("cadre", union), world.clock, data)
    archive.status = Status.active
    world.session.flush()
    return archive


def fresh(world, model, key):
    world.session.commit()
    world.session.expire_all()
    return world.session.get(model, key)


def count(world, model) -> int:
    world.session.commit()
    return world.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def desk(world):
    """A union with three active archives made a year ago (all due now) and another union's."""
    union, other = world.union("第一机床厂工会"), world.union("红星纺织厂工会")
    world.clock.set(START - dt.timedelta(days=400))
    archives = [active(world, union, name) for name in ("张建华", "李国庆", "赵淑芬")]
    theirs = active(world, other, "钱红梅")
    world.clock.set(START)
    people = {role: world.person(role, union) for role in ("cadre", "head")}
    people |= {"reviewer": world.person("reviewer"), "auditor": world.person("auditor"),
               "other_cadre": world.person("cadre", other)}
    world.session.commit()
    return union, other, archives, theirs, people


def test_the_inbox_counts_the_archives_due_and_the_heads_proposals(pages, world, desk):
    union, other, archives, theirs, people = desk
    verbs.review_archive(world.session, people["cadre"], world.clock, archives[0].id, archives[0].version,
                         "propose_exit", comment="配偶已就业")
    world.session.commit()
    cadre = text(pages.as_(people["cadre"]).get("/inbox"))
    assert re.search(r'id="reviews-due-count">2<', cadre) and "待年度复核" in cadre
    assert "review-proposals" not in cadre
    head = text(pages.as_(people["head"]).get("/inbox"))
    assert re.search(r'id="reviews-due-count">2<', head)
    assert re.search(r'id="review-proposals-count">1<', head) and "复核建议待处理" in head
    assert "reviews-due" not in text(pages.as_(people["reviewer"]).get("/inbox"))


def test_the_worklist_lists_the_due_archives_with_a_review_link_each(pages, world, desk):
    union, other, archives, theirs, people = desk
    page = text(pages.as_(people["cadre"]).get("/archives/reviews"))
    assert "待年度复核（3 户）" in page
    for archive in archives:
        assert f'id="due-{archive.id}"' in page and f"/archives/{archive.id}/review" in page
    assert "钱红梅" not in page and "从未复核" in page
    assert pages.as_(people["reviewer"]).get("/archives/reviews").status_code == 403


def test_a_review_through_the_form_and_its_refusals_beside_the_controls(pages, world, desk):
    union, other, archives, theirs, people = desk
    archive = archives[1]
    client = pages.as_(people["cadre"])
    form = text(client.get(f"/archives/{archive.id}/review"))
    assert "核实无变化" in form and "建议注销的原因" in form and f"/archives/{archive.id}/edit" in form
    before = (count(world, ArchiveReview), count(world, AuditEvent))
    refused = client.post(f"/archives/{archive.id}/review",
                          {"version": archive.version, "outcome": "propose_deregister", "comment": "户主已于上月退休"})
    assert refused.status_code == 400
    page = text(refused)
    assert re.search(r'id="error-reason"[^>]*>请选择建议注销的原因<', page)
    assert "户主已于上月退休</textarea>" in page and 'value="propose_deregister" checked' in page
    assert (count(world, ArchiveReview), count(world, AuditEvent)) == before

    stale = client.post(f"/archives/{archive.id}/review", {"version": archive.version - 1, "outcome": "confirmed"})
    assert stale.status_code == 409 and "该档案已被他人修改" in text(stale)

    done = client.post(f"/archives/{archive.id}/review", {"version": archive.version, "outcome": "propose_deregister",
                                                          "comment": "户主已于上月退休", "reason": "retired"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/archives/reviews")
    world.session.commit()
    review = world.session.scalar(select(ArchiveReview).where(ArchiveReview.archive_id == archive.id))
    assert (review.outcome, review.proposed_reason, review.comment) == ("propose_deregister", "retired",
                                                                        "户主已于上月退休")
    listed = text(client.get("/archives/reviews"))
    assert "待年度复核（2 户）" in listed and f'id="pending-{archive.id}"' in listed
    # Another union's archive: not found, as everywhere.
    assert client.get(f"/archives/{theirs.id}/review").status_code == 404
    assert client.post(f"/archives/{theirs.id}/review", {"version": 1, "outcome": "confirmed"}).status_code == 404


def test_the_head_sees_the_proposal_beside_the_moves_and_carries_it_out(pages, world, desk):
    union, other, archives, theirs, people = desk
    archive = archives[0]
    verbs.review_archive(world.session, people["cadre"], world.clock, archive.id, archive.version, "propose_exit",
                         comment="配偶已稳定就业，收入连续半年高于标准")
    world.session.commit()
    head = pages.as_(people["head"])
    page = text(head.get(f"/archives/{archive.id}"))
    proposal = page.index('id="review-proposal"')
    assert "年度复核建议：建议脱困" in page and "配偶已稳定就业，收入连续半年高于标准" in page
    assert proposal < page.index('id="move-exit"')
    assert "年度复核建议" in text(pages.as_(people["cadre"]).get(f"/archives/{archive.id}"))
    moved = head.post(f"/archives/{archive.id}/act", {"trigger": "exit", "version": fresh(world, Archive, archive.id)
                                                      .version, "comment": "按年度复核建议脱困"})
    assert moved.status_code == 302
    assert fresh(world, Archive, archive.id).status == Status.exited
    assert "review-proposal" not in text(head.get(f"/archives/{archive.id}"))
    assert re.search(r'id="review-proposals-count">0<', text(head.get("/inbox")))


def test_the_spot_check_is_drawn_listed_by_union_and_findings_recorded(pages, world, desk):
    union, other, archives, theirs, people = desk
    reviewer = pages.as_(people["reviewer"])
    page = text(reviewer.get("/archives/spot-checks?year=2018"))
    assert "抽取2018年度抽查名单" in page
    refused = reviewer.post("/archives/spot-checks", {"year": "2018", "rate": "30", "seed": "有 空格"})
    assert refused.status_code == 400
    assert re.search(r'id="error-seed"[^>]*>随机种子只能由字母、数字和 - _ . 组成', text(refused))
    assert 'value="有 空格"' in text(refused) and count(world, SpotCheck) == 0
    drawn = reviewer.post("/archives/spot-checks", {"year": "2018", "rate": "30", "seed": "qz2018"})
    assert drawn.status_code == 302
    page = text(reviewer.get("/archives/spot-checks?year=2018"))
    assert "qz2018" in page and "30%" in page
    assert 'id="union-%s"' % union.code in page and 'id="union-%s"' % other.code in page
    world.session.commit()
    check = world.session.scalar(select(SpotCheck))
    assert len(check.items) == 2   # ceil(0.3 × 3) and ceil(0.3 × 1)
    item = check.items[0]
    world.session.commit()   # end the test's read, before the app writes
    refused = reviewer.post(f"/archives/spot-checks/items/{item.id}", {"year": "2018", "outcome": "discrepancy"})
    assert refused.status_code == 400 and "抽查不符时请写明不符之处" in text(refused)
    assert reviewer.post(f"/archives/spot-checks/items/{item.id}",
                         {"year": "2018", "outcome": "discrepancy", "comment": "住房面积不符"}).status_code == 302
    page = text(pages.as_(people["auditor"]).get("/archives/spot-checks?year=2018"))
    assert "抽查不符" in page and "住房面积不符" in page and "抽取抽查名单</button>" not in page
    assert f"/archives/spot-checks/items/{item.id}" not in page   # auditors read, they do not record
    again = reviewer.post("/archives/spot-checks", {"year": "2018", "rate": "50", "seed": "again"})
    assert again.status_code == 409 and "每年只抽一次" in text(again)
    assert pages.as_(people["cadre"]).get("/archives/spot-checks").status_code == 403
    assert pages.as_(people["auditor"]).post("/archives/spot-checks", {"year": "2019"}).status_code == 403


def test_the_progress_report_shows_each_unions_figures(pages, world, desk):
    union, other, archives, theirs, people = desk
    verbs.review_archive(world.session, people["cadre"], world.clock, archives[0].id, archives[0].version, "confirmed")
    world.session.commit()
    for who in ("reviewer", "auditor"):
        page = text(pages.as_(people[who]).get("/archives/reviews/progress"))
        row = page[page.index(f'data-union="{union.code}"'):]
        row = row[:row.index("</tr>")]
        assert [int(n) for n in re.findall(r'<td class="num">(\d+)', row)] == [3, 1, 33, 2, 0, 0, 0, 0]
        assert "33%<" in row
    assert pages.as_(people["cadre"]).get("/archives/reviews/progress").status_code == 403


def test_the_archive_list_links_to_the_review_screens_by_role(pages, world, desk):
    union, other, archives, theirs, people = desk
    cadre = text(pages.as_(people["cadre"]).get("/archives/"))
    assert 'href="/archives/reviews"' in cadre and "/archives/spot-checks" not in cadre
    reviewer = text(pages.as_(people["reviewer"]).get("/archives/"))
    assert 'href="/archives/spot-checks"' in reviewer and 'href="/archives/reviews/progress"' in reviewer
    assert 'href="/archives/reviews"' not in reviewer


def test_the_review_pages_cost_a_fixed_number_of_queries(app, pages, world, desk):
    """The worklist, the spot check and the progress report read the same number of times for 4 archives or 40,
    reviewed, proposed and drawn alike."""
    union, other, archives, theirs, people = desk
    cadre, reviewer = pages.as_(people["cadre"]), pages.as_(people["reviewer"])

    def more(n: int) -> None:
        world.clock.set(START - dt.timedelta(days=400))
        made = [active(world, union, f"户{i}") for i in range(n)]
        world.clock.set(START)
        for archive in made[: n // 3]:
            verbs.review_archive(world.session, people["head"], world.clock, archive.id, archive.version,
                                 "propose_exit", comment="收入提高")
        world.session.commit()

    def costs(year: int) -> list[int]:
        verbs.draw_spot_check(world.session, people["reviewer"], world.clock, year, seed="few")
        world.session.commit()
        found = []
        for client, path in ((cadre, "/archives/reviews"), (reviewer, f"/archives/spot-checks?year={year}"),
                             (reviewer, f"/archives/reviews/progress?year={year}")):
            with counting(app) as statements:
                assert client.get(path).status_code == 200
            found.append(len(statements))
        return found

    more(3)
    few = costs(2018)
    more(36)
    assert costs(2019) == few
