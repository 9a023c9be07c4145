"""Numbers in an address or a form that are not plain ASCII numbers get a page or an answer, never a server error.

str.isdigit() is true for "²" and "١٢", which int() refuses or reads as another number (and Werkzeug's <int:> took
"١٢" in a path as 12); "9"*40 is beyond every column. Every screen and API operation that reads a number from its query string, its form or its path is asked
with each of them: a bad number is no record (404), a refusal in words (400, 409) or ignored (a page number means
page 1), never a 5xx. A valid number spelt " 1" may be taken as 1.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from workflows.states import State

# "²⁰¹⁸": four characters, as a year is checked by its length.
HOSTILE = ["²", "١٢", "-1", "1e3", "9" * 40, " 1", "²⁰¹⁸"]
IDS = ["superscript", "arabic-indic", "negative", "exponent", "forty-digits", "leading-space", "superscript-year"]

# (who, method, path, the parameter that carries the hostile value, other fields). {E} an entered case, {D} a draft
# of it and {R} its household archive, {RT} a payment returned, {C} the campaign, {U} the union's code; "*" in the
# parameter's name: the hostile value goes into the path there instead.
SCREENS = [
    ("cadre", "GET", "/inbox", "page", {}),
    ("cadre", "GET", "/inbox", "campaign", {}),
    ("cadre", "GET", "/cases/", "page", {}),
    ("cadre", "GET", "/cases/", "campaign", {}),
    ("cadre", "GET", "/cases/export.csv", "campaign", {}),
    ("cadre", "GET", "/cases/*", "*", {}),
    ("cadre", "GET", "/cases/*/print", "*", {}),
    ("cadre", "GET", "/cases/notice", "campaign", {"union": "{U}"}),
    ("cadre", "GET", "/notifications/", "page", {}),
    ("cadre", "GET", "/archives/", "page", {}),
    ("cadre", "GET", "/archives/*", "*", {}),
    ("cadre", "GET", "/archives/carry-over", "campaign", {}),
    ("cadre", "GET", "/archives/carry-over", "created", {}),
    ("cadre", "GET", "/archives/reviews", "page", {}),
    ("cadre", "GET", "/summaries/*", "*", {}),
    ("reviewer", "GET", "/summaries/", "campaign", {}),
    ("reviewer", "GET", "/reports/", "campaign", {}),
    ("reviewer", "GET", "/reports/dashboard", "campaign", {}),
    ("reviewer", "GET", "/reports/charts/funnel.svg", "campaign", {}),
    ("reviewer", "GET", "/reports/statistics.xlsx", "campaign", {}),
    ("reviewer", "GET", "/fraud/", "year", {}),
    ("reviewer", "GET", "/archives/spot-checks", "year", {}),
    ("reviewer", "GET", "/archives/reviews/progress", "year", {}),
    ("finance", "GET", "/finance/", "campaign", {}),
    ("finance", "GET", "/finance/batches", "campaign", {}),
    ("auditor", "GET", "/audit/", "page", {}),
    ("auditor", "GET", "/audit/", "campaign", {}),
    ("auditor", "GET", "/audit/", "case", {}),
    ("auditor", "GET", "/audit/export.csv", "case", {}),
    ("auditor", "GET", "/audit/events/*", "*", {}),
    ("admin", "GET", "/admin/accounts", "page", {}),
    ("admin", "GET", "/admin/standards", "year", {}),
    ("cadre", "POST", "/cases/new", "campaign", {"save": "1"}),
    ("cadre", "POST", "/cases/{D}/edit", "version", {"save": "1"}),
    ("cadre", "POST", "/cases/{D}/edit", "remove_member", {}),
    ("cadre", "POST", "/cases/{E}/act", "version", {"trigger": "withdraw"}),
    ("cadre", "POST", "/cases/{RT}/account", "version", {"bank_account": ""}),
    ("cadre", "POST", "/cases/notice/postings", "campaign", {"place": "公告栏", "posted_on": "2018-01-08"}),
    ("cadre", "POST", "/archives/{R}/act", "version", {"trigger": "exit"}),
    ("cadre", "POST", "/archives/{R}/edit", "version", {}),
    ("cadre", "POST", "/archives/{R}/apply", "campaign", {}),
    ("cadre", "POST", "/archives/{R}/review", "version", {"outcome": "unchanged"}),
    ("cadre", "POST", "/archives/carry-over", "campaign", {"archive": "{R}"}),
    ("cadre", "POST", "/archives/carry-over", "archive", {"campaign": "{C}"}),
    ("reviewer", "POST", "/archives/{R}/merge", "other", {"version": "1"}),
    ("reviewer", "POST", "/archives/{R}/merge", "version", {"other": "{R}"}),
    ("reviewer", "POST", "/archives/spot-checks", "rate", {"year": "2018"}),
    ("reviewer", "POST", "/archives/spot-checks", "year", {"rate": "30"}),
    ("reviewer", "POST", "/archives/spot-checks/items/1", "year", {"outcome": "consistent"}),
    ("finance", "POST", "/finance/batch", "case", {"action": "export"}),
    ("finance", "POST", "/finance/batch", "version-{A}", {"case": "{A}", "action": "export"}),
    ("finance", "POST", "/finance/batches", "case", {}),
]

API = [
    ("cadre", "GET", "/inbox", "page", None),
    ("cadre", "GET", "/cases", "page", None),
    ("cadre", "GET", "/cases", "campaign", None),
    ("cadre", "GET", "/cases/*", "*", None),
    ("cadre", "GET", "/archives", "page", None),
    ("cadre", "GET", "/archives/*", "*", None),
    ("cadre", "GET", "/archives/carry-over", "campaign", None),
    ("cadre", "GET", "/archives/reviews", "page", None),
    ("cadre", "GET", "/notices", "campaign", None),
    ("reviewer", "GET", "/reports/statistics", "campaign", None),
    ("reviewer", "GET", "/spot-checks", "year", None),
    ("reviewer", "GET", "/reports/reviews", "year", None),
    ("reviewer", "GET", "/standards", "year", None),
    ("auditor", "GET", "/audit/events", "case", None),
    ("auditor", "GET", "/audit/events", "page", None),
    ("admin", "GET", "/notifications/failed", "page", None),
    ("cadre", "POST", "/cases/{E}/transitions", "version", {"trigger": "withdraw"}),
    ("cadre", "POST", "/archives/carry-over", "campaign", {"archives": ["{R}"]}),
    ("finance", "POST", "/payments/batches", "cases", {}),
]


@pytest.fixture
def scene(world):
    union = world.default_union()
    people = {role: world.person(role, union) for role in ("cadre", "reviewer", "finance", "auditor", "admin")}
    draft = world.draft()
    entered, approved, returned = (world.case(state) for state in (State.entered, State.district_approved,
                                                                   State.payment_returned))
    world.session.commit()
    ids = {"D": draft.id, "R": draft.archive_id, "E": entered.id, "A": approved.id, "RT": returned.id,
           "C": world.default_campaign().id, "U": union.code}
    return people, ids


def fill(template: str, ids: dict, value: str | None = None) -> str:
    text = template.format(**ids)
    return text.replace("*", quote(value, safe="")) if value is not None else text


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_no_screen_answers_an_odd_number_with_a_server_error(pages, scene, value):
    people, ids = scene
    clients = {role: pages.as_(account) for role, account in people.items()}
    failures = []
    for role, method, path, name, others in SCREENS:
        fields = {key: fill(text, ids) for key, text in others.items()}
        if name != "*":
            fields[fill(name, ids)] = value
        url = fill(path, ids, value)
        client = clients[role]
        response = client.get(url, query_string=fields) if method == "GET" else client.post(url, fields)
        if response.status_code >= 500:
            failures.append((method, url, name, response.status_code))
    assert failures == []


@pytest.mark.parametrize("value", HOSTILE, ids=IDS)
def test_no_api_operation_answers_an_odd_number_with_a_server_error(api, scene, value):
    people, ids = scene
    failures = []
    for role, method, path, name, body in API:
        url = fill(path, ids, value)
        if method == "GET":
            response = api.call("GET", url, people[role], query_string={} if name == "*" else {name: value})
        else:
            fields = {key: [fill(item, ids) for item in text] if isinstance(text, list) else fill(text, ids)
                      for key, text in body.items()}
            fields[name] = [value] if name == "cases" else value
            response = api.call(method, url, people[role], json=fields)
        if response.status_code >= 500:
            failures.append((method, url, name, response.status_code))
    assert failures == []


def test_an_id_in_another_scripts_digits_is_no_record(pages, api, scene):
    """/cases/١ is not case 1: one spelling of each record's address, on the screens and the API."""
    people, ids = scene
    arabic = quote("".join(chr(0x660 + int(digit)) for digit in str(ids["E"])))
    cadre = pages.as_(people["cadre"])
    assert cadre.get(f"/cases/{ids['E']}").status_code == 200
    assert cadre.get(f"/cases/{arabic}").status_code == 404
    assert api.call("GET", f"/cases/{arabic}", people["cadre"]).status_code == 404
