"""The same action twice at the same instant, on PostgreSQL: two threads, one barrier, each in its own session and
transaction as two requests would be (a double click, two administrators, a retried request).

Whatever the database decides, the answer is the one a person would get one after the other: exactly one of them
does it (or both, where doing it twice is allowed), the other gets a refusal in words (a DomainError, 409 or 400
through the application), never an IntegrityError, a StaleDataError or a 500; and the trail holds one event per
action done.
"""

from __future__ import annotations

import html
import io
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app import create_app
from app.finance import bankfile
from app.config import Settings
from workflows import verbs
from workflows.actors import CONSOLE
from workflows.errors import DomainError, Forbidden
from workflows.infra.db import RACE_MESSAGE, race_refusal
from workflows.infra.uploads import Quota, Uploads
from workflows.inputs import parse_deadline
from workflows.models import Account, AuditEvent
from workflows.states import Action, State

from ..factories import PDF, Factory, case_data
from ..storage import settings_of
from .test_bank_batches import outcome_rows, result_xlsx
from .test_concurrency import race

pytestmark = pytest.mark.postgres

# One doing of the verb, in the session of a thread.
Act = Callable[[Session], object]


@dataclass(frozen=True)
class Double:
    action: str                                  # the trail's action of the verb
    prepare: Callable[[Factory], Act]            # builds the data (committed by the test), returns the action
    both: bool = False                           # doing it twice one after the other is allowed too
    says: str = ""                               # what the refusal of the second one says, in its own words
    # Both threads read and check before either writes (they meet at their first flush). Not for a verb that
    # locks its rows before it checks: the second one waits for the first one's lock, as it should.
    interleave: bool = True


def _account(make: Factory) -> Act:
    return lambda s: verbs.create_account(s, CONSOLE, make.clock, "wang.li", "reviewer", "secret-pass-1")


def _campaign(make: Factory) -> Act:
    return lambda s: verbs.create_campaign(s, CONSOLE, make.clock, name="2019年元旦春节送温暖",
                                           deadline=parse_deadline("2018-01-25"))


def _union(make: Factory) -> Act:
    district = make.district().code
    return lambda s: verbs.create_union(s, CONSOLE, make.clock, "HG01", "华光机械厂工会", district)


def _remove_document(make: Factory) -> Act:
    case = make.draft()
    make.attach(case)
    document, cadre = case.documents[0].id, make.person("cadre", case.union)
    return lambda s: verbs.remove_document(s, cadre, make.clock, make.uploads, case.id, document)


def _delete_draft(make: Factory) -> Act:
    case = make.draft()
    make.attach(case)
    cadre = make.person("cadre", case.union)
    return lambda s: verbs.delete_draft(s, cadre, make.clock, make.uploads, case.id)


def _create_case(make: Factory) -> Act:
    """Save tapped twice on a new household's form: one draft, and the other tap is told of it."""
    campaign, cadre, household = make.default_campaign(), make.person("cadre", make.default_union()), case_data()
    return lambda s: verbs.create_case(s, cadre, make.clock, campaign.id, household)


def _fire(make: Factory) -> Act:
    case = make.case(State.documented)
    head, version = make.person("head", case.union), case.version
    return lambda s: verbs.fire(s, head, make.clock, case.id, "approve", version)


def _fire_unversioned(make: Factory) -> Act:
    """As the screens' buttons without a version field would: each request reads the case as it finds it."""
    case = make.case(State.documented)
    head = make.person("head", case.union)
    return lambda s: verbs.fire(s, head, make.clock, case.id, "approve", None)


def _tariff(make: Factory) -> Act:
    campaign = make.default_campaign().id
    return lambda s: verbs.set_tariff(s, CONSOLE, make.clock, campaign, "deep", "hardship_worker", "800")


def _standard(make: Factory) -> Act:
    return lambda s: verbs.set_standard(s, CONSOLE, make.clock, 2018, "110105", "1200")


def _claim(make: Factory) -> Act:
    case = make.case(State.entered)
    reviewer = make.person("reviewer")
    return lambda s: verbs.claim(s, reviewer, make.clock, case.id)


