"""The endpoints of API.md. Each reads its input, calls a service verb or a query, commits once, and answers."""

from __future__ import annotations

import io
from dataclasses import asdict

from flask import g, jsonify, request, send_file
from flask_openapi3 import FileStorage, Tag
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage as UploadedFile

from workflows import rules, verbs
from workflows.errors import Invalid, NotFound
from workflows.infra import checkpoints
from workflows.infra.clock import LOCAL, to_db
from workflows.models import Account, Campaign, Notification, Union
from workflows.reads import archives, reports, trail, worklists
from workflows.reads import payments as payment_reads
from workflows.reads import reviews as review_reads
from workflows.reads import standards as living_standards
from workflows.reads.notifications import listing, unread
from workflows.rules import reviews as review_rules
from workflows.states import UNION_ROLES, Role, State
from workflows.texts import N_
from workflows.verbs import imports, notices, signin
from workflows.verbs.imports import IMPORTERS, LedgerInvalid
from workflows.verbs.payments import ResultInvalid

from .. import ledger
from ..archive_exports import archive_workbook, archives_to_export
from ..audit.checkpoint import remember
from ..cases.documents import send_stored
from ..db import db, writes
from ..exports import statistics_workbook
from ..finance import bankfile
from ..respond import perform
from . import schemas as s
from .blueprint import actor, api, clock, uploads
from .errors import body as error_body
from .errors import domain_response

AUTH = Tag(name="认证 Authentication")
CASES = Tag(name="案件 Cases")
ARCHIVES = Tag(name="档案 Archives")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AUDIT = Tag(name="审计 Audit")
OTHER = Tag(name="其他 Other")


def _case_json(case) -> dict:
    triggers, blocked = rules.available(db(), case, actor(), clock().now())
    out = s.case_out(case, triggers, blocked, recognition=rules.guards.case_recognition(db(), case))
    return s.CaseOut.model_validate(out).model_dump(mode="json")


def _case_response(case, status: int = 200):
    return _case_json(case), status


def _archive_response(archive, status: int = 200):
    triggers, blocked = rules.archives.available(db(), archive, actor())
    out = s.archive_out(archive, archives.applications(db(), archive), triggers, blocked,
                        recognition=rules.guards.archive_recognition(db(), archive, clock().now()))
    return s.ArchiveOut.model_validate(out).model_dump(mode="json"), status


# ------------------------------------------------------------------ tokens and me

@api.post("/tokens", tags=[AUTH], security=[{}], responses={201: s.TokenOut, 400: s.Error, 401: s.Error, 429: s.Error},
          summary="Sign in: a new bearer token for a name and password")
def create_token(body: s.TokenIn):
    # A failure is committed too: it counts towards throttling even though we refuse.
    account = perform(lambda: verbs.authenticate(db(), clock(), body.username, body.password,
                                                 request.remote_addr or ""))
    if account is None:
        raise signin.Unauthenticated()
    token = perform(lambda: verbs.issue_token(db(), clock(), account))
    return {"token": token}, 201


@api.delete("/tokens/current", tags=[AUTH], responses=s.responses({204: None}),
            summary="Sign out: revoke the token of this request")
def revoke_token():
    perform(lambda: verbs.revoke_token(db(), clock(), g.api_token))
    return "", 204


@api.get("/me", tags=[AUTH], responses=s.responses({200: s.Me}))
def me():
    account = actor()
    return {"username": account.username, "role": account.role, "union": account.union.code if account.union else None}


# ------------------------------------------------------------------ lists

@api.get("/inbox", tags=[CASES], responses=s.responses({200: s.InboxPage}, 400),
         summary="The cases I can move on now, the most urgent first")
def inbox(query: s.ListQuery):
    now = clock().now()
    page = worklists.inbox(db(), actor(), now, page=query.page, per_page=query.per_page,
                           after=_cursor(query.after, worklists.INBOX_KEY))
    with rules.guards.checking(db(), page.items, actor()):
        items = [{**s.summary(case), "triggers": rules.available(db(), case, actor(), now)[0]} for case in page.items]
    # Through the model, as every answer: times in ISO 8601 (jsonify would write them as HTTP dates).
    waiting = archives.waiting(db(), actor(), now)
    return s.InboxPage.model_validate({"items": items, "total": page.total, "page": page.page,
                                      "per_page": page.per_page, "more": page.more, "after": page.after,
                                      "groups": page.groups,
                                      "carry_over": waiting and asdict(waiting),
                                      "reviews_due": _reviews_due(now)}).model_dump(mode="json")


def _cursor(after: str | None, shape: str) -> str | None:
    """An `after` that no page of this list gave is the client's error (a web page's garbled link starts from the
    first page instead: a person clicked it, a program should be told)."""
    if after is not None and worklists.decode_cursor(after, shape) is None:
        raise Invalid({"after": N_("翻页标记无效：请传入上一页返回的 after，或不传它而从第一页开始")})
    return after


