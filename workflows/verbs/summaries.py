"""活动总结: a grassroots union hands in its campaign summary (text, where the money came from as figures, and a file if
it likes: a PDF, an image or the statistics workbook) by the report deadline, and may replace it until then. Audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows.actors import Actor
from workflows.errors import Conflict, Forbidden, Invalid, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, to_db
from workflows.infra.uploads import SUMMARY_TYPES, TooLarge, UnsupportedType, Uploads, clean_filename
from workflows.models import Campaign, Summary, Union
from workflows.money import AmountError, plain, read_money
from workflows.rules import past_report_deadline, report_deadline_reason
from workflows.states import UNION_ROLES, Action
from workflows.texts import N_
from workflows.vocab import UnionKind

MAX_TEXT = 5000
# Where the money came from (the statistics table's 资金来源), in 元: the key of the form and the API, the column.
FUNDS = (("upper", "fund_upper", "上级工会拨付"), ("own", "fund_own", "本级工会"),
         ("government", "fund_government", "党政支持"), ("society", "fund_society", "社会募集"),
         ("donations", "fund_donations", "职工捐款"))


def _own_union(session: Session, actor: Actor) -> Union:
    if actor.role not in UNION_ROLES:
        raise Forbidden(Reason("role", N_("只有基层工会干部、基层工会负责人可以提交活动总结")))
    union = session.get(Union, actor.union_id) if actor.union_id is not None else None
    if union is None or union.kind != UnionKind.grassroots:
        raise Forbidden(Reason("role", N_("只有基层工会可以提交活动总结")))
    return union


def _file_label(name: str | None, sha256: str | None) -> str | None:
    return f"{name}（SHA-256 {sha256}）" if name else None


def submit_summary(session: Session, actor: Actor, clock: Clock, uploads: Uploads, campaign_id: int, text: str,
           file: tuple[str, bytes] | None = None, *, remove_file: bool = False,
           funds: Mapping[str, Any] | None = None) -> Summary:
    """Hand in, or replace, the summary of the actor's union for a campaign. `file` is (filename, content);
    without one, a file handed in before is kept unless `remove_file`. A form sent with no file chosen gives an
    empty name and no content: that counts as no file. `funds` are the sources of money in 元 by FUNDS key (an
    empty one: none stated); without `funds`, the figures handed in before are kept."""
    union = _own_union(session, actor)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise Invalid({"campaign": N_("没有这个活动")})
    now = clock.now()
    if past_report_deadline(campaign, now):
        raise Refused(report_deadline_reason(campaign))

    problems: dict[str, str] = {}
    text = (text or "").strip()
    if not text:
        problems["text"] = N_("请填写活动总结")
    elif len(text) > MAX_TEXT:
        problems["text"] = N_("太长，最多%(limit)s个字", limit=MAX_TEXT)
    figures: dict[str, Decimal | None] = {}
    for key, column, _label in FUNDS if funds is not None else ():
        try:
            figures[column] = read_money(funds.get(key))  # empty is none stated
        except AmountError as error:
            problems[f"funds.{key}"] = error.args[0]  # a Text (workflows/texts.py)
    if file is not None and not file[0] and not file[1]:
        file = None
    filename = None
    if file is not None:
        try:
            filename = clean_filename(file[0])
            uploads.check(file[1], SUMMARY_TYPES)
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
    before_funds = {column: getattr(summary, column) if summary else None for _key, column, _label in FUNDS}
    if summary is None:
        summary = Summary(campaign_id=campaign.id, union_id=union.id)
        session.add(summary)
    elif summary.file_id and (file is not None or remove_file):
        uploads.delete_on_commit(session, summary.file_id)
    if file is not None:
        stored = uploads.save(session, file[1], SUMMARY_TYPES)
        summary.file_id, summary.file_name, summary.file_type = stored.id, filename, stored.content_type
        summary.file_sha256, summary.file_size = stored.sha256, stored.size
    elif remove_file:
        summary.file_id = summary.file_name = summary.file_type = summary.file_sha256 = None
        summary.file_size = None
    summary.text = text
    for column, amount in figures.items():
        setattr(summary, column, amount)
    summary.submitted_by_id = actor.id
    summary.submitted_at = to_db(now)
    try:
        session.flush()
    except IntegrityError:  # another person of the union handed one in first (PostgreSQL's unique index)
        raise Conflict(N_("本工会的活动总结刚刚由他人提交，请刷新后再试")) from None

    changes: dict[str, list[str | None]] = {"campaign": [None, campaign.name], "union": [None, union.code]}
    if before_text != text:
        changes["text"] = [before_text, text]
    after_file = _file_label(summary.file_name, summary.file_sha256)
    if before_file != after_file:
        changes["file"] = [before_file, after_file]
    for _key, column, _label in FUNDS:
        before, after = before_funds[column], getattr(summary, column)
        if (None if before is None else Decimal(before)) != after:
            changes[column] = [None if before is None else plain(before), None if after is None else plain(after)]
    audit.record(session, actor, now, Action.summary_submit,
                 comment="修改活动总结" if before_text is not None else "提交活动总结", changes=changes)
    return summary
