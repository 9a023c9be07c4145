"""Anti-fraud views for the district: the year's cases a reviewer or an auditor should look at twice.

What is looked at: the district's cases (entered, district-approved or disbursed: states.DISTRICT, what the district
decides on and pays) of the campaigns of one year (rules.campaign_year). Drafts and rejected or withdrawn cases
cost nothing and are left out. Each view is a fixed number of set-based queries, however many cases there are, and
`report` loads the cases of every finding in one more query. Numbers leave this module masked.

The views:
- shared_ids: an ID number held by more than one of these cases, as applicant or as household member, whatever
  their unions and campaigns.
- shared_accounts: a bank account given by cases of more than one applicant (different ID numbers); the same
  person's account in two campaigns is not listed here.
- handled: decisions not separated from the work they decide on (see `handled`).
- caps: amounts at or above 90% of a cap: one payment against its campaign's cap per payment; one applicant's
  amounts of the year (these cases, the entered ones included) against the lowest cap per person per year of
  their campaigns.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import String, and_, distinct, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from workflows.actors import Actor
from workflows.models import Account, AuditEvent, Campaign, Case, Member, Objection, Union
from workflows.money import yuan
from workflows.rules import DISTRICT_READERS, campaign_year, require_role
from workflows.states import DISTRICT, Action, Trigger, label_of_action
from workflows.texts import N_, Verbatim
from workflows.vocab import ObjectionStatus

READERS = DISTRICT_READERS
NEAR = Decimal("0.9")  # "near a cap": at least 90% of it

# The work on a case's file: a cadre's.
PREPARATION = (Action.create, Action.edit, Action.add_document, Action.remove_document, Trigger.document)
# Everything done to a case at its grassroots union.
AT_THE_UNION = PREPARATION + (Trigger.approve, Trigger.return_, Trigger.publicize, Action.object,
                              Action.resolve_objection, Trigger.enter)
# A decision, and what its decider must not have done earlier on the same case.
EARLIER = {
    Trigger.approve: PREPARATION,
    Trigger.district_approve: AT_THE_UNION,
    Trigger.disburse: AT_THE_UNION + (Trigger.district_approve, Trigger.district_return),
}


@dataclass(frozen=True)
class CaseRef:
    """A case as a finding shows it: numbers masked."""

    id: int
    file_number: str | None
    applicant_name: str
    union: str
    campaign: str
    state: str
    amount: Decimal | None
    id_number: str | None
    bank_account: str | None


@dataclass
class Finding:
    kind: str                 # shared_id, shared_account, handled, cap_payment, cap_year
    title: str                # what the cases have in common (numbers masked)
    detail: str               # why they are listed
    case_ids: list[int]
    notes: dict[int, str] = field(default_factory=dict)  # per case: how it holds the number, ...
    cases: list[CaseRef] = field(default_factory=list)   # filled by `report`


@dataclass
class Report:
    year: int | None
    years: list[int]
    shared_ids: list[Finding] = field(default_factory=list)
    shared_accounts: list[Finding] = field(default_factory=list)
    handled: list[Finding] = field(default_factory=list)
    caps: list[Finding] = field(default_factory=list)

    @property
    def sections(self) -> list[tuple[str, list[Finding]]]:
        return [("shared_ids", self.shared_ids), ("shared_accounts", self.shared_accounts),
                ("handled", self.handled), ("caps", self.caps)]


def _percent(amount: Decimal, cap: Decimal) -> str:
    return f"{amount / cap * 100:.0f}%" if cap else "—"


def _scope(campaign_ids: list[int]) -> list:
    return [Case.campaign_id.in_(campaign_ids), Case.state.in_(DISTRICT)]


# ---------------------------------------------------------------- the views

def shared_ids(session: Session, campaign_ids: list[int]) -> list[Finding]:
    """Every ID number held by two cases or more (applicant or household member): one query."""
    scope = _scope(campaign_ids)
    holders = union_all(
        select(Case.id_digest.label("number"), Case.id_masked.label("masked"), Case.id.label("case_id"),
               literal("申请人", String).label("held_as"))
        .where(*scope, Case.id_digest.is_not(None)),
        select(Member.id_digest, Member.id_masked, Member.case_id, literal("家庭成员", String))
        .join(Case, Member.case_id == Case.id).where(*scope, Member.id_digest.is_not(None)),
    ).cte("holders")
    shared = select(holders.c.number).group_by(holders.c.number).having(func.count(distinct(holders.c.case_id)) > 1)
    rows = session.execute(select(holders.c.number, holders.c.masked, holders.c.case_id, holders.c.held_as)
                           .where(holders.c.number.in_(shared))
                           .order_by(holders.c.masked, holders.c.number, holders.c.case_id)).all()
    found: dict[str, Finding] = {}
    for number, masked, case_id, held_as in rows:
        finding = found.setdefault(number, Finding("shared_id", N_("身份证号码 %(number)s", number=masked), "", []))
        if case_id not in finding.notes:
            finding.case_ids.append(case_id)
        finding.notes[case_id] = "、".join(filter(None, [finding.notes.get(case_id), held_as]))
    for finding in found.values():
        finding.detail = N_("同一身份证号码出现在%(count)s个案件中", count=len(finding.case_ids))
    return list(found.values())


def shared_accounts(session: Session, campaign_ids: list[int]) -> list[Finding]:
    """Every bank account given by cases of two applicants or more: one query."""
    scope = _scope(campaign_ids)
    shared = select(Case.bank_digest).where(*scope, Case.bank_digest.is_not(None)) \
        .group_by(Case.bank_digest).having(func.count(distinct(Case.id_digest)) > 1)
    rows = session.execute(select(Case.bank_digest, Case.bank_masked, Case.id, Case.id_digest)
                           .where(*scope, Case.bank_digest.in_(shared))
                           .order_by(Case.bank_masked, Case.bank_digest, Case.id)).all()
    found: dict[str, Finding] = {}
    people: dict[str, set[str]] = defaultdict(set)
    for account, masked, case_id, number in rows:
        finding = found.setdefault(account, Finding("shared_account", N_("银行账号 %(number)s", number=masked), "",
                                                    []))
        finding.case_ids.append(case_id)
        if number:
            people[account].add(number)
    for account, finding in found.items():
        finding.detail = N_("同一银行账号由%(count)s名不同的申请人（身份证号码不同）使用", count=len(people[account]))
    return list(found.values())


def handled(session: Session, campaign_ids: list[int]) -> list[Finding]:
    """Decisions taken by someone who had handled the same case before, from the audit trail: two queries.

    A case is listed once for each decision below whose account (the same `actor_id`; the system is never one)
    had, earlier in the case's trail (a lower sequence number), done one of the actions named, in any round of
    the case (a return clears documented_by_id and approved_by_id, the trail keeps them):
    - `approve` (基层审核) after preparing the file: create, edit, add_document, remove_document or document;
    - `district_approve` (区总审定) after any work at the union: the above, approve, return, publicize, object,
      resolve_objection or enter;
    - `disburse` (发放) after any of those, or after district_approve or district_return of the same case;
    - and an objection dismissed (resolve_objection, 不成立) by the account that recorded it (objections table:
      recorded_by_id = resolved_by_id): the objector's statement was never weighed by a second person.
    Not counted as handling: reading (reveal), claim and release, and the decider's own earlier steps at the
    same level (a head's return before approving, a reviewer's district_return before district_approve).
    With one role per account these arise when an account changes role, or works on a case from two roles.
    """
    scope = _scope(campaign_ids)
    decision, earlier = aliased(AuditEvent), aliased(AuditEvent)
    pairs = or_(*(and_(decision.action == action, earlier.action.in_(before)) for action, before in EARLIER.items()))
    rows = session.execute(
        select(decision.case_id, decision.seq, decision.action, decision.actor, Account.display_name, earlier.action)
        .join(earlier, and_(earlier.case_id == decision.case_id, earlier.actor_id == decision.actor_id,
                            earlier.seq < decision.seq))
        .join(Case, Case.id == decision.case_id)
        .outerjoin(Account, Account.id == decision.actor_id)
        .where(*scope, decision.actor_id.is_not(None), pairs)
        .order_by(decision.case_id, decision.seq, earlier.seq)).all()
    found: dict[tuple[int, int], tuple[str, str, list[str]]] = {}
    for case_id, seq, action, username, display_name, before in rows:
        _, _, actions = found.setdefault((case_id, seq), (display_name or username, action, []))
        if label_of_action(before) not in actions:
            actions.append(label_of_action(before))
    findings = [Finding("handled", N_("%(who)s：%(actions)s，后又%(action)s", who=Verbatim(who), actions=actions,
                                      action=label_of_action(action)),
                        N_("%(action)s的人先前经办过该案件", action=label_of_action(action)), [case_id])
                for (case_id, _), (who, action, actions) in found.items()]
    objections = session.execute(
        select(Objection.case_id, Account.display_name, Account.username)
        .join(Case, Case.id == Objection.case_id).join(Account, Account.id == Objection.recorded_by_id)
        .where(*scope, Objection.status == ObjectionStatus.dismissed,
               Objection.recorded_by_id == Objection.resolved_by_id)
        .order_by(Objection.case_id, Objection.id)).all()
    findings += [Finding("handled", N_("%(who)s：登记异议，后又自行认定异议不成立", who=Verbatim(display_name or username)),
                         N_("异议由登记人本人处理"), [case_id]) for case_id, display_name, username in objections]
    return sorted(findings, key=lambda f: f.case_ids[0])


def caps(session: Session, campaign_ids: list[int]) -> list[Finding]:
    """Amounts at or above 90% of a cap, per payment and per applicant and year: two queries."""
    scope = _scope(campaign_ids)
    findings = []
    payments = session.execute(
        select(Case.id, Case.aid_amount, Campaign.cap_per_payment).join(Campaign, Case.campaign_id == Campaign.id)
        .where(*scope, Campaign.cap_per_payment.is_not(None),
               Case.aid_amount * 10 >= Campaign.cap_per_payment * 9)  # 90%, in whole numbers on every database
        .order_by(Case.id)).all()
    for case_id, amount, cap in payments:
        amount, cap = Decimal(amount), Decimal(cap)
        title = N_("单次帮扶金额超过上限") if amount > cap else N_("单次帮扶金额接近上限")
        findings.append(Finding("cap_payment", title,
                                N_("帮扶金额%(amount)s元，单次上限%(cap)s元（%(percent)s）", amount=yuan(amount),
                                   cap=yuan(cap), percent=_percent(amount, cap)),
                                [case_id]))
    total, cap = func.sum(Case.aid_amount), func.min(Campaign.cap_per_year)
    people = select(Case.id_digest, total.label("total"), cap.label("cap")) \
        .join(Campaign, Case.campaign_id == Campaign.id) \
        .where(*scope, Case.id_digest.is_not(None)).group_by(Case.id_digest) \
        .having(cap.is_not(None), total * 10 >= cap * 9).subquery()
    rows = session.execute(select(people.c.id_digest, Case.id_masked, people.c.total, people.c.cap, Case.id)
                           .join(Case, Case.id_digest == people.c.id_digest)
                           .where(*scope).order_by(Case.id_masked, people.c.id_digest, Case.id)).all()
    year: dict[str, Finding] = {}
    for number, masked, amount, cap, case_id in rows:
        amount, cap = Decimal(amount), Decimal(cap)
        title = N_("%(number)s 年度帮扶金额超过上限", number=masked) if amount > cap else \
            N_("%(number)s 年度帮扶金额接近上限", number=masked)
        finding = year.setdefault(number, Finding(
            "cap_year", title, N_("本年合计%(amount)s元，年度上限%(cap)s元（%(percent)s）", amount=yuan(amount),
                                  cap=yuan(cap), percent=_percent(amount, cap)), []))
        finding.case_ids.append(case_id)
    return findings + list(year.values())


# ---------------------------------------------------------------- the report

def years(session: Session) -> dict[int, list[Campaign]]:
    """The campaigns by year, the latest year first: one query."""
    by_year: dict[int, list[Campaign]] = defaultdict(list)
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id)):
        by_year[campaign_year(campaign)].append(campaign)
    return dict(sorted(by_year.items(), reverse=True))


def _refs(session: Session, ids: set[int]) -> dict[int, CaseRef]:
    if not ids:
        return {}
    rows = session.execute(
        select(Case.id, Case.file_number, Case.applicant_name, Union.name, Campaign.name, Case.state,
               Case.aid_amount, Case.id_masked, Case.bank_masked)
        .join(Union, Case.union_id == Union.id).join(Campaign, Case.campaign_id == Campaign.id)
        .where(Case.id.in_(sorted(ids)))).all()
    return {row[0]: CaseRef(*row) for row in rows}


def report(session: Session, actor: Actor, year: int | None = None, today: dt.date | None = None) -> Report:
    """Every view for one year, with the cases of each finding. Without a known year: the year of the latest
    campaign already started on `today` (one set up in advance for next winter has no cases yet)."""
    require_role(actor, READERS, N_("查看风险核查"))
    by_year = years(session)
    if not by_year:
        return Report(None, [])
    if year not in by_year:
        started = [y for y, campaigns in by_year.items()
                   if today is None or any(c.starts_on <= today for c in campaigns)]
        year = started[0] if started else next(iter(by_year))
    ids = [campaign.id for campaign in by_year[year]]
    result = Report(year, list(by_year), shared_ids(session, ids), shared_accounts(session, ids),
                    handled(session, ids), caps(session, ids))
    refs = _refs(session, {i for _, findings in result.sections for f in findings for i in f.case_ids})
    for _, findings in result.sections:
        for finding in findings:
            finding.cases = [refs[i] for i in finding.case_ids if i in refs]
    return result
