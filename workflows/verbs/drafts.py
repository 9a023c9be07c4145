"""Deleting a draft its drafter no longer wants (a duplicate, a household that did not apply after all).

The case goes with its members and documents (their files once the transaction commits); the household's archive
stays, as archives always do; the trail keeps the event, which names the case by its id (the trail has no foreign
keys). Of the other tables that hang on a case, notifications lose their link; objections, payment lines and goods
receipts come only after the case was handed in, which a deletable draft never was (rules.drafts).
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Refused
from workflows.infra import audit
from workflows.infra.clock import Clock
from workflows.infra.uploads import Uploads
from workflows.models import Notification
from workflows.rules.drafts import delete_reasons
from workflows.states import Action
from workflows.texts import N_
from workflows.verbs.cases import check_version, get_case, touch
from workflows.verbs.documents import label


def delete_draft(session: Session, actor: Actor, clock: Clock, uploads: Uploads, case_id: int,
                 version: int | None = None) -> None:
    """Delete a draft never handed in, by its drafter; audited as delete_draft in the same transaction."""
    case = get_case(session, actor, case_id)
    rules.require_role(actor, rules.DRAFTERS, N_("删除草稿"))
    check_version(case, version)
    now = clock.now()
    if reasons := delete_reasons(session, case, actor, now):
        raise Refused(*reasons)
    # A new version first: of two deletions at once, the second one's write of it finds the row gone (a Conflict,
    # raised by audit.record's flush) before it deletes anything.
    touch(case, now)
    kept = {"applicant_name": case.applicant_name, "id_number": case.id_number, "archive": case.archive_id,
            "documents": [label(document) for document in case.documents] or None}
    audit.record(session, actor, now, Action.delete_draft, case=case, from_state=case.state,
                 changes={name: [audit.text(value, name), None] for name, value in kept.items() if value})
    session.execute(update(Notification).where(Notification.case_id == case.id).values(case_id=None))
    for document in list(case.documents):
        case.documents.remove(document)
        session.delete(document)
        uploads.delete_on_commit(session, document.id)
    session.delete(case)  # its members with it (the relationship's cascade)
    session.flush()
