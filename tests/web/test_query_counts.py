"""The inbox and the case list cost a fixed number of queries per page, however many cases there are: the same
count with 10,000 cases loaded as with a handful."""

from __future__ import annotations

import pytest
from decimal import Decimal

from sqlalchemy import insert, select

from workflows.infra.clock import to_db
from workflows.models import Archive, Case, UnionBudget
from workflows.states import State

from .conftest import counting

STATES = [State.drafted, State.documented, State.grassroots_approved, State.entered, State.district_approved]


def load(world, union, how_many: int, start: int) -> None:
    """`how_many` cases spread over the states, written in bulk (the verbs' cost is not what is measured here),
    all of them applications of one archive of the union (the lists never read the archive)."""
    cadre = world.person("cadre", union)
    now = to_db(world.clock.now())
    archive = Archive(version=1, union_id=union.id, status="pending", applicant_name=f"职工{start}",
                      created_at=now, updated_at=now)
    world.session.add(archive)
    world.session.flush()
    rows = [dict(version=1, campaign_id=world.default_campaign().id, union_id=union.id, archive_id=archive.id,
                 state=STATES[i % len(STATES)],
                 applicant_name=f"职工{start + i}", id_number=f"110105197506{start + i:06d}"[:18],
                 worker_group="hardship_worker", aid_kind="funds", aid_amount=500, created_by_id=cadre.id,
                 created_at=now, updated_at=now, medical=False,
                 entered_at=now if STATES[i % len(STATES)] in (State.entered, State.district_approved) else None)
            for i in range(how_many)]
    world.session.execute(insert(Case), rows)
    world.session.commit()


PAGES = ["/inbox", "/inbox?state=entered&page=2", "/cases/", "/cases/?q=职工1&page=3", "/cases/?worker_group=hardship_worker"]
# The most queries a page may cost (the session, the person, the header's unread count, the page's own): what it
# cost before the inbox's tasks were compiled from the guards' checks; never more.
BUDGET = {"/inbox": 9, "/inbox?state=entered&page=2": 9, "/cases/": 8, "/cases/?q=职工1&page=3": 8,
          "/cases/?worker_group=hardship_worker": 8}
# A cadre's inbox also says how many of the union's archives wait for this campaign's application (待结转申请):
# the campaigns open now, and the count.
CARRY_OVER = 2
# A cadre's and a head's inbox also count the archives due for their annual review and the proposals waiting.
REVIEWS = 1


def budget(path: str, role: str) -> int:
    return BUDGET[path] + (CARRY_OVER if role == "cadre" and path.startswith("/inbox") else 0) \
        + (REVIEWS if role in ("cadre", "head") and path.startswith("/inbox") else 0)


@pytest.mark.parametrize("role", ["cadre", "head", "reviewer", "finance"])
def test_inbox_and_case_list_queries_do_not_grow_with_the_cases(pages, world, app, role):
    union = world.default_union()
    other = world.union("红星纺织厂工会")
    account = world.person(role, union)
    client = pages.as_(account)
    load(world, union, 30, 0)
    load(world, other, 30, 30)
    few = {}
    for path in PAGES:
        with counting(app) as statements:
            assert client.get(path).status_code == 200
        few[path] = list(statements)
        assert len(statements) <= budget(path, role), (path, [s[:60] for s in statements])
    load(world, union, 5_000, 100_000)
    load(world, other, 5_000, 200_000)
    assert world.session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) >= 10_060
    for path in PAGES:
        with counting(app) as statements:
            response = client.get(path)
        assert response.status_code == 200
        assert len(statements) == len(few[path]), (path, [s[:60] for s in few[path]], [s[:60] for s in statements])
    # And the page does show cases (the count is not fixed by showing nothing).
    assert "职工" in client.get("/cases/").get_data(as_text=True)


def every_state(world, union, times: int) -> None:
    """`times` cases of the union in each state an inbox offers a move from, through the verbs (with their papers,
    members and numbers, which the guards read)."""
    for _ in range(times):
        for state in (State.drafted, State.documented, State.grassroots_approved, State.publicized, State.entered,
                      State.district_approved):
            world.case(state, union)


@pytest.mark.parametrize("role", ["cadre", "head", "reviewer", "finance"])
def test_the_api_inbox_costs_the_same_queries_for_a_page_of_many_cases_as_of_few(api, world, app, client, role):
    """The API's inbox says which moves each case has open: what those moves' guards read (papers, members, the
    archive's visits, objections, who else holds the numbers) is loaded for the whole page at once, and what they
    look up (the tariff, the living standard, the budget and its union's share, the notice posting) once a page,
    not a query a case."""
    union = world.default_union()
    campaign = world.default_campaign()
    campaign.budget = Decimal("1000000")
    world.session.add(UnionBudget(campaign_id=campaign.id, union_id=union.id, amount=Decimal("500000")))
    account = world.person(role, union)
    headers = {"Authorization": f"Bearer {api.token(account)}"}

    def statements() -> tuple[int, list[str]]:
        world.session.commit()
        with counting(app) as run:
            answer = client.get("/api/v1/inbox?per_page=50", headers=headers)
        assert answer.status_code == 200
        items = answer.get_json()["items"]
        for item in items:  # what a look-up read once for the page is what each case's own page reads
            assert client.get(f"/api/v1/cases/{item['id']}", headers=headers).get_json()["triggers"] == item["triggers"]
        return len(items), run

    every_state(world, union, 1)
    few, few_statements = statements()
    every_state(world, union, 4)
    many, many_statements = statements()
    assert many >= 4 * few > 0
    assert len(many_statements) == len(few_statements), [s[:70] for s in many_statements]
