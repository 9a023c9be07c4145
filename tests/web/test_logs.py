"""The logs of `songnuan serve` as an operator reads them: one JSON object a line, every line written while a
request is handled carrying its id (the caller's X-Request-ID when sane, sent back either way), one access line per
request, and never a query string, a password or a full personal number."""

from __future__ import annotations

import io
import json
import logging

import pytest

from app import logs
from workflows import verbs
from workflows.actors import CONSOLE

from ..factories import case_data, id_number


@pytest.fixture
def lines(caplog):
    """What the JSON handler of `songnuan serve` (app.logs.config) writes during the test, parsed line by line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.Formatter())
    handler.addFilter(logs.Context())
    caplog.set_level(logging.INFO)
    logging.getLogger().addHandler(handler)

    def read() -> list[dict]:
        text = stream.getvalue()
        return [json.loads(line) for line in text.splitlines()]  # every line is one JSON object

    read.text = stream.getvalue
    yield read
    logging.getLogger().removeHandler(handler)


def access(read) -> list[dict]:
    return [line for line in read() if line["logger"] == "songnuan.access"]


@pytest.fixture
def probe(app):
    """A view that logs while it works, as the application's code does (a warning, an error)."""

    def view():
        logging.getLogger("songnuan.probe").warning("looking at something")
        return "ok"

    app.add_url_rule("/probe", "probe", view)
    return app.test_client()


def test_the_callers_request_id_comes_back_and_is_on_every_line_of_the_request(probe, lines):
    response = probe.get("/probe", headers={"X-Request-ID": "nginx-7f3a.1"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "nginx-7f3a.1"
    written = lines()
    assert [line["message"] for line in written if line["logger"] == "songnuan.probe"] == ["looking at something"]
    assert {line["request_id"] for line in written} == {"nginx-7f3a.1"}
    [line] = access(lines)
    assert (line["method"], line["path"], line["status"], line["endpoint"]) == ("GET", "/probe", 200, "probe")
    assert isinstance(line["duration_ms"], float) and line["level"] == "INFO" and line["time"]
    assert "user_id" not in line  # nobody signed in
    logging.getLogger("songnuan.probe").warning("after the request")
    assert "request_id" not in lines()[-1]


@pytest.mark.parametrize("offered", [None, "", "two words", "x" * 65, "id;forged", '"quoted"', id_number()])
def test_an_id_that_is_missing_or_not_a_plain_short_token_is_replaced(client, lines, offered):
    headers = {} if offered is None else {"X-Request-ID": offered}
    first = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    second = client.get("/healthz", headers=headers).headers["X-Request-ID"]
    assert first != second and offered not in (first, second)
    assert [line["request_id"] for line in access(lines)] == [first, second]


def test_the_access_line_names_the_account_but_no_query_and_no_number(pages, world, cadre, lines):
    number = id_number()
    case = world.draft(applicant={**case_data()["applicant"], "id_number": number})
    world.session.commit()
    signed_in = pages.as_(cadre)
    assert signed_in.get(f"/cases/?q={number[-4:]}&state=drafted").status_code == 200
    assert signed_in.get(f"/cases/{number}").status_code == 404  # a number typed where an id goes
    assert signed_in.get(f"/cases/{case.id}").status_code == 200
    found = access(lines)
    assert [(line["path"], line["status"], line["user_id"]) for line in found] == [
        ("/cases/", 200, cadre.id), (f"/cases/{number[:6]}********{number[-4:]}", 404, cadre.id),
        (f"/cases/{case.id}", 200, cadre.id)]
    assert number not in lines.text() and "q=" not in lines.text() and "state=" not in lines.text()


def test_a_sign_in_logs_neither_the_password_nor_the_token(client, world, lines):
    union = world.default_union()
    password = "sn-Correct-Horse-42"
    verbs.create_account(world.session, CONSOLE, world.clock, "wang.cadre", "cadre", password, union_code=union.code)
    world.session.commit()
    answer = client.post("/api/v1/tokens", json={"username": "wang.cadre", "password": password})
    token = answer.get_json()["token"]
    assert client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    refused = client.post("/api/v1/tokens", json={"username": "wang.cadre", "password": "sn-Wrong-Horse-43"})
    assert refused.status_code == 401
    found = access(lines)
    assert [(line["path"], line["status"]) for line in found] == [
        ("/api/v1/tokens", 201), ("/api/v1/inbox", 200), ("/api/v1/tokens", 401)]
    assert "user_id" in found[1]
    text = lines.text()
    assert password not in text and "sn-Wrong-Horse-43" not in text and token not in text


def test_any_line_with_a_full_number_is_masked_on_its_way_out(lines):
    number = id_number()
    logging.getLogger("songnuan.anything").error("could not match %s", number)
    [line] = lines()
    assert number not in line["message"] and line["message"].endswith(number[-4:])


def test_gunicorns_line_about_a_malformed_request_keeps_no_query(lines):
    """gunicorn quotes a request line it cannot parse in its own error log: the query (a search, a token) is cut."""
    logging.getLogger("gunicorn.error").warning("Invalid request line: 'GET /cases?q=张三&token=sn_secret\x01 HTTP/1.1'")
    [line] = [line for line in lines() if line["logger"] == "gunicorn.error"]
    assert "/cases?…" in line["message"] and "张三" not in line["message"] and "sn_secret" not in line["message"]