def _notice(make: Factory) -> Act:
    union = make.union()
    campaign, cadre = make.default_campaign().id, make.person("cadre", union)
    return lambda s: verbs.record_notice(s, cadre, make.clock, make.uploads, campaign, "厂区公告栏",
                                         make.clock.now().date(), "notice.pdf", PDF)


def _batch(make: Factory) -> Act:
    cases = [make.case(State.district_approved).id for _ in range(2)]
    finance = make.person("finance")
    return lambda s: verbs.create_batch(s, finance, make.clock, cases)


def _two_batches(make: Factory) -> Act:
    """Two batches of different cases at once: both would take the day's next reference; the one that loses the
    number counts again and takes the next, so both are made."""
    cases = iter([make.case(State.district_approved).id for _ in range(2)])
    finance = make.person("finance")
    return lambda s: verbs.create_batch(s, finance, make.clock, [next(cases)])


def _bank_result(make: Factory) -> Act:
    """The bank's result of a sent batch imported twice at once (two clerks, or a double click): applied once."""
    cases = [make.case(State.district_approved) for _ in range(2)]
    finance = make.person("finance")
    batch = verbs.create_batch(make.session, finance, make.clock, [c.id for c in cases])
    verbs.send_batch(make.session, finance, make.clock, batch.id)
    rows = bankfile.read_result(result_xlsx(outcome_rows(batch, {cases[1].id: "账户已冻结"})), 10 * 2**20)
    return lambda s: verbs.bank_result(s, finance, make.clock, batch.id, rows)


def _last_upload_of_the_day(make: Factory) -> Act:
    """One account's last upload of the day, to two drafts at once: one takes it, the other is told the quota."""
    union = make.union()
    drafts = iter([make.draft(union=union), make.draft(union=union)])
    cadre, uploads = make.account("cadre", union), Uploads(make.uploads.storage, quota=Quota(daily_files=1))
    return lambda s: verbs.add_document(s, cadre, make.clock, uploads, next(drafts).id, "application", "a.pdf", PDF)


def _correct_account(make: Factory) -> Act:
    case = make.case(State.district_approved)
    make.fire(case, "disburse", make.person("finance"))
    make.fire(case, "bounce", make.person("finance"))
    cadre, version = make.person("cadre", case.union), case.version
    return lambda s: verbs.correct_account(s, cadre, make.clock, case.id, version, "6222020000000000018")


GOODS = {"kind": "goods", "goods_items": "大米25公斤、食用油5升", "goods_value": "300", "medical": False}


def _receipt(make: Factory) -> Act:
    case = make.case(State.district_approved, aid=GOODS)
    cadre = make.person("cadre", case.union)
    return lambda s: verbs.record_receipt(s, cadre, make.clock, make.uploads, case.id, "周丽华", "王建国",
                                          "2018-01-08", "签收单.pdf", PDF)


DOUBLES = {
    "create_account": Double(Action.create_account, _account, says="账号已存在"),
    "create_campaign": Double(Action.create_campaign, _campaign, says="活动名称已存在"),
    "create_union": Double(Action.create_union, _union, says="工会代码已存在"),
    "remove_document": Double(Action.remove_document, _remove_document),
    "create_case": Double(Action.create, _create_case, says="已有草稿"),
    "delete_draft": Double(Action.delete_draft, _delete_draft),
    "fire": Double("approve", _fire),
    "fire_unversioned": Double("approve", _fire_unversioned),
    "set_tariff": Double(Action.set_tariff, _tariff, says="帮扶标准刚刚已由他人设定"),
    "set_standard": Double(Action.set_standard, _standard, says="低保标准刚刚已由他人设定"),
    "claim": Double(Action.claim, _claim),
    "record_notice": Double(Action.record_notice, _notice, both=True),  # a second photo of the list is welcome
    "create_batch": Double(Action.create_batch, _batch, interleave=False),
    "create_batch_of_other_cases": Double(Action.create_batch, _two_batches, both=True),
    "correct_account": Double(Action.correct_account, _correct_account),
    "bank_result": Double(Action.bank_result, _bank_result, interleave=False),
    "last_upload_of_the_day": Double(Action.add_document, _last_upload_of_the_day, interleave=False,
                                     says="每个账号每天最多上传1份资料"),
    "record_receipt": Double(Action.record_receipt, _receipt),
}


