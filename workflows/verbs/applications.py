"""Applications: a campaign's case is one archived household's application (DOMAIN.md, Case). A draft is opened
(and edited) with the whole household (the archive is found or created with it) or from archives (the carry-over: one draft each,
starting from the archive's data)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Invalid, Reason, Refused
from workflows.infra import audit
from workflows.infra.clock import Clock, local_date, to_db
from workflows.inputs import AidIn, CaseIn, case_input, field_errors
from workflows.models import AuditEvent, Campaign, Case, Member
from workflows.rules.drafts import open_draft
from workflows.states import Action, State
from workflows.texts import N_
from workflows.verbs import households
from workflows.verbs.archives import archive_for, follow_draft, get_archive
from workflows.verbs.cases import case_columns, check_version, editable, get_case, merge, touch, validated


class DraftExists(Refused):
    """A new case of a household that has a draft in the campaign (Back, then Save again): that draft is the
    answer (the screen opens it, the API names it), not a second one."""

    def __init__(self, case: Case) -> None:
        super().__init__(Reason("draft_exists", N_("该身份证号码在本活动中已有草稿（案件#%(id)s，%(name)s），没有重复新建："
                                                   "请在该草稿中修改", id=case.id, name=case.applicant_name)))
        self.case_id = case.id


def open_campaign(session: Session, campaign_id: int, now: dt.datetime) -> Campaign:
    """The campaign a new draft goes into, if it takes drafts now."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise Invalid({"campaign": N_("没有这个活动")})
    if reasons := rules.new_draft_reasons(campaign, now):
        raise Refused(*reasons)
    return campaign


def create_case(session: Session, actor: Actor, clock: Clock, campaign_id: int, data: Any) -> Case:
    """A cadre opens a draft for a worker of their own union, with the whole household: the household's archive is
    found by the applicant's ID number, or created with the case (先建档，后帮扶)."""
    rules.require_role(actor, rules.DRAFTERS, N_("新建案件"))
    now = clock.now()
    campaign = open_campaign(session, campaign_id, now)
    parsed = validated(CaseIn, data, local_date(now))
    values, people = case_columns(parsed), households.members(parsed, Member)
    archive = archive_for(session, actor, now, parsed)
    if (draft := open_draft(archive, campaign, actor)) is not None:
        raise DraftExists(draft)
    if reasons := rules.archives.application_reasons(archive, campaign):
        raise Refused(*reasons)
    case = Case(campaign=campaign, union_id=actor.union_id, archive=archive, state=State.drafted,
                application_kind=rules.archives.application_kind(session, archive), created_by_id=actor.id,
                created_at=to_db(now), updated_at=to_db(now), **values)
    case.members = people
    if (tariff := rules.tariffs.default_amount(session, case)) is not None:  # the amount defaults to the tariff
        case.aid_amount = values["aid_amount"] = tariff
    return opened(session, actor, now, case, households.given(values))


def opened(session: Session, actor: Actor, now: dt.datetime, case: Case, values: dict[str, Any]) -> Case:
    """Write the creation of a draft: what it was given, its archive and its kind."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite numbers a new row after the largest id there is, so a deleted draft's id would come again, and
        # its events in the trail (case ids, no foreign key) would be read as the new case's. PostgreSQL's
        # sequence never gives an id twice.
        with session.no_autoflush:  # the case, tied to its archive already, is not yet in the session
            case.id = max(session.scalar(select(func.max(Case.id))) or 0,
                          session.scalar(select(func.max(AuditEvent.case_id))) or 0) + 1
    session.add(case)
    session.flush()
    changes = audit.created({**values, "archive": case.archive_id, "application_kind": case.application_kind})
    if case.members:
        changes["members"] = [None, households.member_summary(case.members)]
    audit.record(session, actor, now, Action.create, case=case, to_state=State.drafted, changes=changes)
    return case


def apply_for(session: Session, actor: Actor, clock: Clock, campaign_id: int, archive_ids: Iterable[int],
              aid: dict[str, Any] | None = None) -> list[Case]:
    """Carry-over: one draft per archive, each starting from the archive's data (all or none)."""
    rules.require_role(actor, rules.DRAFTERS, N_("申请帮扶"))
    now = clock.now()
    campaign = open_campaign(session, campaign_id, now)
    ids = list(dict.fromkeys(archive_ids))
    if not ids:
        raise Invalid({"archives": N_("请选择要申请的档案")})
    given_aid = _aid(aid)
    # Every archive is checked before any draft is written: one refusal leaves nothing behind.
    # Locked, so that two cadres applying for one household at once make one application (PostgreSQL).
    chosen = [get_archive(session, actor, archive_id, lock=True) for archive_id in sorted(ids)]
    reasons = [r for record in chosen for r in rules.archives.application_reasons(record, campaign)]
    if reasons:
        raise Refused(*reasons)
    cases = []
    for archive in chosen:
        case = Case(campaign=campaign, union_id=archive.union_id, archive=archive, state=State.drafted,
                    application_kind=rules.archives.application_kind(session, archive), created_by_id=actor.id,
                    created_at=to_db(now), updated_at=to_db(now))
        households.copy(archive, case, Member)
        case.aid_kind, case.aid_amount, case.medical = given_aid.kind, given_aid.amount, given_aid.medical
        case.amount_reason = given_aid.amount_reason or None
        case.goods_items, case.goods_value = given_aid.goods_items or None, given_aid.goods_value
        if (tariff := rules.tariffs.default_amount(session, case)) is not None:
            case.aid_amount = tariff
        values = households.given({name: getattr(case, name) for name in households.HOUSEHOLD}
                                  | {"aid_kind": case.aid_kind, "aid_amount": case.aid_amount,
                                     "amount_reason": case.amount_reason, "goods_items": case.goods_items,
                                     "goods_value": case.goods_value})
        cases.append(opened(session, actor, now, case, values))
    return cases




def edit_case(session: Session, actor: Actor, clock: Clock, case_id: int, version: int | None,
              data: dict[str, Any]) -> Case:
    """Change fields of a draft. `data` may be partial: what it names replaces what the case holds."""
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.DRAFTERS, N_("修改案件"))
    check_version(case, version)
    now = clock.now()
    editable(case, now, N_("修改"))
    if not isinstance(data, dict):
        raise Invalid({"body": N_("应为一个对象")})
    # case_input builds without validation, so a case loaded from the database holds its codes as plain strings
    # where the schema says enums: they dump to the same JSON, without a serializer warning for each.
    merged = merge(case_input(case).model_dump(mode="json", warnings=False), data)
    parsed = validated(CaseIn, merged, local_date(now))
    new, new_members = case_columns(parsed), households.members(parsed, Member)
    changes = households.changes(case, new, new_members)
    if not changes:
        return case
    if "members" in changes:
        case.members = new_members
    for name, value in new.items():
        setattr(case, name, value)
    touch(case, now)
    audit.record(session, actor, now, Action.edit, case=case, state=case.state, changes=changes)
    follow_draft(session, actor, now, case)
    return case


def _aid(aid: dict[str, Any] | None) -> AidIn:
    """The aid asked for the applications, checked like a case's (errors keyed aid.FIELD)."""
    try:
        return AidIn.model_validate(aid or {})
    except ValidationError as error:
        raise Invalid({f"aid.{name}": message for name, message in field_errors(error).items()}) from None
