"""The JSON shapes of the API: requests reuse the domain's input models (workflows.inputs); responses are built
here from the records, personal numbers masked. flask-openapi3 turns all of them into the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    PlainValidator,
    RootModel,
    StrictBool,
    WithJsonSchema,
    WrapValidator,
    create_model,
)

from workflows.archive_states import ARCHIVE_TRIGGERS, Status
from workflows.identity import mask_account, mask_id, mask_numbers
from workflows.infra.clock import from_db
from workflows.inputs import (
    MULTILINE,
    NATIONAL_FIELDS,
    AidIn,
    ApplicantIn,
    ArchiveIn,
    CaseIn,
    CausesIn,
    HouseholdIn,
    Input,
    NationalIn,
)
from workflows.models import Archive, ArchiveReview, Case, Document, HomeVisit, Notification, Objection
from workflows.money import plain
from workflows.reads import reviews as review_reads
from workflows.reads.archives import Application
from workflows.reads.trail import Entry
from workflows.rules import missing_documents
from workflows.rules import reviews as review_rules
from workflows.rules.recognition import Recognition, needs_visit
from workflows.states import TRIGGERS, State
from workflows.vocab import (
    MAX_SECONDARY_CAUSES,
    OLD_CAUSES,
    Category,
    Cause,
    ClosingReason,
    DocumentKind,
    ReviewOutcome,
    SpotCheckOutcome,
    WorkerGroup,
)

Trigger = Literal[TRIGGERS]  # type: ignore[valid-type]
StateCode = Literal[tuple(s.value for s in State)]  # type: ignore[valid-type]
StatusCode = Literal[tuple(s.value for s in Status)]  # type: ignore[valid-type]
CategoryCode = Literal[tuple(c.value for c in Category)]  # type: ignore[valid-type]
WorkerGroupCode = Literal[tuple(w.value for w in WorkerGroup)]  # type: ignore[valid-type]
DocumentKindCode = Literal[tuple(k.value for k in DocumentKind)]  # type: ignore[valid-type]


class _In(Input):
    """As every input of the domain: one-line text unless a field is marked MULTILINE (workflows.inputs)."""


# ------------------------------------------------------------------ errors

class Error(BaseModel):
    error: str = Field(description="invalid, unauthenticated, forbidden, not_found, stale, refused, too_large, "
                                   "unsupported_type, throttled")
    message: str = Field(description="What went wrong, in Chinese")
    fields: dict[str, str] | None = Field(None, description="invalid: each field and what is wrong with it")
    reason: str | None = Field(None, description="refused: the rule that blocks the action")
    rule: str | None = Field(None, description="refused: the rule's code")
    case_id: int | None = Field(None, description="refused, rule draft_exists: the draft of the same ID number to open")


def responses(ok: dict[int, Any], *codes: int) -> dict[int, Any]:
    # 400 always: any request can fail flask-openapi3's validation (a path parameter out of range, a bad query),
    # and that answer is an Error too, not flask-openapi3's default list of ValidationErrorModel.
    return {**ok, **{code: Error for code in (400, 401, *codes)}}


# ------------------------------------------------------------------ requests

class TokenIn(_In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class AidBody(AidIn):
    """The aid asked for; `medical` is a JSON boolean, true or false (0, 1 or "yes" are refused, not coerced)."""
    medical: StrictBool = False


# The causes as they are accepted (workflows.inputs.CausesIn): the national codes and, read as their national code,
# those of the first list; the secondary ones as a list, or as before one code (or none). The document says so.
CAUSE_CODES = [c.value for c in Cause] + list(OLD_CAUSES)
_PRIMARY, _SECONDARY = CausesIn.model_fields["primary"], CausesIn.model_fields["secondary"]
PrimaryCause = Annotated[(_PRIMARY.annotation, *_PRIMARY.metadata, WithJsonSchema(
    {"anyOf": [{"type": "string", "enum": CAUSE_CODES}, {"type": "null"}]}))]
SecondaryCauses = Annotated[(_SECONDARY.annotation, *_SECONDARY.metadata, WithJsonSchema(
    {"anyOf": [{"type": "array", "items": {"type": "string", "enum": CAUSE_CODES}, "maxItems": MAX_SECONDARY_CAUSES},
               {"type": "string", "enum": [*CAUSE_CODES, ""]}, {"type": "null"}],
     "description": f"Up to {MAX_SECONDARY_CAUSES} codes; one code alone, or null, as before"}))]


class CausesBody(CausesIn):
    primary: PrimaryCause = None  # type: ignore[valid-type]
    secondary: SecondaryCauses = Field(default_factory=list)  # type: ignore[valid-type]


class NationalBody(NationalIn):
    """The national archive form's fields; `single_parent` and `zero_employment` are JSON booleans."""
    single_parent: StrictBool = False
    zero_employment: StrictBool = False


# The household of a case body, which an application by archive takes from the archive instead.
HOUSEHOLD_PARTS = ("applicant", "worker_group", "category", "causes", "household", "bank_account")