def _events(engine, action: str) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == str(action)))


MEETING_TIMEOUT = 5  # seconds a thread waits at its first flush for the other one at most


def _twice(engine, act: Act, meeting: threading.Barrier | None):
    def meet(*_args) -> None:
        try:
            meeting.wait()
        except threading.BrokenBarrierError:
            pass  # the other one was refused before writing anything: nothing to wait for

    def job(barrier: threading.Barrier) -> object:
        with Session(engine) as session:
            if meeting is not None:
                event.listen(session, "before_flush", meet, once=True)
            barrier.wait()
            try:
                result = act(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            return result
    return job


@pytest.mark.parametrize("name", list(DOUBLES))
def test_the_same_action_twice_at_once_is_done_once_and_refused_once(racers, setup, name):
    session, make = setup
    double = DOUBLES[name]
    act = double.prepare(make)
    session.commit()
    before = _events(racers, double.action)

    meeting = threading.Barrier(2, timeout=MEETING_TIMEOUT) if double.interleave else None
    outcome = race([(f"{name}-{i}", _twice(racers, act, meeting)) for i in range(2)])

    # What the edge answers (app.respond.perform, the command line): a refusal raised by the verb, or the
    # database's refusal of a write that lost the race, translated once for every verb.
    refusals = {o.name: o.error if isinstance(o.error, DomainError) else race_refusal(o.error)
                for o in outcome.outcomes if o.error is not None}
    wrong = [f"--- {o.name}: {o.error!r}\n{o.trace}" for o in outcome.outcomes
             if o.error is not None and (refusals[o.name] is None or isinstance(refusals[o.name], Forbidden))]
    assert not wrong, "\n".join(wrong)
    done = 2 if double.both else 1
    assert len(outcome.winners) == done, [(o.name, repr(o.error)) for o in outcome.outcomes]
    for refusal in refusals.values():  # words a person reads: Chinese, no SQL
        assert refusal.message and not refusal.message.isascii() and "SQL" not in refusal.message
        assert double.says in refusal.message, refusal.message
    assert _events(racers, double.action) == before + done


# ---------------------------------------------------------------- through the application

@pytest.fixture
def app(committed, uploads, clock, monkeypatch):
    """The application on the test's database and clock, without CSRF tokens (not what is tested here)."""
    monkeypatch.setenv("SONGNUAN_SECRET_KEY", "test-secret")
    app = create_app(Settings(database_url=committed.url.render_as_string(hide_password=False),
                              development=True, **settings_of(uploads)))
    app.extensions["songnuan"]["clock"] = clock
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    app.extensions["songnuan"]["engine"].dispose()


@dataclass(frozen=True)
class Call:
    """A request as one account makes it: through the API (a bearer token) or a screen (a session key)."""
    account: Account
    screen: bool
    method: str
    path: str
    body: Callable[[], dict]  # the request's keywords, made afresh for each thread (a file is read once)


def _document_call(make: Factory, screen: bool) -> Call:
    case = make.draft()
    make.attach(case)
    document = case.documents[0].id
    path = f"/cases/{case.id}/documents/{document}/remove" if screen else f"/api/v1/cases/{case.id}/documents/{document}"
    return Call(make.person("cadre", case.union), screen, "POST" if screen else "DELETE", path, dict)


def _admin(make: Factory) -> Account:
    return make.person("admin")


CALLS: dict[str, tuple[Callable[[Factory], Call], str, str]] = {
    # name: (the call, the trail's action, what the second one is told)
    "remove document (API)": (lambda make: _document_call(make, False), Action.remove_document, "已被他人修改"),
    "remove document (screen)": (lambda make: _document_call(make, True), Action.remove_document, "删除失败"),
    "new account (screen)": (lambda make: Call(_admin(make), True, "POST", "/admin/accounts/new", lambda: {"data": {
        "username": "wang.li", "role": "reviewer", "password": "secret-pass-1"}}), Action.create_account, "账号已存在"),
    "new campaign (screen)": (lambda make: Call(_admin(make), True, "POST", "/admin/campaigns/new", lambda: {"data": {
        "name": "2019年元旦春节送温暖", "starts_on": "2018-12-01", "ends_on": "2019-02-28", "deadline_day": "2019-01-25",
        "publicity_days": "5", "reminder_days": "7,3,1"}}), Action.create_campaign, "活动名称已存在"),
    "new union (screen)": (lambda make: Call(_admin(make), True, "POST", "/admin/unions", lambda data={
        "parent": make.district().code, "code": "HG01", "name": "华光机械厂工会", "kind": "grassroots"}: {"data": data}),
                           Action.create_union, "工会代码已存在"),
    "tariff (API)": (lambda make: Call(_admin(make), False, "PUT",
                                       f"/api/v1/campaigns/{make.default_campaign().id}/tariffs/deep/hardship_worker",
                                       lambda: {"json": {"amount": "800"}}), Action.set_tariff, "帮扶标准刚刚已由他人设定"),
    # No words of its own: the answer every verb gets from app.respond.perform.
    "goods receipt (API)": (lambda make: Call(
        make.person("cadre", (case := make.case(State.district_approved, aid=GOODS)).union), False, "POST",
        f"/api/v1/cases/{case.id}/receipt", lambda: {"content_type": "multipart/form-data", "data": {
            "handed_by": "周丽华", "received_by": "王建国", "received_on": "2018-01-08",
            "file": (io.BytesIO(PDF), "签收单.pdf")}}), Action.record_receipt, RACE_MESSAGE),
}


def _client(app, make: Factory, call: Call):
    client = app.test_client()
    if call.screen:
        key = verbs.issue_token(make.session, make.clock, call.account, kind="web")
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = key, True
        return client, {}
    return client, {"Authorization": f"Bearer {verbs.issue_token(make.session, make.clock, call.account)}"}


@pytest.mark.parametrize("name", list(CALLS))
def test_the_same_request_twice_at_once_is_answered_once_and_refused_once(app, setup, name):
    session, make = setup
    prepare, action, says = CALLS[name]
    call = prepare(make)
    clients = [_client(app, make, call) for _ in range(2)]
    session.commit()
    before = _events(app.extensions["songnuan"]["engine"], action)
    meeting, met = threading.Barrier(2, timeout=MEETING_TIMEOUT), threading.local()

    def meet(changed, *_args) -> None:
        # Once per request, at the flush of its change (not at the noting of a token's use).
        if (changed.new or changed.deleted) and not getattr(met, "done", False):
            met.done = True
            try:
                meeting.wait()
            except threading.BrokenBarrierError:
                pass

    def request(client, headers):
        def job(barrier: threading.Barrier):
            barrier.wait()
            response = client.open(call.path, method=call.method, headers=headers, **call.body())
            text = response.get_data(as_text=True)
            if response.status_code == 302:  # a screen's refusal is a message on the page it goes back to
                text = client.get(response.headers["Location"]).get_data(as_text=True)
            return response.status_code, html.unescape(text)
        return job

    writing = app.extensions["songnuan"]["writing_sessions"]
    event.listen(writing, "before_flush", meet)
    try:
        outcome = race([(f"{name}-{i}", request(*client)) for i, client in enumerate(clients)])
    finally:
        event.remove(writing, "before_flush", meet)

    assert not [o for o in outcome.outcomes if o.error], [o.trace for o in outcome.outcomes]
    answers = sorted(o.result for o in outcome.outcomes)
    assert all(status < 500 for status, _text in answers), answers
    refused = [(status, text) for status, text in answers if says in text]
    assert len(refused) == 1, [status for status, _text in answers]
    assert refused[0][0] in (302, 409), refused[0][0]
    assert "SQL" not in refused[0][1] and "Traceback" not in refused[0][1]
    assert _events(app.extensions["songnuan"]["engine"], action) == before + 1
