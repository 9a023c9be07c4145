"""One of every record the screens show, in the own union, with the other union's cadre and head: the scene of the
access table (tests/web/test_screen_access.py) and of the browser's visit to every page (tests/browser/)."""

from __future__ import annotations

from sqlalchemy import select

from workflows import verbs
from workflows.infra.outbox import notify
from workflows.models import NoticePosting
from workflows.states import State

from .factories import PDF, Factory

ROLES = ("cadre", "head", "reviewer", "finance", "auditor", "admin")


def build_scene(world: Factory):
    """(people by caller, ids by the access table's placeholders)."""
    union, other = world.default_union(), world.union("红星纺织厂工会")
    people = {role: world.person(role, union) for role in ROLES}
    people["cadre_b"], people["head_b"] = world.person("cadre", other), world.person("head", other)
    draft = world.draft()
    world.attach(draft, ["application"])
    publicized = world.case(State.publicized)
    objection = verbs.record_objection(world.session, people["cadre"], world.clock, publicized.id, "有人反映情况不实")
    entered, approved = world.case(State.entered), world.case(State.district_approved)
    note = notify(world.session, key="access-test", account_id=people["cadre"].id, kind="returned", text="测试通知",
                  now=world.clock.now(), case_id=draft.id)
    summary = verbs.submit_summary(world.session, people["cadre"], world.clock, world.uploads,
                                   world.default_campaign().id, "本单位活动总结", ("总结.pdf", PDF))
    returned = world.case(State.payment_returned)
    batch = verbs.create_batch(world.session, people["finance"], world.clock, [world.case(State.district_approved).id])
    # A fraud finding, so that /fraud/ is shown with its table of cases: the approved case's amount at the cap per
    # payment (workflows/reads/fraud.py caps).
    world.default_campaign().cap_per_payment = approved.aid_amount
    world.session.commit()
    ids = {"RT": returned.id, "B": batch.id, "D": draft.id, "doc": draft.documents[0].id, "E": entered.id,
           "P": publicized.id, "O": objection.id, "A": approved.id, "N": note.id, "S": summary.id,
           "C": world.default_campaign().id, "U": union.code, "me": people["admin"].id, "R": draft.archive_id,
           "NP": world.session.scalar(select(NoticePosting.id).where(NoticePosting.union_id == union.id))}
    return people, ids
