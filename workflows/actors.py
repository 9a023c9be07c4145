"""Who acts: an Account (a person) or the system itself (the scheduler)."""

from __future__ import annotations

from typing import Protocol

from workflows.states import Role


class Actor(Protocol):
    id: int | None
    username: str
    name: str
    role: str
    union_id: int | None


class _System:
    """The scheduler's automatic transitions. It signs no form and has no union."""

    id = None
    username = "system"
    name = "系统"
    role = Role.system.value
    union_id = None


SYSTEM: Actor = _System()


class _Console:
    """An operator at the server's command line (`songnuan union create`, ...): acts as an administrator."""

    id = None
    username = "console"
    name = "命令行"
    role = Role.admin.value
    union_id = None


CONSOLE: Actor = _Console()
