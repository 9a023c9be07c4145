"""Look-ups remembered for the length of one read-only page.

A list that says which moves each of its cases has open asks the rules the same few questions for every case: the
tariff of a category, a union's budget share, whether its notice was posted, who else holds an ID number. Inside
`remembering(session)` each answer is read once and kept in the session's info; outside it (a verb, which must see
what it has just written) every call goes to the database. The rules call `remembered` the same way in both cases,
so each rule is still written once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

_KEY = "songnuan_memo"
T = TypeVar("T")


@contextmanager
def remembering(session: Session) -> Iterator[None]:
    """Remember look-ups until the block ends (nested blocks share the outermost one's answers). Meant for reads;
    should anything be written inside the block all that was remembered is forgotten (`_forget`), so that what is
    asked after a write is read again."""
    outermost = _KEY not in session.info
    if outermost:
        session.info[_KEY] = {}
    try:
        yield
    finally:
        if outermost:
            session.info.pop(_KEY, None)


def active(session: Session) -> bool:
    """Inside `remembering`: a page asking the same questions of each of its cases."""
    return _KEY in session.info


def _forget(session: Session, *args: Any) -> None:
    if (memo := session.info.get(_KEY)) is not None:
        memo.clear()


def _forget_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:  # an UPDATE, INSERT or DELETE through the session (verbs.cases.save, the audit)
        _forget(state.session)


event.listen(Session, "before_flush", _forget)
event.listen(Session, "do_orm_execute", _forget_on_write)


def remembered(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), or what it answered for `key` earlier in the block."""
    memo = session.info.get(_KEY)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def remembered_each(session: Session, kind: str, keys: Iterable[Hashable],
                    fetch: Callable[[list], dict[Any, list]]) -> dict[Any, list]:
    """For each of `keys`, the rows fetch() found for it (an empty list when none): those not yet remembered are
    fetched in one call, so that a page can ask for all its cases' keys first and each case's check then reads
    none."""
    keys = list(dict.fromkeys(keys))
    memo = session.info.get(_KEY)
    if memo is None:
        found = fetch(keys) if keys else {}
        return {key: found.get(key, []) for key in keys}
    if missing := [key for key in keys if (kind, key) not in memo]:
        found = fetch(missing)
        memo.update({(kind, key): found.get(key, []) for key in missing})
    return {key: memo[(kind, key)] for key in keys}