def _reviews_due(now) -> dict | None:
    """The annual review as a task of a union's cadre or head, as the inbox screen's tiles show it."""
    if actor().role not in rules.REVIEWERS:
        return None
    counts = review_reads.counts(db(), actor(), now)
    return {"count": counts.due, "proposals": counts.proposals if review_rules.handles_proposals(actor().role)
            else None}


@api.get("/cases", tags=[CASES], responses=s.responses({200: s.CasePage}, 400), summary="The cases I may see")
def list_cases(query: s.CaseQuery):
    filters = worklists.Filters(state=query.state, union=query.union, campaign=query.campaign, q=query.q)
    page = worklists.cases(db(), actor(), filters, page=query.page, per_page=query.per_page,
                           after=_cursor(query.after, worklists.CASES_KEY))
    return s.CasePage.model_validate({"items": [s.summary(case) for case in page.items], "total": page.total,
                                     "page": page.page, "per_page": page.per_page, "more": page.more,
                                     "after": page.after}).model_dump(mode="json")


# ------------------------------------------------------------------ one case

@api.post("/cases", tags=[CASES], responses=s.responses({201: s.CaseOut}, 400, 403, 404, 409),
          summary="Open a draft (cadres): for an archived household (`archive`), or with the whole household")
def create_case(body: s.CaseCreate):
    if body.archive is not None:
        given = sorted(set(s.HOUSEHOLD_PARTS) & body.model_fields_set)
        if given:
            raise Invalid({name: "按档案申请时不填写家庭资料：它取自档案，可在草稿中修改" for name in given})
        aid = body.aid.model_dump(mode="json") if "aid" in body.model_fields_set else None
        (case,) = perform(lambda: verbs.apply_for(db(), actor(), clock(), body.campaign, [body.archive], aid))
        return _case_response(case, 201)
    if body.applicant is None:
        raise Invalid({"applicant": "必填"})
    data = body.model_dump(mode="json", exclude={"campaign", "archive"}, exclude_unset=True)
    case = perform(lambda: verbs.create_case(db(), actor(), clock(), body.campaign, data))
    return _case_response(case, 201)


@api.get("/cases/<int:case_id>", tags=[CASES], responses=s.responses({200: s.CaseOut}, 404))
def get_case(path: s.CasePath):
    return _case_response(verbs.get_case(db(), actor(), path.case_id))


@api.delete("/cases/<int:case_id>", tags=[CASES], responses=s.responses({204: None}, 403, 404, 409),
            summary="Delete a draft never handed in (its drafter only): audited; the household's archive stays")
def delete_draft(path: s.CasePath):
    perform(lambda: verbs.delete_draft(db(), actor(), clock(), uploads(), path.case_id))
    return "", 204


@api.patch("/cases/<int:case_id>", tags=[CASES], responses=s.responses({200: s.CaseOut}, 400, 403, 404, 409),
           summary="Change fields of a draft; objects are merged, the member list is replaced whole")
def edit_case(path: s.CasePath, body: s.CasePatch):
    data = body.model_dump(mode="json", exclude={"version"}, exclude_unset=True)
    case = perform(lambda: _edit_or_correct(path.case_id, body.version, data))
    return _case_response(case)


def _edit_or_correct(case_id: int, version: int, data: dict):
    """A draft's fields; or, for a returned payment (退票待处理), its corrected bank account alone."""
    if verbs.get_case(db(), actor(), case_id).state != State.payment_returned:
        return verbs.edit_case(db(), actor(), clock(), case_id, version, data)
    if others := sorted(set(data) - {"bank_account"}):
        raise Invalid({name: "退票待处理的案件只能更正银行账号" for name in others})
    return verbs.correct_account(db(), actor(), clock(), case_id, version, data.get("bank_account"))


class DocumentForm(BaseModel):
    kind: s.DocumentKindCode  # type: ignore[valid-type]
    file: FileStorage
    version: int | None = Field(None, ge=1, lt=2**31)


@api.post("/cases/<int:case_id>/documents", tags=[CASES],
          responses=s.responses({201: s.DocumentOut}, 400, 403, 404, 409, 413, 415),
          summary="Attach a document: PDF, JPEG or PNG, judged by its content; over the upload quota (per case, "
                  "per account and day) 409 refused, rule upload_quota")
def add_document(path: s.CasePath, form: DocumentForm):
    if not isinstance(form.file, UploadedFile):  # flask-openapi3 lets a plain text field named "file" through
        raise Invalid({"file": "请选择文件"})
    content = form.file.stream.read(uploads().max_bytes + 1)
    document = perform(lambda: verbs.add_document(db(), actor(), clock(), uploads(), path.case_id, form.kind,
                                                  form.file.filename or "", content, form.version))
    return s.DocumentOut.model_validate(s.document_out(document)).model_dump(mode="json"), 201


