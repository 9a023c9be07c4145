"""The household archive (一户一档): open one, edit it, move it through its life cycle, merge two of one household,
and apply for it in a campaign; and what the district's approval of an application writes back into it.

One household, one archive: every ID number of a live archive has its row in archive_numbers, whose primary key is
the number, so the database refuses a second holder whatever the number of concurrent writers. The rows are
written in a savepoint: a writer that loses the race gets the holding union's name, not an IntegrityError.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, delete, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from workflows import rules
from workflows.actors import Actor
from workflows.archive_states import BY_TRIGGER, LIVE, ArchiveTrigger, Status
from workflows.errors import Forbidden, Invalid, NotFound, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, local_date, to_db
from workflows.infra.machine import step
from workflows.inputs import NATIONAL_FIELDS, ArchiveIn, HouseholdData, archive_input
from workflows.models import Archive, ArchiveIncome, ArchiveMember, ArchiveNumber, Case
from workflows.rules.recognition import RIGID, net_monthly
from workflows.states import Action
from workflows.texts import N_
from workflows.verbs import households
from workflows.verbs.cases import check_version, clean_comment, merge, validated
from workflows.vocab import ClosingReason

FLOW = "archive"
STALE = N_("该档案已被他人修改，请刷新后重试")


def get_archive(session: Session, actor: Actor, archive_id: int, *, lock: bool = False) -> Archive:
    """The archive, if `actor` may see it; NotFound otherwise. `lock` takes its row for the transaction."""
    query = select(Archive).where(Archive.id == archive_id).options(selectinload(Archive.members))
    if lock:
        # Read again once the row is ours: what another writer committed meanwhile (its version, its cases).
        query = query.with_for_update().execution_options(populate_existing=True)
    archive = session.scalar(query)
    if archive is None or not archive.visible_to(actor):
        raise NotFound(N_("找不到该档案"))
    return archive


def _national(data: ArchiveIn) -> dict[str, Any]:
    return {name: getattr(data.national, name) for name in NATIONAL_FIELDS}


def _touch(archive: Archive, now: dt.datetime) -> None:
    """Every change is a new version, even within one instant (as verbs.cases.touch); a change of what the
    household's income is made of starts a new entry of its income history."""
    state = inspect(archive)
    if any(state.attrs[name].history.has_changes() for name in INCOME_FIELDS):
        note_income(state.session, archive, now)
    archive.updated_at = to_db(now)
    flag_modified(archive, "updated_at")


# What the net per-capita monthly income is computed from (rules.recognition.net_monthly).
INCOME_FIELDS = ("annual_income", "compensation", *RIGID, "members")


def note_income(session: Session, archive: Archive, now: dt.datetime) -> None:
    """The household's income from now on, for the six-months-above-the-standard rule of the annual review."""
    session.add(ArchiveIncome(archive=archive, since=to_db(now), net_monthly=net_monthly(archive)))


# ---------------------------------------------------------------- its numbers: one household, one archive

def hold_numbers(session: Session, archive: Archive) -> None:
    """Make archive_numbers hold exactly the archive's numbers (none once it is deregistered); Refused, naming the
    holding union, when another archive holds one of them."""
    wanted = archive.numbers if archive.status in LIVE else set()
    wanted_digests = set(archive.digests) if wanted else set()
    # One query for both: the rows this archive holds, and any other archive's of the numbers wanted.
    rows = session.execute(select(ArchiveNumber.id_digest, ArchiveNumber.archive_id).where(
        or_(ArchiveNumber.archive_id == archive.id, ArchiveNumber.id_digest.in_(sorted(wanted_digests))))).all()
    if any(holder != archive.id for _, holder in rows):
        raise Refused(*rules.holder_reasons(session, wanted, archive.id))
    held = {key for key, _ in rows}
    if held - wanted_digests:
        session.execute(delete(ArchiveNumber).where(ArchiveNumber.archive_id == archive.id,
                                                    ArchiveNumber.id_digest.in_(sorted(held - wanted_digests))))
    if not wanted_digests - held:
        return
    try:
        with session.begin_nested():
            session.add_all(ArchiveNumber(id_digest=key, archive_id=archive.id)
                            for key in sorted(wanted_digests - held))
    except IntegrityError:
        # Another writer committed one of the numbers after the check above: its union is named now.
        raise Refused(*(rules.holder_reasons(session, wanted, archive.id)
                        or [Reason("archive_duplicate", N_("该户的身份证号码刚被另一个档案登记，请刷新后再试"))])) from None


# ---------------------------------------------------------------- opening and editing

