"""One household, one archive, and the household's yearly cap, under real concurrent writers (PostgreSQL).

Twenty cadres of two unions open the archive of one household at the same instant: the database's key on each ID
number lets exactly one through, and every other gets the refusal naming the union that holds it, never a raw
IntegrityError. Two reviewers approve two applications of one household in two campaigns of a year at once: the
household's archives are locked before its sum is read, so the cap holds.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.errors import Refused
from workflows.infra.sealing import digest
from workflows.inputs import parse_deadline
from workflows.models import Archive, ArchiveNumber, Case
from workflows.states import State

from ..factories import case_data, id_number
from .conftest import THREADS
from .test_concurrency import chain, firing, race

pytestmark = pytest.mark.postgres


def opening(engine, cadre, clock, data):
    def job(barrier):
        with Session(engine) as session:
            barrier.wait()
            try:
                record = verbs.create_archive(session, cadre, clock, data)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            return record.id
    return job


def test_twenty_cadres_of_two_unions_archive_one_household_once(racers, setup, clock):
    session, make = setup
    unions = [make.union("第一机床厂工会"), make.union("红星纺织厂工会")]
    cadres = [make.account("cadre", union) for union in unions for _ in range(THREADS // 2)]
    session.commit()
    head, child = id_number(), id_number(dt.date(2008, 5, 1))
    data = case_data(household={"annual_income": "20000", "members": [
        {"name": "王小明", "relation": "子女", "id_number": child}]})
    data.pop("aid")
    data["applicant"]["id_number"] = head

    outcome = race([(f"open-{i}", opening(racers, cadre, clock, data)) for i, cadre in enumerate(cadres)])

    refused = [o for o in outcome.outcomes if isinstance(o.error, Refused)]
    others = [o for o in outcome.outcomes if o.error is not None and not isinstance(o.error, Refused)]
    assert not others, [(o.name, repr(o.error), o.trace) for o in others]
    assert len(outcome.winners) == 1
    assert len(refused) == THREADS - 1
    with Session(racers) as check:
        [archive] = check.scalars(select(Archive)).all()
        holder = archive.union.name
        assert {r.id_digest: r.archive_id for r in check.scalars(select(ArchiveNumber))} == {
            digest(head): archive.id, digest(child): archive.id}
    assert Counter(o.error.rule for o in refused) == {"archive_duplicate": THREADS - 1}
    assert all(holder in o.error.message and head not in o.error.message for o in refused)
    seqs, verification = chain(racers)
    assert verification.ok and seqs == list(range(1, len(seqs) + 1))


def test_two_approvals_of_one_household_in_one_year_keep_the_yearly_cap(racers, setup, clock):
    session, make = setup
    winter = make.campaign(cap_per_year="1500")
    summer = make.campaign(cap_per_year="1500", deadline=parse_deadline("2018-06-30"), starts_on=dt.date(2017, 12, 1))
    pairs = []
    for _ in range(4):
        number = id_number()
        applicant = {"name": "王建国", "gender": "male", "id_number": number, "phone": "13912345678",
                     "employer": "华光机械厂"}
        pairs.append([make.case(State.entered, campaign=c, applicant=applicant,
                                aid={"kind": "funds", "amount": "1000"}) for c in (winter, summer)])
    reviewers = [make.account("reviewer"), make.account("reviewer")]
    session.commit()

    for first, second in pairs:
        assert first.archive_id == second.archive_id  # one household, two applications
        outcome = race([(f"approve-{case.id}", firing(racers, reviewer, clock, case.id, "district_approve",
                                                      fresh=True))
                        for case, reviewer in ((first, reviewers[0]), (second, reviewers[1]))])
        losers = [o for o in outcome.outcomes if o.error is not None]
        assert len(outcome.winners) == 1, [repr(o.error) for o in losers]
        assert [o.error.rule for o in losers] == ["cap_year"], losers[0].trace
        with Session(racers) as check:
            states = sorted(check.scalars(select(Case.state).where(Case.id.in_([first.id, second.id]))))
            assert states == [State.district_approved, State.entered]
            assert check.scalar(select(func.count()).select_from(Archive).where(
                Archive.id == first.archive_id, Archive.status == "active")) == 1
    assert chain(racers)[1].ok
