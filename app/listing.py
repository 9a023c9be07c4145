"""The filters and page number of the lists (inbox, case list), read from the query string."""

from __future__ import annotations

from workflows.reads.worklists import Filters
from workflows.states import State
from workflows.vocab import AidKind, Category, WorkerGroup


def read_filters(args) -> Filters:
    """The list filters of the inbox and the case list from the query string; unknown values are ignored."""
    def pick(name: str, allowed) -> str | None:
        value = args.get(name, "")
        return value if value in {item.value for item in allowed} else None

    campaign = args.get("campaign", "")
    q = (args.get("q") or "").strip()[:50] or None
    return Filters(state=pick("state", State), union=(args.get("union") or "").strip()[:32] or None,
                   campaign=int(campaign) if campaign.isdigit() and len(campaign) < 10 else None,
                   worker_group=pick("worker_group", WorkerGroup), category=pick("category", Category),
                   aid_kind=pick("aid_kind", AidKind), q=q,
                   claimed_by_me=args.get("mine") == "1")


def page_number(args) -> int:
    value = args.get("page", "1")
    return min(int(value), 100_000) if value.isdigit() and len(value) < 7 else 1