@api.get("/cases/<int:case_id>/documents/<document_id>", tags=[CASES],
         responses=s.responses({200: None}, 403, 404),
         summary="Download a document (the people working on the case; each download of an ID or bank card copy "
                 "is audited)")
@writes
def get_document(path: s.DocumentPath):
    def find():
        document = verbs.document_for_download(db(), actor(), clock(), path.document_id)  # audited, if a card copy
        if document.case_id != path.case_id:
            raise NotFound("找不到该资料")
        return document
    document = perform(find)
    return send_stored(document.id, document.content_type, document.filename)  # as the screen sends it


@api.delete("/cases/<int:case_id>/documents/<document_id>", tags=[CASES],
            responses=s.responses({200: s.CaseOut}, 403, 404, 409), summary="Remove a document of a draft")
def remove_document(path: s.DocumentPath):
    case = perform(lambda: verbs.remove_document(db(), actor(), clock(), uploads(), path.case_id,
                                                 path.document_id))
    return _case_response(case)


@api.post("/cases/<int:case_id>/transitions", tags=[CASES],
          responses=s.responses({200: s.CaseOut}, 400, 403, 404, 409),
          summary="Fire a trigger of the transition table")
def fire(path: s.CasePath, body: s.TransitionIn):
    case = perform(lambda: verbs.fire(db(), actor(), clock(), path.case_id, body.trigger, body.version,
                                      comment=body.comment, payment_reference=body.payment_reference))
    return _case_response(case)


@api.post("/cases/<int:case_id>/claim", tags=[CASES], responses=s.responses({200: s.CaseOut}, 403, 404, 409),
          summary="Take a case to work on it (reviewers and finance)")
def claim(path: s.CasePath):
    case = perform(lambda: verbs.claim(db(), actor(), clock(), path.case_id))
    return _case_response(case)


@api.delete("/cases/<int:case_id>/claim", tags=[CASES], responses=s.responses({200: s.CaseOut}, 403, 404, 409))
def release(path: s.CasePath):
    case = perform(lambda: verbs.release(db(), actor(), clock(), path.case_id))
    return _case_response(case)


@api.post("/cases/<int:case_id>/objections", tags=[CASES],
          responses=s.responses({201: s.ObjectionOut}, 400, 403, 404, 409),
          summary="Record an objection raised during the public notice")
def record_objection(path: s.CasePath, body: s.ObjectionIn):
    objection = perform(lambda: verbs.record_objection(db(), actor(), clock(), path.case_id, body.statement))
    return s.ObjectionOut.model_validate(s.objection_out(objection)).model_dump(mode="json"), 201


@api.post("/objections/<int:objection_id>/resolution", tags=[CASES],
          responses=s.responses({200: s.ObjectionOut}, 400, 403, 404, 409), summary="Resolve an objection (heads)")
def resolve_objection(path: s.ObjectionPath, body: s.ResolutionIn):
    objection = perform(lambda: verbs.resolve_objection(db(), actor(), clock(), path.objection_id, body.outcome,
                                                        body.comment))
    return s.ObjectionOut.model_validate(s.objection_out(objection)).model_dump(mode="json")


@api.post("/cases/<int:case_id>/reveal", tags=[CASES], responses=s.responses({200: s.RevealOut}, 400, 403, 404, 409),
          summary="The full ID or bank number; every reveal is audited")
def reveal(path: s.CasePath, body: s.RevealIn):
    value = perform(lambda: verbs.reveal(db(), actor(), clock(), path.case_id, body.field))
    return {"field": body.field, "value": value}


@api.get("/cases/<int:case_id>/history", tags=[CASES], responses=s.responses({200: s.EventList}, 404),
         summary="The case's audit events, oldest first")
def history(path: s.CasePath):
    case = verbs.get_case(db(), actor(), path.case_id)
    return [s.EventOut.model_validate(s.event_out(e)).model_dump(mode="json")
            for e in trail.case_history(db(), case.id).items]


# ------------------------------------------------------------------ household archives

@api.get("/archives", tags=[ARCHIVES], responses=s.responses({200: s.ArchivePage}, 403),
         summary="The household archives I may see, the most recently changed first")
def list_archives(query: s.ArchiveQuery):
    rules.require_role(actor(), rules.ARCHIVE_READERS, "查看困难职工档案")
    filters = archives.ArchiveFilters(status=query.status, union=query.union, category=query.category,
                                      worker_group=query.worker_group, q=query.q)
    page = archives.listing(db(), actor(), filters, page=query.page, per_page=query.per_page,
                            after=_cursor(query.after, archives.LISTING_KEY))
    return s.ArchivePage.model_validate({"items": [s.archive_summary(a) for a in page.items], "total": page.total,
                                        "page": page.page, "per_page": page.per_page, "more": page.more,
                                        "after": page.after}).model_dump(mode="json")


