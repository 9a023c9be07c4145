"""The anti-fraud page: the district's only (reviewers and auditors), every seeded suspicious case linked under
its view and no clean case, numbers masked."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from workflows.models import Case, Member

from ..integration.test_fraud import seed


def html(response) -> str:
    return response.get_data(as_text=True)


def section(page: str, key: str) -> str:
    match = re.search(rf'<section class="card fraud-section" id="{key}">(.*?)</section>', page, re.S)
    assert match, key
    return match.group(1)


def linked(fragment: str) -> set[int]:
    return {int(i) for i in re.findall(r'href="/cases/(\d+)"', fragment)}


@pytest.fixture
def seeded(world):
    result = seed(world)
    world.session.commit()
    return result


@pytest.mark.parametrize("role", ["reviewer", "auditor"])
def test_each_view_links_its_cases_and_no_clean_one(pages, world, seeded, role):
    page = html(pages.as_(world.person(role)).get("/fraud/?year=2018"))
    for key, expected in seeded.expected.items():
        assert linked(section(page, key)) == expected, key
        assert f'id="count-{key}">' in page
    assert not linked(page) & seeded.clean
    assert '>风险核查</a>' in page  # the header's section


def test_no_full_number_on_the_page(pages, world, seeded):
    page = html(pages.as_(world.person("auditor")).get("/fraud/?year=2018"))
    numbers = set(world.session.scalars(select(Case.id_number))) | set(world.session.scalars(select(Case.bank_account)))
    numbers |= set(world.session.scalars(select(Member.id_number)))
    assert all(number not in page for number in numbers if number)
    shared = seeded.numbers["shared id"]
    assert f"{shared[:6]}********{shared[-4:]}" in section(page, "shared_ids")
    account = seeded.numbers["shared account"]
    assert "*" * (len(account) - 4) + account[-4:] in section(page, "shared_accounts")


def test_the_year_is_chosen(pages, world, seeded):
    reviewer = pages.as_(world.person("reviewer"))
    page = html(reviewer.get("/fraud/?year=2019"))
    assert '<option value="2019" selected>' in page
    assert all(linked(section(page, key)) == set() for key in seeded.expected)
    assert "未发现" in page
    # Not given: the latest year with a campaign started (the 2019 one starts on 2018-01-01 in the seed).
    assert '<option value="2019" selected>' in html(reviewer.get("/fraud/"))


@pytest.mark.parametrize("role", ["cadre", "head", "finance", "admin"])
def test_others_may_not_look(pages, world, role):
    union = world.default_union()
    world.session.commit()
    response = pages.as_(world.person(role, union)).get("/fraud/")
    assert response.status_code == 403
    page = html(response)
    assert "风险核查" not in page[page.index("<header"):page.index("<main")]  # nor is it in their header


def test_without_campaigns(pages, world):
    page = html(pages.as_(world.person("reviewer")).get("/fraud/"))
    assert "还没有活动" in page
