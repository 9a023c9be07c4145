"""A household's fields as an archive holds them and a case copies them: from an input, from one record to
another, and how their changes are audited. One place for both, so that the copy cannot drift from the archive."""

from __future__ import annotations

from typing import Any

from workflows.identity import mask_id, normalize_account, normalize_id
from workflows.infra import audit
from workflows.inputs import HouseholdData

HOUSEHOLD = ("applicant_name", "gender", "id_number", "phone", "employer", "worker_group", "category",
             "primary_cause", "secondary_causes", "annual_income", "housing", "bank_account", "spending_illness",
             "spending_disability", "spending_schooling", "compensation", "category_reason", "exclusions")
# Kept as lists of codes: copied as new lists, so that two records never share one.
LISTS = ("secondary_causes", "exclusions")
MEMBER = ("name", "relation", "id_number", "monthly_income", "health", "occupation")


def columns(data: HouseholdData) -> dict[str, Any]:
    """The household's columns from its input."""
    return {
        "applicant_name": data.applicant.name, "gender": data.applicant.gender,
        "id_number": normalize_id(data.applicant.id_number) if data.applicant.id_number else None,
        "phone": data.applicant.phone, "employer": data.applicant.employer,
        "worker_group": data.worker_group, "category": data.category,
        "primary_cause": data.causes.primary, "secondary_causes": [str(c) for c in data.causes.secondary],
        "annual_income": data.household.annual_income, "housing": data.household.housing,
        "bank_account": normalize_account(data.bank_account) if data.bank_account else None,
        "spending_illness": data.household.spending.illness, "spending_disability": data.household.spending.disability,
        "spending_schooling": data.household.spending.schooling, "compensation": data.household.compensation,
        "category_reason": data.category_reason or None,
        "exclusions": [str(e) for e in dict.fromkeys(data.exclusions)],
    }


def members(data: HouseholdData, kind: type) -> list[Any]:
    """The members of the input, as records of `kind` (models.Member of a case, ArchiveMember of an archive)."""
    return [kind(position=i, name=m.name, relation=m.relation,
                 id_number=normalize_id(m.id_number) if m.id_number else None, monthly_income=m.monthly_income,
                 health=m.health, occupation=m.occupation) for i, m in enumerate(data.household.members)]


def copy(source: Any, target: Any, member_kind: type) -> None:
    """`target` takes the household of `source` (an archive's into a new application; an approved case's back into
    its archive)."""
    for name in HOUSEHOLD:
        value = getattr(source, name)
        setattr(target, name, list(value or []) if name in LISTS else value)
    target.members = [member_kind(position=i, **{name: getattr(m, name) for name in MEMBER})
                      for i, m in enumerate(source.members)]


def write_back(case: Any, archive: Any, member_kind: type) -> None:
    """What an approved application gives its archive. Only when it is the same household head's application
    (a merged archive's moved application is the other head's copy), and only what the archive has not changed
    itself since the draft was made (an edit of the archive after that stands): its fields, and its members
    merged by ID number, none dropped, so that approval never frees a number of the household."""
    if archive.id_number and case.id_number != archive.id_number:
        return
    edited_since = archive.updated_at is not None and archive.updated_at > case.created_at
    for name in HOUSEHOLD:
        value = getattr(case, name)
        if not edited_since or getattr(archive, name) in (None, "", []):
            setattr(archive, name, list(value or []) if name in LISTS else value)
    by_number = {m.id_number: m for m in archive.members if m.id_number}
    names = {m.name for m in archive.members if not m.id_number}
    for person in case.members:
        known = by_number.get(person.id_number) if person.id_number else None
        if known is not None and not edited_since:
            for name in MEMBER:
                setattr(known, name, getattr(person, name))
        elif known is None and (person.id_number or person.name not in names):
            archive.members.append(member_kind(position=len(archive.members),
                                               **{name: getattr(person, name) for name in MEMBER}))


def member_values(member: Any) -> tuple[str | None, ...]:
    return tuple(audit.text(getattr(member, name)) for name in MEMBER)


def member_summary(people: list[Any]) -> str:
    return "；".join(f"{m.name}（{m.relation}，{mask_id(m.id_number) or '无证号'}）" for m in people)


def given(values: dict[str, Any]) -> dict[str, Any]:
    """The values a new record was given (for its creation event): the empty ones left out."""
    return {name: value for name, value in values.items() if value not in (None, "", False, [])}


def changes(record: Any, new: dict[str, Any], new_members: list[Any]) -> dict[str, list[str | None]]:
    """What an edit changes, as the trail keeps it; the members compared whole."""
    found = audit.diff({name: getattr(record, name) for name in new}, new)
    if [member_values(m) for m in new_members] != [member_values(m) for m in record.members]:
        found["members"] = [member_summary(record.members), member_summary(new_members)]
    return found