@api.post("/archives", tags=[ARCHIVES], responses=s.responses({201: s.ArchiveOut}, 403, 409),
          summary="Open a household's archive (cadres); refused when any of its ID numbers has an archive already")
def create_archive(body: s.ArchiveCreate):
    data = body.model_dump(mode="json", exclude_unset=True)
    archive = perform(lambda: verbs.create_archive(db(), actor(), clock(), data))
    return _archive_response(archive, 201)


@api.get("/archives/carry-over", tags=[ARCHIVES], responses=s.responses({200: s.ArchiveList}, 403),
         summary="My union's active archives not yet applied for in a campaign")
def carry_over(query: s.CarryOverQuery):
    rules.require_role(actor(), rules.ARCHIVE_READERS, "查看困难职工档案")
    if db().get(Campaign, query.campaign) is None:
        raise Invalid({"campaign": "没有这个活动"})
    return [s.ArchiveSummary.model_validate(s.archive_summary(a)).model_dump(mode="json")
            for a in archives.carry_over(db(), actor(), query.campaign)]


@api.post("/archives/carry-over", tags=[ARCHIVES], responses=s.responses({201: s.CaseList}, 403, 404, 409),
          summary="Apply for many archives at once (cadres): one draft each, from the archive's data; all or none")
def apply_for_archives(body: s.CarryOverIn):
    aid = body.aid.model_dump(mode="json") if body.aid is not None else None
    cases = perform(lambda: verbs.apply_for(db(), actor(), clock(), body.campaign, body.archives, aid))
    return [_case_json(case) for case in cases], 201


@api.get("/archives/export", tags=[ARCHIVES], responses=s.responses({200: None}, 403, 404),
         summary="The archives I may see as .xlsx, in the national system's layout (numbers masked)")
def export_archives(query: s.ArchiveExportQuery):
    rules.require_role(actor(), rules.ARCHIVE_READERS, "导出困难职工档案")
    unit = "全部档案"
    if query.union:
        union = db().scalar(select(Union).where(Union.code == query.union))
        if union is None or (actor().role in UNION_ROLES and union.id != actor().union_id):
            raise NotFound("找不到该工会")
        unit = union.name
    elif actor().union is not None:
        unit = actor().union.name
    data = archive_workbook(archives_to_export(db(), actor(), query.union), unit, clock().now())
    return send_file(io.BytesIO(data), as_attachment=True, download_name="困难职工档案.xlsx", mimetype=XLSX)


@api.get("/archives/import-template", tags=[ARCHIVES], responses=s.responses({200: None}, 403),
         summary="The ledger template (.xlsx): the import's columns, drop-down lists of the code columns' Chinese "
                 "labels, and a sheet explaining every column")
def import_template():
    rules.require_role(actor(), IMPORTERS, "导入台账")
    return send_file(io.BytesIO(ledger.template()), as_attachment=True, download_name=ledger.FILENAME, mimetype=XLSX)


class LedgerForm(BaseModel):
    file: FileStorage
    union: str | None = Field(None, max_length=32, description="The grassroots union's code (district roles)")


@api.post("/archives/import", tags=[ARCHIVES],
          responses={**s.responses({200: s.LedgerChecked, 201: s.LedgerImported}, 403, 409, 413, 415),
                     400: s.LedgerError},
          summary="Import a union's ledger (.xlsx, the template's columns) as archives (active): all rows or none; "
                  "dry_run=true only checks. A bad file answers 400 with every bad cell in \"rows\"")
def import_ledger(query: s.LedgerQuery, form: LedgerForm):
    imports.ledger_union(db(), actor(), form.union)  # who, and into which union, before the file is read at all
    if not isinstance(form.file, UploadedFile):  # flask-openapi3 lets a plain text field named "file" through
        raise Invalid({"file": "请选择文件"})
    limit = uploads().max_bytes
    content = form.file.stream.read(limit + 1)  # one byte over is enough to say it is too large

    def refused(error):
        if isinstance(error, LedgerInvalid):
            return jsonify({**error_body(error), "rows": [problem.as_dict() for problem in error.rows]}), 400
        return domain_response(error)

    result = perform(lambda: verbs.import_archives(db(), actor(), clock(), form.union, ledger.read(content, limit),
                                                   query.dry_run), refused)
    if query.dry_run:
        return s.LedgerChecked(rows=result.people, households=result.households).model_dump(mode="json")
    return s.LedgerImported(imported=result.households, people=result.people).model_dump(mode="json"), 201


@api.get("/archives/<int:archive_id>", tags=[ARCHIVES], responses=s.responses({200: s.ArchiveOut}, 404))
def get_archive(path: s.ArchivePath):
    return _archive_response(verbs.get_archive(db(), actor(), path.archive_id))


@api.patch("/archives/<int:archive_id>", tags=[ARCHIVES],
           responses=s.responses({200: s.ArchiveOut}, 400, 403, 404, 409),
           summary="Change fields of an archive; objects are merged, the member list is replaced whole")
