"""The same money move twice at once, with the budget just big enough for the case: one request moves it, the other
is told that someone changed the case (a conflict, to refresh), never that the budget is spent, which it is not
but for this very case."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.errors import Conflict
from workflows.states import State

pytestmark = pytest.mark.postgres  # a second request reading the case while the first commits: PostgreSQL's turns


@pytest.mark.parametrize("trigger", ["district_approve", "disburse"])
def test_the_slower_of_two_money_moves_is_a_conflict_not_a_spent_budget(committed, setup, clock, trigger):
    session, make = setup
    campaign = make.campaign(budget="1000")
    case = make.case(State.entered, campaign=campaign, aid={"kind": "funds", "amount": "1000", "medical": False})
    if trigger == "disburse":
        make.fire(case, "district_approve", make.person("reviewer"))
    actor = make.person("reviewer" if trigger == "district_approve" else "finance")
    reference = {"payment_reference": "ICBC-1"} if trigger == "disburse" else {}
    session.commit()
    with Session(committed) as slower:
        # The slower request has read the case (as `fire` reads it before it takes the campaign's lock)...
        held = verbs.get_case(slower, actor, case.id)
        with Session(committed) as faster:
            verbs.fire(faster, actor, clock, case.id, trigger, held.version, **reference)
            faster.commit()  # ...when the faster one moves it and commits
        with pytest.raises(Conflict):
            verbs.fire(slower, actor, clock, case.id, trigger, held.version, **reference)
        # What the slower one held was the case before the move, as the race leaves it.
        assert held.state == (State.entered if trigger == "district_approve" else State.district_approved)