class CaseCreate(CaseIn):
    """Either the whole household (its archive is found, or created with the case), or `archive`: the id of an
    archived household to apply for, with `aid` alone beside it."""
    campaign: int = Field(gt=0, lt=2**31)
    archive: int | None = Field(None, gt=0, lt=2**31, description="Apply for this archive (then no household "
                                                                   "fields: they come from the archive)")
    applicant: ApplicantIn | None = Field(None, description="Required unless `archive` is given")  # type: ignore
    causes: CausesBody = Field(default_factory=CausesBody)
    aid: AidBody = Field(default_factory=AidBody)


class ArchiveCreate(ArchiveIn):
    causes: CausesBody = Field(default_factory=CausesBody)
    national: NationalBody = Field(default_factory=NationalBody)


# Validators that are part of a field's type (a single cause read as a list of one, old codes read as new ones):
# a partial model keeps them, besides the constraints.
_VALIDATORS = (BeforeValidator, AfterValidator, PlainValidator, WrapValidator, WithJsonSchema)
_NESTED = {ApplicantIn: (ApplicantIn, "ApplicantPatch"), CausesIn: (CausesBody, "CausesPatch"),
           HouseholdIn: (HouseholdIn, "HouseholdPatch"), AidIn: (AidBody, "AidPatch"),
           NationalIn: (NationalBody, "NationalPatch")}


def _partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    """`model` with every field optional and no defaults applied, for PATCH (nested objects likewise)."""
    fields = {}
    for field_name, info in model.model_fields.items():
        annotation = info.annotation
        if annotation in _NESTED:
            annotation = _partial(*_NESTED[annotation])
        annotation = annotation | None
        validators = [item for item in info.metadata if isinstance(item, _VALIDATORS)]
        if validators:
            annotation = Annotated[annotation, *validators]
        fields[field_name] = (annotation, Field(None, **_constraints(info)))
    return create_model(name, __base__=_In, **fields)


def _constraints(info) -> dict[str, Any]:
    out = {}
    for item in info.metadata:
        for key in ("min_length", "max_length", "ge", "gt", "max_digits", "decimal_places", "strict", "pattern"):
            if getattr(item, key, None) is not None:
                out[key] = getattr(item, key)
    return out


CaseFields = _partial(CaseIn, "CaseFields")
ArchiveFields = _partial(ArchiveIn, "ArchiveFields")


class ArchivePatch(ArchiveFields):  # type: ignore[misc, valid-type]
    version: int = Field(ge=1, lt=2**31, description="The version you read; a stale one is refused with 409 stale")


class ArchiveTransitionIn(_In):
    trigger: str = Field(max_length=32, description="One of: " + ", ".join(ARCHIVE_TRIGGERS)
                         + " (activate is the system's, on the district's approval of an application)")
    version: int = Field(ge=1, lt=2**31)
    comment: Annotated[str | None, MULTILINE] = Field(None, max_length=2000)
    reason: str | None = Field(None, max_length=32, description="deregister: one of "
                               + ", ".join(r.value for r in ClosingReason))
    union: str | None = Field(None, max_length=32, description="transfer: the receiving grassroots union's code")


class MergeIn(_In):
    other: int = Field(gt=0, lt=2**31, description="The archive merged into this one (it is deregistered as merged)")
    version: int = Field(ge=1, lt=2**31, description="This archive's version")
    comment: Annotated[str | None, MULTILINE] = Field(None, max_length=2000)


class CarryOverIn(_In):
    campaign: int = Field(gt=0, lt=2**31)
    archives: list[Annotated[int, Field(gt=0, lt=2**31)]] = Field(min_length=1, max_length=200)
    aid: AidBody | None = Field(None, description="The aid asked for, the same for every application")


class CasePatch(CaseFields):  # type: ignore[misc, valid-type]
    version: int = Field(ge=1, lt=2**31, description="The version you read; a stale one is refused with 409 stale")


class TransitionIn(_In):
    trigger: str = Field(max_length=32, description="One of: " + ", ".join(TRIGGERS))
    version: int = Field(ge=1, lt=2**31)
    comment: Annotated[str | None, MULTILINE] = Field(None, max_length=2000)
    payment_reference: str | None = Field(None, max_length=64)


class ObjectionIn(_In):
    statement: Annotated[str, MULTILINE] = Field(min_length=1, max_length=2000)


class ResolutionIn(_In):
    outcome: Literal["dismissed", "upheld"]
    comment: Annotated[str, MULTILINE] = Field(min_length=1, max_length=2000)


class RevealIn(_In):
    field: Literal["id_number", "bank_account"]


class CasePath(BaseModel):
    case_id: int = Field(ge=1, lt=2**31)


class DocumentPath(BaseModel):
    case_id: int = Field(ge=1, lt=2**31)
    document_id: str = Field(pattern=r"^[0-9a-f]{32}$")


class ArchivePath(BaseModel):
    archive_id: int = Field(ge=1, lt=2**31)


class ObjectionPath(BaseModel):
    objection_id: int = Field(ge=1, lt=2**31)


class NotificationPath(BaseModel):
    notification_id: int = Field(ge=1, lt=2**31)


class PageQuery(_In):
    page: int = Field(1, ge=1, le=100000)
    per_page: int = Field(20, ge=1, le=100)


class ListQuery(PageQuery):
    after: str | None = Field(None, max_length=80, pattern=r"^[0-9]+(\.[0-9]+)*$",
                              description="The `after` of the page before: the page that follows it, read as fast "
                                          "as the first (`page` then only numbers it)")