def create_archive(session: Session, actor: Actor, clock: Clock, data: Any) -> Archive:
    """A cadre opens the archive of a household of their own union (status 建档中)."""
    rules.require_role(actor, rules.DRAFTERS, N_("新建档案"))
    now = clock.now()
    parsed = validated(ArchiveIn, data, local_date(now))
    return _open(session, actor, now, parsed, _national(parsed))


def _open(session: Session, actor: Actor, now: dt.datetime, parsed: HouseholdData,
          national: dict[str, Any]) -> Archive:
    values = households.columns(parsed)
    archive = Archive(union_id=actor.union_id, status=Status.pending, created_by_id=actor.id,
                      created_at=to_db(now), updated_at=to_db(now), **values, **national)
    archive.members = households.members(parsed, ArchiveMember)
    if reasons := rules.holder_reasons(session, archive.numbers):
        raise Refused(*reasons)
    session.add(archive)
    note_income(session, archive, now)
    session.flush()
    hold_numbers(session, archive)
    changes = audit.created(households.given({**values, **national}))
    if archive.members:
        changes["members"] = [None, households.member_summary(archive.members)]
    audit.record(session, actor, now, Action.create_archive, archive=archive, to_state=Status.pending,
                 changes=changes)
    return archive


def archive_for(session: Session, actor: Actor, now: dt.datetime, parsed: HouseholdData) -> Archive:
    """The archive of a household applied for with its whole data (the case body of before archives): the live
    archive holding the applicant's number, if it is of the actor's union; otherwise a new one, made at `now`, the
    moment of the draft made with it (the screens tell a new household from an archived one by that)."""
    applicant = households.columns(parsed)["id_number"]
    numbers = {n for n in [applicant, *(m.id_number for m in households.members(parsed, ArchiveMember))] if n}
    holders = rules.archive_holders(session, [applicant] if applicant else [])
    if not holders:
        try:
            with session.begin_nested():
                return _open(session, actor, now, parsed, {})
        except Refused:
            # Refused for a number another writer's archive took meanwhile (Save tapped twice: PostgreSQL lets the
            # second wait for the first's commit): that archive is the household's, as if it had been there first.
            holders = rules.archive_holders(session, [applicant] if applicant else [])
            if not holders:
                raise
    # Locked, as apply_for locks it: two drafts of one household at once make one application, and a transfer
    # waits for the draft (or the draft for the transfer).
    archive = session.scalar(select(Archive).where(Archive.id == holders[0][2]).with_for_update()
                             .execution_options(populate_existing=True))
    if archive.union_id != actor.union_id:
        raise Refused(*rules.holder_reasons(session, numbers))
    if others := rules.holder_reasons(session, numbers, archive.id):
        raise Refused(*others)
    return archive


def follow_draft(session: Session, actor: Actor, now: dt.datetime, case: Case) -> None:
    """An archive opened with its draft (建档中, never helped, no other application) follows the draft's edits, so
    that numbers typed in later are held at once. When the applicant's number turns out to be held by another
    archive of the union, the draft moves to that archive and the empty one is merged into it; another union's
    is refused, naming it."""
    archive = session.scalar(select(Archive).where(Archive.id == case.archive_id).with_for_update()
                             .options(selectinload(Archive.members)).execution_options(populate_existing=True))
    if archive.status != Status.pending or archive.last_helped_at or any(c.id != case.id for c in archive.cases):
        return
    holders = rules.archive_holders(session, [case.id_number] if case.id_number else [], archive.id)
    if holders:
        found = session.scalar(select(Archive).where(Archive.id == holders[0][2]).with_for_update()
                               .execution_options(populate_existing=True))
        if found.union_id != case.union_id:
            raise Refused(*rules.holder_reasons(session, case.numbers, archive.id))
        if reasons := rules.archives.application_reasons(found, case.campaign):
            raise Refused(*reasons)
        case.archive = found
        _move(session, actor, now, archive, ArchiveTrigger.deregister, f"案件#{case.id}属于档案#{found.id}，已转入",
              {"status_reason": ClosingReason.merged, "merged_into_id": found.id})
        return
    before = {name: getattr(archive, name) for name in households.HOUSEHOLD}
    before_members = households.member_summary(archive.members)
    households.copy(case, archive, ArchiveMember)
    changes = audit.diff(before, {name: getattr(archive, name) for name in households.HOUSEHOLD})
    if before_members != households.member_summary(archive.members):
        changes["members"] = [before_members, households.member_summary(archive.members)]
    if not changes:
        return
    _touch(archive, now)
    session.flush()
    hold_numbers(session, archive)
    audit.record(session, actor, now, Action.update_archive, archive=archive, state=archive.status,
                 comment=f"随案件#{case.id}的修改", changes=changes)


