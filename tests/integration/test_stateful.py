"""Random sequences of everything people and the system do to cases, checked against the transition table.

A hypothesis state machine drives the service verbs with random actors (cadres and heads of two unions, two heads
in one of them, two reviewers, finance, an auditor, an administrator and the system) on a handful of cases in every
stage, and moves the clock on, past the deadline too. After every step:

- an action either succeeded or raised a DomainError (anything else fails the test);
- a successful transition moved its case along an edge of TRANSITIONS, by a role the table names, within the
  deadline rules; a refused action left every case's state and version as they were;
- each successful change wrote exactly one audit event, naming the verb, the case, the actor and the states, and
  raised the case's version by exactly one; a reveal wrote one event and left the version; a refusal wrote none;
- the audit chain verifies, and counts every event.

Every example runs in a transaction of its own, rolled back at its end.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from workflows import verbs
from workflows.actors import SYSTEM
from workflows.errors import Conflict, DomainError, NotFound
from workflows.infra import audit
from workflows.infra.clock import FixedClock, from_db
from workflows.infra.uploads import Uploads
from workflows.models import AuditEvent, Case, Document, Objection
from workflows.states import BY_TRIGGER, TRIGGERS, State
from workflows.vocab import DocumentKind

from ..conftest import START
from ..factories import PDF, Factory

pytestmark = pytest.mark.slow  # long generated runs
settings.register_profile(
    "stateful",
    max_examples=40,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,   # the same examples on every run and in CI
    database=None,      # and no example database carried between runs
    suppress_health_check=[HealthCheck.too_slow],
    # No shrinking: every example builds its cases anew, so shrinking a failure would take many minutes. A failure
    # is reported as found, every step with its draws: at most stateful_step_count of them.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
SETTINGS = settings.get_profile("stateful")

ACTORS = ("cadre1", "head1a", "head1b", "cadre2", "head2", "reviewer1", "reviewer2", "finance", "auditor", "admin",
          "system")
# The cases each example starts from: (union, state). Drafts have every required document attached.
CASES = (
    (1, State.drafted), (1, State.documented), (1, State.publicized), (1, State.entered),
    (1, State.district_approved), (2, State.drafted), (2, State.grassroots_approved),
)
EDITS = {
    "phone": ["13800001111", "13912345678", "021-12345678", "12345"],
    "housing": ["租住公房", "自有住房"],
    "employer": ["华光机械厂", "东风纺织厂"],
    "amount": ["500", "1000", "2800", "5000"],
}
_runs = itertools.count()


@dataclass(frozen=True)
class Expected:
    """What one successful action must have done."""

    case_id: int
    action: str
    bump: bool = True        # the case's version rises by one
    event: bool = True       # one audit event is written
    state: str | None = None  # the case's state afterwards, if it moves
    archive_event: bool = False  # and after it one event of the household's archive


class Workflows(RuleBasedStateMachine):
    def __init__(self, engine: Engine, root: Path) -> None:
        super().__init__()
        self.connection = engine.connect()
        self.outer = self.connection.begin()
        self.session = Session(bind=self.connection, join_transaction_mode="create_savepoint",
                               expire_on_commit=False)
        self.clock = FixedClock(START)
        self.uploads = Uploads(root / f"run{next(_runs)}")
        make = Factory(self.session, self.clock, self.uploads)

        unions = {1: make.union("华光机械厂工会"), 2: make.union("东风纺织厂工会")}
        campaign = make.campaign(budget="2500", cap_per_payment="3000")
        self.deadline = from_db(campaign.deadline)
        self.cases: list[int] = []
        for union, state in CASES:
            case = make.case(state, unions[union], campaign)
            if state == State.drafted:
                make.attach(case)
            self.cases.append(case.id)
        campaign.publicity_days = 1  # from now on a public notice lasts a working day
        self.actors: dict[str, Any] = {
            "cadre1": make.person("cadre", unions[1]), "head1a": make.person("head", unions[1]),
            "head1b": make.account("head", unions[1]),
            "cadre2": make.person("cadre", unions[2]), "head2": make.person("head", unions[2]),
            "reviewer1": make.person("reviewer"), "reviewer2": make.account("reviewer"),
            "finance": make.person("finance"), "auditor": make.account("auditor"), "admin": make.account("admin"),
            "system": SYSTEM,
        }
        self.session.flush()
        self.model = self.observe_cases()
        self.events = self.observe_events()[0]
        assert sorted(state for state, _ in self.model.values()) == sorted(state for _, state in CASES)

    def teardown(self) -> None:
        self.session.close()
        self.outer.rollback()
        self.connection.close()

    # ------------------------------------------------------------ what the database says

    def observe_cases(self) -> dict[int, tuple[str, int]]:
        rows = self.session.execute(select(Case.id, Case.state, Case.version))
        return {case_id: (state, version) for case_id, state, version in rows}

    def observe_events(self) -> tuple[int, int | None]:
        return self.session.execute(select(func.count(), func.max(AuditEvent.seq)).select_from(AuditEvent)).one()

    # ------------------------------------------------------------ the one way every action is taken and checked

    def act(self, actor: str, action, expect) -> DomainError | None:
        """Run `action`; `expect` (called after a success with its result) says what it must have done."""
        before_cases, (before_events, before_seq) = self.observe_cases(), self.observe_events()
        assert before_cases == self.model and before_events == self.events
        try:
            result = action(self.actors[actor])
        except DomainError as error:  # anything else is a bug and fails the test
            outcome: DomainError | None = error
            expected = None
        else:
            outcome = None
            expected = expect(result)

        model = dict(self.model)
        events = self.events
        # A district approval writes a second event after the case's: its archive takes the approved household.
        # A draft's edit of its household, when the archive was opened with it, writes the archive's following.
        extra = int(expected is not None and expected.event and (expected.archive_event or (
            expected.action in BY_TRIGGER and BY_TRIGGER[expected.action].updates_archive)))
        if expected is not None:
            state, version = model[expected.case_id]
            model[expected.case_id] = (expected.state or state, version + expected.bump)
            events += expected.event + extra
        after_cases, (after_events, after_seq) = self.observe_cases(), self.observe_events()
        assert after_cases == model, f"{actor}: {expected or outcome!r}"
        assert after_events == events, f"{actor}: {expected or outcome!r}"
        if expected is not None and expected.event:
            last = self.session.execute(
                select(AuditEvent.action, AuditEvent.case_id, AuditEvent.actor, AuditEvent.from_state,
                       AuditEvent.to_state).where(AuditEvent.seq == after_seq - extra)).one()
            before_state = before_cases[expected.case_id][0]
            assert tuple(last) == (expected.action, expected.case_id, self.actors[actor].username, before_state,
                                   model[expected.case_id][0])
            assert after_seq == (before_seq or 0) + 1 + extra
        self.model, self.events = model, events
        return outcome

    # ------------------------------------------------------------ choosing who acts on which case

    def choose(self, data, roles: tuple[str, ...], states: tuple[str, ...] | None = None) -> tuple[int, str]:
        """A case and an actor: mostly ones that fit (a case in one of `states`, an actor of one of `roles` and of
        the case's union), so that many actions go through; otherwise any case and anyone at all."""
        if data.draw(st.sampled_from((True, True, False)), label="fitting"):
            cases = [case_id for case_id in self.cases if states is None or self.model[case_id][0] in states]
            case_id = data.draw(st.sampled_from(cases or self.cases), label="case")
            union = self.session.get(Case, case_id).union_id
            actors = [name for name, actor in self.actors.items()
                      if actor.role in roles and (actor.role not in ("cadre", "head") or actor.union_id == union)]
            return case_id, data.draw(st.sampled_from(actors), label="actor")
        return data.draw(st.sampled_from(self.cases), label="case"), data.draw(st.sampled_from(ACTORS), label="actor")

    # ------------------------------------------------------------ transitions

    def fire(self, data):
        trigger = data.draw(st.sampled_from(TRIGGERS), label="trigger")
        explain = data.draw(st.sampled_from(["理由", "理由", None]), label="comment")
        version = data.draw(st.sampled_from(["current", "current", "current", "none", "stale"]), label="version")
        transition = BY_TRIGGER[trigger]
        case_id, actor = self.choose(data, tuple(transition.roles), tuple(transition.sources))
        before, current = self.model[case_id]
        given = {"current": current, "none": None, "stale": current - 1}[version]

        def expect(moved: Case) -> Expected:
            assert before in transition.sources
            assert self.actors[actor].role in transition.roles
            assert version != "stale"
            now = self.clock.now()
            if transition.before_deadline:
                assert now < self.deadline
            if trigger == "forfeit":
                assert now >= self.deadline
            if transition.needs_comment:
                assert explain
            assert moved.state == transition.dest
            return Expected(case_id, trigger, state=transition.dest)

        refused = self.act(actor, lambda who: verbs.fire(
            self.session, who, self.clock, case_id, trigger, given, comment=explain,
            payment_reference=explain and f"PAY-{case_id}-{self.events}"), expect)
        if version == "stale":
            assert isinstance(refused, Conflict | NotFound)

    # Transitions are what this is about: two rules take them, so they come twice as often as any other action.
    fire_one = rule(data=st.data())(fire)
    fire_another = rule(data=st.data())(fire)

    # ------------------------------------------------------------ the draft's fields and papers

    @rule(data=st.data(), field=st.sampled_from(sorted(EDITS)), pick=st.integers(0, 3), with_version=st.booleans())
    def edit(self, data, field, pick, with_version):
        case_id, actor = self.choose(data, ("cadre",), (State.drafted,))
        case = self.session.get(Case, case_id)
        value = EDITS[field][pick % len(EDITS[field])]
        patch, current = {
            "phone": ({"applicant": {"phone": value}}, case.phone),
            "housing": ({"household": {"housing": value}}, case.housing),
            "employer": ({"applicant": {"employer": value}}, case.employer),
            "amount": ({"aid": {"amount": value}}, case.aid_amount),
        }[field]
        differs = Decimal(value) != current if field == "amount" else value != current
        version = self.model[case_id][1] if with_version else None
        archive = case.archive
        # An archive opened with its draft follows the draft's household (verbs.archives.follow_draft).
        follows = (field != "amount" and archive.status == "pending" and archive.last_helped_at is None
                   and [c.id for c in archive.cases] == [case_id])

        def expect(edited: Case) -> Expected:
            assert edited.state == State.drafted
            # An edit that changes nothing is no change: no event, no new version.
            return Expected(case_id, "edit", bump=differs, event=differs, archive_event=follows)

        self.act(actor, lambda who: verbs.edit_case(self.session, who, self.clock, case_id, version, patch),
                 expect)

    @rule(data=st.data(), kind=st.sampled_from(list(DocumentKind)))
    def add_document(self, data, kind):
        case_id, actor = self.choose(data, ("cadre",), (State.drafted,))
        self.act(actor, lambda who: verbs.add_document(self.session, who, self.clock, self.uploads, case_id, kind,
                                                          f"{kind}.pdf", PDF),
                 lambda document: Expected(case_id, "add_document"))

    @rule(data=st.data(), pick=st.integers(0, 9))
    def remove_document(self, data, pick):
        case_id, actor = self.choose(data, ("cadre",), (State.drafted,))
        documents = self.session.scalars(select(Document.id).where(Document.case_id == case_id)
                                         .order_by(Document.id)).all()
        document_id = documents[pick % len(documents)] if documents else "0" * 32
        self.act(actor, lambda who: verbs.remove_document(self.session, who, self.clock, self.uploads, case_id,
                                                             document_id),
                 lambda case: Expected(case_id, "remove_document"))

    # ------------------------------------------------------------ objections

    @rule(data=st.data())
    def record_objection(self, data):
        case_id, actor = self.choose(data, ("cadre", "head"), (State.publicized,))
        self.act(actor, lambda who: verbs.record_objection(self.session, who, self.clock, case_id, "反映其收入不实"),
                 lambda objection: Expected(case_id, "object"))

    @rule(data=st.data(), pick=st.integers(0, 9), outcome=st.sampled_from(["dismissed", "upheld", "withdrawn"]),
          explain=st.sampled_from(["已核实", "已核实", None]))
    def resolve_objection(self, data, pick, outcome, explain):
        objections = self.session.execute(select(Objection.id, Objection.case_id).order_by(Objection.id)).all()
        objection_id, case_id = objections[pick % len(objections)] if objections else (10 ** 6, self.cases[0])
        union = self.session.get(Case, case_id).union_id
        heads = [name for name, actor in self.actors.items() if actor.role == "head" and actor.union_id == union]
        actor = data.draw(st.sampled_from(heads) | st.sampled_from(ACTORS), label="actor")
        self.act(actor, lambda who: verbs.resolve_objection(self.session, who, self.clock, objection_id, outcome,
                                                               explain),
                 lambda objection: Expected(case_id, "resolve_objection"))

    # ------------------------------------------------------------ claims and reveals

    @rule(data=st.data())
    def claim(self, data):
        case_id, actor = self.choose(data, ("reviewer", "finance"), (State.entered, State.district_approved))
        held = self.session.get(Case, case_id).claimed_by_id
        already = held is not None and held == self.actors[actor].id

        def expect(claimed: Case) -> Expected:
            assert claimed.claimed_by_id == self.actors[actor].id
            # Claiming a case one holds already is no change.
            return Expected(case_id, "claim", bump=not already, event=not already)

        self.act(actor, lambda who: verbs.claim(self.session, who, self.clock, case_id), expect)

    @rule(data=st.data())
    def release(self, data):
        case_id, actor = self.choose(data, ("reviewer", "finance"), (State.entered, State.district_approved))
        self.act(actor, lambda who: verbs.release(self.session, who, self.clock, case_id),
                 lambda released: Expected(case_id, "release"))

    @rule(data=st.data(), field=st.sampled_from(["id_number", "bank_account"]))
    def reveal(self, data, field):
        case_id, actor = self.choose(data, ("cadre", "head", "reviewer", "finance"))
        # A reveal changes nothing in the case, but it is audited.
        self.act(actor, lambda who: verbs.reveal(self.session, who, self.clock, case_id, field),
                 lambda number: Expected(case_id, "reveal", bump=False))

    # ------------------------------------------------------------ time

    @rule(hours=st.integers(1, 10 * 24))
    def wait(self, hours):
        self.clock.advance(hours=hours)

    # ------------------------------------------------------------ after every step

    @invariant()
    def states_are_states(self):
        assert all(state in State.__members__ for state, _ in self.model.values())

    @invariant()
    def the_chain_verifies(self):
        assert audit.verify(self.session) == audit.Verification(True, self.events)


def test_random_work_on_cases_keeps_the_table_the_versions_and_the_chain(engine: Engine, tmp_path: Path):
    run_state_machine_as_test(lambda: Workflows(engine, tmp_path), settings=SETTINGS)