class CaseQuery(ListQuery):
    state: StateCode | None = None  # type: ignore[valid-type]
    union: str | None = Field(None, max_length=32, description="A union's code")
    campaign: int | None = Field(None, ge=1, lt=2**31)
    q: str | None = Field(None, max_length=50, description="Part of a name, or the last 4 digits of the ID number")


class ArchiveQuery(ListQuery):
    status: StatusCode | None = None  # type: ignore[valid-type]
    union: str | None = Field(None, max_length=32, description="A union's code")
    category: CategoryCode | None = None  # type: ignore[valid-type]
    worker_group: WorkerGroupCode | None = None  # type: ignore[valid-type]
    q: str | None = Field(None, max_length=50, description="Part of the head's name, or the last 4 digits of the "
                                                           "ID number")


class CarryOverQuery(_In):
    campaign: int = Field(ge=1, lt=2**31)


class ArchiveExportQuery(_In):
    format: Literal["national"] = Field("national", description="The national system's layout")
    union: str | None = Field(None, max_length=32, description="A union's code; default: every archive I may see")


class LedgerQuery(_In):
    dry_run: bool = Field(False, description="Only check the file: nothing is stored")


class LedgerChecked(BaseModel):
    rows: int = Field(description="Rows checked (people); every one is good")
    households: int = Field(description="Households (archives) the import would create")


class LedgerImported(BaseModel):
    imported: int = Field(description="Archives created (status active), one per household")
    people: int = Field(description="Rows imported (heads and members)")


class LedgerRowError(BaseModel):
    row: int = Field(description="The Excel row number")
    column: str = Field(description="The column's header, in Chinese")
    message: str


class LedgerError(Error):
    rows: list[LedgerRowError] | None = Field(None, description="invalid ledger: every bad cell (nothing stored)")


def _iso_8601(value: Any) -> Any:
    """A moment written as ISO 8601, as the document says: pydantic alone would take "0" or "1516870800" as
    seconds since 1970."""
    if isinstance(value, str) and not re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        raise ValueError("应为 ISO 8601 时间，例如 2018-01-25T17:00:00+08:00")
    return value


Moment = Annotated[dt.datetime, BeforeValidator(_iso_8601)]


class EventQuery(PageQuery):
    case: int | None = Field(None, ge=1, lt=2**31)
    actor: str | None = Field(None, max_length=64)
    trigger: str | None = Field(None, max_length=32, description="A trigger or another action (create, edit, ...)")
    since: Moment | None = None  # type: ignore[valid-type]
    until: Moment | None = None  # type: ignore[valid-type]


class StatisticsQuery(_In):
    campaign: int = Field(ge=1, lt=2**31)
    union: str | None = Field(None, max_length=32)
    format: Literal["json", "xlsx"] = "json"


class StandardQuery(_In):
    year: int | None = Field(None, ge=1, lt=10000, description="Only this year's standards")


class StandardPath(BaseModel):
    year: int = Field(ge=1, lt=2**31, description="2000 to 2100")
    area: str = Field(max_length=32, description="Six digits: a county (110105), a city (110100) or a province "
                                                 "(110000), which the areas under it fall back to")


class StandardIn(_In):
    monthly: Decimal = Field(description="Yuan per person per month: more than 0, at most two decimals")


class VisitIn(_In):
    """A home visit (入户调查); the verb checks each field and names what is wrong in Chinese."""
    visited_on: str | None = Field(None, max_length=32, description="The day of the visit, ISO 8601 (2018-01-05)")
    visitors: str | None = Field(None, max_length=200, description="Who visited")
    findings: Annotated[str | None, MULTILINE] = Field(None, max_length=2000, description="What they found")


# ------------------------------------------------------------------ responses

class TokenOut(BaseModel):
    token: str


class Me(BaseModel):
    username: str
    role: str
    union: str | None


class UnionOut(BaseModel):
    code: str
    name: str


class DocumentOut(BaseModel):
    id: str
    kind: str
    kind_label: str
    filename: str = Field(description="As uploaded, numbers in it masked")
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime


class MemberOut(BaseModel):
    name: str
    relation: str
    id_number: str | None = Field(description="Masked")
    monthly_income: Decimal | None
    health: str | None
    occupation: str | None


class ApplicantOut(BaseModel):
    name: str
    gender: str | None
    id_number: str | None = Field(description="Masked: the first 6 and last 4 digits")
    phone: str | None
    employer: str | None


class SpendingOut(BaseModel):
    illness: Decimal | None
    disability: Decimal | None
    schooling: Decimal | None


class HouseholdOut(BaseModel):
    annual_income: Decimal | None
    per_capita_monthly_income: Decimal | None
    housing: str | None
    members: list[MemberOut]
    spending: SpendingOut = Field(description="The rigid spending a year, taken off the income")
    compensation: Decimal | None = Field(description="Compensation and insurance received")


class RecognitionOut(BaseModel):
    """困难认定: the household's net per-capita monthly income against the local minimum living standard."""
    net_monthly: Decimal | None = Field(description="(annual income + compensation − rigid spending) / 12 / size")
    standard: Decimal | None = Field(description="The standard used, yuan per person per month; null when none is "
                                                 "set for the year and area")
    standard_year: int = Field(description="The year looked up: the campaign's for a case, this year for an archive")
    standard_area: str | None = Field(description="The area code of the standard used (the household's county, or "
                                                  "its city or province it falls back to)")
    fits: str | None = Field(description="The category the income fits (deep, relative); null above twice the "
                                         "standard, or when it cannot be told")
    above_line: bool = Field(description="At or above twice the standard")
    chosen_fits: bool = Field(description="Whether the chosen category fits (true when it cannot be told)")
    text: str = Field(description="The same in one line, in Chinese")


