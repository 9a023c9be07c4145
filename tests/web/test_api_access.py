"""Who may call what: every endpoint of the API, for every role and for no token at all, on a case of the caller's
own union or of another, from ONE table.

Each row of ROWS is one request: its method, its path, what exists before it (`given`: a case of union A in a
state where the request makes sense, and what hangs on it) and, in the order of CALLERS, the status each caller
gets. The cadre and head of union A work on the case; those of union B do not. Every caller acts on a fresh copy
of what the row gives, so that one caller's success never changes what the next one finds.

The reading of API.md and DOMAIN.md behind the numbers:
- 401 without a token everywhere, except signing in and the documentation of the API itself;
- 404 for a case outside the caller's scope (another union's, one a reviewer or finance cannot see yet, any case
  for an administrator), the same answer as for a case that does not exist;
- 403 for a caller who sees the case but whose role may not do this (an auditor firing a trigger, a cadre on the
  audit trail);
- 409 for a caller whose role may, but not now (a reviewer claiming a case that is already past review);
- 2xx for the allowed ones.

test_the_table_covers_every_route checks that ROWS names every /api/v1 route of the application and every operation
of its OpenAPI document, so that a new endpoint cannot be reachable without a row saying who reaches it.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.api.blueprint import PUBLIC
from workflows import verbs
from workflows.actors import CONSOLE
from workflows.infra.clock import to_db
from workflows.models import Archive, Case, Notification, SpotCheck
from workflows.states import State

from ..factories import PDF, bank_account, case_data
from ..ledger_data import ledger, workbook

CALLERS = ("anon", "cadre", "cadre_B", "head", "head_B", "reviewer", "finance", "auditor", "admin")
PASSWORD = "correct horse battery"
_serial = itertools.count(1)
_spot_years = itertools.count(2030)  # each draw a year of its own: a year is drawn once


# ------------------------------------------------------------------ what a row needs before its request

@dataclass
class Given:
    """What exists when a caller makes the row's request; `ids` fill the placeholders of the row's path."""

    world: Any
    union: Any
    campaign: Any
    case: Case | None = None
    ids: dict[str, Any] = field(default_factory=dict)


def _case(state: State, *, papers: bool = False):
    def build(given: Given) -> None:
        given.case = given.world.case(state, union=given.union, campaign=given.campaign)
        if papers:
            if not given.case.documents:  # past drafted, the case holds its papers already
                given.world.attach(given.case)
            given.ids["document"] = given.case.documents[0].id
        given.ids["case"] = given.case.id
    return build


def _objection(given: Given) -> None:
    _case(State.publicized)(given)
    world = given.world
    objection = verbs.record_objection(world.session, world.person("cadre", given.union), world.clock,
                                          given.case.id, "有群众反映其家庭收入不实")
    world.session.flush()
    given.ids["objection"] = objection.id


def _claimed(given: Given) -> None:
    _case(State.entered)(given)
    world = given.world
    verbs.claim(world.session, world.person("reviewer"), world.clock, given.case.id)


def _notification(given: Given) -> None:
    """A notification to the cadre of union A."""
    world = given.world
    notification = Notification(key=f"access-test-{next(_serial)}", account_id=world.person("cadre", given.union).id,
                                kind="reminder", text="距报送截止还有3天", created_at=to_db(world.clock.now()))
    world.session.add(notification)
    world.session.flush()
    given.ids["notification"] = notification.id


def _archive(given: Given) -> None:
    """A household archive of union A, pending (建档中)."""
    world = given.world
    data = case_data()
    del data["aid"]
    archive = verbs.create_archive(world.session, world.person("cadre", given.union), world.clock, data)
    given.ids["archive"] = archive.id
    given.ids["archive_version"] = archive.version


def _active_archive(given: Given) -> None:
    """An archive of union A made active by an application paid in an earlier campaign, nothing in progress."""
    world = given.world
    case = world.case(State.disbursed, union=given.union, campaign=world.campaign())
    world.session.refresh(case.archive)
    given.ids["archive"] = case.archive_id
    given.ids["archive_version"] = case.archive.version


def _spot_check(given: Given) -> None:
    """The district's spot check of 2018 (drawn once, by the reviewer), over an active archive of union A."""
    _archive(given)
    world = given.world
    world.session.get(Archive, given.ids["archive"]).status = "active"
    world.session.flush()
    check = world.session.scalar(select(SpotCheck).where(SpotCheck.year == 2018)) \
        or verbs.draw_spot_check(world.session, world.person("reviewer"), world.clock, 2018, seed="access")
    given.ids["item"] = check.items[0].id


