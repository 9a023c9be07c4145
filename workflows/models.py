"""SQLAlchemy 2 typed models. Times are naive UTC (see clock.to_db); money is Numeric(12, 2) in yuan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    exists,
    false,
    select,
)
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    object_session,
    relationship,
    validates,
)

from workflows.identity import mask_account, mask_id
from workflows.infra.clock import local_date, to_db
from workflows.infra.expr import at_or_after, at_or_before, constant, every, is_set, is_unset, negate, one_of, some
from workflows.infra.memo import remembered
from workflows.infra.sealing import Sealed, digest
from workflows.states import COMMITTED, DISTRICT, UNION_ROLES, Role, State
from workflows.vocab import ObjectionStatus

Money = Numeric(12, 2)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Union(Base):
    """A node of the union tree: the district, a federation or industry union, or a grassroots union."""

    __tablename__ = "unions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unions.id"))

    parent: Mapped[Union | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Union]] = relationship(back_populates="parent")


class Account(Base):
    """A person who signs in. One role each; cadres and heads belong to a grassroots union."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    union_id: Mapped[int | None] = mapped_column(ForeignKey("unions.id"))
    display_name: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    union: Mapped[Union | None] = relationship()

    # What Flask-Login asks of a signed-in user, duck-typed so that the domain imports nothing of the web.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def role_label(self) -> str:
        return Role(self.role).label


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    report_deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    publicity_days: Mapped[int] = mapped_column(Integer, default=5)
    reminder_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [7, 3, 1])
    cap_per_payment: Mapped[Decimal | None] = mapped_column(Money)
    cap_per_year: Mapped[Decimal | None] = mapped_column(Money)
    budget: Mapped[Decimal | None] = mapped_column(Money)
    # Goods (送实物) count in the statistics; in the cash budget too only when the campaign says so.
    goods_in_budget: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    union_budgets: Mapped[list[UnionBudget]] = relationship(back_populates="campaign", cascade="all, delete-orphan")

    __table_args__ = (CheckConstraint("publicity_days >= 0", name="publicity_days"),)

    # Rules on a campaign, each one expression for a campaign and for a query (workflows/infra/expr.py).

    @hybrid_method
    def past_deadline(self, now: dt.datetime):
        return self.deadline <= to_db(now)

    @hybrid_method
    def open_for_drafts(self, now: dt.datetime):
        """Started, and its deadline not passed: what create_case accepts and the new-case form offers."""
        return every(self.starts_on <= local_date(now), negate(self.past_deadline(now)))


class Tariff(Base):
    """The amount a campaign gives a household of a category and worker group (标准): an application's amount
    defaults to it, and another amount needs a stated reason."""

    __tablename__ = "tariffs"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    worker_group: Mapped[str] = mapped_column(String(24), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)

    __table_args__ = (CheckConstraint("amount > 0", name="amount"),)


class UnionBudget(Base):
    """The share of a campaign's budget set aside for one grassroots union, where the budget is split."""

    __tablename__ = "union_budgets"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("unions.id"), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)

    campaign: Mapped[Campaign] = relationship(back_populates="union_budgets")


