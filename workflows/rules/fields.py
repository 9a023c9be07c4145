"""The fields and papers of a case: what is wrong with the values given, what `document` still needs, and which ID
numbers another live case of the campaign already holds."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import bindparam, select, union_all
from sqlalchemy.orm import Session

from workflows.errors import Reason
from workflows.identity import bank_account_problem, id_number_problem, mask_id, normalize_id
from workflows.infra.memo import remembered_each
from workflows.infra.sealing import digest
from workflows.inputs import HouseholdData
from workflows.models import Archive, ArchiveNumber, Case, Member, Union
from workflows.rules.recognition import required_documents
from workflows.states import LIVE
from workflows.texts import N_
from workflows.vocab import AidKind

PHONE = re.compile(r"^(1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8})$")  # ASCII digits only (\d takes any script's)

FIELD_LABELS = {
    "applicant.name": N_("姓名"),
    "applicant.gender": N_("性别"),
    "applicant.id_number": N_("身份证号码"),
    "applicant.phone": N_("联系电话"),
    "applicant.employer": N_("工作单位"),
    "worker_group": N_("职工类别"),
    "category": N_("困难类别"),
    "causes.primary": N_("主要致困原因"),
    "household.annual_income": N_("家庭年收入"),
    "household.housing": N_("住房情况"),
    "aid.kind": N_("帮扶方式"),
    "aid.amount": N_("帮扶金额"),
    "aid.goods_items": N_("实物名称及数量"),
    "aid.goods_value": N_("物资折款"),
    "bank_account": N_("工商银行账号"),
}


def field_problems(data: HouseholdData, today: dt.date) -> dict[str, str]:
    """What is wrong with the values given (absent values are not wrong here: a draft may be incomplete)."""
    problems: dict[str, str] = {}
    applicant = data.applicant
    if applicant.id_number and (problem := id_number_problem(applicant.id_number, today)):
        problems["applicant.id_number"] = problem
    if applicant.phone and not PHONE.match(applicant.phone):
        problems["applicant.phone"] = N_("电话号码格式不对（手机11位，或带区号的座机）")
    if data.bank_account and (problem := bank_account_problem(data.bank_account)):
        problems["bank_account"] = problem
    secondary = data.causes.secondary
    if data.causes.primary in secondary:
        problems["causes.secondary"] = N_("次要原因不能与主要原因相同")
    elif len(set(secondary)) < len(secondary):
        problems["causes.secondary"] = N_("次要原因有重复")
    seen = {normalize_id(applicant.id_number)} if applicant.id_number else set()
    for i, member in enumerate(data.household.members):
        if not member.id_number:
            continue
        if problem := id_number_problem(member.id_number, today):
            problems[f"household.members.{i}.id_number"] = problem
        elif normalize_id(member.id_number) in seen:
            problems[f"household.members.{i}.id_number"] = N_("身份证号码与申请人或其他家庭成员重复")
        seen.add(normalize_id(member.id_number))
    return problems


def missing_fields(case: Case) -> list[str]:
    """The labels of the fields `document` needs and the case does not have yet."""
    values = {
        "applicant.name": case.applicant_name, "applicant.gender": case.gender,
        "applicant.id_number": case.id_number, "applicant.phone": case.phone,
        "applicant.employer": case.employer, "worker_group": case.worker_group, "category": case.category,
        "causes.primary": case.primary_cause, "household.annual_income": case.annual_income,
        "household.housing": case.housing, "aid.kind": case.aid_kind, "bank_account": case.bank_account,
    }
    missing = [FIELD_LABELS[name] for name, value in values.items() if value in (None, "")]
    if case.aid_kind == AidKind.funds and not case.aid_amount:
        missing.append(FIELD_LABELS["aid.amount"])
    if case.aid_kind == AidKind.goods:
        missing += [FIELD_LABELS[name] for name, value in (("aid.goods_items", case.goods_items),
                                                          ("aid.goods_value", case.goods_value)) if not value]
    for i, member in enumerate(case.members, 1):
        if not member.id_number:
            missing.append(N_("家庭成员%(number)s（%(name)s）的身份证号码", number=i, name=member.name))
    return missing


def missing_documents(case: Case) -> list[str]:
    have = {d.kind for d in case.documents}
    return [kind for kind in required_documents(case) if kind not in have]


# Every case holding one of the ID numbers (by their digests), as applicant or as member, whatever its campaign and
# state. The digests are the only condition, so that the lookup goes by ix_cases_id_digest and ix_members_id_digest
# on every database: with the campaign and the states in the WHERE clause too, SQLite (which has no statistics until
# someone runs ANALYZE) walked ix_cases_campaign_state instead, reading every live case of the campaign and its
# members on each check. A number is held by a handful of cases at most, so the rest is filtered here.
# Built once: the statement and its cache key are reused on every call.
_DIGESTS = bindparam("digests", expanding=True)
_HOLDERS = union_all(
    select(Case.id_digest, Case.id_masked, Union.name, Case.campaign_id, Case.id, Case.state)
    .join(Union, Case.union_id == Union.id).where(Case.id_digest.in_(_DIGESTS)),
    select(Member.id_digest, Member.id_masked, Union.name, Case.campaign_id, Case.id, Case.state)
    .join(Case, Member.case_id == Case.id).join(Union, Case.union_id == Union.id)
    .where(Member.id_digest.in_(_DIGESTS)),
)


def duplicate_reasons(session: Session, case: Case) -> list[Reason]:
    """No ID number of this case (applicant or member) may appear in another live case of the campaign."""
    found = sorted({(masked, union) for rows in case_holders(session, case.digests).values()
                    for masked, union, campaign_id, case_id, state in rows
                    if campaign_id == case.campaign_id and case_id != case.id and state in LIVE})
    return [Reason("duplicate", N_("身份证号码%(masked)s已在本活动的另一个案件中（%(union)s）", masked=masked,
                                   union=union)) for masked, union in found]


def case_holders(session: Session, digests) -> dict[str, list[tuple]]:
    """For each of `digests`, the cases holding it as applicant or member: (masked, union name, campaign id, case
    id, state) rows (remembered within memo.remembering)."""
    def fetch(missing: list[str]) -> dict[str, list[tuple]]:
        return grouped(session.execute(_HOLDERS, {"digests": sorted(missing)}))
    return remembered_each(session, "case_holders", digests, fetch)


def archive_numbers_held(session: Session, digests) -> dict[str, list[tuple[str, int]]]:
    """For each of `digests`, the archives holding it: (union name, archive id) rows (remembered within
    memo.remembering)."""
    def fetch(missing: list[str]) -> dict[str, list[tuple]]:
        return grouped(session.execute(_ARCHIVE_HOLDERS, {"digests": sorted(missing)}))
    return remembered_each(session, "archive_numbers", digests, fetch)


_ARCHIVE_HOLDERS = select(ArchiveNumber.id_digest, Union.name, Archive.id) \
    .join(Archive, ArchiveNumber.archive_id == Archive.id).join(Union, Archive.union_id == Union.id) \
    .where(ArchiveNumber.id_digest.in_(_DIGESTS))


def grouped(rows) -> dict[str, list[tuple]]:
    """Rows whose first column is a digest, by that digest (without it)."""
    found: dict[str, list[tuple]] = {}
    for key, *rest in rows:
        found.setdefault(key, []).append(tuple(rest))
    return found


def archive_holders(session: Session, numbers, other_than: int | None = None) -> list[tuple[str, str, int]]:
    """(number, union name, archive id) for each of `numbers` held by a live archive other than `other_than`: the
    one-household-one-archive rule (DOMAIN.md), anywhere in the district."""
    by_digest = {digest(n): n for n in numbers if n}
    held = archive_numbers_held(session, by_digest)
    return sorted((by_digest[key], union, archive_id) for key, rows in held.items() for union, archive_id in rows
                  if archive_id != other_than)


def holder_reasons(session: Session, numbers, other_than: int | None = None) -> list[Reason]:
    return [Reason("archive_duplicate", N_("身份证号码%(number)s已有困难职工档案（%(union)s，档案#%(archive)s），"
                                        "一户只能建一个档案", number=mask_id(number), union=union, archive=archive_id))
            for number, union, archive_id in archive_holders(session, numbers, other_than)]


def case_archive_reasons(session: Session, case: Case) -> list[Reason]:
    """The numbers of a case must not be held by an archive other than its own: approving it writes them there."""
    return holder_reasons(session, case.numbers, case.archive_id)
