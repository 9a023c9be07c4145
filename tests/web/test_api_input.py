"""Bad input through the API: each is answered with the status and error code of API.md, in the documented shape,
without a stack trace, and changes nothing: the same cases (and their versions), documents, household members,
objections and audit events in the database, and the same files in the upload folder, before and after."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from workflows.models import AuditEvent, AuditHead, Case, Document, Member, Objection
from workflows.states import State

from ..factories import PDF, PNG, bank_account, case_data, id_number
from ..storage import stored

# ------------------------------------------------------------------ helpers

def spoil(number: str) -> str:
    """The same number with another check digit (ID numbers and Luhn accounts have exactly one right one)."""
    return number[:-1] + ("1" if number[-1] == "0" else "0")


def snapshot(world) -> dict[str, Any]:
    """What bad input must not change, read on a connection of its own (a session kept open would see only its
    own snapshot of the database, and every comparison would pass)."""
    with Session(world.session.get_bind()) as session:
        count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
        state = {"cases": dict(session.execute(select(Case.id, Case.version)).all()),
                 "documents": count(Document), "members": count(Member), "objections": count(Objection),
                 "audit_events": count(AuditEvent), "audit_head": session.scalar(select(AuditHead.seq))}
    state["files"] = stored(world.uploads)
    return state


def refused(api, world, method: str, path: str, account, status: int, error: str, **sent) -> dict[str, Any]:
    """Make the request; check the answer's status, code and shape, and that nothing changed. Returns the body."""
    before = snapshot(world)
    response = api.call(method, path, account, **sent)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text
    assert response.status_code == status, text[:500]
    assert response.mimetype == "application/json"
    payload = response.get_json()
    assert payload["error"] == error and payload["message"], payload
    if error == "invalid":
        assert payload["fields"] and all(payload["fields"].values()), payload
    if error == "refused":
        assert payload["reason"], payload
    assert snapshot(world) == before
    return payload


def upload(kind: str, content: bytes, filename: str, **form: Any) -> dict[str, Any]:
    """A multipart request, encoded in memory: the test client would spool a large one to a temporary file that it
    never closes when the application refuses the request unread (a ResourceWarning, hence an error here)."""
    file = FileStorage(io.BytesIO(content), filename=filename, content_type="application/octet-stream")
    boundary, data = encode_multipart({"kind": kind, "file": file, **form})
    return {"data": data, "content_type": f"multipart/form-data; boundary={boundary}"}


@pytest.fixture
def desk(api, world):
    """Union A's cadre and head, a campaign, a draft holding one document (so that the upload folder is not
    empty), a case under public notice, and the tokens already issued (issuing one is audited)."""
    union, campaign = world.union(), world.campaign()
    cadre, head = world.person("cadre", union), world.person("head", union)
    draft = world.case(State.drafted, union=union, campaign=campaign)
    world.attach(draft, ["application"])
    publicized = world.case(State.publicized, union=union, campaign=campaign)
    world.session.commit()
    for account in (cadre, head):
        api.token(account)
    assert snapshot(world)["files"], "the upload folder holds the draft's document"
    return SimpleNamespace(union=union, campaign=campaign, cadre=cadre, head=head, draft=draft,
                           publicized=publicized)


# ------------------------------------------------------------------ the fields of a case

def _set(path: str, value: Any) -> Callable[[dict], None]:
    """Set a dotted path of the body; the value may be a function of the current one."""
    def change(body: dict) -> None:
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value(node.get(last)) if callable(value) else value
    return change


def _drop(path: str) -> Callable[[dict], None]:
    def change(body: dict) -> None:
        *parents, last = path.split(".")
        node = body
        for part in parents:
            node = node[part]
        del node[last]
    return change