def edit_archive(path: s.ArchivePath, body: s.ArchivePatch):
    data = body.model_dump(mode="json", exclude={"version"}, exclude_unset=True)
    archive = perform(lambda: verbs.edit_archive(db(), actor(), clock(), path.archive_id, body.version, data))
    return _archive_response(archive)


@api.post("/archives/<int:archive_id>/transitions", tags=[ARCHIVES],
          responses=s.responses({200: s.ArchiveOut}, 400, 403, 404, 409),
          summary="Exit (脱困), reactivate (返困), deregister (注销) or transfer an archive")
def fire_archive(path: s.ArchivePath, body: s.ArchiveTransitionIn):
    archive = perform(lambda: verbs.fire_archive(db(), actor(), clock(), path.archive_id, body.trigger,
                                                 body.version, comment=body.comment, reason=body.reason,
                                                 union=body.union))
    return _archive_response(archive)


@api.post("/archives/<int:archive_id>/merge", tags=[ARCHIVES],
          responses=s.responses({200: s.ArchiveOut}, 400, 403, 404, 409),
          summary="Merge another archive of the same household into this one (reviewers)")
def merge_archives(path: s.ArchivePath, body: s.MergeIn):
    archive = perform(lambda: verbs.merge_archives(db(), actor(), clock(), path.archive_id, body.other,
                                                   body.version, comment=body.comment))
    return _archive_response(archive)


@api.post("/archives/<int:archive_id>/visits", tags=[ARCHIVES],
          responses=s.responses({201: s.VisitOut}, 403, 404, 409),
          summary="Record a home visit (入户调查) to the household (cadres and heads of its union)")
def record_visit(path: s.ArchivePath, body: s.VisitIn):
    visit = perform(lambda: verbs.record_visit(db(), actor(), clock(), path.archive_id, body.visited_on,
                                               body.visitors, body.findings))
    return s.VisitOut.model_validate(s.visit_out(visit)).model_dump(mode="json"), 201


@api.get("/archives/<int:archive_id>/history", tags=[ARCHIVES], responses=s.responses({200: s.EventList}, 404),
         summary="The archive's audit events and its applications', oldest first")
def archive_history(path: s.ArchivePath):
    archive = verbs.get_archive(db(), actor(), path.archive_id)
    return [s.EventOut.model_validate(s.event_out(e)).model_dump(mode="json")
            for e in archives.timeline(db(), archive)]


# ------------------------------------------------------------------ minimum living standards (低保标准)

@api.get("/standards", tags=[OTHER], responses=s.responses({200: s.StandardList}),
         summary="The local minimum living standards, the latest year first (any signed-in role)")
def list_standards(query: s.StandardQuery):
    return [s.StandardOut.model_validate(s.standard_out(row)).model_dump(mode="json")
            for row in living_standards.listing(db(), query.year)]


@api.put("/standards/<int:year>/<area>", tags=[OTHER], responses=s.responses({200: s.StandardOut}, 403, 404),
         summary="Set the standard of a year for an area code, yuan per person per month (administrators)")
def set_standard(path: s.StandardPath, body: s.StandardIn):
    standard = perform(lambda: verbs.set_standard(db(), actor(), clock(), path.year, path.area, body.monthly))
    row = living_standards.StandardRow(standard.year, standard.area_code, standard.monthly, standard.set_at,
                                       actor().username, actor().display_name)
    return s.StandardOut.model_validate(s.standard_out(row)).model_dump(mode="json")


# ------------------------------------------------------------------ audit

@api.get("/audit/events", tags=[AUDIT], responses=s.responses({200: s.EventPage}, 400, 403),
         summary="Every audit event, filtered (auditors)")
def audit_events(query: s.EventQuery):
    rules.require_role(actor(), rules.AUDITORS, "查看审计记录")
    filters = trail.EventFilters(case=query.case, actor=query.actor, action=query.trigger,
                                 after=_naive_utc(query.since, "since") if query.since else None,
                                 before=_naive_utc(query.until, "until") if query.until else None, newest_first=False)
    page = trail.events(db(), filters, query.page, query.per_page)
    return {"items": [s.EventOut.model_validate(s.event_out(e)).model_dump(mode="json") for e in page.items],
            "total": page.total, "page": query.page, "per_page": query.per_page}


def _naive_utc(moment, name: str):
    try:
        return to_db(moment if moment.tzinfo else moment.replace(tzinfo=LOCAL))
    except OverflowError:  # 0001-01-01T00:00 in Beijing, or 9999-12-31T23:59-14:00, is outside datetime in UTC
        raise Invalid({name: "日期超出范围"}) from None


@api.get("/audit/verify", tags=[AUDIT], responses=s.responses({200: s.VerifyOut}, 403),
         summary="Check the audit chain from the last checkpoint, or all of it with full=1 (auditors)")