def _two_archives(given: Given) -> None:
    _archive(given)
    other = Given(given.world, given.union, given.campaign)
    _archive(other)
    given.ids["other"] = other.ids["archive"]


def _receiving_union(given: Given) -> None:
    _archive(given)
    given.ids["receiving"] = given.world.union("接收工会").code


def _signer(given: Given) -> None:
    """An account with a real password, to sign in with."""
    world = given.world
    if not hasattr(world, "_signer"):
        world._signer = verbs.create_account(world.session, CONSOLE, world.clock, "signer", "cadre",
                                                    PASSWORD, union_code=given.union.code)
    given.ids["signer"] = world._signer.username


def _goods_case(given: Given) -> None:
    """A goods case (送实物) approved by the district: its receipt may be recorded."""
    given.case = given.world.case(State.district_approved, union=given.union, campaign=given.campaign,
                                  aid={"kind": "goods", "goods_items": "米面油各一份", "goods_value": "300"})
    given.ids["case"] = given.case.id


def _returned(corrected: bool):
    """A case of union A whose payment the bank returned; its account corrected by the union's cadre if told."""
    def build(given: Given) -> None:
        _case(State.payment_returned)(given)
        if corrected:
            given.world.correct_account(given.case)
    return build


def _batch(sent: bool):
    """A payment batch of a case of union A, made by finance; sent (its case disbursed) if told, with the bank's
    result file of it."""
    def build(given: Given) -> None:
        _case(State.district_approved)(given)
        world, finance = given.world, given.world.person("finance")
        batch = verbs.create_batch(world.session, finance, world.clock, [given.case.id])
        if sent:
            verbs.send_batch(world.session, finance, world.clock, batch.id)
        line = batch.lines[0]
        text = f"账号,户名,金额,状态,原因\r\n{line.bank_account},{line.name},{line.amount},成功,\r\n"
        given.ids["batch"], given.ids["result"] = batch.id, text.encode("utf-8-sig")
    return build


GIVEN: dict[str | None, Callable[[Given], None]] = {
    "payment_returned": _returned(False),
    "payment_returned+corrected": _returned(True),
    "disbursed": _case(State.disbursed),
    "batch": _batch(False),
    "batch:sent": _batch(True),
    "district_approved:goods": _goods_case,
    None: lambda given: None,
    "signer": _signer,
    "notification": _notification,
    "drafted": _case(State.drafted),
    "drafted+papers": _case(State.drafted, papers=True),
    "documented": _case(State.documented),
    "grassroots_approved": _case(State.grassroots_approved),
    "publicized": _case(State.publicized),
    "publicized+objection": _objection,
    "entered": _case(State.entered),
    "entered+claimed": _claimed,
    "district_approved": _case(State.district_approved),
    "district_approved+papers": _case(State.district_approved, papers=True),
    "archive": _archive,
    "archive:active": _active_archive,
    "archive+other": _two_archives,
    "archive+union": _receiving_union,
    "spot_check": _spot_check,
}


# ------------------------------------------------------------------ request bodies

def body(payload: dict | Callable[[Given], dict]) -> Callable[[Given], dict]:
    return lambda given: {"json": payload(given) if callable(payload) else payload}


def forgotten(given: Given) -> dict:
    """No body; the test's own session forgets the draft (and its members), which the request deletes in another:
    SQLite gives their ids to the rows made next."""
    given.world.session.expunge(given.case)
    return {}


def fire(trigger: str, **extra: str) -> Callable[[Given], dict]:
    return body(lambda given: {"trigger": trigger, "version": given.case.version, **extra})


def upload(kind: str = "application") -> Callable[[Given], dict]:
    return lambda given: {"data": {"kind": kind, "file": (io.BytesIO(PDF), f"{kind}.pdf")},
                          "content_type": "multipart/form-data"}


SIGN_IN = body(lambda given: {"username": given.ids["signer"], "password": PASSWORD})
NEW_CASE = body(lambda given: {"campaign": given.campaign.id, **case_data()})
EDIT = body(lambda given: {"version": given.case.version, "applicant": {"phone": "13800000001"}})
OBJECTION = body({"statement": "有群众反映其家庭收入不实"})
RESOLUTION = body({"outcome": "dismissed", "comment": "经核实，异议不成立"})
COMMENT = "请补充材料"