class HouseholdColumns:
    """What an archive holds of its household and what a case copies of it when applied for (DOMAIN.md, Case):
    the applicant (the household's head), the hardship, the household and the bank."""

    applicant_name: Mapped[str] = mapped_column(String(50))
    gender: Mapped[str | None] = mapped_column(String(8))
    # The personal numbers are sealed at rest (workflows/infra/sealing.py); equality goes by their keyed digest and
    # the screens show the stored mask, both kept by _personal_number below whenever a number is set.
    id_number: Mapped[str | None] = mapped_column(Sealed)
    id_digest: Mapped[str | None] = mapped_column(String(64))
    id_masked: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(20))
    employer: Mapped[str | None] = mapped_column(String(100))
    worker_group: Mapped[str | None] = mapped_column(String(24))
    category: Mapped[str | None] = mapped_column(String(16))
    primary_cause: Mapped[str | None] = mapped_column(String(16))
    secondary_causes: Mapped[list[str]] = mapped_column(JSON, default=list)
    annual_income: Mapped[Decimal | None] = mapped_column(Money)
    housing: Mapped[str | None] = mapped_column(String(200))
    bank_account: Mapped[str | None] = mapped_column(Sealed)
    bank_digest: Mapped[str | None] = mapped_column(String(64))
    bank_masked: Mapped[str | None] = mapped_column(String(19))
    # Recognition (DOMAIN.md): the household's rigid spending a year (illness, disability, schooling), the
    # compensation and insurance it received (an accident is judged after them), why a category that does not fit
    # the minimum living standard was chosen, and the exclusions (vocab.Exclusion) that apply to it.
    spending_illness: Mapped[Decimal | None] = mapped_column(Money)
    spending_disability: Mapped[Decimal | None] = mapped_column(Money)
    spending_schooling: Mapped[Decimal | None] = mapped_column(Money)
    compensation: Mapped[Decimal | None] = mapped_column(Money)
    category_reason: Mapped[str | None] = mapped_column(Text)
    exclusions: Mapped[list[str] | None] = mapped_column(JSON, default=list)

    @validates("id_number", "bank_account")
    def _personal_number(self, key: str, value: str | None) -> str | None:
        return sealed_number(self, key, value)

    @property
    def masked_id_number(self) -> str | None:
        return self.id_masked

    @property
    def masked_bank_account(self) -> str | None:
        return self.bank_masked

    @property
    def household_size(self) -> int:
        return 1 + len(self.members)

    @property
    def per_capita_monthly_income(self) -> Decimal | None:
        """Derived, never stored: annual household income over twelve months and every member of the household."""
        if self.annual_income is None:
            return None
        return (self.annual_income / 12 / self.household_size).quantize(Decimal("0.01"))

    @property
    def numbers(self) -> set[str]:
        """Every ID number of the household: its head's and its members'."""
        return {n for n in [self.id_number, *(m.id_number for m in self.members)] if n}

    @property
    def digests(self) -> list[str]:
        """The keyed digests of `numbers`, which the lookups compare (sealing.py), in order."""
        return sorted({d for d in [self.id_digest, *(m.id_digest for m in self.members)] if d})


def sealed_number(row: Any, key: str, value: str | None) -> str | None:
    """Keep a personal number's digest and mask beside it (the columns `id_*` or `bank_*`)."""
    prefix, mask = ("id", mask_id) if key == "id_number" else ("bank", mask_account)
    setattr(row, f"{prefix}_digest", digest(value))
    setattr(row, f"{prefix}_masked", mask(value))
    return value


class MemberColumns:
    @validates("id_number")
    def _personal_number(self, key: str, value: str | None) -> str | None:
        return sealed_number(self, key, value)

    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(50))
    relation: Mapped[str] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(Sealed)
    id_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    id_masked: Mapped[str | None] = mapped_column(String(18))
    monthly_income: Mapped[Decimal | None] = mapped_column(Money)
    health: Mapped[str | None] = mapped_column(String(100))
    occupation: Mapped[str | None] = mapped_column(String(100))


class Archive(HouseholdColumns, Base):
    """困难职工档案 (一户一档): one household's file, kept for years; each campaign's case is an application of it."""

    __tablename__ = "archives"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    union_id: Mapped[int] = mapped_column(ForeignKey("unions.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    status_reason: Mapped[str | None] = mapped_column(String(24))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("archives.id"))

    # The national archive form (DOMAIN.md, Household archive); codes of workflows.vocab.
    archive_type: Mapped[str | None] = mapped_column(String(24))
    model_worker: Mapped[str | None] = mapped_column(String(16))
    ethnicity: Mapped[str | None] = mapped_column(String(20))
    political: Mapped[str | None] = mapped_column(String(24))
    marital: Mapped[str | None] = mapped_column(String(16))
    hukou: Mapped[str | None] = mapped_column(String(24))
    hukou_area: Mapped[str | None] = mapped_column(String(6))
    work_status: Mapped[str | None] = mapped_column(String(16))
    employer_nature: Mapped[str | None] = mapped_column(String(24))
    housing_type: Mapped[str | None] = mapped_column(String(16))
    floor_area: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    insurance: Mapped[str | None] = mapped_column(String(16))
    single_parent: Mapped[bool] = mapped_column(Boolean, default=False)
    zero_employment: Mapped[bool] = mapped_column(Boolean, default=False)
    bank_name: Mapped[str | None] = mapped_column(String(50))
    bank_branch: Mapped[str | None] = mapped_column(String(100))
    national_number: Mapped[str | None] = mapped_column(String(32))

    last_helped_campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    last_helped_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Set when the household is back in hardship (返困) by hand, until an application of it is approved: its next
    # application counts as 返困.
    reactivated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The last annual review (年度复核) by its union; when it came from the union's ledger (台账).
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    imported_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    union: Mapped[Union] = relationship()
    members: Mapped[list[ArchiveMember]] = relationship(back_populates="archive", cascade="all, delete-orphan",
                                                        order_by="ArchiveMember.position")
    cases: Mapped[list[Case]] = relationship(back_populates="archive", order_by="Case.id")
    last_helped_campaign: Mapped[Campaign | None] = relationship()
    visits: Mapped[list[HomeVisit]] = relationship(back_populates="archive", order_by="HomeVisit.visited_on")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_archives_union_status", "union_id", "status"),
                      Index("ix_archives_id_digest", "id_digest"),
                      # The archive list, newest first, a keyset page at a time (reads/archives.py).
                      Index("ix_archives_updated", "updated_at", "id"),
                      Index("ix_archives_union_updated", "union_id", "updated_at", "id"))

    @hybrid_method
    def visible_to(self, actor):
        """Its union's people; the district's reviewers and auditors everywhere; nobody else."""
        role = actor.role
        if role in UNION_ROLES:
            return self.union_id == actor.union_id
        return constant(role in (Role.reviewer, Role.auditor, Role.system), self.status)


class ArchiveMember(MemberColumns, Base):
    __tablename__ = "archive_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("archives.id", ondelete="CASCADE"), index=True)

    archive: Mapped[Archive] = relationship(back_populates="members")


class LivingStandard(Base):
    """低保标准: the local minimum living standard, yuan per person per month, for a year and an area code (a
    county's six digits, or a city's XXXX00 or a province's XX0000, which the areas under it fall back to)."""

    __tablename__ = "living_standards"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    monthly: Mapped[Decimal] = mapped_column(Money)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("monthly > 0", name="monthly"),)