class VisitOut(BaseModel):
    id: int
    visited_on: dt.date
    visitors: str
    findings: str
    recorded_by: str = Field(description="The username of who recorded it")
    recorded_at: dt.datetime


class StandardOut(BaseModel):
    year: int
    area: str
    monthly: Decimal
    set_by: str | None = Field(description="The administrator's username; null when set from the command line")
    set_at: dt.datetime


class StandardList(RootModel[list[StandardOut]]):
    pass


class AidOut(BaseModel):
    kind: str | None
    amount: Decimal | None
    medical: bool
    amount_reason: str | None = Field(None, description="Why the amount is not the campaign's tariff")
    goods_items: str | None = Field(None, description="Goods (送实物): what is handed over")
    goods_value: Decimal | None = Field(None, description="Goods: their value (物资折款), yuan")


class ObjectionOut(BaseModel):
    id: int
    statement: str
    status: str
    recorded_at: dt.datetime
    resolution: str | None
    resolved_at: dt.datetime | None


class CausesOut(BaseModel):
    primary: str | None
    secondary: list[str] = Field(description="Up to three codes of the national list")


class CaseSummary(BaseModel):
    id: int
    version: int
    state: str
    state_label: str
    campaign: int
    union: UnionOut
    archive: int = Field(description="The household's archive")
    application_kind: str = Field(description="new (增量), existing (存量) or returned (返困)")
    file_number: str | None
    applicant_name: str
    id_number: str | None = Field(description="Masked")
    worker_group: str | None
    aid_kind: str | None
    aid_amount: Decimal | None
    deadline: dt.datetime
    updated_at: dt.datetime
    claimed_by: str | None


class InboxItem(CaseSummary):
    triggers: list[str]


class CaseOut(CaseSummary):
    applicant: ApplicantOut
    category: str | None
    causes: CausesOut
    household: HouseholdOut
    aid: AidOut
    bank_account: str | None = Field(description="Masked: the last 4 digits")
    category_reason: str | None = Field(description="Why a category that does not fit the income was chosen")
    exclusions: list[str] = Field(description="The exclusions (不予建档) that apply")
    recognition: RecognitionOut
    documents: list[DocumentOut]
    missing_documents: list[str]
    objections: list[ObjectionOut]
    notice_closes_at: dt.datetime | None
    payment_reference: str | None
    triggers: list[str] = Field(description="What the caller may fire now")
    blocked: dict[str, str] = Field(description="trigger → why the caller may not fire it now")


class Listed(BaseModel):
    """What a long list says of itself besides its page."""
    total: int = Field(description="How many there are; at most 1000, with `more` when there are more")
    page: int
    per_page: int
    more: bool = Field(False, description="More than `total`: the count stopped at its bound")
    after: str | None = Field(None, description="Pass as `after` for the next page; null on the last page")


class CasePage(Listed):
    items: list[CaseSummary]


class CarryOver(BaseModel):
    count: int
    campaign: int = Field(description="The open campaign to start with: the first in which archives wait")


class ReviewsDue(BaseModel):
    count: int = Field(description="Active archives not reviewed for twelve months")
    proposals: int | None = Field(None, description="For heads: review proposals (脱困, 注销) waiting to be carried "
                                                    "out or left")


class InboxPage(Listed):
    items: list[InboxItem]
    groups: dict[str, int] = Field(description="Task → number of cases")
    carry_over: CarryOver | None = Field(None, description="A cadre's carry-over while a campaign takes drafts: "
                                                           "the union's active archives not yet applied for")
    reviews_due: ReviewsDue | None = Field(None, description="A cadre's or head's annual review: the union's active "
                                                             "archives not reviewed for twelve months")


class CaseList(RootModel[list[CaseOut]]):
    pass


class NationalOut(BaseModel):
    archive_type: str | None
    model_worker: str | None
    ethnicity: str | None
    political: str | None
    marital: str | None
    hukou: str | None
    hukou_area: str | None
    work_status: str | None
    employer_nature: str | None
    housing_type: str | None
    floor_area: Decimal | None
    insurance: str | None
    single_parent: bool
    zero_employment: bool
    bank_name: str | None
    bank_branch: str | None
    national_number: str | None


class ApplicationOut(BaseModel):
    case: int
    campaign: int
    campaign_name: str
    year: int
    state: str
    state_label: str
    kind: str = Field(description="new (增量), existing (存量) or returned (返困)")
    amount: Decimal | None
    union: str


class ArchiveSummary(BaseModel):
    id: int
    version: int
    status: str
    status_label: str
    union: UnionOut
    applicant_name: str
    id_number: str | None = Field(description="Masked")
    worker_group: str | None
    category: str | None
    household_size: int
    last_helped_campaign: int | None
    updated_at: dt.datetime