def _archive_data() -> dict:
    data = case_data()
    del data["aid"]
    return {**data, "national": {"archive_type": "urban_worker", "hukou": "non_agricultural"}}


NEW_ARCHIVE = body(lambda given: _archive_data())
APPLY = body(lambda given: {"campaign": given.campaign.id, "archive": given.ids["archive"]})
CARRY_OVER = body(lambda given: {"campaign": given.campaign.id, "archives": [given.ids["archive"]]})
EDIT_ARCHIVE = body(lambda given: {"version": given.ids["archive_version"], "applicant": {"phone": "13800000001"}})


def LEDGER(given: Given) -> dict:
    """A ledger of one household of two, for union A: fresh numbers for every caller."""
    return {"data": {"file": (io.BytesIO(workbook(ledger(1, 1))), "台账.xlsx"), "union": given.union.code},
            "content_type": "multipart/form-data"}


def fire_archive(trigger: str, **extra: Any) -> Callable[[Given], dict]:
    return body(lambda given: {"trigger": trigger, "version": given.ids["archive_version"],
                               **{k: v(given) if callable(v) else v for k, v in extra.items()}})


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    given: str | None
    statuses: str  # one status per caller, in the order of CALLERS
    request: Callable[[Given], dict] = lambda given: {}
    note: str = ""

    @property
    def expected(self) -> dict[str, int]:
        codes = [int(code) for code in self.statuses.split()]
        assert len(codes) == len(CALLERS), self
        return dict(zip(CALLERS, codes))

    @property
    def id(self) -> str:
        return f"{self.method} {self.path} [{self.given or '-'}]" + (f" {self.note}" if self.note else "")


# ------------------------------------------------------------------ THE table

