"""Signing in to the API and what a token is: throttled sign-in, tokens kept only as their SHA-256, revocation,
disabled accounts, no cookies either way; then the caller's own things: /me, notifications, the statistics."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from workflows import verbs
from workflows.actors import CONSOLE
from workflows.infra.clock import to_db
from workflows.models import ApiToken, AuditEvent, Case, Notification
from workflows.states import State
from workflows.verbs.signin import MAX_PER_NAME, WINDOW

from ..factories import case_data

PASSWORD = "sn-Correct-Horse-42"


@pytest.fixture
def union(world):
    union = world.union()
    world.session.commit()
    return union


@pytest.fixture
def cadre(world, union):
    """A cadre with a real password (the factory's accounts have none, they never sign in)."""
    account = verbs.create_account(world.session, CONSOLE, world.clock, "wang.cadre", "cadre", PASSWORD,
                                          union_code=union.code)
    world.session.commit()
    return account


def sign_in(client, username: str, password: str):
    return client.post("/api/v1/tokens", json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json["error"] == code and response.json["message"]


# ------------------------------------------------------------------ signing in

def test_the_right_password_gives_a_token_that_works(client, cadre, union):
    response = sign_in(client, "wang.cadre", PASSWORD)
    assert response.status_code == 201 and set(response.json) == {"token"}
    me = client.get("/api/v1/me", headers=bearer(response.json["token"]))
    assert me.status_code == 200
    assert me.json == {"username": "wang.cadre", "role": "cadre", "union": union.code}


def test_the_token_is_stored_only_as_its_hash(client, world, cadre):
    token = sign_in(client, "wang.cadre", PASSWORD).json["token"]
    rows = world.session.scalars(select(ApiToken).where(ApiToken.account_id == cadre.id)).all()
    assert len(rows) == 1
    assert rows[0].digest != token and rows[0].digest == hashlib.sha256(token.encode()).hexdigest()
    assert rows[0].revoked_at is None
    # nor written down anywhere else: the audit trail records that a token was made, not the token
    events = world.session.scalars(select(AuditEvent).where(AuditEvent.actor == "wang.cadre")).all()
    assert [e.action for e in events] == ["token_create"]
    assert not any(token in repr((e.comment, e.changes)) for e in events)


@pytest.mark.parametrize("username, password", [("wang.cadre", "wrong-password"), ("nobody", PASSWORD),
                                                ("wang.cadre", ""), ("", "")],
                         ids=["wrong password", "unknown user", "empty password", "empty both"])
def test_a_failed_sign_in_is_401_and_tells_nothing_more(client, world, cadre, username, password):
    response = sign_in(client, username, password)
    if username and password:
        assert_error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        # an unknown name and a wrong password are answered alike
        assert response.json == sign_in(client, "wang.cadre" if username == "nobody" else "nobody",
                                        "wrong-password").json
    else:  # an empty name or password is not even tried
        assert_error(response, 400, "invalid")
        assert set(response.json["fields"]) == {"username", "password"} - ({"username"} if username else set())
    assert world.session.scalars(select(ApiToken)).all() == []


def test_five_failures_lock_the_name_for_the_window_even_with_the_right_password(client, world, clock, cadre):
    start = clock.now()
    for _ in range(MAX_PER_NAME):
        assert_error(sign_in(client, "wang.cadre", "wrong-password"), 401, "unauthenticated")
        clock.advance(minutes=1)
    locked = sign_in(client, "wang.cadre", PASSWORD)
    assert_error(locked, 429, "throttled")
    # the oldest failure leaves the window 15 minutes after it was made: 10 minutes from now
    assert int(locked.headers["Retry-After"]) == (start + WINDOW - clock.now()).total_seconds() == 600
    assert world.session.scalars(select(ApiToken)).all() == []
    # another name from the same address is not locked out by this one's failures
    verbs.create_account(world.session, CONSOLE, world.clock, "li.head", "head", PASSWORD,
                                union_code=cadre.union.code)
    world.session.commit()
    assert sign_in(client, "li.head", PASSWORD).status_code == 201

    clock.set(start + WINDOW - dt.timedelta(seconds=1))
    still = sign_in(client, "wang.cadre", PASSWORD)
    assert_error(still, 429, "throttled")
    assert still.headers["Retry-After"] == "1"
    clock.set(start + WINDOW + dt.timedelta(seconds=1))
    response = sign_in(client, "wang.cadre", PASSWORD)
    assert response.status_code == 201 and response.json["token"]


def test_a_success_clears_the_failures(client, clock, cadre):
    for _ in range(MAX_PER_NAME - 1):
        sign_in(client, "wang.cadre", "wrong-password")
    assert sign_in(client, "wang.cadre", PASSWORD).status_code == 201
    for _ in range(MAX_PER_NAME - 1):
        sign_in(client, "wang.cadre", "wrong-password")
    assert sign_in(client, "wang.cadre", PASSWORD).status_code == 201


# ------------------------------------------------------------------ tokens that no longer work

def test_signing_out_revokes_this_token_only(client, world, cadre):
    first = sign_in(client, "wang.cadre", PASSWORD).json["token"]
    second = sign_in(client, "wang.cadre", PASSWORD).json["token"]
    response = client.delete("/api/v1/tokens/current", headers=bearer(first))
    assert response.status_code == 204 and response.get_data() == b""
    assert_error(client.get("/api/v1/me", headers=bearer(first)), 401, "unauthenticated")
    assert_error(client.delete("/api/v1/tokens/current", headers=bearer(first)), 401, "unauthenticated")
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200
    digest = hashlib.sha256(first.encode()).hexdigest()
    assert world.session.scalar(select(ApiToken).where(ApiToken.digest == digest)).revoked_at is not None


def test_a_disabled_accounts_token_stops_working_and_it_cannot_sign_in(client, world, cadre):
    token = sign_in(client, "wang.cadre", PASSWORD).json["token"]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    cadre.active = False
    world.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthenticated")
    assert_error(sign_in(client, "wang.cadre", PASSWORD), 401, "unauthenticated")


@pytest.mark.parametrize("authorization", ["", "Bearer", "Bearer ", "Bearer sn_not-a-token", "Basic d2FuZzpwdw==",
                                           "sn_not-a-token"])
def test_a_missing_or_wrong_authorization_is_401(client, cadre, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    assert_error(client.get("/api/v1/me", headers=headers), 401, "unauthenticated")


def test_no_cookie_is_read_nor_set(app, client, world, cadre):
    """The API is bearer-only: a signed-in browser session is no way in (so no CSRF token is needed), and no
    answer, not even the sign-in, sets a cookie."""
    responses = [sign_in(client, "wang.cadre", PASSWORD)]
    token = responses[0].json["token"]
    with client.session_transaction() as session:  # what Flask-Login would keep for a signed-in browser
        session["_user_id"] = str(cadre.id)
        session["_fresh"] = True
    client.set_cookie("token", token)
    client.set_cookie("Authorization", f"Bearer {token}")
    for method, path, body in (("GET", "/me", None), ("GET", "/cases", None),
                               ("POST", "/cases", {"campaign": 1, **case_data()})):
        response = client.open(f"/api/v1{path}", method=method, json=body)
        assert_error(response, 401, "unauthenticated")
        responses.append(response)
    client.delete_cookie("token")
    client.delete_cookie("Authorization")
    responses += [client.get("/api/v1/me", headers=bearer(token)), sign_in(client, "wang.cadre", "wrong-password"),
                  client.get("/api/v1/nowhere", headers=bearer(token)),
                  client.delete("/api/v1/tokens/current", headers=bearer(token))]
    assert [r.status_code for r in responses] == [201, 401, 401, 401, 200, 401, 404, 204]
    assert not [r.headers.getlist("Set-Cookie") for r in responses if r.headers.getlist("Set-Cookie")]


# ------------------------------------------------------------------ me and my notifications

def test_me_says_who_i_am(api, world, union):
    cadre, reviewer = world.person("cadre", union), world.person("reviewer")
    world.session.commit()
    assert api.call("GET", "/me", cadre).json == {"username": cadre.username, "role": "cadre", "union": union.code}
    assert api.call("GET", "/me", reviewer).json == {"username": reviewer.username, "role": "reviewer",
                                                     "union": None}


def test_notifications_are_my_own_and_only_i_mark_them_read(api, world, union, clock):
    cadre, head = world.person("cadre", union), world.person("head", union)
    now = to_db(clock.now())

    def note(account, text, read=False):
        notification = Notification(key=f"{account.username}-{text}", account_id=account.id, kind="reminder",
                                    text=text, created_at=now, read_at=now if read else None)
        world.session.add(notification)
        return notification

    mine = [note(cadre, "距报送截止还有7天", read=True), note(cadre, "距报送截止还有3天")]
    theirs = note(head, "有1件待审核")
    world.session.commit()

    listed = api.call("GET", "/notifications", cadre)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json["items"]] == [mine[1].id, mine[0].id]  # newest first
    assert listed.json["unread"] == 1
    assert [item["read"] for item in listed.json["items"]] == [False, True]

    assert_error(api.call("POST", f"/notifications/{theirs.id}/read", cadre), 404, "not_found")
    assert_error(api.call("POST", "/notifications/999999/read", cadre), 404, "not_found")
    world.session.expire_all()
    assert world.session.get(Notification, theirs.id).read_at is None
    assert api.call("GET", "/notifications", head).json["unread"] == 1

    read = api.call("POST", f"/notifications/{mine[1].id}/read", cadre)
    assert read.status_code == 200 and read.json["read"] is True and read.json["id"] == mine[1].id
    assert api.call("GET", "/notifications", cadre).json["unread"] == 0
    assert api.call("POST", f"/notifications/{mine[1].id}/read", cadre).status_code == 200  # again: no harm


# ------------------------------------------------------------------ statistics

@pytest.fixture
def season(world, union):
    """Cases of one campaign in unions A and B, in many states and with different amounts; and a case of another
    campaign, which must not be counted."""
    other_union = world.union("红星纺织厂工会")
    campaign, other_campaign = world.campaign(), world.campaign()

    def case(state, union, amount, **data):
        return world.case(state, union=union, campaign=campaign,
                          aid={"kind": "funds", "amount": amount, "medical": False}, **data)

    case(State.drafted, union, "500")
    case(State.entered, union, "800", worker_group="migrant_worker")
    case(State.district_approved, union, "1200", category="accident")
    case(State.disbursed, union, "1500")
    case(State.forfeited, union, "700")
    case(State.disbursed, other_union, "2000", worker_group="model_worker")
    case(State.withdrawn, other_union, "300")
    world.case(State.disbursed, union=union, campaign=other_campaign)
    world.session.commit()
    return campaign, other_union


def expected_statistics(world, campaign, union=None) -> dict:
    """The totals counted here from the cases themselves, not through the report's queries."""
    cases = [c for c in world.session.scalars(select(Case).where(Case.campaign_id == campaign.id))
             if union is None or c.union_id == union.id]
    approved = sum((c.aid_amount for c in cases if c.state in (State.district_approved, State.disbursed)),
                   Decimal(0))
    paid = sum((c.aid_amount for c in cases if c.state == State.disbursed), Decimal(0))
    return {"cases": len(cases), "by_state": {s.value: sum(c.state == s for c in cases) for s in State},
            "approved_amount": approved, "paid_amount": paid,
            "forfeited": sum(c.state == State.forfeited for c in cases),
            "by_worker_group": {g: sum(c.worker_group == g for c in cases) for g in {c.worker_group for c in cases}}}


def reported(table: dict) -> dict:
    return {"cases": table["cases"], "by_state": table["by_state"],
            "approved_amount": Decimal(table["approved_amount"]), "paid_amount": Decimal(table["paid_amount"]),
            "forfeited": table["forfeited"],
            "by_worker_group": {g: row["cases"] for g, row in table["by_worker_group"].items() if row["cases"]}}


def test_the_statistics_equal_the_database(api, world, union, season):
    campaign, other_union = season
    auditor = world.person("auditor")
    world.session.commit()
    district = api.call("GET", f"/reports/statistics?campaign={campaign.id}", auditor)
    assert district.status_code == 200
    assert district.json["campaign"] == campaign.id and district.json["union"] is None
    assert reported(district.json) == expected_statistics(world, campaign)
    assert district.json["cases"] == 7 and Decimal(district.json["paid_amount"]) == Decimal("3500")
    for section in ("by_worker_group", "by_category", "by_aid_kind"):
        assert sum(row["cases"] for row in district.json[section].values()) == district.json["cases"], section

    one_union = api.call("GET", f"/reports/statistics?campaign={campaign.id}&union={other_union.code}", auditor)
    assert reported(one_union.json) == expected_statistics(world, campaign, other_union)


def test_a_cadre_sees_the_statistics_of_their_own_union_only(api, world, union, season):
    campaign, other_union = season
    cadre = world.person("cadre", union)
    world.session.commit()
    own = api.call("GET", f"/reports/statistics?campaign={campaign.id}", cadre)
    assert own.status_code == 200 and own.json["union"] == union.code
    assert reported(own.json) == expected_statistics(world, campaign, union)
    named = api.call("GET", f"/reports/statistics?campaign={campaign.id}&union={union.code}", cadre)
    assert named.json == own.json
    assert_error(api.call("GET", f"/reports/statistics?campaign={campaign.id}&union={other_union.code}", cadre),
                 404, "not_found")
    assert_error(api.call("GET", "/reports/statistics?campaign=999999", cadre), 404, "not_found")


def test_the_statistics_as_a_workbook(api, world, union, season):
    campaign, _ = season
    cadre = world.person("cadre", union)
    world.session.commit()
    response = api.call("GET", f"/reports/statistics?campaign={campaign.id}&format=xlsx", cadre)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.active.title == "统计表" and book.active["A1"].value == f"{campaign.name}活动统计表"
    rows = [list(row) for row in book["办理情况"].iter_rows(values_only=True)]  # how the cases stand
    expected = expected_statistics(world, campaign, union)
    assert rows[0][0] == f"{campaign.name}活动办理情况"
    assert union.name in rows[1][0]
    labels = {row[0]: row[1] for row in rows if row and row[0]}
    assert labels["审定金额合计（元）"] == float(expected["approved_amount"])
    assert labels["发放金额合计（元）"] == float(expected["paid_amount"])
    assert labels["视为自动放弃（件）"] == expected["forfeited"]
    first = next(i for i, row in enumerate(rows) if row[0] == "案件状态") + 1
    assert [row[:2] for row in rows[first:first + len(State) + 1]] == \
        [[state.label, expected["by_state"][state.value]] for state in State] + [["合计", expected["cases"]]]