class ArchiveOut(ArchiveSummary):
    status_reason: str | None
    merged_into: int | None
    applicant: ApplicantOut
    causes: CausesOut
    household: HouseholdOut
    bank_account: str | None = Field(description="Masked: the last 4 digits")
    national: NationalOut
    category_reason: str | None = Field(description="Why a category that does not fit the income was chosen")
    exclusions: list[str] = Field(description="The exclusions (不予建档) that apply")
    recognition: RecognitionOut
    visits: list[VisitOut] = Field(description="The home visits (入户调查), oldest first")
    needs_visit: bool = Field(description="Its first public notice waits for a home visit")
    last_helped_at: dt.datetime | None
    created_at: dt.datetime
    applications: list[ApplicationOut]
    triggers: list[str] = Field(description="What the caller may fire now")
    blocked: dict[str, str] = Field(description="trigger → why the caller may not fire it now")


class ArchivePage(Listed):
    items: list[ArchiveSummary]


class ArchiveList(RootModel[list[ArchiveSummary]]):
    pass


class RevealOut(BaseModel):
    field: str
    value: str


class EventOut(BaseModel):
    seq: int
    occurred_at: dt.datetime
    actor: str
    role: str
    case_id: int | None
    action: str
    from_state: str | None
    to_state: str | None
    comment: str | None
    changes: dict[str, Any]
    hash: str


class EventList(RootModel[list[EventOut]]):
    pass


class EventPage(BaseModel):
    items: list[EventOut]
    total: int
    page: int
    per_page: int


class VerifyQuery(BaseModel):
    full: bool = Field(False, description="Walk the whole chain, not only the events after the last checkpoint")


class VerifyOut(BaseModel):
    ok: bool
    events: int = Field(description="Events checked by this walk (those after `since`)")
    first_bad: int | None = None
    problem: str | None = None
    message: str | None = None
    full: bool = Field(description="Whether the whole chain was walked")
    since: int = Field(description="The checkpoint's event the walk started after (0: the chain's start)")


class NotificationOut(BaseModel):
    id: int
    kind: str
    case_id: int | None
    text: str
    created_at: dt.datetime
    read: bool


class NotificationList(BaseModel):
    items: list[NotificationOut]
    unread: int


class FailedDeliveryOut(BaseModel):
    """A notification whose e-mail has failed so far; its text is not shown (administrators see no cases)."""
    id: int
    kind: str
    account: str = Field(description="The addressee's username")
    created_at: dt.datetime
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None


class FailedDeliveryPage(BaseModel):
    items: list[FailedDeliveryOut]
    total: int
    page: int
    per_page: int


# ------------------------------------------------------------------ records → responses

def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return from_db(moment) if moment else None


def summary(case: Case) -> dict[str, Any]:
    return {"id": case.id, "version": case.version, "state": case.state, "state_label": State(case.state).label,
            "campaign": case.campaign_id, "union": {"code": case.union.code, "name": case.union.name},
            "archive": case.archive_id, "application_kind": case.application_kind,
            "file_number": case.file_number, "applicant_name": case.applicant_name,
            "id_number": case.masked_id_number, "worker_group": case.worker_group, "aid_kind": case.aid_kind,
            "aid_amount": case.aid_amount, "deadline": _utc(case.campaign.deadline),
            "updated_at": _utc(case.updated_at), "claimed_by": case.claimed_by.username if case.claimed_by else None}


def document_out(document: Document) -> dict[str, Any]:
    return {"id": document.id, "kind": document.kind, "kind_label": DocumentKind(document.kind).label,
            "filename": mask_numbers(document.filename), "content_type": document.content_type, "size": document.size,
            "sha256": document.sha256, "uploaded_at": _utc(document.uploaded_at)}


def objection_out(objection: Objection) -> dict[str, Any]:
    return {"id": objection.id, "statement": mask_numbers(objection.statement), "status": objection.status,
            "recorded_at": _utc(objection.recorded_at), "resolution": mask_numbers(objection.resolution),
            "resolved_at": _utc(objection.resolved_at)}


def _household(record: Case | Archive) -> dict[str, Any]:
    """The household of a case or an archive, as in a case body, numbers masked."""
    return {"applicant": {"name": record.applicant_name, "gender": record.gender,
                          "id_number": record.masked_id_number, "phone": record.phone, "employer": record.employer},
            "category": record.category,
            "causes": {"primary": record.primary_cause, "secondary": list(record.secondary_causes or [])},
            "household": {"annual_income": record.annual_income,
                          "per_capita_monthly_income": record.per_capita_monthly_income, "housing": record.housing,
                          "members": [{"name": m.name, "relation": m.relation, "id_number": mask_id(m.id_number),
                                       "monthly_income": m.monthly_income, "health": m.health,
                                       "occupation": m.occupation} for m in record.members],
                          "spending": {"illness": record.spending_illness, "disability": record.spending_disability,
                                       "schooling": record.spending_schooling},
                          "compensation": record.compensation},
            "bank_account": record.masked_bank_account,
            "category_reason": mask_numbers(record.category_reason), "exclusions": list(record.exclusions or [])}


def recognition_out(recognition: Recognition, record: Case | Archive) -> dict[str, Any]:
    """What rules.recognition says of the household of `record` (rules.guards.case_recognition or
    archive_recognition)."""
    standard = recognition.standard
    return {"net_monthly": recognition.net, "standard": standard.monthly if standard else None,
            "standard_year": recognition.year, "standard_area": standard.area_code if standard else None,
            "fits": recognition.fits, "above_line": recognition.above_line,
            "chosen_fits": recognition.fits_category(record.category), "text": recognition.text()}


