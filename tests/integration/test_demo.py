"""The demo district: believable, complete, and built through the verbs so its audit trail verifies."""

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.demo import build_demo
from workflows.identity import bank_account_problem, id_number_problem
from workflows.infra import audit
from workflows.infra.clock import LOCAL, from_db
from workflows.models import Account, AuditEvent, Campaign, Case, Document
from workflows.states import Role, State

pytestmark = pytest.mark.slow  # the whole demo district, three times


@pytest.mark.parametrize("now", [
    dt.datetime(2026, 11, 29, 10, tzinfo=LOCAL),   # early in the season
    dt.datetime(2027, 1, 20, 10, tzinfo=LOCAL),    # five days before the deadline
    dt.datetime(2027, 2, 10, 10, tzinfo=LOCAL),    # just after it: the next season is the current one
])
def test_demo_builds_a_working_district(session, uploads, now):
    accounts = build_demo(session, uploads, now=now)

    roles = {role for _, role, _ in accounts}
    assert roles == {r.value for r in Role if r != Role.system}
    for username, _, password in accounts:
        stored = session.scalar(select(Account).where(Account.username == username))
        assert password not in stored.password_hash
        assert check_password_hash(stored.password_hash, password)

    current = session.scalar(select(Campaign).order_by(Campaign.deadline.desc()).limit(1))
    assert from_db(current.deadline) > now, "the current campaign's deadline must be ahead"
    states = set(session.scalars(select(Case.state).where(Case.campaign_id == current.id)))
    assert states == {s.value for s in State}

    for case in session.scalars(select(Case)):
        assert id_number_problem(case.id_number, now.date()) is None
        assert bank_account_problem(case.bank_account) is None
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", case.applicant_name)
    assert session.scalar(select(func.count()).select_from(Document)) > 0
    for document in session.scalars(select(Document)):
        assert (uploads.root / document.id).read_bytes().startswith(b"%PDF-")

    result = audit.verify(session)
    assert result.ok and result.events == session.scalar(select(func.count()).select_from(AuditEvent))
    times = list(session.scalars(select(AuditEvent.occurred_at).order_by(AuditEvent.seq)))
    assert times == sorted(times), "events are in time order"
    assert max(times) <= now.astimezone(dt.timezone.utc).replace(tzinfo=None)