def edit_archive(session: Session, actor: Actor, clock: Clock, archive_id: int, version: int | None,
                 data: dict[str, Any]) -> Archive:
    """Change fields of an archive; `data` may be partial. Its applications keep the copy they were made with."""
    rules.require_role(actor, rules.ARCHIVE_EDITORS, N_("修改档案"))
    # Locked only for a change (the edit page asks with nothing, to learn whether it may): read again once
    # locked, so that a concurrent writer's version is seen here, as a Conflict, not at flush.
    archive = get_archive(session, actor, archive_id, lock=bool(data))
    check_version(archive, version, STALE)
    if archive.status == Status.deregistered:
        raise Refused(Reason("state", N_("档案已注销，不能修改")))
    if not isinstance(data, dict):
        raise Invalid({"body": N_("应为一个对象")})
    now = clock.now()
    base = archive_input(archive).model_dump(mode="json", warnings=False)
    parsed = validated(ArchiveIn, merge(base, data), local_date(now))
    new = {**households.columns(parsed), **_national(parsed)}
    if archive.id_number and not new["id_number"]:
        # Corrected, yes; removed, no: it would free the head's number for a second archive.
        raise Invalid({"applicant.id_number": N_("户主的身份证号码只能更正，不能删除")})
    new_members = households.members(parsed, ArchiveMember)
    changes = households.changes(archive, new, new_members)
    if not changes:
        return archive
    if "members" in changes:
        archive.members = new_members
    for name, value in new.items():
        setattr(archive, name, value)
    _touch(archive, now)
    session.flush()
    hold_numbers(session, archive)
    audit.record(session, actor, now, Action.edit_archive, archive=archive, state=archive.status, changes=changes)
    return archive


# ---------------------------------------------------------------- the life cycle

def fire_archive(session: Session, actor: Actor, clock: Clock, archive_id: int, trigger: str, version: int | None,
                 *, comment: str | None = None, reason: str | None = None, union: str | None = None) -> Archive:
    """Move an archive by `trigger` of its table (archive_states.MOVES), if every rule allows it."""
    if trigger not in BY_TRIGGER:
        raise Invalid({"trigger": N_("没有这个操作")})
    archive = get_archive(session, actor, archive_id, lock=True)
    check_version(archive, version, STALE)
    comment = clean_comment(comment)
    if reasons := rules.archives.blockers(session, archive, trigger, actor, comment=comment, reason=reason,
                                          union=union):
        raise (Forbidden if reasons[0].rule == "role" else Refused)(*reasons)
    now = clock.now()
    move = BY_TRIGGER[ArchiveTrigger(trigger)]
    effects: dict[str, Any] = {}
    if move.needs_reason:
        effects["status_reason"] = reason
    if move.needs_union:
        effects["union"] = rules.archives.receiving_union(session, union)
    if move.trigger == ArchiveTrigger.reactivate:
        effects["reactivated_at"] = to_db(now)
    return _move(session, actor, now, archive, move.trigger, comment, effects)


def _move(session: Session, actor: Actor, now: dt.datetime, archive: Archive, trigger: ArchiveTrigger,
          comment: str | None, effects: dict[str, Any]) -> Archive:
    before = archive.status
    archive.status = step(before, trigger, FLOW)
    changes = {"status": [before, str(archive.status)]} if archive.status != before else {}
    # A transfer names the unions, not their ids. The applications stay with the unions that made them (their
    # campaigns' figures do not change); the archive's page and timeline show them wherever it goes.
    shown = {name: value.name if name == "union" else value for name, value in effects.items()}
    changes |= audit.diff({name: getattr(archive, name).name if name == "union" else getattr(archive, name)
                           for name in effects}, shown)
    for name, value in effects.items():
        setattr(archive, name, value)
    _touch(archive, now)
    session.flush()
    hold_numbers(session, archive)
    audit.record(session, actor, now, trigger, archive=archive, from_state=before, to_state=archive.status,
                 comment=comment, changes=changes)
    return archive