def audit_verify(query: s.VerifyQuery):
    rules.require_role(actor(), rules.AUDITORS, "查看审计记录")
    result = checkpoints.verify(db(), full=query.full)
    remember(result, actor().username)
    return result.as_dict()


# ------------------------------------------------------------------ notifications and reports

@api.get("/notifications", tags=[OTHER], responses=s.responses({200: s.NotificationList}))
def notifications():
    listed = listing(db(), actor(), per_page=100)
    return s.NotificationList.model_validate({"items": [s.notification_out(n) for n in listed.items],
                                             "unread": unread(db(), actor())}).model_dump(mode="json")


@api.get("/notifications/failed", tags=[OTHER], responses=s.responses({200: s.FailedDeliveryPage}, 400, 403),
         summary="Notifications whose e-mail has failed and is being retried (administrators)")
def failed_deliveries(query: s.PageQuery):
    rules.require_role(actor(), rules.ADMINS, "查看邮件发送失败的通知")
    failed = (Notification.emailed_at.is_(None), Notification.email_attempts > 0)
    total = db().scalar(select(func.count()).select_from(Notification).where(*failed))
    rows = db().execute(select(Notification, Account.username).join(Account, Account.id == Notification.account_id)
                        .where(*failed).order_by(Notification.id.desc())
                        .limit(query.per_page).offset((query.page - 1) * query.per_page))
    return s.FailedDeliveryPage.model_validate(
        {"items": [s.failed_delivery_out(n, username) for n, username in rows], "total": total, "page": query.page,
         "per_page": query.per_page}).model_dump(mode="json")


@api.post("/notifications/<int:notification_id>/read", tags=[OTHER],
          responses=s.responses({200: s.NotificationOut}, 404))
def read_notification(path: s.NotificationPath):
    notification = perform(lambda: verbs.mark_read(db(), actor(), clock(), path.notification_id))
    return s.NotificationOut.model_validate(s.notification_out(notification)).model_dump(mode="json")


@api.get("/reports/statistics", tags=[OTHER], responses=s.responses({200: None}, 400, 403, 404),
         summary="The statistics table of a campaign: JSON, or the .xlsx file with format=xlsx")
def report_statistics(query: s.StatisticsQuery):
    campaign, union = reports.scope(db(), actor(), query.campaign, query.union)
    table = reports.statistics(db(), campaign.id, union)
    if query.format == "xlsx":
        data = statistics_workbook(table, campaign, union, clock().now())
        return send_file(io.BytesIO(data), as_attachment=True, download_name=f"送温暖活动统计表-{campaign.id}.xlsx",
                         mimetype=XLSX)
    return table


# ------------------------------------------------------------------ the annual review (年度复核) and the spot check

@api.get("/archives/reviews", tags=[ARCHIVES], responses=s.responses({200: s.ReviewWorklist}, 403),
         summary="My union's annual review: archives due, those proposed for 脱困 by the six-months rule, and the "
                 "proposals waiting for the head (cadres and heads)")
def review_worklist(query: s.PageQuery):
    rules.require_role(actor(), rules.REVIEWERS, "年度复核")
    listed = review_reads.worklist(db(), actor(), clock().now(), page=query.page, per_page=query.per_page)
    return s.ReviewWorklist.model_validate(s.worklist_out(listed)).model_dump(mode="json")


@api.post("/archives/<int:archive_id>/reviews", tags=[ARCHIVES],
          responses=s.responses({201: s.ReviewMade}, 403, 404, 409),
          summary="Review an active archive (cadres and heads of its union): confirm it, update it, or propose 脱困 or "
                  "注销 to the head")
def review_archive(path: s.ArchivePath, body: s.ReviewIn):
    data = body.data.model_dump(mode="json", exclude_unset=True) if body.data is not None else None
    review = perform(lambda: verbs.review_archive(db(), actor(), clock(), path.archive_id, body.version,
                                                  body.outcome, comment=body.comment, reason=body.reason, data=data))
    archive = verbs.get_archive(db(), actor(), review.archive_id)
    out = {**s.review_out(review), "archive_version": archive.version}
    return s.ReviewMade.model_validate(out).model_dump(mode="json"), 201


def _spot_check_json(year: int) -> dict:
    listed = review_reads.spot_check(db(), year)
    if listed is None:
        raise NotFound(f"{year}年度尚未抽查")
    return s.SpotCheckOut.model_validate(s.spot_check_out(listed)).model_dump(mode="json")


@api.get("/spot-checks", tags=[ARCHIVES], responses=s.responses({200: s.SpotCheckOut}, 403, 404),
         summary="The year's spot check of the archives, with each finding (reviewers and auditors)")
def get_spot_check(query: s.SpotCheckQuery):
    rules.require_role(actor(), review_rules.SPOT_CHECK_READERS, "查看抽查")
    return _spot_check_json(query.year)


