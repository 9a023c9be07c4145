"""The JSON shapes of the API: requests reuse the domain's input models (workflows.inputs); responses are built
here from the records, personal numbers masked. flask-openapi3 turns all of them into the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, StrictBool, create_model

from workflows.identity import mask_id, mask_numbers
from workflows.infra.clock import from_db
from workflows.inputs import AidIn, ApplicantIn, CaseIn, CausesIn, HouseholdIn
from workflows.models import Case, Document, Notification, Objection
from workflows.reads.trail import Entry
from workflows.rules import missing_documents
from workflows.states import TRIGGERS, State
from workflows.vocab import DocumentKind

Trigger = Literal[TRIGGERS]  # type: ignore[valid-type]
StateCode = Literal[tuple(s.value for s in State)]  # type: ignore[valid-type]
DocumentKindCode = Literal[tuple(k.value for k in DocumentKind)]  # type: ignore[valid-type]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ------------------------------------------------------------------ errors

class Error(BaseModel):
    error: str = Field(description="invalid, unauthenticated, forbidden, not_found, stale, refused, too_large, "
                                   "unsupported_type, throttled")
    message: str = Field(description="What went wrong, in Chinese")
    fields: dict[str, str] | None = Field(None, description="invalid: each field and what is wrong with it")
    reason: str | None = Field(None, description="refused: the rule that blocks the action")
    rule: str | None = Field(None, description="refused: the rule's code")


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


class CaseCreate(CaseIn):
    campaign: int = Field(gt=0, lt=2**31)
    aid: AidBody = Field(default_factory=AidBody)


def _partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    """`model` with every field optional and no defaults applied, for PATCH (nested objects likewise)."""
    fields = {}
    for field_name, info in model.model_fields.items():
        annotation = info.annotation
        nested = {ApplicantIn: "ApplicantPatch", CausesIn: "CausesPatch", HouseholdIn: "HouseholdPatch",
                  AidIn: "AidPatch"}
        if annotation in nested:
            annotation = _partial(AidBody if annotation is AidIn else annotation, nested[annotation])
        fields[field_name] = (annotation | None, Field(None, **_constraints(info)))
    return create_model(name, __base__=_In, **fields)


def _constraints(info) -> dict[str, Any]:
    out = {}
    for item in info.metadata:
        for key in ("min_length", "max_length", "ge", "gt", "max_digits", "decimal_places", "strict"):
            if getattr(item, key, None) is not None:
                out[key] = getattr(item, key)
    return out


CaseFields = _partial(CaseIn, "CaseFields")


class CasePatch(CaseFields):  # type: ignore[misc, valid-type]
    version: int = Field(ge=1, lt=2**31, description="The version you read; a stale one is refused with 409 stale")


class TransitionIn(_In):
    trigger: str = Field(max_length=32, description="One of: " + ", ".join(TRIGGERS))
    version: int = Field(ge=1, lt=2**31)
    comment: str | None = Field(None, max_length=2000)
    payment_reference: str | None = Field(None, max_length=64)


class ObjectionIn(_In):
    statement: str = Field(min_length=1, max_length=2000)


class ResolutionIn(_In):
    outcome: Literal["dismissed", "upheld"]
    comment: str = Field(min_length=1, max_length=2000)


class RevealIn(_In):
    field: Literal["id_number", "bank_account"]


class CasePath(BaseModel):
    case_id: int = Field(ge=1, lt=2**31)


class DocumentPath(BaseModel):
    case_id: int = Field(ge=1, lt=2**31)
    document_id: str = Field(pattern=r"^[0-9a-f]{32}$")


class ObjectionPath(BaseModel):
    objection_id: int = Field(ge=1, lt=2**31)


class NotificationPath(BaseModel):
    notification_id: int = Field(ge=1, lt=2**31)


class PageQuery(_In):
    page: int = Field(1, ge=1, le=100000)
    per_page: int = Field(20, ge=1, le=100)


class CaseQuery(PageQuery):
    state: StateCode | None = None  # type: ignore[valid-type]
    union: str | None = Field(None, max_length=32, description="A union's code")
    campaign: int | None = Field(None, ge=1, lt=2**31)
    q: str | None = Field(None, max_length=50, description="Part of a name, or at least 4 digits of the ID number")


def _iso_8601(value: Any) -> Any:
    """A moment written as ISO 8601, as the document says: pydantic alone would take "0" or "1516870800" as
    seconds since 1970."""
    if isinstance(value, str) and not re.match(r"\d{4}-\d{2}-\d{2}", value.strip()):
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
    filename: str
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


class HouseholdOut(BaseModel):
    annual_income: Decimal | None
    per_capita_monthly_income: Decimal | None
    housing: str | None
    members: list[MemberOut]


class AidOut(BaseModel):
    kind: str | None
    amount: Decimal | None
    medical: bool


class ObjectionOut(BaseModel):
    id: int
    statement: str
    status: str
    recorded_at: dt.datetime
    resolution: str | None
    resolved_at: dt.datetime | None


class CaseSummary(BaseModel):
    id: int
    version: int
    state: str
    state_label: str
    campaign: int
    union: UnionOut
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
    causes: dict[str, str | None]
    household: HouseholdOut
    aid: AidOut
    bank_account: str | None = Field(description="Masked: the last 4 digits")
    documents: list[DocumentOut]
    missing_documents: list[str]
    objections: list[ObjectionOut]
    notice_closes_at: dt.datetime | None
    payment_reference: str | None
    triggers: list[str] = Field(description="What the caller may fire now")
    blocked: dict[str, str] = Field(description="trigger → why the caller may not fire it now")


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    per_page: int


class InboxPage(BaseModel):
    items: list[InboxItem]
    total: int
    page: int
    per_page: int
    groups: dict[str, int] = Field(description="Task → number of cases")


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


class VerifyOut(BaseModel):
    ok: bool
    events: int
    first_bad: int | None = None
    problem: str | None = None
    message: str | None = None


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
            "file_number": case.file_number, "applicant_name": case.applicant_name,
            "id_number": case.masked_id_number, "worker_group": case.worker_group, "aid_kind": case.aid_kind,
            "aid_amount": case.aid_amount, "deadline": _utc(case.campaign.deadline),
            "updated_at": _utc(case.updated_at), "claimed_by": case.claimed_by.username if case.claimed_by else None}


def document_out(document: Document) -> dict[str, Any]:
    return {"id": document.id, "kind": document.kind, "kind_label": DocumentKind(document.kind).label,
            "filename": document.filename, "content_type": document.content_type, "size": document.size,
            "sha256": document.sha256, "uploaded_at": _utc(document.uploaded_at)}


def objection_out(objection: Objection) -> dict[str, Any]:
    return {"id": objection.id, "statement": mask_numbers(objection.statement), "status": objection.status,
            "recorded_at": _utc(objection.recorded_at), "resolution": mask_numbers(objection.resolution),
            "resolved_at": _utc(objection.resolved_at)}


def case_out(case: Case, triggers: list[str], blocked: dict[str, str]) -> dict[str, Any]:
    return {**summary(case),
            "applicant": {"name": case.applicant_name, "gender": case.gender, "id_number": case.masked_id_number,
                          "phone": case.phone, "employer": case.employer},
            "category": case.category,
            "causes": {"primary": case.primary_cause, "secondary": case.secondary_cause},
            "household": {"annual_income": case.annual_income,
                          "per_capita_monthly_income": case.per_capita_monthly_income, "housing": case.housing,
                          "members": [{"name": m.name, "relation": m.relation, "id_number": mask_id(m.id_number),
                                       "monthly_income": m.monthly_income, "health": m.health,
                                       "occupation": m.occupation} for m in case.members]},
            "aid": {"kind": case.aid_kind, "amount": case.aid_amount, "medical": case.medical},
            "bank_account": case.masked_bank_account,
            "documents": [document_out(d) for d in case.documents],
            "missing_documents": missing_documents(case),
            "objections": [objection_out(o) for o in case.objections],
            "notice_closes_at": _utc(case.notice_closes_at), "payment_reference": case.payment_reference,
            "triggers": triggers, "blocked": blocked}


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
