"""One rule, two interpreters: the operators a rule is written with, so that the same expression decides one case
(given the instance, it is a bool) and selects many (given the mapped class, it is SQL).

`==`, `!=`, `<`, `<=` and `&`, `|` already mean the same on both sides for columns that are never NULL. What does
not, is here: membership, NULL, negation, and comparisons with a column that may be NULL, which SQL calls unknown
(treated here as false on both sides, so a rule never depends on how unknown is negated).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, not_, or_, true
from sqlalchemy.sql import ClauseElement


def is_sql(value: Any) -> bool:
    return isinstance(value, ClauseElement) or hasattr(value, "__clause_element__")


def one_of(value: Any, options) -> Any:
    options = tuple(options)
    return value.in_(options) if is_sql(value) else value in options


def is_set(value: Any) -> Any:
    return value.is_not(None) if is_sql(value) else value is not None


def is_unset(value: Any) -> Any:
    return value.is_(None) if is_sql(value) else value is None


def at_or_before(value: Any, moment: Any) -> Any:
    """`value <= moment`, false while `value` is unset."""
    return value <= moment if is_sql(value) else value is not None and value <= moment


def at_or_after(value: Any, moment: Any) -> Any:
    """`value >= moment`, false while either is unset."""
    if is_sql(value) or is_sql(moment):
        return value >= moment
    return value is not None and moment is not None and value >= moment


def every(*conditions: Any) -> Any:
    if any(is_sql(c) for c in conditions):
        return and_(*(_clause(c) for c in conditions))
    return all(conditions)


def some(*conditions: Any) -> Any:
    if any(is_sql(c) for c in conditions):
        return or_(*(_clause(c) for c in conditions))
    return any(conditions)


def negate(condition: Any) -> Any:
    """Not `condition`: only for conditions that are never unknown."""
    return not_(condition) if is_sql(condition) else not condition


def constant(value: bool, like: Any) -> Any:
    """`value` as a condition of the same kind as `like`."""
    return (true() if value else false()) if is_sql(like) else value


def _clause(condition: Any) -> Any:
    return condition if is_sql(condition) else (true() if condition else false())
