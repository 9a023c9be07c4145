"""The lists' search by part of a name, or by an ID number's last four, reads the pieces in name_grams
(workflows/infra/search.py) instead of every row, and answers exactly what reading every row answered; the pieces
follow the names as the verbs change them."""

from __future__ import annotations

import pytest

from sqlalchemy import select

from tests.factories import case_data, id_number
from workflows import verbs
from workflows.infra import search
from workflows.models import NameGram
from workflows.reads import archives, worklists

HEADS = ["王建国", "王建", "李建国", "欧阳小明", "王小建", "建华", "张三", "Wang Jian"]
SPOUSES = ["李秀英", "王建英", "赵建", "周小明", "陈国", "刘英", "孙秀", "Li Xiu"]


def found(session, actor, q: str) -> tuple[list[int], list[int]]:
    """The ids the case list and the archive list show for `q`, in their order."""
    cases = worklists.cases(session, actor, worklists.Filters(q=q), per_page=100).items
    held = archives.listing(session, actor, archives.ArchiveFilters(q=q), per_page=100).items
    return [c.id for c in cases], [a.id for a in held]


def pieces_are_whole(session) -> bool:
    """The pieces held are those a rebuild from the names would write: none missing, none left over."""
    session.flush()
    rows = select(NameGram.kind, NameGram.gram, NameGram.owner_id)
    held = set(session.execute(rows))
    with session.begin_nested() as rebuilt:
        search.rebuild(session.connection())
        whole = set(session.execute(rows))
        rebuilt.rollback()
    return held == whole and bool(held)


def searches(session, cases) -> list[str]:
    """Every one-, two- and three-character piece of every name and mask's last four, and some text none holds."""
    texts = [*HEADS, *SPOUSES]
    asked = {text[i:i + size] for text in texts for size in (1, 2, 3) for i in range(len(text) - size + 1)}
    asked |= {case.id_masked[-4:] for case in cases} | {m.id_masked[-4:] for case in cases for m in case.members}
    return sorted(asked | {"王建国英", "鑫", "0000", "建 国", "%", "_", "王%", "wang", "WANG", "jIAN", "g j"})


def test_every_search_answers_what_reading_every_row_answers(session, make, monkeypatch):
    union = make.union()
    cases = []
    for head, spouse in zip(HEADS, SPOUSES):
        data = case_data(applicant={"name": head, "gender": "male", "id_number": id_number(), "phone": "13912345678",
                                    "employer": "华光机械厂"})
        data["household"]["members"][0]["name"] = spouse
        cases.append(make.draft(union, **data))
    session.flush()
    reviewer, cadre = make.person("reviewer"), make.person("cadre", union)
    asked = searches(session, cases)
    narrowed = {(who.id, q): found(session, who, q) for who in (reviewer, cadre) for q in asked}
    monkeypatch.setattr(search, "owners_matching", lambda kind, q: None)  # every row read, as before the pieces
    for (who_id, q), answer in narrowed.items():
        who = reviewer if who_id == reviewer.id else cadre
        assert answer == found(session, who, q), q
    assert narrowed[(cadre.id, "建")][1] and narrowed[(cadre.id, "王建")][0]  # the searches do find households


@pytest.fixture
def household(session, make):
    union = make.union()
    case = make.draft(union)  # 王建国, spouse 李秀英
    session.flush()
    return case, make.person("cadre", union)


def test_the_pieces_follow_an_edited_archive_and_its_members(session, make, clock, household):
    case, cadre = household
    archive = case.archive
    assert archive.id in found(session, cadre, "秀英")[1]
    verbs.edit_archive(session, cadre, clock, archive.id, archive.version,
                       {"applicant": {"name": "赵卫东"},
                        "household": {"members": [{"name": "钱丽华", "relation": "配偶", "id_number": id_number(male=False),
                                                   "monthly_income": "800", "health": "良好", "occupation": "无业"}]}})
    session.flush()
    assert archive.id in found(session, cadre, "卫东")[1] and archive.id in found(session, cadre, "丽华")[1]
    assert archive.id not in found(session, cadre, "秀英")[1]  # the member removed
    assert archive.id not in found(session, cadre, "建国")[1]  # the head renamed
    assert case.id in found(session, cadre, "建国")[0]  # the application keeps the name it was made with
    assert pieces_are_whole(session)


def test_the_pieces_of_removed_members_go(session, make, clock, household):
    case, cadre = household
    archive = case.archive
    verbs.edit_archive(session, cadre, clock, archive.id, archive.version, {"household": {"members": []}})
    assert pieces_are_whole(session)


def test_the_pieces_follow_an_edited_case(session, make, clock, household):
    case, cadre = household
    verbs.edit_case(session, cadre, clock, case.id, case.version, {"applicant": {"name": "孙立平"}})
    session.flush()
    assert case.id in found(session, cadre, "立平")[0]
    assert case.id not in found(session, cadre, "建国")[0]
    assert case.id in found(session, cadre, case.id_masked[-4:])[0]
    assert pieces_are_whole(session)
