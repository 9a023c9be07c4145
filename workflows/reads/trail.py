"""The audit trail as an auditor reads it: events filtered and a page at a time, one event with its changes, a
case's whole history, the log of reveals, and the rows of an export.

Everything leaves here masked: the verbs mask personal numbers before they write an event, but comments and
summaries are free text, so every text shown goes through `mask_numbers` once more (a safety net, not the rule).
Each list costs a fixed number of queries: one for the count, one for the page with the case, its union and its
campaign joined in. No Flask here: the screens, the exports and the API can share it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from workflows.archive_states import Status
from workflows.errors import Invalid
from workflows.identity import mask_numbers
from workflows.infra.audit import HASHED_FIELDS, event_hash
from workflows.infra.clock import LOCAL, to_db
from workflows.inputs import parse_number
from workflows.models import Account, AuditEvent, Campaign, Case, Union
from workflows.states import TRIGGERS, Action, Role, State, label_of_action
from workflows.texts import LIST, N_, Joined, Text, Verbatim
from workflows.vocab import (
    OLD_CAUSES,
    AidKind,
    ApplicationKind,
    ArchiveType,
    Category,
    Cause,
    ClosingReason,
    EmployerNature,
    Exclusion,
    Gender,
    HousingType,
    Hukou,
    Insurance,
    Marital,
    ModelWorker,
    ObjectionStatus,
    Political,
    ReviewOutcome,
    SpotCheckOutcome,
    UnionKind,
    WorkerGroup,
    WorkStatus,
    label_of,
)

PER_PAGE = 50
MAX_PER_PAGE = 200

# ---------------------------------------------------------------- how fields and values are named

FIELD_LABELS = {
    "applicant_name": "姓名", "gender": "性别", "id_number": "身份证号", "phone": "联系电话", "employer": "工作单位",
    "worker_group": "职工类别", "category": "困难类别", "primary_cause": "主要致困原因",
    "secondary_cause": "次要致困原因", "annual_income": "家庭年收入（元）", "housing": "住房情况",
    "aid_kind": "帮扶方式", "aid_amount": "申请金额（元）", "medical": "医疗救助", "bank_account": "工商银行账号",
    "members": "家庭成员", "state": "状态", "document": "资料", "objection": "异议", "revealed": "查看的号码",
    "documents": "资料",  # a deleted draft's papers (verbs.drafts.delete_draft)
    "file_number": "档案编号", "entered_at": "录入时间", "payment_reference": "付款凭证号",
    "disbursed_at": "发放时间", "publicized_at": "公示开始", "notice_closes_at": "公示结束",
    "claimed_by_id": "认领人", "documented_by_id": "资料齐全确认人", "approved_by_id": "基层审核人",
    "account_corrected_by_id": "更正账号的人", "code": "代码", "name": "名称", "kind": "类别", "parent": "上级工会",
    "username": "用户名", "role": "角色", "union": "工会", "display_name": "姓名", "email": "电子邮箱",
    "active": "启用", "sessions_ended": "结束的登录会话", "campaign": "活动", "text": "总结内容", "file": "附件",
    "starts_on": "开始日期", "ends_on": "结束日期", "deadline": "报送截止", "report_deadline": "总结截止",
    "publicity_days": "公示天数（工作日）", "reminder_days": "提醒（截止前天数）", "cap_per_payment": "单次救助上限（元）",
    "cap_per_year": "每人每年上限（元）", "budget": "预算（元）",
    # The household archive and what a case holds of it.
    "secondary_causes": "次要致困原因", "archive": "户档案", "application_kind": "申请类型",
    "archive_type": "档案类型", "model_worker": "劳模类型", "ethnicity": "民族", "political": "政治面貌",
    "marital": "婚姻状况", "hukou": "户口类型", "hukou_area": "户口所在地行政区划", "work_status": "工作状态",
    "employer_nature": "单位性质", "housing_type": "住房类型", "floor_area": "建筑面积（平方米）",
    "insurance": "医保状况", "single_parent": "单亲家庭", "zero_employment": "零就业家庭", "bank_name": "开户银行",
    "bank_branch": "开户支行", "national_number": "职工编号（全国系统）", "status": "档案状态",
    "status_reason": "原因", "merged_into_id": "并入的档案（编号）", "merged": "并入本档案的档案", "not_added": "同名未并入的人员（请核对）",
    "cases": "转入本档案的申请", "last_helped": "最近获帮扶的活动（编号）", "reactivated_at": "返困时间",
    # Recognition, evidence and the annual review.
    "spending_illness": "医疗支出（元/年）", "spending_disability": "残疾支出（元/年）",
    "spending_schooling": "就学支出（元/年）", "compensation": "赔偿和保险金（元）", "category_reason": "类别说明",
    "exclusions": "不予建档情形", "visited_on": "调查日期", "visitors": "调查人", "year": "年度",
    "area_code": "地区代码", "monthly": "低保标准（元/人·月）", "review": "复核结果", "proposed_reason": "建议注销原因",
    "seed": "随机种子", "rate": "抽查比例", "population": "在档户数", "drawn": "抽取户数", "spot_check": "抽查结果",
    "population_sha256": "在档名单摘要（SHA-256）", "drawn_sha256": "抽取名单摘要（SHA-256）",
    "reviewed_at": "复核时间", "key": "号码加密密钥",
    # Goods, payments and their batches, the bank's results.
    "amount": "金额（元）", "goods_items": "实物名称及数量", "goods_value": "物资折款（元）",
    "goods_in_budget": "物资折款计入预算", "handed_by": "发放人", "received_by": "签收人", "received_on": "签收日期",
    "batch": "发放批次", "format": "文件格式", "count": "笔数", "total": "合计（元）", "paid": "成功笔数",
    "returned": "退票笔数", "returned_at": "退票时间", "return_reason": "退票原因",
    # The public notice's posting and the campaign summary's sources of money.
    "place": "张贴地点", "posted_on": "张贴日期", "fund_upper": "上级工会拨付（元）", "fund_own": "本级工会（元）",
    "fund_government": "党政支持（元）", "fund_society": "社会募集（元）", "fund_donations": "职工捐款（元）",
}
# Fields whose values are accounts (their ids, as stored): shown by the person's name.
ACCOUNT_FIELDS = {"claimed_by_id", "documented_by_id", "approved_by_id", "account_corrected_by_id"}


class _Shown:
    """A stored text that is not one code of a vocabulary, shown by `show(text)` (label_of asks kind(text).label)."""

    def __init__(self, show) -> None:
        self.show = show

    def __call__(self, text: str) -> SimpleNamespace:
        return SimpleNamespace(label=self.show(text))


def _causes(text: str) -> str:
    """Causes as the trail keeps them (a list joined by commas), each by its label; a code of the first cause list
    (events written before the national one) by its national code's."""
    return Joined((label_of(Cause, OLD_CAUSES.get(code, code)) for code in text.split(",") if code), LIST)


