"""The demo district: believable, complete, and built through the verbs so its audit trail verifies. Its base record
is the household archive: last winter's helped households are 在档, and this winter applies for them again."""

import datetime as dt
import re

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.demo import build_demo
from workflows import verbs
from workflows.archive_states import Status
from workflows.errors import NotFound
from workflows.identity import bank_account_problem, id_number_problem
from workflows.infra import audit
from workflows.infra.clock import LOCAL, from_db, to_db
from workflows.models import Account, Archive, AuditEvent, Campaign, Case, Document, Union
from workflows.reads import archives as archive_reads
from workflows.states import Role, State
from workflows.vocab import ApplicationKind

pytestmark = pytest.mark.slow  # the whole demo district, three times


def _account(session, username: str) -> Account:
    return session.scalar(select(Account).where(Account.username == username))


def _events(session, archive: Archive, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.archive_id == archive.id,
                                                         AuditEvent.action == action).order_by(AuditEvent.seq)))


@pytest.mark.parametrize("now", [
    dt.datetime(2026, 11, 29, 10, tzinfo=LOCAL),   # early in the season
    dt.datetime(2027, 1, 20, 10, tzinfo=LOCAL),    # five days before the deadline
    dt.datetime(2027, 2, 10, 10, tzinfo=LOCAL),    # just after it: the next season is the current one
])
def test_demo_builds_a_working_district(session, uploads, now):
    accounts = build_demo(session, uploads, now=now)
    session.expire_all()  # read it back as the next request would

    roles = {role for _, role, _ in accounts}
    assert roles == {r.value for r in Role if r != Role.system}
    for username, _, password in accounts:
        stored = _account(session, username)
        assert password not in stored.password_hash
        assert check_password_hash(stored.password_hash, password)

    last, current = session.scalars(select(Campaign).order_by(Campaign.deadline)).all()
    assert from_db(last.deadline) < now, "last winter's campaign is closed"
    assert from_db(current.deadline) > now, "the current campaign's deadline must be ahead"
    states = set(session.scalars(select(Case.state).where(Case.campaign_id == current.id)))
    assert states == {s.value for s in State}

    # Last winter's helped households are archived (在档), helped at last winter's dates.
    helped = session.scalars(select(Case).where(Case.campaign_id == last.id, Case.state == State.disbursed)).all()
    assert len(helped) >= 5
    for case in helped:
        assert case.archive.status == Status.active
        assert case.archive.last_helped_at is not None
        (activated,) = _events(session, case.archive, "activate")
        assert activated.occurred_at < to_db(from_db(last.deadline))

    # This winter: those archives applied for again, 存量, but for one back in hardship (返困), and one left for
    # JC001's cadre to carry over.
    kinds = {}
    cadre = _account(session, "cadre_jc001")
    waiting = archive_reads.carry_over(session, cadre, current.id)
    assert [a.id for a in waiting] == [helped_case.archive_id for helped_case in helped
                                       if helped_case.archive_id in {a.id for a in waiting}] and len(waiting) == 1
    for case in helped:
        if case.archive_id == waiting[0].id:
            continue
        (application,) = [c for c in case.archive.cases if c.campaign_id == current.id]
        kinds[case.archive_id] = ApplicationKind(application.application_kind).label
        assert application.created_at >= to_db(from_db(last.deadline))
    assert sorted(kinds.values()).count("返困") == 1 and set(kinds.values()) == {"存量", "返困"}
    new = session.scalars(select(Case).where(Case.campaign_id == current.id,
                                             Case.application_kind == ApplicationKind.new)).all()
    assert {c.state for c in new} == {s.value for s in State}, "new households (增量) in every state"
    assert all(not c.archive.last_helped_campaign_id or c.archive.last_helped_campaign_id == current.id
               for c in new)

    # The 返困 household: exited (脱困) between the seasons, back in the archive by this winter's approval.
    (returned,) = session.scalars(select(Case).where(Case.application_kind == ApplicationKind.returned))
    archive = returned.archive
    assert returned.campaign_id == current.id and archive.status == Status.active
    (exited,) = _events(session, archive, "exit")
    (reactivated,) = _events(session, archive, "reactivate")
    assert (exited.from_state, exited.to_state) == (Status.active, Status.exited) and exited.comment
    assert to_db(from_db(last.deadline)) < exited.occurred_at < returned.created_at < reactivated.occurred_at
    assert (reactivated.from_state, reactivated.to_state) == (Status.exited, Status.active)

    # One archive transferred by the reviewer to another union: the new union sees it and its history, the old
    # one no longer does.
    (transfer,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "transfer"))
    assert transfer.role == Role.reviewer and transfer.comment
    moved = session.get(Archive, transfer.archive_id)
    before, after = (session.scalar(select(Union).where(Union.name == name)) for name in transfer.changes["union"])
    assert moved.union_id == after.id != before.id
    old_cadre, new_cadre = _account(session, f"cadre_{before.code.lower()}"), _account(session,
                                                                                        f"cadre_{after.code.lower()}")
    assert moved.id in [a.id for a in archive_reads.listing(session, new_cadre, per_page=100).items]
    assert moved.id not in [a.id for a in archive_reads.listing(session, old_cadre, per_page=100).items]
    assert verbs.get_archive(session, new_cadre, moved.id) is moved
    with pytest.raises(NotFound):
        verbs.get_archive(session, old_cadre, moved.id)
    # Last winter's application stays the old union's (its figures), and is listed on the archive wherever it goes.
    (last_winter,) = [c for c in moved.cases if c.campaign_id == last.id]
    assert verbs.get_case(session, old_cadre, last_winter.id) is last_winter
    assert last_winter.id in [a.case for a in archive_reads.applications(session, moved)]
    history = archive_reads.timeline(session, moved)
    assert {e.case_id for e in history if e.case_id} == {c.id for c in moved.cases}
    assert [e.action for e in history].index("transfer") < [e.case_id for e in history].index(moved.cases[-1].id)
    assert kinds[moved.id] == "存量"

    for case in session.scalars(select(Case)):
        assert id_number_problem(case.id_number, now.date()) is None
        assert bank_account_problem(case.bank_account) is None
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,3}", case.applicant_name)
    assert session.scalar(select(func.count()).select_from(Document)) > 0
    for document in session.scalars(select(Document)):
        assert uploads.read(document.id).startswith(b"%PDF-")

    result = audit.verify(session)
    assert result.ok and result.events == session.scalar(select(func.count()).select_from(AuditEvent))
    times = list(session.scalars(select(AuditEvent.occurred_at).order_by(AuditEvent.seq)))
    assert times == sorted(times), "events are in time order"
    assert max(times) <= now.astimezone(dt.timezone.utc).replace(tzinfo=None)