class HomeVisit(Base):
    """入户调查: a visit to the household, required before its archive's first public notice."""

    __tablename__ = "home_visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("archives.id"), index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    visitors: Mapped[str] = mapped_column(String(200))
    findings: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)

    archive: Mapped[Archive] = relationship(back_populates="visits")
    recorded_by: Mapped[Account] = relationship()


class ArchiveIncome(Base):
    """The household's net per-capita monthly income as recorded from `since` on (one row each time it changes):
    what the six-months-above-the-standard rule of the annual review reads."""

    __tablename__ = "archive_incomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("archives.id"))
    since: Mapped[dt.datetime] = mapped_column(DateTime)
    net_monthly: Mapped[Decimal | None] = mapped_column(Money)

    archive: Mapped[Archive] = relationship()

    __table_args__ = (Index("ix_archive_incomes_archive_since", "archive_id", "since"),)


class ArchiveReview(Base):
    """年度复核: one review of an archive by its union (confirmed, updated, or proposing 脱困 or 注销)."""

    __tablename__ = "archive_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("archives.id"), index=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("unions.id"))
    outcome: Mapped[str] = mapped_column(String(24))
    # For a proposed 注销: the closing reason (vocab.ClosingReason).
    proposed_reason: Mapped[str | None] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    reviewed_at: Mapped[dt.datetime] = mapped_column(DateTime)

    reviewed_by: Mapped[Account] = relationship()


class SpotCheck(Base):
    """The district's spot check (抽查) of a year: at least `rate` of each union's active archives, drawn at random
    with `seed` (recorded, so that the draw can be repeated and shown to be fair); its items are the list."""

    __tablename__ = "spot_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One draw a year: the database refuses a second, whatever the number of writers.
    year: Mapped[int] = mapped_column(Integer, unique=True)
    rate: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    seed: Mapped[str] = mapped_column(String(64))
    drawn_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime)

    items: Mapped[list[SpotCheckItem]] = relationship(back_populates="spot_check", order_by="SpotCheckItem.id")