ROWS = [
    #                                                                       anon cad cdB head hdB rev fin aud adm
    # signing in and out, and who I am
    Row("POST",   "/tokens",                               "signer",         "201 201 201 201 201 201 201 201 201",
        SIGN_IN, "right password, with or without a token"),
    Row("DELETE", "/tokens/current",                       None,             "401 204 204 204 204 204 204 204 204"),
    Row("GET",    "/me",                                   None,             "401 200 200 200 200 200 200 200 200"),
    # lists: everyone may ask; what they contain is test_lists_show_exactly_the_cases_a_caller_may_open
    Row("GET",    "/inbox",                                None,             "401 200 200 200 200 200 200 200 200"),
    Row("GET",    "/cases",                                None,             "401 200 200 200 200 200 200 200 200"),
    # one case: cadres open drafts in their own union; nobody else opens any
    Row("POST",   "/cases",                                None,             "401 201 201 403 403 403 403 403 403",
        NEW_CASE),
    Row("GET",    "/cases/{case}",                         "drafted",        "401 200 404 200 404 404 404 200 404"),
    Row("GET",    "/cases/{case}",                         "entered",        "401 200 404 200 404 200 404 200 404"),
    Row("GET",    "/cases/{case}",                         "district_approved",
                                                                             "401 200 404 200 404 200 200 200 404"),
    Row("PATCH",  "/cases/{case}",                         "drafted",        "401 200 404 403 404 404 404 403 404",
        EDIT),
    Row("PATCH",  "/cases/{case}",                         "entered",        "401 409 404 403 404 403 404 403 404",
        EDIT, "only a draft is edited"),
    Row("DELETE", "/cases/{case}",                         "drafted+papers", "401 204 404 403 404 404 404 403 404",
        forgotten, "its drafter deletes a draft never handed in"),
    Row("DELETE", "/cases/{case}",                         "documented",     "401 409 404 403 404 404 404 403 404",
        note="a case handed in is withdrawn, never deleted"),
    Row("GET",    "/cases/{case}/history",                 "drafted",        "401 200 404 200 404 404 404 200 404"),
    Row("POST",   "/cases",                                "archive",        "401 201 404 403 403 403 403 403 403",
        APPLY, "applying for an archive of union A"),
    # household archives: their union's people, and the district's reviewers and auditors (API.md, Archives)
    Row("GET",    "/archives",                             None,             "401 200 200 200 200 200 403 200 403"),
    Row("POST",   "/archives",                             None,             "401 201 201 403 403 403 403 403 403",
        NEW_ARCHIVE),
    Row("GET",    "/archives/{archive}",                   "archive",        "401 200 404 200 404 200 404 200 404"),
    Row("PATCH",  "/archives/{archive}",                   "archive",        "401 200 404 200 404 200 403 403 403",
        EDIT_ARCHIVE, "the union's cadre and head, and reviewers, edit"),
    Row("GET",    "/archives/{archive}/history",           "archive",        "401 200 404 200 404 200 404 200 404"),
    Row("POST",   "/archives/{archive}/transitions",       "archive:active", "401 403 404 200 404 200 404 403 404",
        fire_archive("exit", comment="家庭收入已稳定"), "exit"),
    Row("POST",   "/archives/{archive}/transitions",       "archive",        "401 403 404 200 404 200 404 403 404",
        fire_archive("deregister", comment="已调离本市", reason="moved"), "deregister"),
    Row("POST",   "/archives/{archive}/transitions",       "archive+union",  "401 403 404 403 404 200 404 403 404",
        fire_archive("transfer", comment="原单位关闭", union=lambda given: given.ids["receiving"]), "transfer"),
    Row("POST",   "/archives/{archive}/merge",             "archive+other",  "401 403 403 403 403 200 403 403 403",
        body(lambda given: {"other": given.ids["other"], "version": given.ids["archive_version"]})),
    Row("GET",    "/archives/carry-over?campaign={campaign}", None,          "401 200 200 200 200 200 403 200 403"),
    Row("POST",   "/archives/carry-over",                  "archive:active", "401 201 404 403 403 403 403 403 403",
        CARRY_OVER),
    Row("GET",    "/archives/export",                      None,             "401 200 200 200 200 200 403 200 403"),
    # the union's ledger: its cadres and heads into their union, the district (reviewer, console) into the one named
    Row("GET",    "/archives/import-template",             None,             "401 200 200 200 200 200 403 403 200"),
    Row("POST",   "/archives/import",                      None,             "401 201 403 201 403 201 403 403 201",
        LEDGER, "into union A"),
    # home visits: the union's cadres and heads record them (DOMAIN.md, Recognition: evidence)
    Row("POST",   "/archives/{archive}/visits",            "archive",        "401 201 404 201 404 403 403 403 403",
        body({"visited_on": "2018-01-08", "visitors": "周丽华、李明", "findings": "与申报一致"})),
    # the minimum living standards: everyone signed in reads them; administrators set them
    Row("GET",    "/standards?year=2018",                  None,             "401 200 200 200 200 200 200 200 200"),
    Row("PUT",    "/standards/2018/110000",                None,             "401 403 403 403 403 403 403 403 200",
        body({"monthly": "1000"})),
    # a campaign's tariffs: everyone signed in reads them; administrators set them
    Row("GET",    "/campaigns/{campaign}/tariffs",         None,             "401 200 200 200 200 200 200 200 200"),
    Row("PUT",    "/campaigns/{campaign}/tariffs/deep/hardship_worker", None,
                                                                             "401 403 403 403 403 403 403 403 200",
        body({"amount": "1500"})),
    # goods: the real-name receipt, by the case's union once the district approved it
    Row("POST",   "/cases/{case}/receipt",                 "district_approved:goods",
                                                                             "401 201 404 201 404 403 403 403 404",
        lambda given: {"data": {"handed_by": "张干部", "received_by": "李师傅", "received_on": "2018-01-08",
                                "file": (io.BytesIO(PDF), "receipt.pdf")}, "content_type": "multipart/form-data"}),
    # proof of the public notice: the unions record their own; they and the district's readers read them
    Row("POST",   "/notices",                              None,             "401 201 201 201 201 403 403 403 403",
        lambda given: {"data": {"campaign": str(given.campaign.id), "place": "厂区公告栏", "posted_on": "2018-01-08",
                                "file": (io.BytesIO(PDF), "notice.pdf")}, "content_type": "multipart/form-data"}),
    Row("GET",    "/notices?campaign={campaign}",          None,             "401 200 200 200 200 200 403 200 403"),
    # the annual review: the union's cadres and heads; the spot check and its report: the district's reviewers
    # (auditors read them)
    Row("GET",    "/archives/reviews",                     None,             "401 200 200 200 200 403 403 403 403"),
    Row("POST",   "/archives/{archive}/reviews",           "archive:active", "401 201 404 201 404 403 403 403 403",
        body(lambda given: {"outcome": "confirmed", "version": given.ids["archive_version"]})),
    Row("GET",    "/spot-checks?year=2018",                "spot_check",     "401 403 403 403 403 200 403 200 403"),
    Row("POST",   "/spot-checks",                          None,             "401 403 403 403 403 201 403 403 403",
        body(lambda given: {"year": next(_spot_years), "rate": "0.30"}), "a year not drawn yet"),
    Row("POST",   "/spot-checks/items/{item}",             "spot_check",     "401 403 403 403 403 200 403 403 403",
        body({"outcome": "confirmed"})),
    Row("GET",    "/reports/reviews",                      None,             "401 403 403 403 403 200 403 200 403"),
    # documents
    Row("POST",   "/cases/{case}/documents",               "drafted",        "401 201 404 403 404 404 404 403 404",
        upload()),
    Row("GET",    "/cases/{case}/documents/{document}",    "drafted+papers", "401 200 404 200 404 404 404 403 404",
        note="personal papers go to the case's people only: the auditor sees the case, not its papers"),
    Row("GET",    "/cases/{case}/documents/{document}",    "district_approved+papers",
                                                                             "401 200 404 200 404 200 200 403 404"),
    Row("DELETE", "/cases/{case}/documents/{document}",    "drafted+papers", "401 200 404 403 404 404 404 403 404"),
    # the transition table, one row per trigger, from a state where it applies
    Row("POST",   "/cases/{case}/transitions",             "drafted+papers", "401 200 404 403 404 404 404 403 404",
        fire("document"), "document"),
    Row("POST",   "/cases/{case}/transitions",             "documented",     "401 403 404 200 404 404 404 403 404",
        fire("approve"), "approve"),
    Row("POST",   "/cases/{case}/transitions",             "documented",     "401 403 404 200 404 404 404 403 404",
        fire("return", comment=COMMENT), "return"),
    Row("POST",   "/cases/{case}/transitions",             "grassroots_approved",
                                                                             "401 200 404 200 404 404 404 403 404",
        fire("publicize"), "publicize"),
    Row("POST",   "/cases/{case}/transitions",             "publicized",     "401 200 404 403 404 404 404 403 404",
        fire("enter"), "enter"),
    Row("POST",   "/cases/{case}/transitions",             "drafted",        "401 200 404 200 404 404 404 403 404",
        fire("withdraw", comment="本人申请撤回"), "withdraw"),
    Row("POST",   "/cases/{case}/transitions",             "drafted",        "401 403 404 403 404 404 404 403 404",
        fire("forfeit"), "forfeit: the system's alone"),
    Row("POST",   "/cases/{case}/transitions",             "entered",        "401 403 404 403 404 200 404 403 404",
        fire("district_approve"), "district_approve"),
    Row("POST",   "/cases/{case}/transitions",             "entered",        "401 403 404 403 404 200 404 403 404",
        fire("district_return", comment=COMMENT), "district_return"),
    Row("POST",   "/cases/{case}/transitions",             "entered",        "401 403 404 403 404 200 404 403 404",
        fire("reject", comment="不合格"), "reject"),
    Row("POST",   "/cases/{case}/transitions",             "district_approved",
                                                                             "401 403 404 403 404 403 200 403 404",
        fire("disburse", payment_reference="ICBC-0001"), "disburse"),
    Row("POST",   "/cases/{case}/transitions",             "disbursed",      "401 403 404 403 404 403 200 403 404",
        fire("bounce", comment="账户已销户"), "bounce"),
    Row("POST",   "/cases/{case}/transitions",             "payment_returned+corrected",
                                                                             "401 403 404 403 404 403 200 403 404",
        fire("reissue"), "reissue"),
    # a returned payment (退票): its union's people and finance correct the account (API.md, Money)
    Row("PATCH",  "/cases/{case}",                         "payment_returned",
                                                                             "401 200 404 200 404 403 200 403 404",
        body(lambda given: {"version": given.case.version, "bank_account": bank_account()}), "correct the account"),
    # payment batches and the bank's files: finance alone
    Row("GET",    "/payments/batches",                     None,             "401 403 403 403 403 403 200 403 403"),
    Row("POST",   "/payments/batches",                     "district_approved",
                                                                             "401 403 403 403 403 403 201 403 403",
        body(lambda given: {"cases": [given.case.id]})),
    Row("GET",    "/payments/batches/{batch}",             "batch",          "401 403 403 403 403 403 200 403 403"),
    Row("GET",    "/payments/batches/{batch}/bank-file?format=csv", "batch", "401 403 403 403 403 403 200 403 403"),
    Row("POST",   "/payments/batches/{batch}/send",        "batch",          "401 403 403 403 403 403 200 403 403"),
    Row("POST",   "/payments/batches/{batch}/bank-result", "batch:sent",     "401 403 403 403 403 403 200 403 403",
        lambda given: {"data": {"file": (io.BytesIO(given.ids["result"]), "回单.csv")},
                       "content_type": "multipart/form-data"}),
    # claims
    Row("POST",   "/cases/{case}/claim",                   "entered",        "401 403 404 403 404 200 404 403 404"),
    Row("POST",   "/cases/{case}/claim",                   "district_approved",
                                                                             "401 403 404 403 404 409 200 403 404",
        note="a reviewer claims entered cases only"),
    Row("DELETE", "/cases/{case}/claim",                   "entered+claimed",
                                                                             "401 403 404 403 404 200 404 403 404"),
    # objections
    Row("POST",   "/cases/{case}/objections",              "publicized",     "401 201 404 201 404 404 404 403 404",
        OBJECTION),
    Row("POST",   "/objections/{objection}/resolution",    "publicized+objection",
                                                                             "401 403 404 200 404 404 404 403 404",
        RESOLUTION),
    # full numbers
    Row("POST",   "/cases/{case}/reveal",                  "drafted",        "401 200 404 200 404 404 404 403 404",
        body({"field": "id_number"})),
    Row("POST",   "/cases/{case}/reveal",                  "district_approved",
                                                                             "401 200 404 200 404 200 200 403 404",
        body({"field": "bank_account"})),
    # the audit trail
    Row("GET",    "/audit/events",                         None,             "401 403 403 403 403 403 403 200 403"),
    Row("GET",    "/audit/verify",                         None,             "401 403 403 403 403 403 403 200 403"),
    # notifications: each sees only their own
    Row("GET",    "/notifications",                        None,             "401 200 200 200 200 200 200 200 200"),
    Row("POST",   "/notifications/{notification}/read",    "notification",   "401 200 404 404 404 404 404 404 404",
        note="the cadre of A's notification"),
    Row("GET",    "/notifications/failed",                 None,             "401 403 403 403 403 403 403 403 200",
        note="failed e-mail deliveries: administrators only"),
    # reports: cadres and heads see their own union only
    Row("GET",    "/reports/statistics?campaign={campaign}", None,           "401 200 200 200 200 200 200 200 200"),
    Row("GET",    "/reports/statistics?campaign={campaign}&union={union}", None,
                                                                             "401 200 404 200 404 200 200 200 200",
        note="union A named"),
    # the description of the API: public, and nothing else is
    Row("GET",    "/openapi.json",                         None,             "200 200 200 200 200 200 200 200 200"),
    Row("GET",    "/",                                     None,             "200 200 200 200 200 200 200 200 200"),
    Row("GET",    "/swagger",                              None,             "200 200 200 200 200 200 200 200 200"),
    Row("GET",    "/swagger/css/swagger-ui.css",           None,             "200 200 200 200 200 200 200 200 200"),
    Row("GET",    "/oauth2-redirect.html",                 None,             "200 200 200 200 200 200 200 200 200"),
    Row("GET",    "/static/none.css",                      None,             "404 404 404 404 404 404 404 404 404",
        note="flask-openapi3's static folder holds nothing"),
]

