"""The union tree: grassroots unions under federations under the district. Administrators only, audited."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Conflict, Invalid
from workflows.infra import audit
from workflows.infra.clock import Clock
from workflows.infra.db import unique
from workflows.inputs import line_problem
from workflows.models import Union
from workflows.reads.organisation import union_by_code
from workflows.states import Action
from workflows.texts import N_
from workflows.vocab import UnionKind


def create_union(session: Session, actor: Actor, clock: Clock, code: str, name: str, parent_code: str | None = None,
                 kind: str | None = None) -> Union:
    rules.require_role(actor, rules.ADMINS, N_("管理工会、账号和活动"))
    code, name = (code or "").strip(), (name or "").strip()
    problems = {}
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
        problems["code"] = N_("代码只能是1到32位字母、数字、下划线或连字符")
    elif union_by_code(session, code):
        problems["code"] = N_("代码%(code)s已被使用", code=code)
    if not 1 <= len(name) <= 100:
        problems["name"] = N_("名称不能为空，最多100个字")
    elif problem := line_problem(name):
        problems["name"] = N_("名称%(problem)s", problem=problem)
    parent = None
    if parent_code:
        parent = union_by_code(session, parent_code)
        if parent is None:
            problems["parent"] = N_("没有代码为%(code)s的上级工会", code=parent_code)
    kind = kind or (UnionKind.grassroots if parent else UnionKind.district)
    if kind not in UnionKind.__members__.values():
        problems["kind"] = N_("类别只能是 district、federation 或 grassroots")
    elif "parent" in problems:
        pass  # an unknown parent: what it may hold cannot be told
    elif parent is None and kind != UnionKind.district:
        problems["parent"] = N_("基层工会和工会联合会须有上级工会")
    elif parent is not None and parent.kind == UnionKind.grassroots:
        problems["parent"] = N_("基层工会下不能再设工会")
    elif parent is not None and kind == UnionKind.district:
        problems["kind"] = N_("区总工会没有上级工会")
    if problems:
        raise Invalid(problems)
    with unique(session, Conflict(N_("工会代码已存在：%(code)s刚刚已由他人使用", code=code))):  # two at once: one is made
        union = Union(code=code, name=name, kind=kind, parent=parent)
        session.add(union)
    audit.record(session, actor, clock.now(), Action.create_union,
                 changes=audit.created({"code": code, "name": name, "kind": kind, "parent": parent_code}))
    return union
