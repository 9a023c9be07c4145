"""When a task of the inbox is due, in both interpreters: `due_tasks` asks the checks of rules/guards.py of one
case, `task_clause` and `task_label` compile the same checks to SQL for the inbox. The SQL reads the campaign's
deadline from Campaign: the query must join each case's campaign (reads/worklists.py does); one that forgot would
pair every case with every campaign, which SQLAlchemy warns of (a cartesian product), and the tests treat every
warning as an error."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, false, or_
from sqlalchemy import case as when

from workflows.actors import Actor
from workflows.infra.expr import every
from workflows.models import Campaign, Case
from workflows.rules.guards import task_checks, turn_checks
from workflows.states import Task, Trigger, tasks_of


def holding(checks, case, campaign, actor: Actor, now: dt.datetime):
    """All of `checks` at once: a bool for a case and its campaign, SQL for the Case and Campaign classes."""
    return every(*(check.holds(case, campaign, actor, now) for check in checks))


def turn_clause(trigger: Trigger, actor: Actor, now: dt.datetime) -> ColumnElement[bool]:
    """The cases on which it is `actor`'s turn to fire `trigger` now, as SQL over Case joined with its Campaign."""
    return holding(turn_checks(trigger), Case, Campaign, actor, now)


def _due(task: Task, case, campaign, actor: Actor, now: dt.datetime):
    return holding(task_checks(task), case, campaign, actor, now)


def due_tasks(case: Case, actor: Actor, now: dt.datetime) -> list[Task]:
    """The tasks `actor` has on `case` now, in the order of the task table."""
    if not case.visible_to(actor):
        return []
    return [task for task in tasks_of(actor.role) if _due(task, case, case.campaign, actor, now)]


def task_clause(actor: Actor, now: dt.datetime) -> ColumnElement[bool]:
    """The cases on which `actor` has a task now, as SQL over Case joined with its Campaign."""
    clauses = [_due(task, Case, Campaign, actor, now) for task in tasks_of(actor.role)]
    return or_(*clauses) if clauses else false()


def task_label(actor: Actor, now: dt.datetime) -> ColumnElement[str]:
    """The label of the first task due on each case, as SQL: the inbox's groups (for a role with tasks)."""
    return when(*[(_due(task, Case, Campaign, actor, now), task.label) for task in tasks_of(actor.role)], else_=None)
