"""The rules: who may do what, whose turn it is, what a case still lacks. Nothing here changes anything.

access.py (roles and readers), timing.py (deadlines and the notice), fields.py (fields, papers, duplicates),
caps.py (caps and budget), guards.py (the guards of the transition table), tasks.py (the inbox's tasks),
archives.py (the guards of an archive's life cycle, used as rules.archives.NAME).
"""

from . import archives, recognition, tariffs
from .access import (
    ADMINS,
    ARCHIVE_EDITORS,
    ARCHIVE_READERS,
    AUDITORS,
    CASE_READERS,
    DISTRICT_READERS,
    DRAFTERS,
    MERGERS,
    NOTICE_READERS,
    OBJECTORS,
    RESOLVERS,
    REVIEWERS,
    STATISTICS_READERS,
    SUMMARY_READERS,
    VISITORS,
    can_see,
    may_reveal,
    require_role,
)
from .caps import lock_household
from .fields import archive_holders, field_problems, holder_reasons, missing_documents
from .guards import (
    EXTRA,
    GUARDS,
    available,
    blockers,
    claim_reason,
    document_needs,
    draft_reasons,
    new_draft_reasons,
    objection_reasons,
)
from .recognition import recognise, required_documents
from .tasks import due_tasks, task_clause, task_label, turn_clause
from .timing import campaign_year, deadline_text, due_day, past_report_deadline, report_deadline_reason