def visit_out(visit: HomeVisit) -> dict[str, Any]:
    return {"id": visit.id, "visited_on": visit.visited_on, "visitors": mask_numbers(visit.visitors),
            "findings": mask_numbers(visit.findings), "recorded_by": visit.recorded_by.username,
            "recorded_at": _utc(visit.recorded_at)}


def standard_out(row: Any) -> dict[str, Any]:
    """A standard of reads.standards.listing (or a LivingStandard just set, with its setter's username)."""
    return {"year": row.year, "area": row.area_code, "monthly": row.monthly, "set_by": row.set_by,
            "set_at": _utc(row.set_at)}


def case_out(case: Case, triggers: list[str], blocked: dict[str, str], *, recognition: Recognition) -> dict[str, Any]:
    return {**summary(case), **_household(case), "recognition": recognition_out(recognition, case),
            "aid": {"kind": case.aid_kind, "amount": case.aid_amount, "medical": case.medical,
                    "amount_reason": case.amount_reason, "goods_items": case.goods_items,
                    "goods_value": case.goods_value},
            "documents": [document_out(d) for d in case.documents],
            "missing_documents": missing_documents(case),
            "objections": [objection_out(o) for o in case.objections],
            "notice_closes_at": _utc(case.notice_closes_at), "payment_reference": case.payment_reference,
            "triggers": triggers, "blocked": blocked}


def archive_summary(archive: Archive) -> dict[str, Any]:
    return {"id": archive.id, "version": archive.version, "status": archive.status,
            "status_label": Status(archive.status).label,
            "union": {"code": archive.union.code, "name": archive.union.name},
            "applicant_name": archive.applicant_name, "id_number": archive.masked_id_number,
            "worker_group": archive.worker_group, "category": archive.category,
            "household_size": archive.household_size, "last_helped_campaign": archive.last_helped_campaign_id,
            "updated_at": _utc(archive.updated_at)}


def application_out(application: Application) -> dict[str, Any]:
    return {"case": application.case, "campaign": application.campaign, "campaign_name": application.campaign_name,
            "year": application.year, "state": application.state, "state_label": State(application.state).label,
            "kind": application.kind, "amount": application.amount, "union": application.union}


def archive_out(archive: Archive, applications: list[Application], triggers: list[str],
                blocked: dict[str, str], *, recognition: Recognition) -> dict[str, Any]:
    return {**archive_summary(archive), **_household(archive), "recognition": recognition_out(recognition, archive),
            "visits": [visit_out(v) for v in archive.visits], "needs_visit": needs_visit(archive),
            "status_reason": archive.status_reason, "merged_into": archive.merged_into_id,
            "national": {name: getattr(archive, name) for name in NATIONAL_FIELDS},
            "last_helped_at": _utc(archive.last_helped_at), "created_at": _utc(archive.created_at),
            "applications": [application_out(a) for a in applications], "triggers": triggers, "blocked": blocked}


def event_out(entry: Entry) -> dict[str, Any]:
    """An event as the API shows it, from the auditors' read model (workflows.reads.trail): free text and changes
    masked as on the audit screens, so that a full ID typed into a comment reaches no client (GET /audit/verify
    checks the stored, unmasked content); the changes with their stored codes."""
    return {"seq": entry.seq, "occurred_at": _utc(entry.occurred_at), "actor": entry.actor, "role": entry.role,
            "case_id": entry.case_id, "action": entry.action, "from_state": entry.from_state,
            "to_state": entry.to_state, "comment": entry.comment, "changes": entry.recorded, "hash": entry.hash}


def failed_delivery_out(notification: Notification, username: str) -> dict[str, Any]:
    return {"id": notification.id, "kind": notification.kind, "account": username,
            "created_at": _utc(notification.created_at), "attempts": notification.email_attempts,
            "next_attempt_at": _utc(notification.next_attempt_at), "last_error": notification.last_error}


def notification_out(notification: Notification) -> dict[str, Any]:
    return {"id": notification.id, "kind": notification.kind, "case_id": notification.case_id,
            "text": mask_numbers(notification.text), "created_at": _utc(notification.created_at),
            "read": notification.read_at is not None}


# ------------------------------------------------------------------ the annual review (年度复核) and the spot check

class ReviewIn(_In):
    outcome: str = Field(max_length=32, description="One of: " + ", ".join(o.value for o in ReviewOutcome))
    version: int = Field(ge=1, lt=2**31, description="The archive's version you read; a stale one is refused with "
                                                     "409 stale")
    comment: Annotated[str | None, MULTILINE] = Field(None, max_length=2000, description="Required to propose 脱困 or 注销")
    reason: str | None = Field(None, max_length=32, description="propose_deregister: one of "
                               + ", ".join(r.value for r in review_rules.PROPOSED_REASONS))
    data: ArchiveFields | None = Field(None, description="updated: the archive's changed fields, as in PATCH "  # type: ignore[valid-type]
                                                         "/archives/{id} (applied as that edit, with its own event)")


class SpotCheckQuery(_In):
    year: int = Field(ge=2000, le=2100)


