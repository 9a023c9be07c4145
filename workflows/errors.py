"""Domain errors. Each names the rule that refused the action, in words a cadre understands."""

from __future__ import annotations

import html
from dataclasses import dataclass

from workflows.texts import Joined, N_, Text


@dataclass(frozen=True)
class Reason:
    rule: str      # a stable code: "documents", "four_eyes", "deadline", ...
    message: str   # what the screens show, in Chinese (a Text of workflows/texts.py: translatable)

    def __str__(self) -> str:
        return self.message

    def __html__(self) -> str:
        """Printed by a template: in the reader's language."""
        return Text.__html__(self.message) if isinstance(self.message, Text) else html.escape(self.message)


class DomainError(Exception):
    """Base of every refusal. Nothing was changed when one is raised out of a service verb."""

    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(DomainError):
    """A rule blocks the action. `reasons` lists every rule that blocks it, the first one first."""

    def __init__(self, *reasons: Reason) -> None:
        self.reasons = list(reasons)
        super().__init__(Joined(r.message for r in reasons))

    @property
    def rule(self) -> str:
        return self.reasons[0].rule


class Forbidden(Refused):
    """The actor's role may not do this at all."""

    code = "forbidden"


class NotFound(DomainError):
    """The record does not exist, or lies outside what the actor may see (we do not tell which)."""

    code = "not_found"

    def __init__(self, message: str = N_("找不到该记录")) -> None:
        super().__init__(message)


class Invalid(DomainError):
    """Input fields are wrong; `fields` maps each field to its message."""

    code = "invalid"

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("；".join(f"{k}：{v}" for k, v in fields.items()))


class Conflict(DomainError):
    """Someone else changed the case first: the version the actor saw is no longer current."""

    code = "stale"

    def __init__(self, message: str = N_("该案件已被他人修改，请刷新后重试")) -> None:
        super().__init__(message)
