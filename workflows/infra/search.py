"""The lists' search by part of a name, or by the last four digits of an ID number, through an index.

`LIKE '%王建%'` reads every row: a second at a province's size. A trigram index does not help the one- and
two-character searches Chinese names mostly are, so the pieces are kept here instead: table name_grams holds, for
each case (kind "c": its applicant) and each archive (kind "a": its head and every member), every one- and
two-character piece of each name and "#" + the last four characters of each ID mask, in lower case. A search of
the district's lists asks which owners hold all the two-character pieces of what was typed (its one character,
when it is one), or its last four digits, and the list then applies its own test (reads/worklists.name_or_number)
to those rows alone: the pieces only narrow, the list's test decides, so a search answers exactly what it did
before.

The pieces follow the names: every flush that adds, changes or removes a case, an archive or an archive's member
rewrites its owner's pieces from the database (`after_flush`, listened to by workflows/models.py), in the same
transaction; revision 0013, bench/generate.py and `songnuan search-index rebuild` write them all (`rebuild`) for
rows written before or around the ORM.

Not narrowed, reading every row of its list as before: a union's own lists (its union's index bounds them), and a
search with a letter whose case the databases lower differently (beyond ASCII).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from sqlalchemy import Connection, bindparam, delete, func, insert, inspect, literal, select, union
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Executable, Select

from workflows.identity import normalize_id
from workflows.models import Archive, ArchiveMember, Case, NameGram

CASE, ARCHIVE = "c", "a"
_LONGEST = 50  # the names' column length (String(50)): the positions a piece may start at
_LAST4 = re.compile(r"[0-9]{3}[0-9X]")
_IDS = bindparam("ids", expanding=True)
_CHUNK = 150  # owners a statement: an archive's are bound six times, within SQLite's oldest limit (999)


# ---------------------------------------------------------------- writing the pieces

def _positions():
    positions = select(literal(1).label("n")).cte("positions", recursive=True)
    return positions.union_all(select(positions.c.n + 1).where(positions.c.n < _LONGEST))


def _pieces(kind: str, owner, text, positions) -> list[Select]:
    """The one- and two-character pieces of `text` (a column), in lower case, as (kind, gram, owner_id) rows."""
    return [select(literal(kind), func.lower(func.substr(text, positions.c.n, size)), owner)
            .where(positions.c.n <= func.length(text) - size + 1) for size in (1, 2)]


def _mask(kind: str, owner, masked) -> Select:
    return select(literal(kind), literal("#") + func.lower(func.substr(masked, func.length(masked) - 3, 4)), owner) \
        .where(func.length(masked) >= 4)


def _sources(kind: str, some: bool, positions) -> list[Select]:
    """The rows of pieces of every owner of `kind` (`some`: of the owners the parameter "ids" lists)."""
    if kind == CASE:
        rows = [(Case.id, Case.applicant_name, Case.id_masked, Case.id)]
    else:
        rows = [(Archive.id, Archive.applicant_name, Archive.id_masked, Archive.id),
                (ArchiveMember.archive_id, ArchiveMember.name, ArchiveMember.id_masked, ArchiveMember.archive_id)]
    selects = []
    for owner, name, masked, key in rows:
        for query in (*_pieces(kind, owner, name, positions), _mask(kind, owner, masked)):
            selects.append(query.where(key.in_(_IDS)) if some else query)
    return selects


@cache
def _statements(kind: str, some: bool) -> tuple[Executable, Executable]:
    """The DELETE of the owners' pieces and the INSERT of them again, built once (a flush then pays for running
    them, not for building them and their cache keys)."""
    gone = delete(NameGram).where(NameGram.kind == kind)
    pieces = union(*_sources(kind, some, _positions())).subquery()
    return (gone.where(NameGram.owner_id.in_(_IDS)) if some else gone,
            insert(NameGram).from_select(["kind", "gram", "owner_id"], select(*pieces.c)))


def refresh(connection: Connection, kind: str, ids: Iterable[int] | None = None) -> None:
    """Rewrite the pieces of the owners of `kind` with `ids` (every owner when None) from what the database holds."""
    if ids is None:
        for statement in _statements(kind, False):
            connection.execute(statement)
        return
    ids = sorted(set(ids))
    for start in range(0, len(ids), _CHUNK):
        for statement in _statements(kind, True):
            connection.execute(statement, {"ids": ids[start:start + _CHUNK]})


def rebuild(connection: Connection) -> None:
    """Every owner's pieces written again from the names the database holds."""
    for kind in (CASE, ARCHIVE):
        refresh(connection, kind)


# What a row's pieces come from; for a member also the archive it belongs to (one taken out of the archive's
# collection is deleted as an orphan, seen as a change of its `archive`, not among the deleted).
_WATCHED = {Case: ("applicant_name", "id_masked"), Archive: ("applicant_name", "id_masked"),
            ArchiveMember: ("name", "id_masked", "archive_id", "archive")}


def after_flush(session: Session, context) -> None:
    """The owners whose names or masks this flush wrote get their pieces again."""
    owners: dict[str, set[int]] = {CASE: set(), ARCHIVE: set()}
    dirty = session.dirty  # a new set at each reading: read once
    for row in [*session.new, *dirty, *session.deleted]:
        names = _WATCHED.get(type(row))
        if names is None:
            continue
        if row in dirty and not any(_changed(row, name) for name in names):
            continue
        if isinstance(row, Case):
            owners[CASE].add(row.id)
        elif isinstance(row, Archive):
            owners[ARCHIVE].add(row.id)
        else:  # a member: its archive, and the one it left when it moved
            owners[ARCHIVE].update(i for i in _values(row, "archive_id") if i is not None)
    for kind, ids in owners.items():
        refresh(session.connection(), kind, ids)


def _changed(row, name: str) -> bool:
    return inspect(row).attrs[name].history.has_changes()


def _values(row, name: str) -> list:
    history = inspect(row).attrs[name].history
    return [*history.added, *history.unchanged, *history.deleted] or [getattr(row, name)]


# ---------------------------------------------------------------- reading them

def owners_matching(kind: str, q: str) -> Select | None:
    """The ids of the owners of `kind` whose pieces hold every two-character piece of `q` (its one character, when
    it is one; or, for four digits, its last four); None when the pieces cannot tell, and the list must read every
    row: a letter with a case beyond ASCII's (the databases lower those differently)."""
    if not q or any(not c.isascii() and c.lower() + c.upper() != c + c for c in q):
        return None
    lowered = q.lower()  # ASCII's letters alone, as both databases' lower(); SQLite's LIKE ignores their case
    grams = sorted({lowered[i:i + 2] for i in range(len(lowered) - 1)} or {lowered})
    named = select(NameGram.owner_id).where(NameGram.kind == kind, NameGram.gram.in_(grams))
    if len(grams) > 1:  # every piece: the owners holding as many of them as there are
        named = named.group_by(NameGram.owner_id).having(func.count() == len(grams))
    if _LAST4.fullmatch(last4 := normalize_id(q)):
        return union(named, select(NameGram.owner_id).where(NameGram.kind == kind,
                                                             NameGram.gram == "#" + last4.lower()))
    return named


def narrowed(id_column, kind: str, q: str, actor) -> ColumnElement[bool] | None:
    """`id_column` among the owners `q` may match, or None (no narrowing): for the district's people, whose lists
    span every union; a union's own list is read by its union's index, which the pieces would only slow down."""
    owners = owners_matching(kind, q) if actor.union_id is None else None
    return id_column.in_(owners) if owners is not None else None
