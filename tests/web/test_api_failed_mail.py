"""Administrators see the notifications whose e-mail keeps failing; nobody else does."""

import datetime as dt
import socket

from scheduler import mail
from workflows.infra.db import session_factory
from workflows.infra.outbox import notify


def test_failed_deliveries_are_listed_for_administrators_only(api, world, committed):
    cadre, admin = world.account("cadre"), world.account("admin")
    cadre.email = "cadre@example.org"
    notify(world.session, key="failing", account_id=cadre.id, kind="deadline", text="尚有1件未报送：张三。",
           now=world.clock.now())
    notify(world.session, key="in-app", account_id=admin.id, kind="deadline", text="站内通知", now=world.clock.now())
    world.session.commit()
    with socket.socket() as probe:  # a port where nothing listens: the server is down
        probe.bind(("127.0.0.1", 0))
        down = f"smtp://127.0.0.1:{probe.getsockname()[1]}"
    assert mail.deliver(session_factory(committed, writes=True), world.clock, down) == (0, 1)

    assert api.call("GET", "/notifications/failed", cadre).status_code == 403
    listed = api.call("GET", "/notifications/failed", admin)
    assert listed.status_code == 200, listed.json
    assert listed.json["total"] == 1 and listed.json["page"] == 1
    [item] = listed.json["items"]
    assert item["account"] == cadre.username and item["kind"] == "deadline" and item["attempts"] == 1
    assert item["last_error"] == "ConnectionRefusedError: Connection refused"
    assert dt.datetime.fromisoformat(item["next_attempt_at"]) == world.clock.now() + dt.timedelta(minutes=1)
    assert "text" not in item  # administrators see no cases, so not the names in the text either
