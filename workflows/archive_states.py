"""The life cycle of a household archive (DOMAIN.md, Household archive) as data: its statuses and its table.

The same kind of table as the case's (states.py), read by the same machine and diagram; the guards are in
rules/archives.py. A status change, like a case's transition, is one audit event of the chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from workflows.states import Flow, Role


class Status(StrEnum):
    pending = "pending"
    active = "active"
    exited = "exited"
    deregistered = "deregistered"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[Status, str] = {
    Status.pending: "建档中",
    Status.active: "在档",
    Status.exited: "脱困",
    Status.deregistered: "注销",
}
# Holding its ID numbers: no other archive anywhere in the district may hold them (一户一档). An exited household
# keeps its archive, to come back to (返困); a deregistered one frees its numbers.
LIVE = (Status.pending, Status.active, Status.exited)
# What a campaign may apply for.
APPLICABLE = (Status.pending, Status.active, Status.exited)


class ArchiveTrigger(StrEnum):
    activate = "activate"
    exit = "exit"
    deregister = "deregister"
    reactivate = "reactivate"
    transfer = "transfer"

    @property
    def label(self) -> str:
        return BY_TRIGGER[self].label


@dataclass(frozen=True)
class Move:
    trigger: ArchiveTrigger
    sources: tuple[Status, ...]
    dest: Status | None  # None: the status stays (a transfer moves the archive, not its status)
    roles: tuple[Role, ...]
    label: str
    needs_comment: bool = False
    # A closing reason (vocab.ClosingReason) must be chosen.
    needs_reason: bool = False
    # The receiving grassroots union must be named.
    needs_union: bool = False
    # Refused while an application of the archive is still being handled (not in a final state).
    when_settled: bool = False


MOVES: tuple[Move, ...] = (
    # Fired by the district's approval of an application (verbs/transitions.py), never by hand.
    Move(ArchiveTrigger.activate, (Status.pending,), Status.active, (Role.system,), "建档生效"),
    Move(ArchiveTrigger.exit, (Status.active,), Status.exited, (Role.head, Role.reviewer), "脱困",
         needs_comment=True, when_settled=True),
    Move(ArchiveTrigger.reactivate, (Status.exited,), Status.active, (Role.head, Role.reviewer), "返困",
         needs_comment=True),
    Move(ArchiveTrigger.deregister, LIVE, Status.deregistered, (Role.head, Role.reviewer), "注销",
         needs_comment=True, needs_reason=True, when_settled=True),
    Move(ArchiveTrigger.transfer, LIVE, None, (Role.reviewer,), "转移到其他工会", needs_comment=True,
         needs_union=True, when_settled=True),
)
BY_TRIGGER: dict[ArchiveTrigger, Move] = {m.trigger: m for m in MOVES}
ARCHIVE_TRIGGERS = tuple(BY_TRIGGER)
FINAL = (Status.deregistered,)


def moves_from(status: Status) -> list[Move]:
    return [m for m in MOVES if status in m.sources]


ARCHIVE_FLOW = Flow("archive", Status, MOVES, FINAL, "档案状态图")