@api.post("/spot-checks", tags=[ARCHIVES], responses=s.responses({201: s.SpotCheckOut}, 403, 409),
          summary="Draw the year's spot check (reviewers): ceil(rate × n) of each grassroots union's n active "
                  "archives, at random with a recorded seed; once a year")
def draw_spot_check(body: s.SpotCheckIn):
    check = perform(lambda: verbs.draw_spot_check(db(), actor(), clock(), body.year, body.rate, body.seed))
    return _spot_check_json(check.year), 201


@api.post("/spot-checks/items/<int:item_id>", tags=[ARCHIVES], responses=s.responses({200: s.SpotItemOut}, 403, 404),
          summary="Record what checking a drawn archive found (reviewers)")
def check_spot_item(path: s.SpotItemPath, body: s.SpotItemIn):
    item = perform(lambda: verbs.check_spot_item(db(), actor(), clock(), path.item_id, body.outcome, body.comment))
    row, union = review_reads.spot_item(db(), item.id)
    return s.SpotItemOut.model_validate(s.spot_item_out(row, union)).model_dump(mode="json")


@api.get("/reports/reviews", tags=[OTHER], responses=s.responses({200: s.ReviewReport}, 403),
         summary="Each union's annual review progress, and the year's spot check (reviewers and auditors)")
def review_report(query: s.ReviewReportQuery):
    rules.require_role(actor(), review_rules.PROGRESS_READERS, "查看年度复核进度")
    now = clock().now()
    year = query.year or now.astimezone(LOCAL).year
    *unions, total = review_reads.progress(db(), now, year)
    return s.ReviewReport.model_validate({"year": year, "as_of": now, "unions": [s.progress_out(r) for r in unions],
                                         "total": s.progress_out(total)}).model_dump(mode="json")


# ------------------------------------------------------------------ tariffs, goods receipts, notice postings

@api.get("/campaigns/<int:campaign_id>/tariffs", tags=[OTHER], responses=s.responses({200: s.TariffList}, 404),
         summary="A campaign's tariffs (标准) by category and worker group (any signed-in role)")
def list_tariffs(path: s.CampaignPath):
    if db().get(Campaign, path.campaign_id) is None:
        raise NotFound("找不到该活动")
    return [s.TariffOut.model_validate({"campaign": t.campaign_id, "category": t.category,
                                        "worker_group": t.worker_group, "amount": t.amount}).model_dump(mode="json")
            for t in rules.tariffs.campaign_tariffs(db(), path.campaign_id)]


@api.put("/campaigns/<int:campaign_id>/tariffs/<category>/<worker_group>", tags=[OTHER],
         responses=s.responses({200: s.TariffOut}, 403, 404),
         summary="Set a campaign's amount for a category and worker group; amount null deletes it (administrators)")
def set_tariff(path: s.TariffPath, body: s.TariffIn):
    tariff = perform(lambda: verbs.set_tariff(db(), actor(), clock(), path.campaign_id, path.category,
                                              path.worker_group, body.amount))
    return s.TariffOut.model_validate({"campaign": path.campaign_id, "category": path.category,
                                       "worker_group": path.worker_group,
                                       "amount": tariff.amount if tariff else None}).model_dump(mode="json")


class ReceiptForm(BaseModel):
    handed_by: str = Field(max_length=200)
    received_by: str = Field(max_length=200)
    received_on: str = Field(max_length=32, description="ISO 8601, 2018-01-05")
    file: FileStorage


@api.post("/cases/<int:case_id>/receipt", tags=[CASES],
          responses=s.responses({201: s.ReceiptOut}, 403, 404, 409, 413, 415),
          summary="Record the real-name receipt of a goods case (送实物) with the signed scan (its union's people)")
def record_receipt(path: s.CasePath, form: ReceiptForm):
    if not isinstance(form.file, UploadedFile):
        raise Invalid({"file": "请选择文件"})
    content = form.file.stream.read(uploads().max_bytes + 1)
    receipt = perform(lambda: verbs.record_receipt(db(), actor(), clock(), uploads(), path.case_id, form.handed_by,
                                                   form.received_by, form.received_on, form.file.filename or "",
                                                   content))
    return s.ReceiptOut.model_validate(s.receipt_out(receipt)).model_dump(mode="json"), 201


class NoticeForm(BaseModel):
    campaign: int = Field(ge=1, lt=2**31)
    place: str = Field(max_length=400)
    posted_on: str = Field(max_length=32, description="ISO 8601, 2018-01-05")
    file: FileStorage


@api.post("/notices", tags=[CASES], responses=s.responses({201: s.NoticeOut}, 403, 404, 413, 415),
          summary="Record where and when the union's notice list was posted, with a photo or scan (its people)")
