"""/metrics: what it counts (requests by endpoint and status, committed transitions by trigger) and who may read it
(this host, or an administrator's API token; everyone else 404)."""

from __future__ import annotations

import dataclasses

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from workflows.states import Trigger

OUTSIDE = {"REMOTE_ADDR": "203.0.113.5"}
NGINX_HERE = {"REMOTE_ADDR": "127.0.0.1"}


def sample(client, name: str, **labels: str) -> float:
    """A value of /metrics as read from this host; 0 for a series not there yet."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


def test_a_request_is_counted_by_its_endpoint_and_status_never_its_path(client):
    labels = {"endpoint": "main.healthz", "method": "GET", "status": "200"}
    before = sample(client, "songnuan_http_requests_total", **labels)
    timed = sample(client, "songnuan_http_request_duration_seconds_count", endpoint="main.healthz", method="GET")
    assert client.get("/healthz").status_code == 200
    assert sample(client, "songnuan_http_requests_total", **labels) == before + 1
    assert sample(client, "songnuan_http_request_duration_seconds_count", endpoint="main.healthz",
                  method="GET") == timed + 1
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    before = sample(client, "songnuan_http_requests_total", **unmatched)
    assert client.get("/no/such/page-4711").status_code == 404
    assert sample(client, "songnuan_http_requests_total", **unmatched) == before + 1
    assert "page-4711" not in client.get("/metrics").get_data(as_text=True)


def test_a_committed_transition_is_counted_and_a_refused_one_is_not(client, api, world, cadre):
    case = world.draft()
    world.attach(case)
    world.session.commit()
    labels = {"flow": "case", "trigger": Trigger.document.value}
    before = sample(client, "songnuan_transitions_total", **labels)
    stale = api.call("POST", f"/cases/{case.id}/transitions", cadre, json={"trigger": "document", "version": 999})
    assert stale.status_code == 409
    assert sample(client, "songnuan_transitions_total", **labels) == before
    moved = api.call("POST", f"/cases/{case.id}/transitions", cadre,
                     json={"trigger": "document", "version": case.version})
    assert moved.status_code == 200, moved.get_json()
    assert sample(client, "songnuan_transitions_total", **labels) == before + 1


@pytest.fixture
def behind_nginx(app, clock):
    """The same application as deployed behind one trusted proxy (SONGNUAN_TRUSTED_PROXIES=1): ProxyFix believes
    the proxy's X-Forwarded-For."""
    proxied = create_app(dataclasses.replace(app.extensions["songnuan"]["settings"], trusted_proxies=1))
    proxied.extensions["songnuan"]["clock"] = clock
    yield proxied.test_client()
    proxied.extensions["songnuan"]["engine"].dispose()


# Who asks from where → the answer. Loopback is the test client's own address (127.0.0.1).
CALLS = {
    "this host": ({}, {}, None, 200),
    "another host": (OUTSIDE, {}, None, 404),
    "outside, through the trusted nginx": (NGINX_HERE, {"X-Forwarded-For": "203.0.113.5"}, "proxied", 404),
    "outside, lying to the trusted nginx": (NGINX_HERE, {"X-Forwarded-For": "127.0.0.1, 203.0.113.5"}, "proxied", 404),
    "this host, through the trusted nginx": (NGINX_HERE, {"X-Forwarded-For": "127.0.0.1"}, "proxied", 200),
    # The port reached directly from outside, naming this host as if a trusted proxy had passed the request on.
    "outside, straight to the port, claiming to be this host": (OUTSIDE, {"X-Forwarded-For": "127.0.0.1"},
                                                                "proxied", 404),
    "outside, through a proxy not declared trusted": (NGINX_HERE, {"X-Forwarded-For": "203.0.113.5"}, None, 404),
    "outside, through a proxy saying X-Real-IP": (NGINX_HERE, {"X-Real-IP": "203.0.113.5"}, None, 404),
    "outside, through a proxy saying Forwarded": (NGINX_HERE, {"Forwarded": 'for="203.0.113.5"'}, None, 404),
    "an unreadable Forwarded header": (NGINX_HERE, {"Forwarded": "by=_hidden"}, None, 404),
    "another host with an admin's token": (OUTSIDE, {"Authorization": "admin"}, None, 200),
    "outside, through nginx, with an admin's token": (NGINX_HERE, {"X-Forwarded-For": "203.0.113.5",
                                                                    "Authorization": "admin"}, "proxied", 200),
    "another host with a cadre's token": (OUTSIDE, {"Authorization": "cadre"}, None, 404),
    "another host with a made-up token": (OUTSIDE, {"Authorization": "Bearer sn_made_up"}, None, 404),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_who_may_read_the_metrics(call, client, behind_nginx, api, world, cadre):
    environ, headers, proxied, expected = CALLS[call]
    admin = world.person("admin")
    world.session.commit()
    headers = dict(headers)
    if headers.get("Authorization") in ("admin", "cadre"):
        headers["Authorization"] = f"Bearer {api.token(admin if headers['Authorization'] == 'admin' else cadre)}"
    response = (behind_nginx if proxied else client).get("/metrics", headers=headers, environ_base=environ)
    assert response.status_code == expected
    assert ("songnuan_http_requests_total" in response.get_data(as_text=True)) == (expected == 200)


def test_a_signed_in_administrators_page_session_is_no_token(pages, world):
    admin = world.person("admin")
    world.session.commit()
    signed_in = pages.as_(admin)
    assert signed_in.get("/admin/").status_code == 200
    assert signed_in.get("/metrics", environ_base=OUTSIDE).status_code == 404
