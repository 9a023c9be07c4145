"""Whatever is typed into the address bar or a form, a page answers with a message, never a server error: odd query
values on every page, and NUL characters (which PostgreSQL cannot store) anywhere."""

from __future__ import annotations

import pytest

from workflows.states import State

from .conftest import snapshot
from .test_screen_access import CALLERS, TABLE

ODD = "page=-1&campaign=abc&union=%E2%80%AE&state=x&q=%25_%5C&order=sideways&since=2018-13-45&case=99999999999999"


@pytest.fixture
def everyone(world):
    union = world.default_union()
    people = {role: world.person(role, union) for role in ("cadre", "head", "reviewer", "finance", "auditor",
                                                           "admin")}
    case = world.case(State.entered)
    world.session.commit()
    return people, case


GETS = sorted(endpoint for endpoint, (method, path, *_rest) in TABLE.items()
              if method == "GET" and "{" not in path.split("?")[0])


@pytest.mark.parametrize("endpoint", GETS)
def test_odd_query_values_get_a_page_not_a_server_error(pages, everyone, endpoint):
    people, _case = everyone
    path = TABLE[endpoint][1].split("?")[0]
    for role in CALLERS[1:]:
        if role in people:
            response = pages.as_(people[role]).get(f"{path}?{ODD}")
            assert response.status_code < 500, (role, response.status_code)


def test_a_nul_character_in_the_address_or_a_form_is_refused_and_changes_nothing(pages, world, everyone):
    people, case = everyone
    cadre, reviewer = pages.as_(people["cadre"]), pages.as_(people["reviewer"])
    response = cadre.get("/cases/?q=%00")
    assert response.status_code == 400 and "空字符" in response.get_data(as_text=True)
    before = snapshot(world)
    response = cadre.post("/cases/new", {"campaign": str(world.default_campaign().id), "applicant.name": "王\x00五",
                                         "save": "1"})
    assert response.status_code == 400 and "空字符" in response.get_data(as_text=True)
    response = reviewer.post(f"/cases/{case.id}/act", {"trigger": "reject",
                                                                            "version": str(case.version),
                                                                            "comment": "不合格\x00"})
    assert response.status_code == 400
    assert snapshot(world) == before


def test_an_id_beyond_the_databases_integers_is_no_record(pages, everyone):
    people, case = everyone
    cadre = pages.as_(people["cadre"])
    for path in ("/cases/9999999999", "/cases/9999999999/print", "/summaries/99999999999",
                 "/notifications/99999999999/read"):
        response = cadre.get(path) if "read" not in path else cadre.post(path)
        assert response.status_code == 404, path
    response = cadre.post(f"/cases/{case.id}/documents/abc%00def/remove")
    assert response.status_code in (400, 404)
