"""The organisation as the screens list it: the union tree, grassroots unions, accounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from workflows.errors import NotFound
from workflows.models import Account, Union
from workflows.texts import N_
from workflows.vocab import UnionKind


def union_by_code(session: Session, code: str) -> Union | None:
    return session.scalar(select(Union).where(Union.code == code))


@dataclass
class UnionNode:
    """A union in the tree, with how many accounts belong to it directly."""

    union: Union
    accounts: int
    depth: int
    children: list[UnionNode] = field(default_factory=list)


def union_tree(session: Session) -> list[UnionNode]:
    """The roots (district unions), each with its federations and grassroots unions below, ordered by code."""
    counts = dict(session.execute(select(Account.union_id, func.count()).where(Account.union_id.is_not(None))
                                  .group_by(Account.union_id)).all())
    unions = session.scalars(select(Union).order_by(Union.code)).all()
    children: dict[int | None, list[Union]] = {}
    for union in unions:
        children.setdefault(union.parent_id, []).append(union)

    def build(union: Union, depth: int) -> UnionNode:
        node = UnionNode(union, counts.get(union.id, 0), depth)
        node.children = [build(child, depth + 1) for child in children.get(union.id, [])]
        return node

    return [build(root, 0) for root in children.get(None, [])]


def grassroots_unions(session: Session) -> list[Union]:
    return list(session.scalars(select(Union).where(Union.kind == UnionKind.grassroots).order_by(Union.code)))


def account(session: Session, account_id: int) -> Account:
    found = session.get(Account, account_id)
    if found is None:
        raise NotFound(N_("找不到该账号"))
    return found


def accounts(session: Session, role: str | None = None, union_id: int | None = None, page: int = 1,
             per_page: int = 50) -> tuple[list[Account], int]:
    """A page of accounts, by username, and how many there are in all."""
    where = []
    if role:
        where.append(Account.role == role)
    if union_id:
        where.append(Account.union_id == union_id)
    total = session.scalar(select(func.count()).select_from(Account).where(*where))
    rows = session.scalars(select(Account).options(selectinload(Account.union)).where(*where)
                           .order_by(Account.username).offset((page - 1) * per_page).limit(per_page)).all()
    return list(rows), total