class SpotCheckItem(Base):
    __tablename__ = "spot_check_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    spot_check_id: Mapped[int] = mapped_column(ForeignKey("spot_checks.id"))
    archive_id: Mapped[int] = mapped_column(ForeignKey("archives.id"), index=True)
    union_id: Mapped[int] = mapped_column(ForeignKey("unions.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    spot_check: Mapped[SpotCheck] = relationship(back_populates="items")
    archive: Mapped[Archive] = relationship()

    __table_args__ = (UniqueConstraint("spot_check_id", "archive_id"),)


class ArchiveNumber(Base):
    """One row per ID number of a live archive (its head's and its members'), the number its primary key: the
    database itself refuses a second archive of any of them, on every database and under any number of writers
    (一户一档). Kept by verbs/archives.py whenever an archive's household or status changes."""

    __tablename__ = "archive_numbers"

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # the number's keyed digest
    archive_id: Mapped[int] = mapped_column(ForeignKey("archives.id"), index=True)


class NameGram(Base):
    """A one- or two-character piece of a name, or "#" and the last four characters of an ID mask, of a case
    (kind "c": its applicant) or an archive (kind "a": its head and every member): what the lists' search by name
    reads instead of every row (workflows/infra/search.py keeps them)."""

    __tablename__ = "name_grams"

    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    gram: Mapped[str] = mapped_column(String(5), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)

    __table_args__ = (Index("ix_name_grams_owner", "kind", "owner_id"),)


class Case(HouseholdColumns, Base):
    """帮扶申请: one archived household's application in one campaign, with a copy of the household as it stood
    when applied for, so that what was approved stays what was approved."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    union_id: Mapped[int] = mapped_column(ForeignKey("unions.id"))
    archive_id: Mapped[int] = mapped_column(ForeignKey("archives.id"), index=True)
    # 增量, 存量 or 返困 (vocab.ApplicationKind), decided when applied for.
    application_kind: Mapped[str] = mapped_column(String(16), default="new")
    state: Mapped[str] = mapped_column(String(24), default=State.drafted)
    file_number: Mapped[str | None] = mapped_column(String(32), unique=True)

    aid_kind: Mapped[str | None] = mapped_column(String(16))
    aid_amount: Mapped[Decimal | None] = mapped_column(Money)
    medical: Mapped[bool] = mapped_column(Boolean, default=False)

    created_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    documented_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    publicized_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    notice_closes_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    entered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    payment_reference: Mapped[str | None] = mapped_column(String(64))
    disbursed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Why the amount is not the campaign's tariff for the household's category and worker group.
    amount_reason: Mapped[str | None] = mapped_column(Text)
    # Goods (送实物): what is handed over and its value (物资折款).
    goods_items: Mapped[str | None] = mapped_column(Text)
    goods_value: Mapped[Decimal | None] = mapped_column(Money)
    # A payment the bank returned (退票): when and why; the bank account corrected since, by whom and when (the
    # one who reissues it must be someone else).
    returned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    return_reason: Mapped[str | None] = mapped_column(String(200))
    # No foreign key: SQLite cannot add one to an existing table without rebuilding `cases` (revision 0009).
    account_corrected_by_id: Mapped[int | None] = mapped_column(Integer)
    account_corrected_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    campaign: Mapped[Campaign] = relationship()
    union: Mapped[Union] = relationship()
    archive: Mapped[Archive] = relationship(back_populates="cases")
    members: Mapped[list[Member]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                 order_by="Member.position")
    documents: Mapped[list[Document]] = relationship(back_populates="case", order_by="Document.uploaded_at")
    objections: Mapped[list[Objection]] = relationship(back_populates="case", order_by="Objection.id")
    created_by: Mapped[Account] = relationship(foreign_keys=[created_by_id])
    claimed_by: Mapped[Account | None] = relationship(foreign_keys=[claimed_by_id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_cases_campaign_state", "campaign_id", "state"),
        # The inbox walks one (campaign, state) at a time in (updated_at, id) order (reads/worklists.py): the
        # district's roles by the first, a union's people by the second.
        Index("ix_cases_state_campaign_updated", "state", "campaign_id", "updated_at", "id"),
        Index("ix_cases_union_state_campaign_updated", "union_id", "state", "campaign_id", "updated_at", "id"),
        Index("ix_cases_id_digest", "id_digest"),
        Index("ix_cases_bank_digest", "bank_digest"),
    )

    # Rules that decide one case and select many, each one expression for both (workflows/infra/expr.py). The guards
    # (workflows/rules) ask them of a case; the inbox, the lists, the reminders and the sweep compile them to SQL.

    @hybrid_method
    def visible_to(self, actor):
        """Who reads the case (DOMAIN.md, Roles): its union's people; the district from its entry on (a case
        returned to its union is the union's again); finance once approved; auditors all; admins none."""
        role = actor.role
        if role in UNION_ROLES:
            return self.union_id == actor.union_id
        if role == Role.reviewer:
            return some(one_of(self.state, DISTRICT), every(self.state == State.forfeited, is_set(self.entered_at)))
        if role == Role.finance:
            return one_of(self.state, COMMITTED)
        return constant(role in (Role.auditor, Role.system), self.state)

    @hybrid_method
    def notice_over(self, now: dt.datetime):
        return at_or_before(self.notice_closes_at, to_db(now))

    @hybrid_method
    def fresh_eyes(self, account_id: int | None):
        """Four eyes: the account neither drafted the case nor marked it documented."""
        return every(self.created_by_id != account_id,
                     some(is_unset(self.documented_by_id), self.documented_by_id != account_id))

    @hybrid_method
    def free_for(self, account_id: int | None):
        """Nobody has claimed the case, or this account has."""
        return some(is_unset(self.claimed_by_id), self.claimed_by_id == account_id)

    @hybrid_property
    def open_objection(self) -> bool:
        return any(o.status == ObjectionStatus.open for o in self.objections)

    @open_objection.inplace.expression
    @classmethod
    def _open_objection(cls):
        return exists().where(Objection.case_id == cls.id, Objection.status == ObjectionStatus.open)

    @hybrid_property
    def notice_posted(self) -> bool:
        """Its union recorded where and when the campaign's notice list was posted (NoticePosting)."""
        session = object_session(self)
        posted = select(exists().where(NoticePosting.campaign_id == self.campaign_id,
                                       NoticePosting.union_id == self.union_id))
        return session is not None and remembered(session, ("notice_posted", self.campaign_id, self.union_id),
                                                  lambda: bool(session.scalar(posted)))

    @notice_posted.inplace.expression
    @classmethod
    def _notice_posted(cls):
        return exists().where(NoticePosting.campaign_id == cls.campaign_id, NoticePosting.union_id == cls.union_id)

    @hybrid_property
    def upheld_objection(self) -> bool:
        """An objection upheld during the current public notice (whenever it was recorded: one left open when the
        case was returned is decided in its next notice): the case must be returned or withdrawn."""
        return any(o.status == ObjectionStatus.upheld and at_or_after(o.resolved_at, self.publicized_at)
                   for o in self.objections)

    @upheld_objection.inplace.expression
    @classmethod
    def _upheld_objection(cls):
        return exists().where(Objection.case_id == cls.id, Objection.status == ObjectionStatus.upheld,
                              Objection.resolved_at >= cls.publicized_at)



class PaymentBatch(Base):
    """批量代发: the cases finance sends to the bank at once, its bank file and, later, the bank's result."""

    __tablename__ = "payment_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    exported_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # When its payments were recorded (each case `disburse`d with the batch's reference); None while being put together.
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    result_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    lines: Mapped[list[PaymentLine]] = relationship(back_populates="batch", order_by="PaymentLine.id")


class PaymentLine(Base):
    """One case in a batch, as the bank file gives it (account, name, amount), and what the bank said of it."""

    __tablename__ = "payment_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payment_batches.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    bank_account: Mapped[str] = mapped_column(Sealed)
    bank_masked: Mapped[str | None] = mapped_column(String(19))
    name: Mapped[str] = mapped_column(String(50))
    amount: Mapped[Decimal] = mapped_column(Money)
    # pending (sent), paid or returned, by the bank's result file.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(200))

    batch: Mapped[PaymentBatch] = relationship(back_populates="lines")
    case: Mapped[Case] = relationship()

    @validates("bank_account")
    def _personal_number(self, key: str, value: str | None) -> str | None:
        self.bank_masked = mask_account(value)
        return value


class GoodsReceipt(Base):
    """实名签收: goods handed over, to whom, by whom and when, with the signed scan (a document of the case)."""

    __tablename__ = "goods_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    handed_by: Mapped[str] = mapped_column(String(50))
    received_by: Mapped[str] = mapped_column(String(50))
    received_on: Mapped[dt.date] = mapped_column(Date)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class NoticePosting(Base):
    """Proof of a union's public notice in a campaign: where and when its list was posted, with a photo or scan."""

    __tablename__ = "notice_postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    union_id: Mapped[int] = mapped_column(ForeignKey("unions.id"))
    place: Mapped[str] = mapped_column(String(200))
    posted_on: Mapped[dt.date] = mapped_column(Date)
    file_id: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    file_type: Mapped[str] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(Integer)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_notice_postings_campaign_union", "campaign_id", "union_id"),)


class Member(MemberColumns, Base):
    """A household member of the applicant, as the case copied them."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)

    case: Mapped[Case] = relationship(back_populates="members")


class Document(Base):
    """A file attached to a case. The content lies on disk under the upload folder, named by the random id."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime)

    case: Mapped[Case] = relationship(back_populates="documents")

    # The daily upload quota counts an account's documents of the day (verbs/documents.py).
    __table_args__ = (Index("ix_documents_uploaded_by_at", "uploaded_by_id", "uploaded_at"),)


class Objection(Base):
    """异议: a statement against a case during its public notice, and how the head resolved it."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    statement: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolution: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="objections")


class AuditEvent(Base):
    """One link of the audit chain. Written once, in the transaction of the change it records."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Indexed for the auditors' filters over a long trail.
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # no foreign key: the trail outlives accounts
    actor: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The archive it concerns: hashed only when set, so that the events written before archives existed keep
    # their hashes.
    archive_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """A single row: the last sequence and hash. Updating it first serialises appenders on every database."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="single"),)


class AuditCheckpoint(Base):
    """A verification. A successful one (ok): the chain held from its start up to event `seq`, whose hash was
    `hash`; the next verification confirms that event (and every earlier checkpoint's) still has that hash and
    walks only the events after it. A failed one (not ok, `seq` the first bad event): until a full walk succeeds
    again, every verification walks the whole chain. Rows are only added."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    hash: Mapped[str] = mapped_column(String(64))
    from_seq: Mapped[int] = mapped_column(Integer)  # the walk started after this event (0: from the start)
    events: Mapped[int] = mapped_column(Integer)  # how many events it walked
    full: Mapped[bool] = mapped_column(Boolean)
    verified_at: Mapped[dt.datetime] = mapped_column(DateTime)
    verified_by: Mapped[str] = mapped_column(String(64))  # the account that asked, or the command line
    ok: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiToken(Base):
    """A bearer token of the JSON API (kind "api"), or the key of one signed-in browser session (kind "web"), which
    the session cookie carries. Only its SHA-256 is kept; revoked tokens stay, for the record. Revoking a web key at
    sign-out kills that session even where a copy of its cookie survives."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default="api", server_default="api")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    account: Mapped[Account] = relationship()


class SignInFailure(Base):
    """A failed sign-in, by name and by address: what throttling counts, across every worker process."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_sign_in_failures_username_at", "username", "at"),
                      Index("ix_sign_in_failures_source_at", "source", "at"))


class Notification(Base):
    """A message to one account, shown in the application (and sent by e-mail where it has an address).
    `key` makes each notification unique, so that deciding to send it twice stores it once. The e-mail columns are
    scheduler.mail's: sent at `emailed_at`; until then `email_attempts` failed tries, the `last_error` of the latest,
    and `next_attempt_at`, before which nobody tries (the back-off, or another process's claim)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    emailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    email_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))


class SchedulerLease(Base):
    """On SQLite, which has no advisory locks: the one row saying which scheduler process acts, and until when."""

    __tablename__ = "scheduler_lease"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Summary(Base):
    """活动总结: a grassroots union's campaign summary and statistics, handed in once by the campaign's report
    deadline and replaced until then. An attached file is kept like a case's documents."""

    __tablename__ = "summaries"
    __table_args__ = (UniqueConstraint("campaign_id", "union_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    union_id: Mapped[int] = mapped_column(ForeignKey("unions.id"))
    text: Mapped[str] = mapped_column(Text)
    file_id: Mapped[str | None] = mapped_column(String(32))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(100))  # an .xlsx type is 65 characters
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int | None] = mapped_column(Integer)
    # Where the money came from (DOMAIN.md, the statistics table), in yuan: 上级工会拨付, 本级工会, 党政支持, 社会募集,
    # 职工捐款.
    fund_upper: Mapped[Decimal | None] = mapped_column(Money)
    fund_own: Mapped[Decimal | None] = mapped_column(Money)
    fund_government: Mapped[Decimal | None] = mapped_column(Money)
    fund_society: Mapped[Decimal | None] = mapped_column(Money)
    fund_donations: Mapped[Decimal | None] = mapped_column(Money)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime)

    union: Mapped[Union] = relationship()
    submitted_by: Mapped[Account] = relationship()


def _name_pieces_follow(session: Session, context: Any) -> None:
    """Whoever writes cases, archives or their members, the name search's pieces follow (infra/search.py): the
    listener comes with the models, so that no session writes a name without them."""
    from workflows.infra.search import after_flush  # it reads the models: imported once they exist

    after_flush(session, context)


event.listen(Session, "after_flush", _name_pieces_follow)
