"""A page remembers the rules' look-ups while it asks about each of its cases; a verb never reads a remembered
answer: it sees the tariff an administrator has just changed."""

from __future__ import annotations

from sqlalchemy import event

from workflows import rules, verbs
from workflows.actors import CONSOLE
from workflows.infra.memo import remembering
from workflows.states import State


def test_a_page_reads_a_tariff_once_and_a_verb_reads_it_afresh(session, make, clock, engine):
    case = make.case(State.drafted, category="deep", worker_group="hardship_worker")
    verbs.set_tariff(session, CONSOLE, clock, case.campaign_id, "deep", "hardship_worker", "1500")
    session.flush()
    statements: list[str] = []
    listen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        with remembering(session):
            assert [rules.tariffs.tariff_for(session, case) for _ in range(3)] == [1500] * 3
            assert sum("FROM tariffs" in s for s in statements) <= 1  # once a page (none if the session holds it)
        # The page is over: what it remembered goes with it, and the next verb reads what is there now.
        verbs.set_tariff(session, CONSOLE, clock, case.campaign_id, "deep", "hardship_worker", None)
        session.flush()
        assert rules.tariffs.tariff_for(session, case) is None
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def test_a_write_inside_a_page_forgets_what_it_remembered(session, make, clock):
    """Pages only read; should something write within one all the same, what is asked next is read again."""
    case = make.case(State.drafted, category="deep", worker_group="hardship_worker")
    verbs.set_tariff(session, CONSOLE, clock, case.campaign_id, "deep", "hardship_worker", "1500")
    session.flush()
    with remembering(session):
        assert rules.tariffs.tariff_for(session, case) == 1500
        verbs.set_tariff(session, CONSOLE, clock, case.campaign_id, "deep", "hardship_worker", None)
        session.flush()
        assert rules.tariffs.tariff_for(session, case) is None
