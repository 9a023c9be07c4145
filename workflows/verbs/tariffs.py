"""Tariffs (标准): a campaign's amount by category and worker group, set by the administrators (DOMAIN.md, Money as
the bank and the unions see it). Setting one creates, changes or (amount None) deletes it; each one audited event."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from workflows import rules
from workflows.actors import Actor
from workflows.errors import Conflict, Invalid
from workflows.infra import audit
from workflows.infra.clock import Clock
from workflows.infra.db import unique
from workflows.models import Campaign, Tariff
from workflows.states import Action
from workflows.texts import N_
from workflows.verbs.campaigns import _money
from workflows.vocab import Category, WorkerGroup


def set_tariff(session: Session, actor: Actor, clock: Clock, campaign_id: int, category: Any, worker_group: Any,
               amount: Any) -> Tariff | None:
    """Set the campaign's amount for a category and worker group; None (or "") deletes it. Returns the tariff,
    None once deleted."""
    rules.require_role(actor, rules.ADMINS, N_("设定帮扶标准"))
    problems: dict[str, str] = {}
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise Invalid({"campaign": N_("没有这个活动")})
    if category not in Category.__members__.values():
        problems["category"] = N_("不是可选的困难类别")
    if worker_group not in WorkerGroup.__members__.values():
        problems["worker_group"] = N_("不是可选的职工类别")
    value = _money(amount, "amount", problems)
    if value is not None and value <= 0:
        problems["amount"] = N_("标准金额应大于0元（不设标准请留空）")
    if problems:
        raise Invalid(problems)
    value = value.quantize(Decimal("0.01")) if value is not None else None
    category, worker_group = str(Category(category).value), str(WorkerGroup(worker_group).value)
    now = clock.now()
    tariff = session.get(Tariff, (campaign.id, category, worker_group))
    before = tariff.amount if tariff is not None else None
    if before is None and value is None or before is not None and value is not None and before == value:
        return tariff  # nothing changes, nothing is written
    key = {"campaign": campaign.name, "category": Category(category).label,
           "worker_group": WorkerGroup(worker_group).label}
    changes = {name: [audit.text(v)] * 2 for name, v in key.items()}
    changes |= audit.diff({"amount": before}, {"amount": value})
    # Two administrators setting the same new tariff at once: one of them sets it, the other is told.
    with unique(session, Conflict(N_("该帮扶标准刚刚已由他人设定，请刷新后查看"))):
        if value is None:
            session.delete(tariff)
            tariff = None
        elif tariff is None:
            tariff = Tariff(campaign_id=campaign.id, category=category, worker_group=worker_group, amount=value)
            session.add(tariff)
        else:
            tariff.amount = value
    audit.record(session, actor, now, Action.set_tariff, changes=changes)
    return tariff
