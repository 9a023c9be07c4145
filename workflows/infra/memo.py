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

from sqlalchemy.orm import Session

_KEY = "songnuan_memo"
T = TypeVar("T")


@contextmanager
def remembering(session: Session) -> Iterator[None]:
    """Remember look-ups until the block ends (nested blocks share the outermost one's answers). Only for reads:
    nothing written inside the block is seen by a look-up already answered."""
    outermost = _KEY not in session.info
    if outermost:
        session.info[_KEY] = {}
    try:
        yield
    finally:
        if outermost:
            session.info.pop(_KEY, None)


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