class SpotCheckIn(_In):
    year: int = Field(ge=2000, le=2100)
    rate: Decimal = Field(Decimal("0.30"), description="Of each grassroots union's active archives: 0.30 to 1, at "
                                                       "most two decimals")
    seed: str | None = Field(None, max_length=64, description="Letters, digits, - _ . (generated when not given)")


class SpotItemIn(_In):
    outcome: str = Field(max_length=32, description="One of: " + ", ".join(o.value for o in SpotCheckOutcome))
    comment: Annotated[str | None, MULTILINE] = Field(None, max_length=2000, description="Required for a discrepancy")


class SpotItemPath(BaseModel):
    item_id: int = Field(ge=1, lt=2**31)


class ReviewReportQuery(_In):
    year: int | None = Field(None, ge=2000, le=2100, description="The spot check's year (default: this year)")


class ReviewOut(BaseModel):
    id: int
    archive: int
    outcome: str
    outcome_label: str
    proposed_reason: str | None
    comment: str | None
    reviewed_by: str
    reviewed_at: dt.datetime


class ReviewMade(ReviewOut):
    archive_version: int = Field(description="The archive's version after the review")


class ReviewDue(ArchiveSummary):
    review_from: dt.datetime = Field(description="What the twelve months count from")
    counted_from: str = Field(description="上次复核, 台账导入 or 建档")
    last_review: ReviewOut | None
    net_monthly: Decimal | None = Field(description="Net per-capita monthly income (rules of recognition)")
    recognition: str


class ReviewProposed(ArchiveSummary):
    above_since: dt.datetime = Field(description="When six consecutive months above twice the standard were "
                                                 "completed")
    net_monthly: Decimal | None
    recognition: str


class ReviewPending(ArchiveSummary):
    review: ReviewOut


class ReviewWorklist(BaseModel):
    due: list[ReviewDue] = Field(description="A page of the archives due, the longest waiting first")
    total: int = Field(description="Archives due")
    page: int
    per_page: int
    proposed_exit: list[ReviewProposed] = Field(description="Proposed for 脱困 by the six-months rule")
    pending: list[ReviewPending] = Field(description="Proposals waiting for the union's head")


class SpotItemOut(BaseModel):
    id: int
    archive: int
    applicant_name: str
    id_number: str | None = Field(description="Masked")
    union: UnionOut
    outcome: str | None
    outcome_label: str | None
    comment: str | None
    checked_by: str | None
    checked_at: dt.datetime | None


class SpotCheckOut(BaseModel):
    id: int
    year: int
    rate: Decimal
    seed: str
    drawn_by: str
    drawn_at: dt.datetime
    drawn_sha256: str = Field(description="SHA-256 of the list, one CODE:ID a line, unions by code, ids ascending")
    items: list[SpotItemOut]


class ProgressOut(BaseModel):
    union: UnionOut | None = Field(description="None: the district's total")
    active: int
    reviewed: int = Field(description="Reviewed within the last twelve months")
    reviewed_percent: int | None
    due: int
    proposals: int
    drawn: int
    checked: int
    discrepancies: int


class ReviewReport(BaseModel):
    year: int
    as_of: dt.datetime
    unions: list[ProgressOut]
    total: ProgressOut


def review_out(review: ArchiveReview) -> dict[str, Any]:
    return {"id": review.id, "archive": review.archive_id, "outcome": review.outcome,
            "outcome_label": ReviewOutcome(review.outcome).label, "proposed_reason": review.proposed_reason,
            "comment": mask_numbers(review.comment), "reviewed_by": review.reviewed_by.username,
            "reviewed_at": _utc(review.reviewed_at)}


def worklist_out(listed: review_reads.Worklist) -> dict[str, Any]:
    return {"due": [{**archive_summary(row.archive), "review_from": _utc(row.since), "counted_from": row.counted_from,
                     "last_review": review_out(row.last_review) if row.last_review else None,
                     "net_monthly": row.recognition.net, "recognition": row.recognition.text()}
                    for row in listed.due],
            "total": listed.due_total, "page": listed.page, "per_page": listed.per_page,
            "proposed_exit": [{**archive_summary(row.archive), "above_since": _utc(row.since),
                               "net_monthly": row.recognition.net, "recognition": row.recognition.text()}
                              for row in listed.proposed],
            "pending": [{**archive_summary(row.archive), "review": review_out(row.review)} for row in listed.pending]}


def spot_check_out(listed: review_reads.SpotList) -> dict[str, Any]:
    check = listed.check
    lists: dict[str, list[int]] = {}
    items = []
    for union, rows in listed.unions:
        lists[union.code] = [row.archive.id for row in rows]
        items += [spot_item_out(row, union) for row in rows]
    return {"id": check.id, "year": check.year, "rate": check.rate, "seed": check.seed, "drawn_by": listed.drawn_by,
            "drawn_at": _utc(check.drawn_at), "drawn_sha256": review_rules.list_digest(lists), "items": items}


def spot_item_out(row: review_reads.SpotItem, union) -> dict[str, Any]:
    return {"id": row.item.id, "archive": row.archive.id, "applicant_name": row.archive.applicant_name,
            "id_number": row.archive.masked_id_number, "union": {"code": union.code, "name": union.name},
            "outcome": row.item.outcome,
            "outcome_label": SpotCheckOutcome(row.item.outcome).label if row.item.outcome else None,
            "comment": mask_numbers(row.item.comment), "checked_by": row.checked_by,
            "checked_at": _utc(row.item.checked_at)}


