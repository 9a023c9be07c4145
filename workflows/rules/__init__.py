"""The rules: who may do what, whose turn it is, what a case still lacks. Nothing here changes anything.

access.py (roles and readers), timing.py (deadlines and the notice), fields.py (fields, papers, duplicates),
caps.py (caps and budget), guards.py (the guards of the transition table), tasks.py (the inbox's tasks).
"""

from .access import (ADMINS, CASE_READERS, CASE_WORKERS, DISTRICT_READERS, DRAFTERS, OBJECTORS, RESOLVERS,
                     STATISTICS_READERS, SUMMARY_READERS, can_see, may_reveal, require_role)
from .caps import money_reasons
from .fields import FIELD_LABELS, duplicate_reasons, field_problems, missing_documents, missing_fields
from .guards import (EXTRA, GUARDS, Check, available, blockers, claim_reason, draft_reasons, input_reasons,
                     new_draft_reasons, objection_reasons, role_reason, state_reason, task_checks, turn_checks,
                     turn_reasons, work_reasons)
from .tasks import due_tasks, task_clause, task_label
from .timing import (campaign_year, deadline_reason, deadline_text, due_day, notice_reason, past_report_deadline,
                     report_deadline_reason)

__all__ = [
    "ADMINS",
    "CASE_READERS",
    "CASE_WORKERS",
    "Check",
    "DISTRICT_READERS",
    "DRAFTERS",
    "EXTRA",
    "FIELD_LABELS",
    "GUARDS",
    "OBJECTORS",
    "RESOLVERS",
    "STATISTICS_READERS",
    "SUMMARY_READERS",
    "available",
    "blockers",
    "campaign_year",
    "can_see",
    "claim_reason",
    "deadline_reason",
    "deadline_text",
    "draft_reasons",
    "due_day",
    "due_tasks",
    "duplicate_reasons",
    "field_problems",
    "input_reasons",
    "may_reveal",
    "missing_documents",
    "missing_fields",
    "money_reasons",
    "new_draft_reasons",
    "notice_reason",
    "objection_reasons",
    "past_report_deadline",
    "report_deadline_reason",
    "require_role",
    "role_reason",
    "state_reason",
    "task_checks",
    "task_clause",
    "task_label",
    "turn_checks",
    "turn_reasons",
    "work_reasons",
]
