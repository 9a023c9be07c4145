"""The states, roles and transition table of a case, as data.

Everything that needs to know the workflow (the machine, the permission checks, the inbox, the diagram, the
tests) reads it from here; nothing restates it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    drafted = "drafted"
    documented = "documented"
    grassroots_approved = "grassroots_approved"
    publicized = "publicized"
    entered = "entered"
    district_approved = "district_approved"
    disbursed = "disbursed"
    forfeited = "forfeited"
    withdrawn = "withdrawn"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[State, str] = {
    State.drafted: "已起草",
    State.documented: "资料齐全",
    State.grassroots_approved: "基层已审核",
    State.publicized: "公示中",
    State.entered: "已录入报送",
    State.district_approved: "区总已审定",
    State.disbursed: "已发放",
    State.forfeited: "视为自动放弃",
    State.withdrawn: "已撤回",
}

# The grassroots stages: what the deadline sweep forfeits and what nothing may move after the deadline.
GRASSROOTS = (State.drafted, State.documented, State.grassroots_approved, State.publicized)
FINAL = (State.disbursed, State.forfeited, State.withdrawn)
# A case in one of these states holds its ID numbers: no other case of the campaign may use them.
LIVE = tuple(s for s in State if s not in (State.forfeited, State.withdrawn))


class Role(StrEnum):
    cadre = "cadre"
    head = "head"
    reviewer = "reviewer"
    finance = "finance"
    auditor = "auditor"
    admin = "admin"
    system = "system"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.cadre: "基层工会干部",
    Role.head: "基层工会负责人",
    Role.reviewer: "帮扶中心审核员",
    Role.finance: "财务",
    Role.auditor: "审计",
    Role.admin: "系统管理员",
    Role.system: "系统",
}
# Roles that belong to a grassroots union and see only its cases.
UNION_ROLES = (Role.cadre, Role.head)


@dataclass(frozen=True)
class Transition:
    trigger: str
    sources: tuple[State, ...]
    dest: State
    roles: tuple[Role, ...]
    label: str
    needs_comment: bool = False
    # Refused once the campaign's deadline has passed, even before the sweep has run.
    before_deadline: bool = False
    # The inbox group of the cases waiting for this move (the forward moves only; going back is never a task).
    task: str | None = None


TRANSITIONS: tuple[Transition, ...] = (
    Transition("document", (State.drafted,), State.documented, (Role.cadre,), "资料齐全，提交审核",
               before_deadline=True, task="待补充资料"),
    Transition("approve", (State.documented,), State.grassroots_approved, (Role.head,), "基层审核通过",
               before_deadline=True, task="待审核"),
    Transition("return", (State.documented, State.grassroots_approved, State.publicized), State.drafted,
               (Role.head,), "退回修改", needs_comment=True, before_deadline=True),
    Transition("publicize", (State.grassroots_approved,), State.publicized, (Role.cadre, Role.head), "开始公示",
               before_deadline=True, task="待公示"),
    Transition("enter", (State.publicized,), State.entered, (Role.cadre,), "录入报送", before_deadline=True,
               task="公示期满待录入"),
    Transition("district_approve", (State.entered,), State.district_approved, (Role.reviewer,), "区总审定通过",
               task="待区总审定"),
    Transition("district_return", (State.entered,), State.drafted, (Role.reviewer,), "区总退回",
               needs_comment=True, before_deadline=True),
    Transition("reject", (State.entered,), State.forfeited, (Role.reviewer,), "不合格，驳回", needs_comment=True),
    Transition("disburse", (State.district_approved,), State.disbursed, (Role.finance,), "发放", task="待发放"),
    Transition("forfeit", GRASSROOTS, State.forfeited, (Role.system,), "逾期未报，视为自动放弃"),
    Transition("withdraw", GRASSROOTS, State.withdrawn, (Role.cadre, Role.head), "撤回", needs_comment=True,
               before_deadline=True),
)

BY_TRIGGER: dict[str, Transition] = {t.trigger: t for t in TRANSITIONS}
TRIGGERS: tuple[str, ...] = tuple(BY_TRIGGER)

FORFEIT_REASON = "逾期未报，视为自动放弃"


def triggers_from(state: State) -> list[Transition]:
    """The transitions that leave `state`, in table order."""
    return [t for t in TRANSITIONS if state in t.sources]
