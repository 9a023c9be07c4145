"""The main forms fuzzed with hostile text (issue 15): control characters and line breaks, %-formats, tags,
quotes, template braces, digits of other scripts, emoji, very long strings, in every text input of the new case
form, the archive edit, the campaign and union admin, and the comments and objections. Whatever is sent, the answer
is never a server error, a refusal stores nothing, and what is stored holds no control character (nor a line
break, outside the free texts). Small and derandomized, so that it stays fast and the same in CI."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from workflows.models import Archive, ArchiveMember, AuditEvent, Campaign, Case, Member, Objection, Union
from workflows.states import State

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

PIECES = ["<script>alert(1)</script>", '"><input name=bank_account>', "<meta http-equiv=refresh content=0>", "%",
          "%(x)s", "%s", "{{7*7}}", "'", '"', "\n", "\r\n", "\r", "\t", "\x07", "\x0b", "\x1b", "\x7f", "\x85",
          "\u2028", "\u202e", "\x00", "١٢٣٤٥٦٧٨٩٠", "１２３４５６", "😀", "王", "110105 1949 1231 002X"]
# Lone surrogates are left out: no browser can send one (UTF-8 cannot encode it).
CHARACTERS = st.characters(exclude_categories=("Cs",))
HOSTILE = st.one_of(
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(CHARACTERS, max_size=4)), min_size=1, max_size=6)
    .map("".join),
    st.text(CHARACTERS, max_size=30),
    st.tuples(st.sampled_from(["长", "x", "%", "<b>", "\n"]), st.integers(60, 3000)).map(lambda p: p[0] * p[1]),
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LINE_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MODELS = (Case, Member, Archive, ArchiveMember, Objection, Union, Campaign, AuditEvent)


def counts(world) -> tuple[int, ...]:
    world.session.commit()  # a fresh look at the database
    return tuple(world.session.scalar(select(func.count()).select_from(model)) for model in MODELS)


def fields(names: list[str], always: str | None = None) -> st.SearchStrategy[dict[str, str]]:
    """One to three of `names` (`always` among them), each with hostile text; the others are left out, so that
    many posts are saved."""
    some = st.dictionaries(st.sampled_from(names), HOSTILE, min_size=0 if always else 1, max_size=2 if always else 3)
    return st.tuples(some, HOSTILE).map(lambda drawn: drawn[0] | {always: drawn[1]}) if always else some


@pytest.fixture
def desk(world):
    union = world.default_union()
    people = {role: world.person(role, union) for role in ("cadre", "head", "reviewer")}
    people["admin"] = world.person("admin")
    publicized = world.case(State.publicized)
    entered = world.case(State.entered)
    draft = world.draft()
    world.session.commit()
    return people, {"P": publicized, "E": entered, "D": draft, "union": union}


def check(world, response, before, stored=lambda: []) -> None:
    """No server error; a refusal stores nothing; what this post stored holds no control character. `stored` gives
    (value, may it hold line breaks) of what the post wrote, read only once it was accepted."""
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code != 302:
        assert counts(world) == before, response.status_code
        return
    world.session.commit()  # a fresh look: the read of `before` began a transaction that does not see the post
    world.session.expire_all()
    for value, multiline in stored():
        assert not (CONTROL if multiline else LINE_BREAK).search(value or ""), repr(value)


# The case form's text inputs, and where a case or an archive keeps each (None: a number, normalised or refused).
CASE_TEXTS = {"applicant.name": "applicant_name", "applicant.id_number": None, "applicant.phone": "phone",
              "applicant.employer": "employer", "household.housing": "housing",
              "household.members-0-name": None, "household.members-0-relation": None,
              "household.members-0-id_number": None, "household.members-0-health": None, "bank_account": None,
              "category_reason": "category_reason", "aid.goods_items": "goods_items",
              "aid.amount_reason": "amount_reason", "household.annual_income": None}
MULTILINE = {"category_reason", "goods_items", "amount_reason"}


def written(record, typed) -> list[tuple[str, bool]]:
    record_fields = [CASE_TEXTS[name] for name in typed if CASE_TEXTS.get(name) and hasattr(record, CASE_TEXTS[name])]
    values = [(getattr(record, name), name in MULTILINE) for name in record_fields]
    if any(name.startswith("household.members-0") for name in typed):
        values += [(m.name, False) for m in record.members] + [(m.relation, False) for m in record.members]
        values += [(m.health, False) for m in record.members]
    return values


def test_the_new_case_form(pages, world, desk):
    people, records = desk
    cadre = pages.as_(people["cadre"])
    campaign = str(world.default_campaign().id)

    @SETTINGS
    @given(typed=fields(list(CASE_TEXTS)))
    def post(typed):
        before = counts(world)
        response = cadre.post("/cases/new", {"campaign": campaign, "applicant.name": "王五", **typed, "save": "1"})
        check(world, response, before,
              lambda: written(world.session.scalar(select(Case).order_by(Case.id.desc()).limit(1)), typed))

    post()


def test_the_archive_edit(pages, world, desk):
    people, records = desk
    cadre = pages.as_(people["cadre"])
    archive_id = records["D"].archive_id

    @SETTINGS
    @given(typed=fields([name for name in CASE_TEXTS if not name.startswith("aid.")]))
    def post(typed):
        before = counts(world)
        archive = world.session.get(Archive, archive_id)
        world.session.refresh(archive)
        response = cadre.post(f"/archives/{archive_id}/edit", {"version": str(archive.version), **typed,
                                                                "save": "1"})
        check(world, response, before, lambda: written(world.session.get(Archive, archive_id), typed))

    post()


def newest(world, column) -> list[tuple[str, bool]]:
    return [(world.session.scalar(select(column).order_by(column.class_.id.desc()).limit(1)), False)]


def test_the_campaign_form(pages, world, desk):
    people, records = desk
    admin = pages.as_(people["admin"])
    dates = {"starts_on": "2018-01-01", "ends_on": "2018-02-28", "deadline_day": "2018-01-25",
             "publicity_days": "5", "reminder_days": "7,3,1"}

    @SETTINGS
    @given(typed=fields(["reminder_days", "budget", "cap_per_year", "publicity_days"], always="name"))
    def post(typed):
        before = counts(world)
        response = admin.post("/admin/campaigns/new", {**dates, **typed})
        check(world, response, before, lambda: newest(world, Campaign.name))

    post()


def test_the_union_form(pages, world, desk):
    people, records = desk
    admin = pages.as_(people["admin"])
    parent = world.district().code

    @SETTINGS
    @given(typed=fields(["code"], always="name"), n=st.integers(1, 10**6))
    def post(typed, n):
        before = counts(world)
        response = admin.post("/admin/unions", {"code": f"F{n}", "parent": parent, "kind": "grassroots", **typed})
        check(world, response, before, lambda: newest(world, Union.name))

    post()


def test_objections_and_comments(pages, world, desk):
    people, records = desk
    cadre, reviewer = pages.as_(people["cadre"]), pages.as_(people["reviewer"])
    publicized = records["P"]
    entered = [records["E"], *(world.case(State.entered) for _ in range(3))]  # each return takes one
    world.session.commit()

    @SETTINGS
    @given(text=HOSTILE, which=st.sampled_from(["objection", "return"]))
    def post(text, which):
        before = counts(world)
        if which == "objection":
            response = cadre.post(f"/cases/{publicized.id}/objections", {"statement": text})
            check(world, response, before, lambda: [(v, True) for v, _ in newest(world, Objection.statement)])
        else:  # the reviewer returns an entered case with a comment (once none is left: refused, as stale)
            for case in entered:
                world.session.refresh(case)
            case = next((c for c in entered if c.state == State.entered), entered[0])
            response = reviewer.post(f"/cases/{case.id}/act", {"trigger": "district_return",
                                                                "version": str(case.version), "comment": text})
            check(world, response, before, lambda: [(world.session.scalar(
                select(AuditEvent.comment).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq.desc())
                .limit(1)), True)])

    post()
