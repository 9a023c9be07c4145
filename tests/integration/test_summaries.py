"""活动总结: a grassroots union hands in its summary by the report deadline and may replace it until then; the
district sees, in one query, who has handed in; the attached file goes to those entitled to it only."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.errors import Conflict, Forbidden, Invalid, NotFound, Refused
from workflows.infra import audit
from workflows.infra.clock import LOCAL, to_db
from workflows.infra.uploads import Uploads
from workflows.models import AuditEvent, Summary
from workflows.reads import summaries

from ..factories import PDF, PNG, Factory
from ..storage import stored

REPORT_DEADLINE = dt.datetime(2018, 2, 1, 0, 0, tzinfo=LOCAL)  # 2018-01-31 24:00
TEXT = "本工会走访慰问困难职工12户，发放慰问金1.2万元，详见统计表。"


files = stored


def events(session, action="summary_submit") -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


@pytest.fixture
def campaign(make):
    return make.campaign(report_deadline=REPORT_DEADLINE)


def submit(make, actor, campaign, text=TEXT, file=None, **kwargs):
    return verbs.submit_summary(make.session, actor, make.clock, make.uploads, campaign.id, text, file, **kwargs)


def test_a_cadre_hands_in_and_a_head_replaces_it_each_audited(session, make, campaign, uploads):
    union = make.union()
    cadre, head = make.person("cadre", union), make.person("head", union)

    summary = submit(make, cadre, campaign, file=("总结.pdf", PDF))
    assert (summary.union_id, summary.campaign_id, summary.text) == (union.id, campaign.id, TEXT)
    assert (summary.file_name, summary.file_type, summary.file_size) == ("总结.pdf", "application/pdf", len(PDF))
    assert uploads.read(summary.file_id) == PDF
    assert summary.submitted_by_id == cadre.id and summary.submitted_at == to_db(make.clock.now())
    [first] = events(session)
    assert (first.actor, first.role, first.case_id, first.comment) == (cadre.username, "cadre", None, "提交活动总结")
    assert first.changes["text"] == [None, TEXT] and first.changes["union"] == [None, union.code]
    assert first.changes["file"] == [None, f"总结.pdf（SHA-256 {summary.file_sha256}）"]
    session.commit()

    # Replaced by the head: new text, the file kept when none is sent (an empty file field is no file).
    make.clock.advance(days=1)
    again = submit(make, head, campaign, "修改后的总结", file=("", b""))
    assert again.id == summary.id and again.text == "修改后的总结" and again.file_name == "总结.pdf"
    assert again.submitted_by_id == head.id
    second = events(session)[-1]
    assert second.comment == "修改活动总结" and second.changes["text"] == [TEXT, "修改后的总结"]
    assert "file" not in second.changes
    old_file = summary.file_id
    session.commit()

    # A new file replaces the old one, which goes once the replacement has committed.
    submit(make, cadre, campaign, "修改后的总结", file=("统计表.png", PNG))
    assert summary.file_name == "统计表.png" and old_file in files(uploads)
    assert events(session)[-1].changes["file"][1].startswith("统计表.png")
    session.commit()
    assert files(uploads) == [summary.file_id]

    submit(make, cadre, campaign, "修改后的总结", remove_file=True)
    session.commit()
    assert summary.file_id is None and files(uploads) == []
    assert session.scalar(select(func.count()).select_from(Summary)) == 1
    assert audit.verify(session).ok


@pytest.mark.parametrize(("text", "file", "fields"), [
    ("", None, {"text"}),
    ("   ", None, {"text"}),
    ("字" * 5001, None, {"text"}),
    ("", ("../etc/passwd", PDF), {"text", "file"}),
    (TEXT, ("空.pdf", b""), {"file"}),
], ids=["empty", "blank", "too-long", "path-and-no-text", "empty-file"])
def test_bad_input_is_refused_with_the_fields_named_and_changes_nothing(session, make, campaign, uploads, text,
                                                                        file, fields):
    cadre = make.person("cadre", make.union())
    before = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(Invalid) as refused:
        submit(make, cadre, campaign, text, file)
    assert set(refused.value.fields) == fields
    assert all(refused.value.fields.values())
    assert session.scalar(select(func.count()).select_from(Summary)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert files(uploads) == []


def test_the_longest_text_allowed_is_taken(session, make, campaign):
    summary = submit(make, make.person("cadre", make.union()), campaign, "字" * verbs.summaries.MAX_TEXT)
    assert len(summary.text) == verbs.summaries.MAX_TEXT


@pytest.mark.parametrize(("content", "text", "message"),
                         [(b"<html></html>", TEXT, "PDF"), (PDF + b"0" * 64, TEXT, "太大"), (PDF + b"0" * 64, "", "太大")],
                         ids=["html", "too-large", "too-large-and-no-text"])
def test_a_file_is_judged_by_its_content_and_size(session, make, campaign, tmp_path, content, text, message):
    small = Uploads(tmp_path / "small", max_bytes=len(PDF) + 10)
    with pytest.raises(Invalid) as refused:
        verbs.submit_summary(session, make.person("cadre", make.union()), make.clock, small, campaign.id, text,
                         ("总结.pdf", content))
    assert message in refused.value.fields["file"]
    assert ("text" in refused.value.fields) == (not text)  # both messages at once, beside their fields
    assert files(small) == []


def test_after_the_report_deadline_nothing_is_handed_in_or_replaced(session, make, campaign, uploads):
    cadre = make.person("cadre", make.union())
    submit(make, cadre, campaign)
    make.clock.set(REPORT_DEADLINE - dt.timedelta(seconds=1))
    submit(make, cadre, campaign, "最后一刻修改")
    make.clock.set(REPORT_DEADLINE)
    with pytest.raises(Refused) as late:
        submit(make, cadre, campaign, "迟到的修改", file=("总结.pdf", PDF))
    assert late.value.rule == "report_deadline" and "2018-01-31 24:00" in late.value.message
    assert summaries.for_union(session, campaign.id, cadre.union_id).text == "最后一刻修改"
    assert files(uploads) == []


@pytest.mark.parametrize("role", ["reviewer", "finance", "auditor", "admin"])
def test_only_a_grassroots_unions_people_hand_in(session, make, campaign, role):
    with pytest.raises(Forbidden):
        submit(make, make.account(role), campaign)


def test_an_unknown_campaign_is_invalid(session, make):
    with pytest.raises(Invalid) as error:
        verbs.submit_summary(session, make.person("cadre", make.union()), make.clock, make.uploads, 99999, TEXT)
    assert set(error.value.fields) == {"campaign"}


def test_the_district_sees_every_grassroots_union_in_code_order_in_one_query(session, make, campaign):
    unions = [make.union(f"第{i}工会") for i in range(4)]
    for union in unions[::2]:
        submit(make, make.person("cadre", union), campaign)
    other = make.campaign(report_deadline=REPORT_DEADLINE)
    submit(make, make.person("cadre", unions[1]), other)  # another campaign's summary does not count here
    session.flush()
    session.expunge_all()  # nothing loaded already: the query has to bring everything

    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(session.get_bind().engine, "before_cursor_execute", listener)
    try:
        rows = summaries.status(session, campaign.id)
        shown = [(row.union.code, row.union.kind, row.summary and row.summary.submitted_by.username)
                 for row in rows]
    finally:
        event.remove(session.get_bind().engine, "before_cursor_execute", listener)
    assert len(statements) == 1, statements
    mine = [row for row in shown if row[0] in {u.code for u in unions}]
    assert [code for code, _, _ in shown] == sorted(code for code, _, _ in shown)
    assert all(kind == "grassroots" for _, kind, _ in shown)  # the district itself is not listed
    assert [who is not None for _, _, who in mine] == [True, False, True, False]
    union, summary = rows[0]  # a row unpacks too
    assert union.code == shown[0][0]


@pytest.mark.parametrize(("who", "outcome"), [
    ("cadre", None), ("head", None), ("reviewer", None), ("auditor", None),
    ("other_cadre", NotFound), ("finance", Forbidden), ("admin", Forbidden),
])
def test_the_file_goes_to_the_union_the_reviewers_and_the_auditors_only(session, make, campaign, who, outcome):
    union, other = make.union(), make.union("别家工会")
    summary = submit(make, make.person("cadre", union), campaign, file=("总结.pdf", PDF))
    actor = {"cadre": make.person("cadre", union), "head": make.person("head", union),
             "other_cadre": make.person("cadre", other)}.get(who) or make.account(who)
    if outcome is None:
        assert summaries.file_for_download(session, actor, summary.id) is summary
    else:
        with pytest.raises(outcome):
            summaries.file_for_download(session, actor, summary.id)


def test_no_file_or_no_summary_is_not_found(session, make, campaign):
    cadre = make.person("cadre", make.union())
    summary = submit(make, cadre, campaign)
    for summary_id in (summary.id, 99999):
        with pytest.raises(NotFound):
            summaries.file_for_download(session, cadre, summary_id)


def test_the_overview_is_the_districts(make):
    summaries.require_overview(make.account("reviewer"))
    summaries.require_overview(make.account("auditor"))
    with pytest.raises(Forbidden):
        summaries.require_overview(make.account("cadre", make.union()))


class MeetingUploads(Uploads):
    """Both people have found no summary yet when they store their files: they meet here, then both insert."""

    def __init__(self, root, meeting: threading.Barrier) -> None:
        super().__init__(root)
        self.meeting = meeting

    def save(self, session, content, *allowed):
        self.meeting.wait(timeout=10)
        return super().save(session, content, *allowed)


@pytest.mark.postgres
def test_two_people_handing_in_at_once_leave_one_summary_and_a_conflict(committed, clock, tmp_path):
    """The unique index decides on PostgreSQL: the second insert waits for the first to commit and fails; the
    loser is told (Conflict), its file goes with its rollback, and the chain holds one event."""
    uploads = MeetingUploads(tmp_path / "uploads", threading.Barrier(2))
    with Session(committed, expire_on_commit=False) as session:
        make = Factory(session, clock, uploads)
        union = make.union()
        campaign_id = make.campaign(report_deadline=REPORT_DEADLINE).id
        people = [make.person("cadre", union), make.person("head", union)]
        session.commit()
    outcomes: list[str] = []

    def hand_in(actor) -> None:
        with Session(committed) as session:
            try:
                verbs.submit_summary(session, actor, clock, uploads, campaign_id, f"{actor.role}的总结",
                                 (f"{actor.role}.pdf", PDF))
                session.commit()
                outcomes.append("ok")
            except Conflict:
                session.rollback()
                outcomes.append("conflict")

    threads = [threading.Thread(target=hand_in, args=(actor,)) for actor in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    with Session(committed) as session:
        [kept] = session.scalars(select(Summary)).all()
        assert files(uploads) == [kept.file_id]
        assert len(events(session)) == 1
        assert audit.verify(session).ok
