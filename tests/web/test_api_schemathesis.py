"""Schemathesis over the whole JSON API: every operation of GET /api/v1/openapi.json, called in-process (WSGI, no
network) with the bearer token of a realistic account of each of several roles.

Checks on every answer: never a 5xx; a status code the document lists for the operation; the documented content
type and headers; a body matching the response schema; a token that is actually required (`ignored_auth`); and,
for the requests generated to break the request schema, a 4xx refusal (`negative_data_rejection`).

The requests, per operation and role:
- schemathesis's coverage phase, a fixed list: boundary values (up to the largest integers allowed), each enum
  member, missing and unexpected fields, wrong types, other methods and content types... (a few hundred cases,
  from `schema.iter_coverage_cases`). Its schema-breaking half runs for the cadre and the auditor only:
  such a request is refused by validation before the role matters, unless it slips through it, and these two
  roles take it furthest (the case verbs, the audit trail);
- hypothesis fuzzing (positive and negative), derandomized, no example database. Half of the positive examples
  aim their path parameters at records the caller can see, so that the 200 answers are checked, not only 404s.

test_hostile_text_and_moments_are_refused_not_crashed then sends, on every operation, what fuzzing meets only by
chance: a NUL character in each string, and extreme date-times.

The world: a union whose cadre has a case in every state (documents, an objection on the publicized one, a
notification for everyone), a draft with some documents, another union's case (outside the cadre's scope), the
head, the district reviewer, finance and the auditor. What one request changes stays for the next ones (the
database is committed, and emptied after the test by `committed`): every answer must conform whatever the state.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.errors import FailureGroup

from workflows import rules, verbs
from workflows.archive_states import ARCHIVE_TRIGGERS
from workflows.infra.outbox import notify
from workflows.states import TRIGGERS, State

pytestmark = pytest.mark.slow  # generated requests to every operation

ROLES = ["cadre", "head", "reviewer", "auditor"]
NEGATIVE_COVERAGE = {"cadre", "auditor"}
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}  # hypothesis examples per operation
SETTINGS = dict(
    derandomize=True,  # the same examples on every run and in CI
    database=None,  # and no example database carried between runs
    deadline=None,
    # No shrinking: the database keeps what earlier examples did, so a shrunk example would not replay the same.
    # A failure is reported as found, with its curl command.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, ignored_auth]
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
PER_OPERATION = 3  # failures reported per operation and role: the first few are enough to read


def build_world(world) -> dict[str, Any]:
    """Accounts of every role and cases in every state; the accounts, and the ids of the records."""
    union, other = world.union(), world.union("红星纺织厂工会")
    cadre = world.person("cadre", union)
    accounts = {"cadre": cadre, "head": world.person("head", union), "reviewer": world.person("reviewer"),
                "finance": world.person("finance"), "auditor": world.person("auditor")}
    cases = [world.case(state, union) for state in State]
    cases.append(world.case(State.entered, other))
    drafted = world.draft(union)
    world.attach(drafted, ["application", "bank_card"])
    cases.append(drafted)
    publicized = next(c for c in cases if c.state == State.publicized)
    objection = verbs.record_objection(world.session, cadre, world.clock, publicized.id, "申请人家中另有收入")
    notifications = [notify(world.session, key=f"schemathesis-{account.id}", account_id=account.id,
                            kind="reminder", text="请尽快处理案件", now=world.clock.now(), case_id=publicized.id)
                     for account in accounts.values()]
    world.session.flush()
    archives = sorted({case.archive for case in cases}, key=lambda archive: archive.id)
    # The district's spot check of 2018 (over the archives made active by the approved cases): its items.
    spot = verbs.draw_spot_check(world.session, accounts["reviewer"], world.clock, 2018, seed="schemathesis")
    # A payment batch of a district-approved case, for finance's batch routes.
    approved = next(c for c in cases if c.state == State.district_approved)
    batch = verbs.create_batch(world.session, accounts["finance"], world.clock, [approved.id])
    ids = {"accounts": accounts,
           "cases": cases,
           "case_id": [c.id for c in cases],
           "archives": archives,
           "archive_id": [a.id for a in archives],
           # Document ids are random: sorted by what is not, so that the examples are the same on every run.
           "documents": [(d.case_id, d.id) for d in sorted((d for c in cases for d in c.documents),
                                                           key=lambda d: (d.case_id, d.kind))],
           "objection_id": [(objection.case_id, objection.id)],
           "notification_id": [(n.account_id, n.id) for n in notifications],
           "item_id": [item.id for item in spot.items],
           "campaign_id": [world.default_campaign().id],
           "batch_id": [batch.id]}
    world.session.commit()
    return ids


def visible_to(account, ids) -> dict[str, list]:
    """The ids worth aiming at for `account`: of the records it can see (or all, where it sees none)."""
    seen = {case.id for case in ids["cases"] if rules.can_see(account, case)}
    mine = {
        "case_id": [i for i in ids["case_id"] if i in seen],
        "archive_id": [a.id for a in ids["archives"] if a.visible_to(account)],
        "documents": [pair for pair in ids["documents"] if pair[0] in seen],
        "objection_id": [i for case_id, i in ids["objection_id"] if case_id in seen],
        "notification_id": [i for owner, i in ids["notification_id"] if owner == account.id],
        "item_id": ids["item_id"], "campaign_id": ids["campaign_id"], "batch_id": ids["batch_id"],
    }
    everything = {"case_id": ids["case_id"], "archive_id": ids["archive_id"], "documents": ids["documents"],
                  "objection_id": [i for _, i in ids["objection_id"]],
                  "notification_id": [i for _, i in ids["notification_id"]], "item_id": ids["item_id"],
                  "campaign_id": ids["campaign_id"], "batch_id": ids["batch_id"]}
    return {name: mine[name] or everything[name] for name in mine}


def existing(operation, ids) -> st.SearchStrategy[dict[str, Any]] | None:
    """Path parameters naming records that exist, for the operations that take any."""
    names = {parameter.name for parameter in operation.path_parameters}
    if not names:
        return None
    if names == {"case_id", "document_id"}:
        return st.sampled_from(ids["documents"]).map(lambda pair: {"case_id": pair[0], "document_id": pair[1]})
    if names == {"year", "area"}:  # a minimum living standard: a real year and area code
        return st.sampled_from([{"year": 2018, "area": "110000"}, {"year": 2018, "area": "110105"}])
    if names == {"campaign_id", "category", "worker_group"}:  # a tariff: the campaign's, of real codes
        return st.sampled_from(ids["campaign_id"]).flatmap(lambda campaign: st.fixed_dictionaries(
            {"campaign_id": st.just(campaign), "category": st.sampled_from(["deep", "relative", "accident"]),
             "worker_group": st.sampled_from(["hardship_worker", "migrant_worker", "model_worker", "other"])}))
    (name,) = names
    return st.sampled_from(ids[name]).map(lambda value: {name: value})


# Bodies that name a real trigger and a plausible version: the document only says "a string" for the trigger,
# and a random one would never fire anything.
BODIES = {
    "/api/v1/cases/{case_id}/transitions": st.fixed_dictionaries(
        {"trigger": st.sampled_from(TRIGGERS), "version": st.integers(1, 12)},
        optional={"comment": st.sampled_from(["同意", "请补充材料"]), "payment_reference": st.just("ICBC-0001")}),
    "/api/v1/archives/{archive_id}/transitions": st.fixed_dictionaries(
        {"trigger": st.sampled_from(ARCHIVE_TRIGGERS), "version": st.integers(1, 12)},
        optional={"comment": st.just("原单位关闭"), "reason": st.sampled_from(["moved", "death"])}),
}


def fuzzing(operation, mode: GenerationMode, ids) -> st.SearchStrategy:
    generated = operation.as_strategy(generation_mode=mode)
    paths = existing(operation, ids)
    if paths is None or mode is GenerationMode.NEGATIVE:
        return generated
    aimed = paths.flatmap(lambda values: operation.as_strategy(generation_mode=mode, path_parameters=values))
    if operation.path in BODIES:
        aimed = st.one_of(aimed, st.tuples(paths, BODIES[operation.path]).flatmap(
            lambda drawn: operation.as_strategy(generation_mode=mode, path_parameters=drawn[0], body=drawn[1])))
    return st.one_of(aimed, generated)


def coverage(schema, operation, negative: bool) -> list:
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if negative else [GenerationMode.POSITIVE]
    config = schema.config.generation_for(operation=operation, phase="coverage")
    return list(schema.iter_coverage_cases(operation, generation_modes=modes, generation_config=config))


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_conforms_to_the_openapi_document(role, app, world):
    ids = build_world(world)
    account = ids["accounts"][role]
    aims = visible_to(account, ids)
    token = verbs.issue_token(world.session, world.clock, account)
    world.session.commit()

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 23

    answered: dict[str, set[int]] = {}

    def call(case) -> None:
        bearer = token
        if case.operation.path == "/api/v1/tokens/current":  # signing out revokes it: a fresh one each time
            bearer = verbs.issue_token(world.session, world.clock, account)
            world.session.commit()
        negative = case.meta is not None and case.meta.generation.mode is GenerationMode.NEGATIVE
        response = case.call_and_validate(headers={"Authorization": f"Bearer {bearer}"},
                                          checks=NEGATIVE_CHECKS if negative else CHECKS)
        if case.method.upper() == case.operation.method.upper():  # not the coverage phase's probes of other methods
            answered.setdefault(case.operation.label, set()).add(response.status_code)

    failures: list[str] = []
    for operation in operations:
        found: list[str] = []
        for case in coverage(schema, operation, negative=role in NEGATIVE_COVERAGE):
            try:
                call(case)
            except FailureGroup as group:
                found.append(f"{operation.label} as {role} (coverage, {case.meta.generation.mode.value}):\n{group}")
        for mode, examples in EXAMPLES.items():

            @settings(max_examples=examples, **SETTINGS)
            @given(case=fuzzing(operation, mode, aims))
            def fuzz(case) -> None:
                call(case)

            try:
                fuzz()
            except FailureGroup as group:
                found.append(f"{operation.label} as {role} (fuzzing, {mode.value}):\n{group}")
        failures.extend(found[:PER_OPERATION])
    assert not failures, "\n\n".join(failures)

    # The run reached past the door: the token worked, the aimed reads found cases, and many operations (not all:
    # a reviewer may not open a draft) answered a success at least once.
    assert 200 in answered["GET /api/v1/me"] and 200 in answered["GET /api/v1/cases/{case_id}"], answered
    succeeded = [label for label, statuses in answered.items() if any(200 <= s < 300 for s in statuses)]
    assert len(succeeded) >= 8, answered


def _with_nul(value: Any) -> list[Any]:
    """Copies of `value` (a JSON-like tree), each with one of its strings holding a NUL character instead of its
    first character (so that its length, hence its length limits, stay the same)."""
    if isinstance(value, str):
        return ["\x00" + value[1:]]
    if isinstance(value, dict):
        return [{**value, key: variant} for key, item in value.items() for variant in _with_nul(item)]
    if isinstance(value, list):
        return [[*value[:i], variant, *value[i + 1:]] for i, item in enumerate(value) for variant in _with_nul(item)]
    return []


# Written as the document allows (a date-time), but outside what a datetime can hold once in UTC: 500 before.
EXTREME_MOMENTS = ["0001-01-01T00:00:00", "9999-12-31T23:59:59-14:00"]


def test_hostile_text_and_moments_are_refused_not_crashed(app, world):
    """What the fuzzing above only meets by chance, on every operation: a NUL character in any string of the query
    or the body (PostgreSQL refuses to store or compare one: a 500 before), and the extreme moments of a date-time
    filter, each answered 400 invalid, as the document says. Built on a positive coverage case of each operation,
    so a new endpoint is covered as soon as it is in the document."""
    ids = build_world(world)
    token = verbs.issue_token(world.session, world.clock, ids["accounts"]["auditor"])  # every filter is open to it
    world.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    tried, wrong = 0, []
    for operation in (result.ok() for result in schema.get_all_operations()):
        cases = coverage(schema, operation, negative=False)
        if not cases:
            continue
        # The one with the most strings in it: every field filled in, where the operation has optional ones.
        base = max(cases, key=lambda case: len(_with_nul([case.query, case.body])))
        variants = [{"query": query} for query in _with_nul(dict(base.query or {}))]
        # Uploads (multipart) are judged by their file's content, and refused by role before it is read: a NUL
        # there is no text to store.
        if isinstance(base.body, dict) and base.media_type != "multipart/form-data":
            variants += [{"body": body} for body in _with_nul(base.body)]
        variants += [{"query": {**(base.query or {}), parameter.name: moment}}
                     for parameter in operation.query if "date-time" in str(parameter.definition.get("schema"))
                     for moment in EXTREME_MOMENTS]
        for variant in variants:
            data = {"path_parameters": base.path_parameters, "query": base.query,
                    "body": base.body, "media_type": base.media_type, **variant}
            tried += 1
            try:
                response = operation.Case(**data).call_and_validate(
                    headers={"Authorization": f"Bearer {token}"},
                    checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                            response_schema_conformance])
            except FailureGroup as group:
                wrong.append(f"{operation.label} {variant}:\n{group}")
                continue
            if response.status_code != 400 or response.json().get("error") != "invalid":
                wrong.append(f"{operation.label} {variant}: {response.status_code} {response.text[:200]}")
    assert tried >= 50
    assert not wrong, "\n".join(wrong)
