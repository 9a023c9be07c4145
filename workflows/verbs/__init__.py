"""The verbs: everything a person or the system does. Call them through the package (verbs.fire, verbs.create_union).

Each verb takes the session, the actor and a clock; checks the rules (workflows/rules); changes the records; writes
its audit event in the same transaction (infra/audit.record); flushes; and never commits. The caller (a request, a
job, a command) commits once, and rolls back on any exception: a refusal is raised before anything is changed, and a
conflict found at flush time leaves nothing that the rollback does not undo.
"""

from .accounts import change_role, create_account, reset_password, set_account_active, update_account
from .applications import apply_for, create_case, edit_case
from .archives import create_archive, edit_archive, fire_archive, get_archive, merge_archives
from .campaigns import create_campaign, update_campaign
from .cases import get_case, reveal
from .claims import claim, release
from .deadline import sweep
from .documents import add_document, document_for_download, remove_document
from .drafts import delete_draft
from .goods import record_receipt
from .imports import import_archives
from .keys import rotate_keys
from .notices import record_notice
from .notifications import mark_all_read, mark_read
from .objections import record_objection, resolve_objection
from .payments import (
    bank_file,
    bank_result,
    correct_account,
    create_batch,
    disburse_batch,
    payment_export,
    send_batch,
)
from .reminders import queue_reminders
from .reviews import check_spot_item, draw_spot_check, review_archive
from .signin import account_for_token, authenticate, issue_token, revoke_token
from .standards import set_standard
from .summaries import submit_summary
from .tariffs import set_tariff
from .transitions import fire
from .unions import create_union
from .visits import record_visit