# (what is wrong, the field the answer names, how to spoil a valid body)
FIELD_ERRORS = [
    ("ID number with a wrong check digit", "applicant.id_number", _set("applicant.id_number", spoil)),
    ("ID number of 17 digits", "applicant.id_number", _set("applicant.id_number", lambda n: n[:17])),
    ("bank account with a wrong check digit", "bank_account", _set("bank_account", spoil)),
    ("bank account with letters", "bank_account", _set("bank_account", "6222ABCD00001234")),
    ("a member's ID number with a wrong check digit", "household.members.0.id_number",
     _set("household.members.0.id_number", spoil)),
    ("amount that is not a number", "aid.amount", _set("aid.amount", "abc")),
    ("negative amount", "aid.amount", _set("aid.amount", "-1")),
    ("amount with three decimals", "aid.amount", _set("aid.amount", "1.001")),
    ("gender outside the vocabulary", "applicant.gender", _set("applicant.gender", "unknown")),
    ("worker group outside the vocabulary", "worker_group", _set("worker_group", "boss")),
    ("name of 51 characters", "applicant.name", _set("applicant.name", "王" * 51)),
    ("housing of 201 characters", "household.housing", _set("household.housing", "房" * 201)),
    ("21 household members", "household.members",
     _set("household.members", [{"name": "李秀英", "relation": "配偶"}] * 21)),
    ("unknown field", "nickname", _set("nickname", "老王")),
    ("unknown nested field", "applicant.nickname", _set("applicant.nickname", "老王")),
    ("name that is not text", "applicant.name", _set("applicant.name", 42)),
    ("applicant that is not an object", "applicant", _set("applicant", "王建国")),
]


CREATE_ERRORS = FIELD_ERRORS + [
    ("no applicant name", "applicant.name", _drop("applicant.name")),
    ("no applicant", "applicant", _drop("applicant")),
    ("campaign that is not a number", "campaign", _set("campaign", "x")),
    ("no campaign", "campaign", _drop("campaign")),
    ("campaign that does not exist", "campaign", _set("campaign", 999999)),
]
EDIT_ERRORS = FIELD_ERRORS + [
    ("no version", "version", _drop("version")),
    ("version that is not a number", "version", _set("version", "abc")),
]


@pytest.mark.parametrize("what, field, spoil_body", CREATE_ERRORS, ids=[what for what, _, _ in CREATE_ERRORS])
def test_create_refuses_a_bad_field_and_names_it(api, world, desk, what, field, spoil_body):
    body = {"campaign": desk.campaign.id, **case_data()}
    spoil_body(body)
    payload = refused(api, world, "POST", "/cases", desk.cadre, 400, "invalid", json=body)
    assert field in payload["fields"], payload


@pytest.mark.parametrize("what, field, spoil_body", EDIT_ERRORS, ids=[what for what, _, _ in EDIT_ERRORS])
def test_edit_refuses_a_bad_field_and_names_it(api, world, desk, what, field, spoil_body):
    """The PATCH starts from a whole valid case (every part present, so that every spoiler applies) and the current
    version."""
    body = {"version": desk.draft.version, **case_data()}
    spoil_body(body)
    payload = refused(api, world, "PATCH", f"/cases/{desk.draft.id}", desk.cadre, 400, "invalid", json=body)
    assert field in payload["fields"], payload


def test_the_messages_say_what_is_wrong_with_a_number(api, world, desk):
    body = {"campaign": desk.campaign.id, **case_data()}
    body["applicant"]["id_number"] = spoil(id_number())
    body["bank_account"] = spoil(bank_account())
    fields = refused(api, world, "POST", "/cases", desk.cadre, 400, "invalid", json=body)["fields"]
    assert "校验位" in fields["applicant.id_number"] and "校验位" in fields["bank_account"]
    # and the wrong number is not echoed back whole
    assert body["applicant"]["id_number"] not in json.dumps(fields, ensure_ascii=False)


def test_a_stale_version_is_refused_on_edit(api, world, desk):
    old = desk.draft.version - 1
    assert old >= 1
    refused(api, world, "PATCH", f"/cases/{desk.draft.id}", desk.cadre, 409, "stale",
            json={"version": old, "applicant": {"phone": "13800000001"}})


# ------------------------------------------------------------------ transitions

def test_a_stale_version_is_refused_on_a_transition(api, world, desk):
    refused(api, world, "POST", f"/cases/{desk.draft.id}/transitions", desk.cadre, 409, "stale",
            json={"trigger": "withdraw", "version": desk.draft.version - 1, "comment": "本人申请撤回"})


@pytest.mark.parametrize("body, field", [
    ({"trigger": "fly"}, "trigger"),
    ({"trigger": "withdraw", "comment": "理" * 2001}, "comment"),
    ({"trigger": "withdraw", "comment": "本人申请撤回", "colour": "red"}, "colour"),
    ({"trigger": "disburse", "payment_reference": "P" * 65}, "payment_reference"),
    ({}, "trigger"),
], ids=["unknown trigger", "comment of 2001", "unknown field", "payment reference of 65", "no trigger"])
def test_a_transition_with_bad_input_is_invalid(api, world, desk, body, field):
    payload = refused(api, world, "POST", f"/cases/{desk.draft.id}/transitions", desk.cadre, 400, "invalid",
                      json={"version": desk.draft.version, **body})
    assert field in payload["fields"], payload