def progress_out(row: review_reads.Progress) -> dict[str, Any]:
    return {"union": {"code": row.union.code, "name": row.union.name} if row.union else None,
            "active": row.active, "reviewed": row.reviewed, "reviewed_percent": row.reviewed_share, "due": row.due,
            "proposals": row.proposals, "drawn": row.drawn, "checked": row.checked,
            "discrepancies": row.discrepancies}


# ------------------------------------------------------------------ tariffs, goods receipts, notice postings

class TariffPath(BaseModel):
    campaign_id: int = Field(ge=1, lt=2**31)
    category: str = Field(max_length=32, description="A category code (vocab.Category)")
    worker_group: str = Field(max_length=32, description="A worker group code (vocab.WorkerGroup)")


class CampaignPath(BaseModel):
    campaign_id: int = Field(ge=1, lt=2**31)


class TariffIn(_In):
    amount: Decimal | None = Field(description="Yuan, more than 0, at most two decimals; null deletes the tariff")


class TariffOut(BaseModel):
    campaign: int
    category: str
    worker_group: str
    amount: Decimal | None


class TariffList(RootModel[list[TariffOut]]):
    pass


class ReceiptOut(BaseModel):
    case: int
    handed_by: str
    received_by: str
    received_on: dt.date
    document: str | None = Field(description="The signed scan: a document of the case (kind goods_receipt)")
    recorded_at: dt.datetime


class NoticeQuery(BaseModel):
    campaign: int = Field(ge=1, lt=2**31)
    union: str | None = Field(None, max_length=32, description="A grassroots union's code (district roles)")


class NoticeOut(BaseModel):
    id: int
    campaign: int
    union: str
    place: str
    posted_on: dt.date
    file_name: str = Field(description="As uploaded, numbers in it masked")
    file_sha256: str
    recorded_at: dt.datetime


class NoticeList(RootModel[list[NoticeOut]]):
    pass


def receipt_out(receipt) -> dict[str, Any]:
    return {"case": receipt.case_id, "handed_by": receipt.handed_by, "received_by": receipt.received_by,
            "received_on": receipt.received_on, "document": receipt.document_id,
            "recorded_at": _utc(receipt.recorded_at)}


def notice_out(posting, union_code: str) -> dict[str, Any]:
    return {"id": posting.id, "campaign": posting.campaign_id, "union": union_code, "place": posting.place,
            "posted_on": posting.posted_on, "file_name": mask_numbers(posting.file_name),
            "file_sha256": posting.file_sha256,
            "recorded_at": _utc(posting.recorded_at)}


# ------------------------------------------------------------------ payment batches (批量代发)

class BatchCreate(_In):
    cases: list[Annotated[int, Field(ge=1, lt=2**31)]] = Field(min_length=1, max_length=2000,
                                                               description="District-approved cases to pay")


class BatchPath(BaseModel):
    batch_id: int = Field(ge=1, lt=2**31)


class BankFileQuery(BaseModel):
    format: Literal["xlsx", "csv"] = "xlsx"


class PaymentLineOut(BaseModel):
    case: int
    file_number: str | None
    bank_account: str = Field(description="Masked: the last 4 digits (the bank file alone carries the full number)")
    name: str
    amount: str = Field(description="元, two decimals")
    status: Literal["pending", "paid", "returned"]
    reason: str | None = Field(description="The bank's reason of a returned payment")


class BatchSummaryOut(BaseModel):
    id: int
    reference: str
    created_by: str
    created_at: dt.datetime
    sent_at: dt.datetime | None = Field(description="When its payments were recorded (the cases disbursed)")
    exported_at: dt.datetime | None
    result_at: dt.datetime | None
    count: int
    amount: str
    paid: int
    returned: int
    pending: int


class BatchOut(BatchSummaryOut):
    lines: list[PaymentLineOut]


class BatchList(RootModel[list[BatchSummaryOut]]):
    pass


class BankResultOut(BaseModel):
    paid: int = Field(description="The batch's lines paid, by this result and any before")
    returned: int = Field(description="The batch's lines returned (their cases bounced to payment_returned)")


class BankResultError(Error):
    rows: list[LedgerRowError] | None = Field(None, description="invalid result file: every row that matches no "
                                                                "payment, or several (nothing applied)")


def batch_summary_out(summary) -> dict[str, Any]:
    batch = summary.batch
    return {"id": batch.id, "reference": batch.reference, "created_by": summary.created_by,
            "created_at": _utc(batch.created_at), "sent_at": _utc(batch.sent_at),
            "exported_at": _utc(batch.exported_at), "result_at": _utc(batch.result_at), "count": summary.count,
            "amount": plain(summary.amount), **{k: summary.statuses.get(k, 0) for k in ("paid", "returned", "pending")}}


def batch_out(detail) -> dict[str, Any]:
    return {**batch_summary_out(detail.summary), "lines": [
        {"case": line.case_id, "file_number": line.case.file_number, "bank_account": mask_account(line.bank_account),
         "name": line.name, "amount": plain(line.amount), "status": line.status, "reason": line.reason}
        for line in detail.lines]}