def merge_archives(session: Session, actor: Actor, clock: Clock, archive_id: int, other_id: int,
                   version: int | None, comment: str | None = None) -> Archive:
    """A reviewer merges `other` into the archive: its applications and history move, its members not yet in the
    household are added, and it is deregistered as merged. Nothing is lost: both events are in the trail."""
    rules.require_role(actor, rules.MERGERS, N_("合并档案"))
    if archive_id == other_id:
        raise Invalid({"other": N_("不能与自身合并")})
    first, second = sorted((archive_id, other_id))
    locked = {first: get_archive(session, actor, first, lock=True), second: get_archive(session, actor, second,
                                                                                          lock=True)}
    archive, other = locked[archive_id], locked[other_id]
    check_version(archive, version, STALE)
    for record in (archive, other):
        if record.status not in LIVE:
            raise Refused(Reason("state", N_("档案#%(archive)s已注销，不能合并", archive=record.id)))
    if reasons := rules.archives.merge_reasons(archive, other):
        raise Refused(*reasons)
    now = clock.now()
    comment = clean_comment(comment)
    # The other household's people not in this one yet: by number, and by name (a duplicate archive is often the
    # same person under a mistyped number); those left out by name are said in the event, to be checked.
    known, names = archive.numbers, {archive.applicant_name, *(m.name for m in archive.members)}
    people = [m for m in [_Head(other), *other.members] if not (m.id_number and m.id_number in known)]
    added = [m for m in people if m.name not in names]
    same_name = [m for m in people if m.name in names]
    moved = list(other.cases)
    helped = other.status == Status.active  # before it is deregistered below
    before_status, before_members = archive.status, households.member_summary(archive.members)
    for case in moved:
        case.archive_id = archive.id
    # The other archive lets go of its numbers first; then this one takes them.
    _move(session, actor, now, other, ArchiveTrigger.deregister, comment or f"与档案#{archive.id}合并",
          {"status_reason": ClosingReason.merged, "merged_into_id": archive.id})
    for i, member in enumerate(added, len(archive.members)):
        archive.members.append(ArchiveMember(position=i, **{n: getattr(member, n) for n in households.MEMBER}))
    if helped and archive.status == Status.pending:
        archive.status = step(archive.status, ArchiveTrigger.activate, FLOW)
    if other.last_helped_at and (archive.last_helped_at is None or other.last_helped_at > archive.last_helped_at):
        archive.last_helped_at, archive.last_helped_campaign_id = other.last_helped_at, other.last_helped_campaign_id
    _touch(archive, now)
    session.flush()
    hold_numbers(session, archive)
    changes = {"merged": [None, f"#{other.id}"]}
    if archive.status != before_status:
        changes["status"] = [before_status, str(archive.status)]
    if moved:
        changes["cases"] = [None, ",".join(f"#{case.id}" for case in moved)]
    if added:
        changes["members"] = [before_members, households.member_summary(archive.members)]
    if same_name:
        changes["not_added"] = [None, households.member_summary(same_name)]
    audit.record(session, actor, now, Action.merge_archive, archive=archive, state=archive.status, comment=comment,
                 changes=changes)
    return archive


class _Head:
    """The other archive's head, as a member of the household it is merged into."""

    def __init__(self, archive: Archive) -> None:
        self.name, self.relation, self.id_number = archive.applicant_name, "家庭成员", archive.id_number
        self.monthly_income = self.health = self.occupation = None


# The archive an approval writes to, locked, as the database has it. Built once (its cache key too): every
# district approval reads it.
_APPROVED = select(Archive).where(Archive.id == bindparam("archive_id")).options(selectinload(Archive.members)) \
    .with_for_update().execution_options(populate_existing=True)


def _approved(session: Session, archive_id: int) -> Archive:
    # Its own function: the parameters' dict is no field of the approval's event (the trail's label check reads
    # the dicts a function passes on to `changes`).
    return session.scalars(_APPROVED, {"archive_id": archive_id}).one()


def after_approval(session: Session, actor: Actor, now: dt.datetime, case: Case) -> dict[str, Any]:
    """The district approved an application: its archive becomes 在档 (from 建档中, or from 脱困 as 返困), records
    the help and takes what the application confirmed or corrected (households.write_back). Returns the archive's
    event (audit.row), for the caller to append with the case's own."""
    archive = _approved(session, case.archive_id)
    before_values = {name: getattr(archive, name) for name in households.HOUSEHOLD}
    before_members, before_numbers = households.member_summary(archive.members), archive.numbers
    households.write_back(case, archive, ArchiveMember)
    changes = audit.diff(before_values, {name: getattr(archive, name) for name in households.HOUSEHOLD})
    if before_members != households.member_summary(archive.members):
        changes["members"] = [before_members, households.member_summary(archive.members)]
    changes["last_helped"] = [audit.text(archive.last_helped_campaign_id), audit.text(case.campaign_id)]
    archive.last_helped_campaign_id, archive.last_helped_at = case.campaign_id, to_db(now)
    archive.reactivated_at = None
    before = archive.status
    trigger = {Status.pending: ArchiveTrigger.activate, Status.exited: ArchiveTrigger.reactivate}.get(before)
    if trigger is not None:
        archive.status = step(before, trigger, FLOW)
        changes["status"] = [before, str(archive.status)]
    _touch(archive, now)
    session.flush()
    if archive.numbers != before_numbers:  # a live archive stays live: only new numbers need holding
        hold_numbers(session, archive)
    return audit.row(actor, now, trigger or Action.update_archive, archive_id=archive.id, from_state=before,
                     to_state=archive.status, comment=f"申请#{case.id}获区总审定", changes=changes)
