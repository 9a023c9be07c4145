"""活动总结: a grassroots union hands in its campaign summary (text, and a file if it likes) by the report deadline,
and may replace it until then. Audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows.actors import Actor
from workflows.errors import Conflict, Forbidden, Invalid, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, to_db
from workflows.infra.uploads import TooLarge, UnsupportedType, Uploads, clean_filename
from workflows.models import Campaign, Summary, Union
from workflows.rules import past_report_deadline, report_deadline_reason
from workflows.states import UNION_ROLES, Action
from workflows.vocab import UnionKind

MAX_TEXT = 5000


def _own_union(session: Session, actor: Actor) -> Union:
    if actor.role not in UNION_ROLES:
        raise Forbidden(Reason("role", "只有基层工会干部、基层工会负责人可以提交活动总结"))
    union = session.get(Union, actor.union_id) if actor.union_id is not None else None
    if union is None or union.kind != UnionKind.grassroots:
        raise Forbidden(Reason("role", "只有基层工会可以提交活动总结"))
    return union


def _file_label(name: str | None, sha256: str | None) -> str | None:
    return f"{name}（SHA-256 {sha256}）" if name else None


def submit_summary(session: Session, actor: Actor, clock: Clock, uploads: Uploads, campaign_id: int, text: str,
           file: tuple[str, bytes] | None = None, *, remove_file: bool = False) -> Summary:
    """Hand in, or replace, the summary of the actor's union for a campaign. `file` is (filename, content);
    without one, a file handed in before is kept unless `remove_file`. A form sent with no file chosen gives an
    empty name and no content: that counts as no file."""
    union = _own_union(session, actor)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise Invalid({"campaign": "没有这个活动"})
    now = clock.now()
    if past_report_deadline(campaign, now):
        raise Refused(report_deadline_reason(campaign))

    problems: dict[str, str] = {}
    text = (text or "").strip()
    if not text:
        problems["text"] = "请填写活动总结"
    elif len(text) > MAX_TEXT:
        problems["text"] = f"太长，最多{MAX_TEXT}个字"
    if file is not None and not file[0] and not file[1]:
        file = None
    filename = None
    if file is not None:
        try:
            filename = clean_filename(file[0])
            uploads.check(file[1])
        except Invalid as error:
            problems.update(error.fields)
        except (TooLarge, UnsupportedType) as error:  # beside the file field, with the text's message if any
            problems["file"] = error.message
    if problems:
        raise Invalid(problems)

    # Locked: two replacements at once take turns, each audited. Two first hand-ins at once meet at the unique
    # index instead, below.
    summary = session.scalar(select(Summary).where(Summary.campaign_id == campaign.id, Summary.union_id == union.id)
                             .with_for_update())
    before_text = summary.text if summary else None
    before_file = _file_label(summary.file_name, summary.file_sha256) if summary else None
    if summary is None:
        summary = Summary(campaign_id=campaign.id, union_id=union.id)
        session.add(summary)
    elif summary.file_id and (file is not None or remove_file):
        uploads.delete_on_commit(session, summary.file_id)
    if file is not None:
        stored = uploads.save(session, file[1])
        summary.file_id, summary.file_name, summary.file_type = stored.id, filename, stored.content_type
        summary.file_sha256, summary.file_size = stored.sha256, stored.size
    elif remove_file:
        summary.file_id = summary.file_name = summary.file_type = summary.file_sha256 = None
        summary.file_size = None
    summary.text = text
    summary.submitted_by_id = actor.id
    summary.submitted_at = to_db(now)
    try:
        session.flush()
    except IntegrityError:  # another person of the union handed one in first (PostgreSQL's unique index)
        raise Conflict("本工会的活动总结刚刚由他人提交，请刷新后再试") from None

    changes: dict[str, list[str | None]] = {"campaign": [None, campaign.name], "union": [None, union.code]}
    if before_text != text:
        changes["text"] = [before_text, text]
    after_file = _file_label(summary.file_name, summary.file_sha256)
    if before_file != after_file:
        changes["file"] = [before_file, after_file]
    audit.record(session, actor, now, Action.summary_submit,
                 comment="修改活动总结" if before_text is not None else "提交活动总结", changes=changes)
    return summary
