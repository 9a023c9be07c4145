"""The filters and page number of the lists (inbox, case list), read from the query string."""

from __future__ import annotations

from functools import partial

from markupsafe import Markup, escape

from workflows.inputs import parse_number
from workflows.reads.worklists import Filters
from workflows.states import State
from workflows.vocab import AidKind, Category, WorkerGroup


def read_filters(args) -> Filters:
    """The list filters of the inbox and the case list from the query string; unknown values are ignored."""
    def pick(name: str, allowed) -> str | None:
        value = args.get(name, "")
        return value if value in {item.value for item in allowed} else None

    q = (args.get("q") or "").strip()[:50] or None
    return Filters(state=pick("state", State), union=(args.get("union") or "").strip()[:32] or None,
                   campaign=parse_number(args.get("campaign")),
                   worker_group=pick("worker_group", WorkerGroup), category=pick("category", Category),
                   aid_kind=pick("aid_kind", AidKind), q=q,
                   claimed_by_me=args.get("mine") == "1")


def page_number(args) -> int:
    """The page asked for, at most 100000; page 1 for a missing, garbled or zero one."""
    return min(parse_number(args.get("page"), digits=6) or 1, 100_000)


def _options(unions, selected: str | None) -> Markup:
    """The union filter's options in one pass: a province has thousands of unions, and a template loop over them
    cost more than the page's own queries (50 ms of a 130 ms request at 2,000 unions)."""
    return Markup("".join(f'<option value="{escape(code)}"{" selected" if code == selected else ""}>{escape(name)}'
                          f'</option>' for code, name in unions))


def union_options(unions) -> partial:
    """For a filter bar: `choices.union_options(filters.union)` in the template."""
    return partial(_options, unions)