def test_a_refused_transition_says_which_rule_blocks_it(api, world, desk):
    path = f"/cases/{desk.draft.id}/transitions"
    payload = refused(api, world, "POST", path, desk.cadre, 409, "refused",
                      json={"trigger": "document", "version": desk.draft.version})
    assert payload["rule"] == "documents" and "缺少" in payload["reason"], payload
    assert "困难职工档案" in payload["reason"]  # the missing paper, by the name cadres know it
    payload = refused(api, world, "POST", path, desk.cadre, 409, "refused",
                      json={"trigger": "withdraw", "version": desk.draft.version, "comment": "   "})
    assert payload["rule"] == "comment" and "理由" in payload["reason"], payload
    payload = refused(api, world, "POST", path, desk.head, 409, "refused",
                      json={"trigger": "approve", "version": desk.draft.version})
    assert payload["rule"] == "state" and "已起草" in payload["reason"], payload


# ------------------------------------------------------------------ uploads

def test_a_request_beyond_the_applications_limit_is_too_large(api, app, world, desk):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == app.extensions["songnuan"]["uploads"].max_bytes + 64 * 1024
    payload = refused(api, world, "POST", f"/cases/{desk.draft.id}/documents", desk.cadre, 413, "too_large",
                      **upload("application", PDF + b"0" * limit, "application.pdf"))
    assert payload["message"] == "请求太大"


def test_a_file_just_over_the_upload_limit_is_too_large_for_the_domain(api, app, world, desk):
    """Within MAX_CONTENT_LENGTH, so the request reaches the view; the domain refuses the file."""
    max_bytes = app.extensions["songnuan"]["uploads"].max_bytes
    content = PDF + b"0" * (max_bytes + 1 - len(PDF))
    assert len(content) == max_bytes + 1 < app.config["MAX_CONTENT_LENGTH"] - 1024
    payload = refused(api, world, "POST", f"/cases/{desk.draft.id}/documents", desk.cadre, 413, "too_large",
                      **upload("application", content, "application.pdf"))
    assert "文件太大" in payload["message"]


def test_a_json_body_beyond_the_limit_is_too_large(api, app, world, desk):
    employer = "x" * app.config["MAX_CONTENT_LENGTH"]
    huge = json.dumps({"version": desk.draft.version, "applicant": {"employer": employer}})
    refused(api, world, "PATCH", f"/cases/{desk.draft.id}", desk.cadre, 413, "too_large",
            data=huge, content_type="application/json")


@pytest.mark.parametrize("kind, content, filename, status, error, field", [
    ("application", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "photo.png", 415,
     "unsupported_type", None),
    ("application", b"MZ\x90\x00" + b"\x00" * 60, "application.pdf", 415, "unsupported_type", None),
    ("application", PDF, "../../etc/passwd.pdf", 400, "invalid", "file"),
    ("application", PDF, "..", 400, "invalid", "file"),
    ("application", PDF, "uploads/x.pdf", 400, "invalid", "file"),
    ("application", PDF, "a" * 252 + ".pdf", 400, "invalid", "file"),
    ("application", b"", "application.pdf", 400, "invalid", "file"),
    ("selfie", PNG, "selfie.png", 400, "invalid", "kind"),
], ids=["HTML renamed .png", "executable renamed .pdf", "name with ../", "name ..", "name with a folder",
        "name of 256", "empty file", "unknown kind"])
def test_a_bad_upload_is_refused(api, world, desk, kind, content, filename, status, error, field):
    payload = refused(api, world, "POST", f"/cases/{desk.draft.id}/documents", desk.cadre, status, error,
                      **upload(kind, content, filename))
    if field:
        assert field in payload["fields"], payload


def test_an_upload_without_a_file_is_invalid(api, world, desk):
    path = f"/cases/{desk.draft.id}/documents"
    for sent in ({"data": {"kind": "application"}, "content_type": "multipart/form-data"},
                 {"data": {"kind": "application", "file": "not a file"}, "content_type": "multipart/form-data"},
                 {"json": {"kind": "application", "file": "JVBERi0xLjQ="}}):
        payload = refused(api, world, "POST", path, desk.cadre, 400, "invalid", **sent)
        assert "file" in payload["fields"], payload


def test_a_stale_version_is_refused_on_upload(api, world, desk):
    refused(api, world, "POST", f"/cases/{desk.draft.id}/documents", desk.cadre, 409, "stale",
            **upload("hardship_proof", PDF, "hardship_proof.pdf", version=str(desk.draft.version - 1)))