def record_notice(form: NoticeForm):
    if not isinstance(form.file, UploadedFile):
        raise Invalid({"file": "请选择文件"})
    content = form.file.stream.read(uploads().max_bytes + 1)
    posting = perform(lambda: verbs.record_notice(db(), actor(), clock(), uploads(), form.campaign, form.place,
                                                  form.posted_on, form.file.filename or "", content))
    return s.NoticeOut.model_validate(s.notice_out(posting, actor_union_code())).model_dump(mode="json"), 201


@api.get("/notices", tags=[CASES], responses=s.responses({200: s.NoticeList}, 403, 404),
         summary="Where and when the notice lists of a campaign were posted: a union's own, or any for the district")
def list_notices(query: s.NoticeQuery):
    rules.require_role(actor(), rules.NOTICE_READERS, "查看公示张贴情况")
    campaign, union = reports.scope(db(), actor(), query.campaign, query.union)
    codes = dict(db().execute(select(Union.id, Union.code)).all())
    return [s.NoticeOut.model_validate(s.notice_out(p, codes[p.union_id])).model_dump(mode="json")
            for p in notices.postings(db(), campaign.id, union.id if union else None)]


def actor_union_code() -> str:
    return db().get(Union, actor().union_id).code


# ---------------------------------------------------------------- payment batches (批量代发)

MONEY = Tag(name="发放 Money")


@api.get("/payments/batches", tags=[MONEY], responses=s.responses({200: s.BatchList}, 403),
         summary="The payment batches, the newest first (finance)")
def list_batches():
    return [s.BatchSummaryOut.model_validate(s.batch_summary_out(b)).model_dump(mode="json")
            for b in payment_reads.batches(db(), actor())]


@api.post("/payments/batches", tags=[MONEY], responses=s.responses({201: s.BatchOut}, 403, 404, 409),
          summary="Put district-approved cases with an account in a new batch: one line per case (finance)")
def create_batch(body: s.BatchCreate):
    batch = perform(lambda: verbs.create_batch(db(), actor(), clock(), body.cases))
    return _batch_response(batch.id, 201)


@api.get("/payments/batches/<int:batch_id>", tags=[MONEY], responses=s.responses({200: s.BatchOut}, 403, 404))
def get_batch(path: s.BatchPath):
    return _batch_response(path.batch_id)


@api.post("/payments/batches/<int:batch_id>/send", tags=[MONEY], responses=s.responses({200: s.BatchOut}, 403, 404, 409),
          summary="Record the batch sent to the bank: every case disbursed with the batch's reference, all or none "
                  "(finance; once)")
def send_batch(path: s.BatchPath):
    perform(lambda: verbs.send_batch(db(), actor(), clock(), path.batch_id))
    return _batch_response(path.batch_id)


def _batch_response(batch_id: int, status: int = 200):
    detail = payment_reads.batch_detail(db(), actor(), batch_id)
    return s.BatchOut.model_validate(s.batch_out(detail)).model_dump(mode="json"), status


@api.get("/payments/batches/<int:batch_id>/bank-file", tags=[MONEY], responses=s.responses({200: None}, 403, 404),
         summary="The bank's file (账号, 户名, 金额, 备注; one sheet, one header row) with the full accounts: finance "
                 "only, every download audited")
@writes
def bank_file(path: s.BatchPath, query: s.BankFileQuery):
    batch = perform(lambda: verbs.bank_file(db(), actor(), clock(), path.batch_id, query.format))
    return send_file(io.BytesIO(bankfile.write(batch, query.format)), as_attachment=True,
                     download_name=bankfile.filename(batch, query.format), mimetype=bankfile.MIMETYPES[query.format])


class BankResultForm(BaseModel):
    file: FileStorage


@api.post("/payments/batches/<int:batch_id>/bank-result", tags=[MONEY],
          responses={**s.responses({200: s.BankResultOut}, 403, 404, 409, 413, 415), 400: s.BankResultError},
          summary="The bank's result (.xlsx or CSV: 账号, 户名, 金额, 状态 成功|失败, 原因): each row matched to its "
                  "payment, paid or bounced; a row matching no payment or several answers 400 with \"rows\" and "
                  "nothing is applied")
def bank_result(path: s.BatchPath, form: BankResultForm):
    if not isinstance(form.file, UploadedFile):
        raise Invalid({"file": "请选择文件"})
    rules.require_role(actor(), (Role.finance,), "导入银行回单")  # before the file is read at all
    limit = uploads().max_bytes
    content = form.file.stream.read(limit + 1)

    def refused(error):
        if isinstance(error, ResultInvalid):
            return jsonify({**error_body(error), "rows": [problem.as_dict() for problem in error.rows]}), 400
        return domain_response(error)

    batch = perform(lambda: verbs.bank_result(db(), actor(), clock(), path.batch_id,
                                              bankfile.read_result(content, limit)), refused)
    return s.BankResultOut(paid=sum(line.status == "paid" for line in batch.lines),
                           returned=sum(line.status == "returned" for line in batch.lines)).model_dump(mode="json")