ERROR_CODES = {400: {"invalid"}, 401: {"unauthenticated"}, 403: {"forbidden"}, 404: {"not_found"},
               409: {"stale", "refused"}}


# ------------------------------------------------------------------ the people

@pytest.fixture
def cast(world):
    """Union A (the cases' union), union B, a campaign, and one account per caller."""
    union_a, union_b = world.union("华光机械厂工会"), world.union("红星纺织厂工会")
    campaign = world.campaign()
    people = {"anon": None,
              "cadre": world.person("cadre", union_a), "cadre_B": world.person("cadre", union_b),
              "head": world.person("head", union_a), "head_B": world.person("head", union_b),
              **{role: world.person(role) for role in ("reviewer", "finance", "auditor", "admin")}}
    world.session.commit()
    return union_a, campaign, people


def _fill(path: str, given: Given) -> str:
    return path.format(campaign=given.campaign.id, union=given.union.code, **given.ids)


def _check_error_shape(response, where: str) -> None:
    assert "Set-Cookie" not in response.headers, where
    if response.status_code >= 400 and response.mimetype == "application/json":
        payload = response.get_json()
        assert payload["error"] in ERROR_CODES.get(response.status_code, {payload["error"]}), (where, payload)
        assert payload["message"], where


# ------------------------------------------------------------------ the tests