# Fields whose stored values are codes of a vocabulary: shown by their label.
_CODES = {"state": State, "worker_group": WorkerGroup, "category": Category, "primary_cause": _Shown(_causes),
          "secondary_cause": _Shown(_causes), "secondary_causes": _Shown(_causes), "aid_kind": AidKind,
          "gender": Gender, "objection": ObjectionStatus, "role": Role, "kind": UnionKind,
          "application_kind": ApplicationKind, "status": Status, "status_reason": ClosingReason,
          "archive_type": ArchiveType, "model_worker": ModelWorker, "political": Political, "marital": Marital,
          "hukou": Hukou, "work_status": WorkStatus, "employer_nature": EmployerNature, "housing_type": HousingType,
          "insurance": Insurance, "single_parent": _Shown(lambda text: _YES_NO.get(text, text)),
          "zero_employment": _Shown(lambda text: _YES_NO.get(text, text)),
          "exclusions": _Shown(lambda text: Joined((label_of(Exclusion, code) for code in text.split(",") if code),
                                                   LIST)),
          "review": ReviewOutcome, "proposed_reason": ClosingReason, "spot_check": SpotCheckOutcome}
_YES_NO = {"True": "是", "False": "否", "true": "是", "false": "否"}
# Moments, kept as UTC text in the changes: shown in Beijing time like every other time on the screens.
_MOMENTS = {"entered_at", "publicized_at", "notice_closes_at", "disbursed_at", "deadline", "report_deadline",
            "reactivated_at", "returned_at", "reviewed_at"}


def field_label(name: str) -> str:
    if name.startswith("union_budget."):
        return f"{name.removeprefix('union_budget.')}的预算（元）"
    return FIELD_LABELS.get(name, name)


