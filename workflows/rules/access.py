"""Who may do what at all: the roles of each kind of work, and who reads a case (the rule itself is
Case.visible_to, one expression for a case and for the lists)."""

from __future__ import annotations

from workflows.actors import Actor
from workflows.errors import Forbidden, Reason
from workflows.models import Case
from workflows.states import UNION_ROLES, Role
from workflows.texts import N_

ADMINS = (Role.admin,)
AUDITORS = (Role.auditor,)
# Everyone but the administrator works with cases; the administrator runs the system and sees none.
CASE_READERS = (Role.cadre, Role.head, Role.reviewer, Role.finance, Role.auditor)
# Who writes a draft (its fields and papers) and who writes down an objection: the verbs check these, and the case
# page offers the forms only where the same checks would pass.
DRAFTERS = (Role.cadre,)
OBJECTORS = (Role.cadre, Role.head)
RESOLVERS = (Role.head,)
# The district's readers of the unions' summaries and of the anti-fraud views.
DISTRICT_READERS = (Role.reviewer, Role.auditor)
SUMMARY_READERS = UNION_ROLES + DISTRICT_READERS
# Who prints a union's public notice list: its own people, and the district's readers (the list is public anyway).
NOTICE_READERS = (Role.cadre, Role.head, Role.reviewer, Role.auditor)
# The statistics table: every role with a union or the district's view of money.
STATISTICS_READERS = (Role.cadre, Role.head, Role.reviewer, Role.finance, Role.auditor, Role.admin)
# The people who work on a case: they, and only they, see its full personal numbers.
CASE_WORKERS = (Role.cadre, Role.head, Role.reviewer, Role.finance)


# The household archives (the rule of who reads one is Archive.visible_to): its union's people and the district's
# reviewers and auditors. The union's cadres open them and apply for them; their heads and the reviewers close
# them; only the reviewers transfer and merge.
ARCHIVE_READERS = (Role.cadre, Role.head, Role.reviewer, Role.auditor)
ARCHIVE_EDITORS = (Role.cadre, Role.head, Role.reviewer)
# Who visits a household and writes the visit down (入户调查), and who reviews its archive each year.
VISITORS = (Role.cadre, Role.head)
REVIEWERS = (Role.cadre, Role.head)
MERGERS = (Role.reviewer,)


def can_see(actor: Actor, case: Case) -> bool:
    return case.visible_to(actor)


def require_role(actor: Actor, roles: tuple[Role, ...], what: str) -> None:
    """Refuse (Forbidden) unless `actor` has one of `roles`; `what` is the action, in Chinese."""
    if actor.role not in roles:
        raise Forbidden(Reason("role", N_("只有%(who)s可以%(what)s", who=[r.label for r in roles], what=what)))


def may_reveal(actor: Actor, case: Case) -> bool:
    """Full personal numbers: only for the people who work on the case, never for auditors or admins."""
    return actor.role in CASE_WORKERS and can_see(actor, case)