@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_access(row: Row, api, world, cast):
    union_a, campaign, people = cast
    actual = {}
    for caller in CALLERS:
        given = Given(world, union_a, campaign)
        GIVEN[row.given](given)
        world.session.commit()
        response = api.call(row.method, _fill(row.path, given), people[caller], **row.request(given))
        actual[caller] = response.status_code
        _check_error_shape(response, f"{caller}: {row.id}")
        response.close()  # a file sent (swagger's stylesheet, a document) stays open until then
    assert actual == row.expected


def test_the_table_covers_every_route(app):
    """Every /api/v1 route and every operation of the OpenAPI document has a row, and every row reaches a route."""
    routes = {(method, rule.rule) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    adapter = app.url_map.bind("localhost")
    dummy = {"case": 1, "document": "0" * 32, "objection": 1, "notification": 1, "campaign": 1, "union": "U1",
             "archive": 1, "item": 1, "batch": 1}
    covered = set()
    for row in ROWS:
        rule, _ = adapter.match(urlsplit("/api/v1" + row.path.format(**dummy)).path, method=row.method,
                                return_rule=True)
        covered.add((row.method, rule.rule))
    assert covered == routes

    with app.test_request_context():
        document = app.api_doc
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    api_routes = {(method, rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}"))
                  for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
                  for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert operations == api_routes


def test_only_signing_in_and_the_documentation_are_public(app):
    """The rows a caller without a token gets through are exactly those the application means to be public."""
    adapter = app.url_map.bind("localhost")
    public_rows = {adapter.match(urlsplit("/api/v1" + row.path).path, method=row.method)[0]
                   for row in ROWS if row.expected["anon"] != 401}
    assert {e for e in public_rows if e.startswith("api.")} == PUBLIC == {"api.create_token"}
    assert {e.split(".")[0] for e in public_rows} == {"api", "openapi", "swagger"}


def test_lists_show_exactly_the_cases_a_caller_may_open(api, world, cast):
    """GET /cases lists a case exactly when GET /cases/{id} opens it; the inbox offers only cases it would open."""
    union_a, campaign, people = cast
    union_b = people["cadre_B"].union
    cases = [world.case(state, union=union, campaign=campaign) for state in State for union in (union_a, union_b)]
    world.session.commit()
    for caller, account in people.items():
        if account is None:
            continue
        opens = {case.id for case in cases if api.call("GET", f"/cases/{case.id}", account).status_code == 200}
        listed = api.call("GET", "/cases?per_page=100", account).json
        assert {item["id"] for item in listed["items"]} == opens and listed["total"] == len(opens), caller
        inbox = api.call("GET", "/inbox?per_page=100", account).json
        assert {item["id"] for item in inbox["items"]} <= opens, caller
    assert not any(api.call("GET", f"/cases/{case.id}", people["admin"]).status_code == 200 for case in cases)


def test_a_case_outside_the_scope_is_answered_as_one_that_does_not_exist(api, world, cast):
    union_a, campaign, people = cast
    case = world.case(State.drafted, union=union_a, campaign=campaign)
    world.session.commit()
    for caller in ("cadre_B", "head_B", "reviewer", "finance", "admin"):
        hidden = api.call("GET", f"/cases/{case.id}", people[caller])
        missing = api.call("GET", f"/cases/{case.id + 1000}", people[caller])
        assert (hidden.status_code, hidden.json) == (missing.status_code, missing.json) == \
            (404, {"error": "not_found", "message": missing.json["message"]}), caller
        hidden = api.call("POST", f"/cases/{case.id}/transitions", people[caller],
                          json={"trigger": "approve", "version": case.version})
        missing = api.call("POST", f"/cases/{case.id + 1000}/transitions", people[caller],
                           json={"trigger": "approve", "version": case.version})
        assert (hidden.status_code, hidden.json) == (missing.status_code, missing.json), caller