def _value(name: str, value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    # A label is a Text, so that a screen shows it in the reader's language (the trail's own words stay Chinese).
    if name in _CODES:
        return _label(label_of(_CODES[name], text))
    if name == "revealed":
        return _label(field_label(text))
    if name in ("medical", "active", "goods_in_budget"):
        return _label(_YES_NO.get(text, text))
    if name in _MOMENTS:
        return _local_time(text)
    return text


def _local_time(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    return N_("%(moment)s（北京时间）", moment=Verbatim(moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S")))


def _label(text: str | None) -> str | None:
    return text if text is None or isinstance(text, Text) else Text(text)


def _masked(text: str | None) -> str | None:
    """mask_numbers, keeping a Text (a label, a moment: nothing to mask in them) translatable."""
    masked = mask_numbers(text)
    return text if isinstance(text, Text) and masked == text else masked


@dataclass(frozen=True)
class Change:
    field: str           # the stored name
    label: str           # what the screens call it
    before: str | None   # masked, codes shown by their labels
    after: str | None


def changes_of(changes: Mapping[str, Any] | None) -> list[Change]:
    """An event's `changes` as rows of field, before and after, masked."""
    if changes and not isinstance(changes, Mapping):  # not what a verb writes: someone wrote it by hand
        return [Change("changes", "变更内容", None, mask_numbers(str(changes)))]
    rows = []
    for name, pair in (changes or {}).items():
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        rows.append(Change(name, field_label(name), _masked(_value(name, before)), _masked(_value(name, after))))
    return rows


# ---------------------------------------------------------------- events as shown

@dataclass(frozen=True)
class Entry:
    """One event with what the screens need beside it; every text in it is masked."""

    seq: int
    occurred_at: dt.datetime   # naive UTC, as stored
    actor_id: int | None
    actor: str
    role: str
    case_id: int | None
    archive_id: int | None
    action: str
    action_label: str
    from_state: str | None
    to_state: str | None
    comment: str | None
    changes: list[Change]
    recorded: Any              # the changes as stored (codes, not labels), masked: what the API gives
    prev_hash: str
    hash: str
    intact: bool               # its hash matches its content (the link to its predecessor is verify()'s job)
    applicant: str | None = None
    union: str | None = None
    campaign: str | None = None
    actor_name: str | None = None   # the acting account's display name (`actor` is its username, as stored)

    @property
    def who(self) -> str:
        """Who acted, as people know them: the display name, else the username (the system, an unknown name)."""
        return self.actor_name or self.actor

    @property
    def revealed_field(self) -> str | None:
        """For a reveal: which number was shown."""
        return next((c.after for c in self.changes if c.field == "revealed"), None)

    def changes_text(self) -> str:
        """The changes on one line, for an export cell."""
        return "；".join(f"{c.label}：{c.before if c.before is not None else '（空）'} → "
                        f"{c.after if c.after is not None else '（空）'}" for c in self.changes)


def entry(event: AuditEvent, applicant: str | None = None, union: str | None = None,
          campaign: str | None = None) -> Entry:
    fields = {name: getattr(event, name) for name in HASHED_FIELDS}
    return Entry(seq=event.seq, occurred_at=event.occurred_at, actor_id=event.actor_id, actor=event.actor,
                 role=event.role, case_id=event.case_id, archive_id=event.archive_id, action=event.action,
                 action_label=label_of_action(event.action), from_state=event.from_state, to_state=event.to_state,
                 comment=mask_numbers(event.comment), changes=changes_of(event.changes),
                 recorded=mask_numbers(event.changes), prev_hash=event.prev_hash, hash=event.hash,
                 intact=event_hash(fields) == event.hash, applicant=applicant, union=union, campaign=campaign)


def named(session: Session, entries: list[Entry]) -> list[Entry]:
    """The entries with the names of the people in them: who acted, and the accounts a change holds (stored as
    ids). One query, whatever the entries (even none: a page costs the same queries whatever it holds)."""
    def account(value: str | None) -> int | None:
        return parse_number(value) if isinstance(value, str) else None

    ids = {e.actor_id for e in entries if e.actor_id} | {
        number for e in entries for c in e.changes if c.field in ACCOUNT_FIELDS
        for number in (account(c.before), account(c.after)) if number}
    names = {id_: display_name or username for id_, display_name, username in session.execute(
        select(Account.id, Account.display_name, Account.username).where(Account.id.in_(sorted(ids))))}

    def shown(value: str | None) -> str | None:
        return names.get(account(value), value)

    return [replace(e, actor_name=names.get(e.actor_id),
                    changes=[replace(c, before=shown(c.before), after=shown(c.after)) if c.field in ACCOUNT_FIELDS
                             else c for c in e.changes]) for e in entries]


# ---------------------------------------------------------------- filters

@dataclass(frozen=True)
class EventFilters:
    campaign: int | None = None
    union: str | None = None     # a grassroots union's code
    case: int | None = None
    actor: str | None = None     # a username, exactly
    role: str | None = None
    action: str | None = None    # a trigger or another action (create, edit, reveal, sign_in, ...)
    since: dt.date | None = None  # local dates (Asia/Shanghai), both days included
    until: dt.date | None = None
    after: dt.datetime | None = None   # moments (naive UTC): from `after` on, up to before `before` (the API's)
    before: dt.datetime | None = None
    newest_first: bool = True

    @property
    def through_cases(self) -> bool:
        """Campaign and union belong to the case: events without one (sign-ins, ...) fall outside these filters."""
        return self.campaign is not None or self.union is not None


def actions() -> list[tuple[str, str]]:
    """Every action the trail records, with its label: the transitions first, then the other actions."""
    return [(code, label_of_action(code)) for code in (*TRIGGERS, *Action)]


def _date(args: Mapping[str, str], name: str, problems: dict[str, str]) -> dt.date | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        problems[name] = N_("日期格式应为 年-月-日，如 2018-01-25")
        return None
    if not 1900 <= day.year <= 9000:
        problems[name] = N_("日期超出范围")
        return None
    return day


def _number(args: Mapping[str, str], name: str, problems: dict[str, str], message: str) -> int | None:
    text = (args.get(name) or "").strip().lstrip("#")
    if not text:
        return None
    if not (number := parse_number(text)):  # 0 is no record either
        problems[name] = message
        return None
    return number


def parse_filters(args: Mapping[str, str]) -> EventFilters:
    """The filters from a query string. Anything unreadable is refused (Invalid), never silently dropped: a
    filter quietly ignored would show an auditor more than they asked for and let them think it was less."""
    problems: dict[str, str] = {}
    union = (args.get("union") or "").strip()
    if len(union) > 32:
        problems["union"] = N_("工会代码太长")
    actor = (args.get("actor") or "").strip()
    if len(actor) > 64:
        problems["actor"] = N_("用户名太长")
    role = (args.get("role") or "").strip()
    if role and role not in {r.value for r in Role}:
        problems["role"] = N_("没有这个角色")
    action = (args.get("action") or "").strip()
    if action and not re.fullmatch(r"[a-z_]{1,32}", action):
        problems["action"] = N_("没有这种操作")
    filters = EventFilters(
        campaign=_number(args, "campaign", problems, N_("活动编号应为数字")), union=union or None,
        case=_number(args, "case", problems, N_("案件编号应为正整数")), actor=actor or None, role=role or None,
        action=action or None, since=_date(args, "since", problems), until=_date(args, "until", problems),
        newest_first=(args.get("order") or "newest") != "oldest")
    if filters.since and filters.until and filters.since > filters.until:
        problems["until"] = N_("结束日期不能早于开始日期")
    if problems:
        raise Invalid(problems)
    return filters


def local_day_start(day: dt.date) -> dt.datetime:
    """Midnight of a local day, as stored (naive UTC)."""
    return to_db(dt.datetime.combine(day, dt.time(), LOCAL))


def _where(filters: EventFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.campaign is not None:
        where.append(Case.campaign_id == filters.campaign)
    if filters.union is not None:
        where.append(Union.code == filters.union)
    if filters.case is not None:
        where.append(AuditEvent.case_id == filters.case)
    if filters.actor is not None:
        where.append(AuditEvent.actor == filters.actor)
    if filters.role is not None:
        where.append(AuditEvent.role == filters.role)
    if filters.action is not None:
        where.append(AuditEvent.action == filters.action)
    if filters.since is not None:
        where.append(AuditEvent.occurred_at >= local_day_start(filters.since))
    if filters.until is not None:
        where.append(AuditEvent.occurred_at < local_day_start(filters.until + dt.timedelta(days=1)))
    if filters.after is not None:
        where.append(AuditEvent.occurred_at >= filters.after)
    if filters.before is not None:
        where.append(AuditEvent.occurred_at < filters.before)
    return where


def _rows(filters: EventFilters) -> Select:
    """The events with their case's applicant, union and campaign (outer joins: most events have no case)."""
    return (select(AuditEvent, Case.applicant_name, Union.name, Campaign.name)
            .outerjoin(Case, Case.id == AuditEvent.case_id)
            .outerjoin(Union, Union.id == Case.union_id)
            .outerjoin(Campaign, Campaign.id == Case.campaign_id)
            .where(*_where(filters)))


def _count(filters: EventFilters) -> Select:
    query = select(func.count()).select_from(AuditEvent)
    if filters.through_cases:  # joined only when filtered through the case: the plain count stays one table
        query = query.join(Case, Case.id == AuditEvent.case_id)
        if filters.union is not None:
            query = query.join(Union, Union.id == Case.union_id)
    return query.where(*_where(filters))


def _order(filters: EventFilters):
    return AuditEvent.seq.desc() if filters.newest_first else AuditEvent.seq


# ---------------------------------------------------------------- the lists

@dataclass
class EventPage:
    items: list[Entry]
    total: int
    page: int
    per_page: int
    filters: EventFilters = field(default_factory=EventFilters)

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def events(session: Session, filters: EventFilters, page: int = 1, per_page: int = PER_PAGE) -> EventPage:
    """One page of the events matching `filters`: two queries, however long the trail."""
    page, per_page = max(page, 1), min(max(per_page, 1), MAX_PER_PAGE)
    total = session.scalar(_count(filters))
    rows = session.execute(_rows(filters).order_by(_order(filters)).limit(per_page).offset((page - 1) * per_page))
    return EventPage(named(session, [entry(*row) for row in rows]), total, page, per_page, filters)


def reveals(session: Session, filters: EventFilters, page: int = 1, per_page: int = PER_PAGE) -> EventPage:
    """The log of reveals of a full ID or bank number: who, when, which case, which number."""
    return events(session, replace(filters, action=Action.reveal), page, per_page)


def count(session: Session, filters: EventFilters) -> int:
    return session.scalar(_count(filters))


def each(session: Session, filters: EventFilters, limit: int, batch: int = 1000) -> Iterator[Entry]:
    """Every matching event in the filters' order, at most `limit`, read a batch at a time by sequence number (no
    cursor held open, no offset that grows with the position): what an export writes."""
    last: int | None = None
    left = limit
    while left > 0:
        query = _rows(filters)
        if last is not None:
            query = query.where(AuditEvent.seq < last if filters.newest_first else AuditEvent.seq > last)
        rows = session.execute(query.order_by(_order(filters)).limit(min(batch, left))).all()
        yield from named(session, [entry(*row) for row in rows])
        if len(rows) < min(batch, left):
            return
        left -= len(rows)
        last = rows[-1][0].seq


def event(session: Session, seq: int) -> Entry | None:
    row = session.execute(_rows(EventFilters()).where(AuditEvent.seq == seq)).first()
    return named(session, [entry(*row)])[0] if row else None


@dataclass
class CaseHistory:
    case_id: int
    case: Case | None      # None when the case row is gone but events still name it
    items: list[Entry]


def case_history(session: Session, case_id: int) -> CaseHistory:
    """Every event of one case, oldest first."""
    case = session.execute(select(Case, Union.name, Campaign.name).join(Union, Union.id == Case.union_id)
                           .join(Campaign, Campaign.id == Case.campaign_id).where(Case.id == case_id)).first()
    rows = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq))
    if case is None:
        return CaseHistory(case_id, None, named(session, [entry(e) for e in rows]))
    record, union, campaign = case
    return CaseHistory(case_id, record, named(session, [entry(e, record.applicant_name, union, campaign)
                                                        for e in rows]))


def neighbours(session: Session, seq: int) -> tuple[int | None, int | None]:
    """The sequence numbers of the events just before and after `seq` that exist (gaps may have been cut)."""
    before = session.scalar(select(func.max(AuditEvent.seq)).where(AuditEvent.seq < seq))
    after = session.scalar(select(func.min(AuditEvent.seq)).where(AuditEvent.seq > seq))
    return before, after


def exists(session: Session, seq: int) -> bool:
    return session.scalar(select(AuditEvent.seq).where(AuditEvent.seq == seq)) is not None


# ---------------------------------------------------------------- describing a filter

def describe(session: Session, filters: EventFilters) -> str:
    """The filter in words, for the title of an export: 活动：…；基层工会：…；日期：… 至 …"""
    parts = []
    if filters.campaign is not None:
        name = session.scalar(select(Campaign.name).where(Campaign.id == filters.campaign))
        parts.append(f"活动：{name or f'编号{filters.campaign}（不存在）'}")
    if filters.union is not None:
        name = session.scalar(select(Union.name).where(Union.code == filters.union))
        parts.append(f"基层工会：{name or filters.union}")
    if filters.case is not None:
        parts.append(f"案件：{filters.case}号")
    if filters.actor is not None:
        parts.append(f"操作人：{filters.actor}")
    if filters.role is not None:
        parts.append(f"角色：{Role(filters.role).label}")
    if filters.action is not None:
        parts.append(f"操作：{label_of_action(filters.action)}")
    if filters.since or filters.until:
        parts.append(f"日期：{filters.since or '最早'} 至 {filters.until or '最新'}（北京时间）")
    parts.append("排序：最新在前" if filters.newest_first else "排序：最早在前")
    return "；".join(parts) if len(parts) > 1 else "全部事件；" + parts[0]
