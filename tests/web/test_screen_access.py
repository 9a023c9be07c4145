"""Who reaches what on the screens: every route × every role, of the case's own union or another → the status
expected, from one table. A route of the application that is not in the table fails the test, so nothing is
reachable by accident. (The JSON API has its own matrix in test_api_access.py.)"""

from __future__ import annotations

import pytest
from ..scene import build_scene

# The callers, in the order of the table's columns: nobody signed in, the case's own union's cadre and head, another
# union's cadre and head, then the district's roles.
CALLERS = ("anonymous", "cadre", "head", "cadre_b", "head_b", "reviewer", "finance", "auditor", "admin")

# endpoint: (method, path, form data, the status for each caller in CALLERS' order)
# {D} a draft of the own union with a document {doc}; {E} an entered case; {P} a publicized one with an open
# objection {O}; {A} a district-approved one; {N} a notification of the own cadre; {S} the own union's summary
# (with a file); {C} the campaign; {U} the own union's code; {R} the draft's household archive (of the own union).
# 302 for a signed-out caller is the way to the sign-in page; 409 and 400 are answers of the rules to a caller who
# may try (the data sent is stale or empty on purpose, so that nothing changes), never a way in. An area's gate
# (app/areas.py) answers 403 before any record is looked up: the administrator, who works with no case, gets it for
# every page of the cases, whether the case exists or not.
TABLE = {
    "auth.home":                 ("GET", "/", {},                                   "302 302 302 302 302 302 302 302 302"),
    "auth.signin_page":          ("GET", "/signin", {},                             "200 302 302 302 302 302 302 302 302"),
    "auth.signout":              ("POST", "/signout", {},                           "302 302 302 302 302 302 302 302 302"),
    "auth.language":             ("POST", "/language", {"lang": "en"},              "302 302 302 302 302 302 302 302 302"),
    "main.healthz":              ("GET", "/healthz", {},                            "200 200 200 200 200 200 200 200 200"),
    # The test client calls from 127.0.0.1, where /metrics answers anyone; from elsewhere only an administrator's
    # API token is let in (404 otherwise): tests/web/test_metrics.py.
    "metrics.exposition":        ("GET", "/metrics", {},                            "200 200 200 200 200 200 200 200 200"),
    "inbox.index":               ("GET", "/inbox", {},                              "302 200 200 200 200 200 200 403 403"),
    "notifications.index":       ("GET", "/notifications/", {},                     "302 200 200 200 200 200 200 200 200"),
    "notifications.read":        ("POST", "/notifications/{N}/read", {},            "302 302 404 404 404 404 404 404 404"),
    "notifications.read_all":    ("POST", "/notifications/read-all", {},            "302 302 302 302 302 302 302 302 302"),
    "cases.index":               ("GET", "/cases/", {},                             "302 200 200 200 200 200 200 200 403"),
    "cases.export_csv":          ("GET", "/cases/export.csv", {},                   "302 200 200 200 200 200 200 200 403"),
    "cases.new":                 ("GET", "/cases/new", {},                          "302 200 403 200 403 403 403 403 403"),
    "cases.show":                ("GET", "/cases/{E}", {},                          "302 200 200 404 404 200 404 200 403"),
    "cases.edit":                ("GET", "/cases/{D}/edit", {},                     "302 200 403 404 404 404 404 403 403"),
    # What `document` will need of the form as typed (saves nothing): whoever may fill in the form.
    "cases.check_new":           ("POST", "/cases/new/check", {},                   "302 200 403 200 403 403 403 403 403"),
    "cases.check":               ("POST", "/cases/{D}/check", {},                   "302 200 403 404 404 404 404 403 403"),
    "cases.act":                 ("POST", "/cases/{E}/act",
                                  {"trigger": "district_approve", "version": "999"}, "302 409 409 404 404 409 404 409 403"),
    "cases.reveal":              ("POST", "/cases/{E}/reveal", {"field": "id_number"}, "302 200 200 404 404 200 404 403 403"),
    "cases.record_objection":    ("POST", "/cases/{P}/objections", {"statement": ""}, "302 400 400 404 404 404 404 403 403"),
    "cases.resolve_objection":   ("POST", "/cases/{P}/objections/{O}", {"outcome": "dismissed", "resolution": ""},
                                                                                    "302 403 400 404 404 404 404 403 403"),
    "cases.claim":               ("POST", "/cases/{A}/claim", {},                   "302 403 403 404 404 409 302 403 403"),
    "cases.release":             ("POST", "/cases/{A}/release", {},                 "302 403 403 404 404 409 409 403 403"),
    "cases.printable":           ("GET", "/cases/{E}/print", {},                    "302 200 200 404 404 200 404 200 403"),
    "cases.notice_list":         ("GET", "/cases/notice?campaign={C}&union={U}", {}, "302 200 200 404 404 200 403 200 403"),
    "cases.record_notice":       ("POST", "/cases/notice/postings", {},            "302 400 400 400 400 403 403 403 403"),
    "cases.notice_photo":        ("GET", "/cases/notice/postings/{NP}", {},         "302 200 200 404 404 200 403 200 403"),
    "cases.record_receipt":      ("POST", "/cases/{A}/receipt", {},                 "302 400 400 404 404 403 403 403 403"),
    # The cadre sent no file: the case page again, the message beside the upload control.
    "cases.upload":              ("POST", "/cases/{D}/documents", {"kind": "application"},
                                                                                    "302 400 403 404 404 404 404 403 403"),
    "cases.remove_document":     ("POST", "/cases/{D}/documents/{doc}/remove", {},  "302 302 403 404 404 404 404 403 403"),
    # A stale version on purpose: the drafter is refused (409, the case page again), the draft stays for the others.
    "cases.delete_draft":        ("POST", "/cases/{D}/delete", {"version": "999"},   "302 409 403 404 404 404 404 403 403"),
    "cases.download":            ("GET", "/cases/documents/{doc}", {},              "302 200 200 404 404 404 404 403 403"),
    "archives.index":            ("GET", "/archives/", {},                          "302 200 200 200 200 200 403 200 403"),
    "archives.show":             ("GET", "/archives/{R}", {},                       "302 200 200 404 404 200 403 200 403"),
    "archives.new":              ("GET", "/archives/new", {},                       "302 200 403 200 403 403 403 403 403"),
    "archives.edit":             ("GET", "/archives/{R}/edit", {},                  "302 200 200 404 404 200 403 403 403"),
    "archives.act":              ("POST", "/archives/{R}/act", {"trigger": "exit", "version": "999"},
                                                                                    "302 409 409 404 404 409 403 409 403"),
    "archives.merge":            ("POST", "/archives/{R}/merge", {"other": "", "version": "999"},
                                                                                    "302 403 403 404 404 400 403 403 403"),
    "archives.apply":            ("POST", "/archives/{R}/apply", {"campaign": ""},  "302 400 403 404 404 403 403 403 403"),
    "archives.record_visit":     ("POST", "/archives/{R}/visits", {"visited_on": ""}, "302 400 400 404 404 403 403 403 403"),
    "archives.carry_over":       ("GET", "/archives/carry-over", {},                "302 200 403 200 403 403 403 403 403"),
    "archives.apply_many":       ("POST", "/archives/carry-over", {},               "302 400 403 400 403 403 403 403 403"),
    "archives.reviews":          ("GET", "/archives/reviews", {},                   "302 200 200 200 200 403 403 403 403"),
    "archives.review":           ("GET", "/archives/{R}/review", {},                "302 200 200 404 404 403 403 403 403"),
    "archives.spot_checks":      ("GET", "/archives/spot-checks", {},               "302 403 403 403 403 200 403 200 403"),
    "archives.draw":             ("POST", "/archives/spot-checks", {"year": "", "rate": ""},
                                                                                    "302 403 403 403 403 400 403 403 403"),
    "archives.check_item":       ("POST", "/archives/spot-checks/items/999999", {"outcome": ""},
                                                                                    "302 403 403 403 403 404 403 403 403"),
    "archives.review_progress":  ("GET", "/archives/reviews/progress", {},          "302 403 403 403 403 200 403 200 403"),
    "archives.import_page":      ("GET", "/archives/import", {},                    "302 200 200 200 200 200 403 403 403"),
    "archives.import_template":  ("GET", "/archives/import-template", {},           "302 200 200 200 200 200 403 403 403"),
    "archives.import_ledger":    ("POST", "/archives/import", {},                   "302 400 400 400 400 400 403 403 403"),
    "summaries.index":           ("GET", "/summaries/", {},                         "302 200 200 200 200 200 403 200 403"),
    "summaries.edit":            ("GET", "/summaries/{C}", {},                      "302 200 200 200 200 403 403 403 403"),
    "summaries.download":        ("GET", "/summaries/file/{S}", {},                 "302 200 200 404 404 200 403 200 403"),
    "reports.index":             ("GET", "/reports/?campaign={C}&union={U}", {},    "302 200 200 404 404 200 200 200 200"),
    "reports.dashboard":         ("GET", "/reports/dashboard?campaign={C}&union={U}", {},
                                                                                    "302 200 200 404 404 200 200 200 200"),
    "reports.chart":             ("GET", "/reports/charts/funnel.svg?campaign={C}&union={U}", {},
                                                                                    "302 200 200 404 404 200 200 200 200"),
    "reports.workbook":          ("GET", "/reports/statistics.xlsx?campaign={C}&union={U}", {},
                                                                                    "302 200 200 404 404 200 200 200 200"),
    "finance.index":             ("GET", "/finance/", {},                           "302 403 403 403 403 403 200 403 403"),
    "finance.act":               ("POST", "/finance/batch", {},                     "302 403 403 403 403 403 400 403 403"),
    "finance.batches":           ("GET", "/finance/batches", {},                    "302 403 403 403 403 403 200 403 403"),
    "finance.create_batch":      ("POST", "/finance/batches", {},                   "302 403 403 403 403 403 400 403 403"),
    "finance.batch":             ("GET", "/finance/batches/{B}", {},                "302 403 403 403 403 403 200 403 403"),
    "finance.bank_file":         ("POST", "/finance/batches/{B}/bank-file", {"format": "pdf"},
                                                                                    "302 403 403 403 403 403 400 403 403"),
    "finance.send":              ("POST", "/finance/batches/{B}/send", {},          "302 403 403 403 403 403 302 403 403"),
    "finance.bank_result":       ("POST", "/finance/batches/{B}/result", {},        "302 403 403 403 403 403 400 403 403"),
    "finance.returned":          ("GET", "/finance/returned", {},                   "302 403 403 403 403 403 200 403 403"),
    "cases.correct_account":     ("POST", "/cases/{RT}/account", {"bank_account": "", "version": "999"},
                                                                                    "302 409 409 404 404 403 409 403 403"),
    "fraud.index":               ("GET", "/fraud/", {},                             "302 403 403 403 403 200 403 200 403"),
    "audit.index":               ("GET", "/audit/", {},                             "302 403 403 403 403 403 403 200 403"),
    "audit.event":               ("GET", "/audit/events/1", {},                     "302 403 403 403 403 403 403 200 403"),
    "audit.case":                ("GET", "/audit/cases/{E}", {},                    "302 403 403 403 403 403 403 200 403"),
    "audit.verify":              ("GET", "/audit/verify", {},                       "302 403 403 403 403 403 403 200 403"),
    "audit.reveals":             ("GET", "/audit/reveals", {},                      "302 403 403 403 403 403 403 200 403"),
    "audit.export_csv":          ("GET", "/audit/export.csv", {},                   "302 403 403 403 403 403 403 200 403"),
    "audit.export_xlsx":         ("GET", "/audit/export.xlsx", {},                  "302 403 403 403 403 403 403 200 403"),
    "admin.index":               ("GET", "/admin/", {},                             "302 403 403 403 403 403 403 403 200"),
    "admin.unions":              ("GET", "/admin/unions", {},                       "302 403 403 403 403 403 403 403 200"),
    "admin.accounts":            ("GET", "/admin/accounts", {},                     "302 403 403 403 403 403 403 403 200"),
    "admin.account":             ("GET", "/admin/accounts/{me}", {},                "302 403 403 403 403 403 403 403 200"),
    "admin.account_new":         ("GET", "/admin/accounts/new", {},                 "302 403 403 403 403 403 403 403 200"),
    "admin.account_disable":     ("POST", "/admin/accounts/{me}/disable", {},       "302 403 403 403 403 403 403 403 409"),
    "admin.account_enable":      ("POST", "/admin/accounts/{me}/enable", {},        "302 403 403 403 403 403 403 403 302"),
    "admin.account_password":    ("POST", "/admin/accounts/{me}/password", {"password": "x"},
                                                                                    "302 403 403 403 403 403 403 403 400"),
    "admin.account_profile":     ("POST", "/admin/accounts/{me}/profile", {"email": "not an address"},
                                                                                    "302 403 403 403 403 403 403 403 400"),
    "admin.account_role":        ("POST", "/admin/accounts/{me}/role", {"role": "cadre"},
                                                                                    "302 403 403 403 403 403 403 403 400"),
    "admin.campaigns":           ("GET", "/admin/campaigns", {},                    "302 403 403 403 403 403 403 403 200"),
    "admin.standards":           ("GET", "/admin/standards", {},                    "302 403 403 403 403 403 403 403 200"),
    "admin.campaign_new":        ("GET", "/admin/campaigns/new", {},                "302 403 403 403 403 403 403 403 200"),
    "admin.campaign_edit":       ("GET", "/admin/campaigns/{C}/edit", {},           "302 403 403 403 403 403 403 403 200"),
    "admin.campaign_tariffs":    ("GET", "/admin/campaigns/{C}/tariffs", {},        "302 403 403 403 403 403 403 403 200"),
}


@pytest.fixture
def scene(world):
    return build_scene(world)


def test_the_table_names_every_route_of_the_screens(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if not rule.rule.startswith(("/api/", "/static/"))}
    assert routes == set(TABLE), (sorted(routes - set(TABLE)), sorted(set(TABLE) - routes))


@pytest.mark.parametrize("endpoint", sorted(TABLE))
def test_who_reaches_what(pages, scene, endpoint):
    people, ids = scene
    method, path, data, expected = TABLE[endpoint]
    path = path.format(**ids)
    got = []
    for caller in CALLERS:
        client = pages.anonymous() if caller == "anonymous" else pages.as_(people[caller])
        response = client.get(path) if method == "GET" else client.post(path, data)
        got.append(str(response.status_code))
    assert " ".join(got) == expected, dict(zip(CALLERS, got))