# ------------------------------------------------------------------ bodies that are not JSON, or not well formed

@pytest.mark.parametrize("method, sent, status, error", [
    ("POST", {"data": "applicant=王建国", "content_type": "application/x-www-form-urlencoded"}, 415,
     "unsupported_type"),
    ("POST", {"data": '{"campaign": 1}', "content_type": "text/plain"}, 415, "unsupported_type"),
    ("POST", {"data": "<case/>", "content_type": "application/xml"}, 415, "unsupported_type"),
    ("PATCH", {"data": "applicant=王建国", "content_type": "application/x-www-form-urlencoded"}, 415,
     "unsupported_type"),
    ("POST", {"data": '{"campaign": 1, "applicant": {', "content_type": "application/json"}, 400, "invalid"),
    ("PATCH", {"data": "{'version': 1}", "content_type": "application/json"}, 400, "invalid"),
    ("PATCH", {"data": b'{"version": 1, "x": "\xff"}', "content_type": "application/json"}, 400, "invalid"),
    ("POST", {"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"}, 400, "invalid"),
    ("POST", {"json": [1, 2, 3]}, 400, "invalid"),
    ("POST", {"json": None}, 400, "invalid"),
    ("POST", {}, 400, "invalid"),
], ids=["form to POST", "text to POST", "XML to POST", "form to PATCH", "truncated JSON", "single quotes",
        "not UTF-8", "nested 100000 deep", "a list", "null", "no body"])
def test_a_body_that_is_not_a_json_object(api, world, desk, method, sent, status, error):
    path = "/cases" if method == "POST" else f"/cases/{desk.draft.id}"
    payload = refused(api, world, method, path, desk.cadre, status, error, **sent)
    if error == "invalid":
        assert "body" in payload["fields"], payload


def test_a_bodyless_post_is_not_refused_as_the_wrong_type(api, world, desk):
    """Claiming, or marking a notification read, sends no body at all: no Content-Type is needed."""
    payload = refused(api, world, "POST", f"/cases/{desk.draft.id}/claim", desk.cadre, 403, "forbidden")
    assert "认领" in payload["message"]
    refused(api, world, "POST", "/notifications/999999/read", desk.cadre, 404, "not_found")


# ------------------------------------------------------------------ the other bodies and queries

def test_objections_resolutions_and_reveals_with_bad_input(api, world, desk):
    case = f"/cases/{desk.publicized.id}"
    for statement in ("议" * 2001, "   ", None):
        payload = refused(api, world, "POST", f"{case}/objections", desk.cadre, 400, "invalid",
                          json={"statement": statement})
        assert "statement" in payload["fields"]
    objection = api.call("POST", f"{case}/objections", desk.cadre, json={"statement": "有群众反映其家庭收入不实"})
    assert objection.status_code == 201
    for body, field in (({"outcome": "maybe", "comment": "经核实"}, "outcome"),
                        ({"outcome": "dismissed", "comment": "见" * 2001}, "comment"),
                        ({"outcome": "dismissed"}, "comment")):
        payload = refused(api, world, "POST", f"/objections/{objection.json['id']}/resolution", desk.head, 400,
                          "invalid", json=body)
        assert field in payload["fields"], payload
    payload = refused(api, world, "POST", f"/cases/{desk.draft.id}/objections", desk.cadre, 409, "refused",
                      json={"statement": "草稿上的异议"})
    assert payload["rule"] == "state"
    for field in ("phone", "name", None):
        payload = refused(api, world, "POST", f"/cases/{desk.draft.id}/reveal", desk.cadre, 400, "invalid",
                          json={"field": field})
        assert "field" in payload["fields"]


@pytest.mark.parametrize("query, field", [
    ("/cases?page=0", "page"), ("/cases?per_page=1000", "per_page"), ("/cases?state=lost", "state"),
    ("/cases?campaign=abc", "campaign"), ("/inbox?page=x", "page"), ("/audit/events?since=yesterday", "since"),
    ("/reports/statistics", "campaign"), ("/reports/statistics?campaign=1&format=pdf", "format"),
    ("/cases/0", "case_id"), ("/cases/99999999999", "case_id"),
])
def test_a_bad_query_is_invalid(api, world, desk, query, field):
    account = world.person("auditor") if query.startswith("/audit") else desk.cadre
    world.session.commit()
    api.token(account)
    payload = refused(api, world, "GET", query, account, 400, "invalid")
    assert field in payload["fields"], payload
