"""The household archive screens (一户一档): the list with its filters and search, the archive page (numbers masked,
the national form's fields, applications by year, timeline, diagram), each move's button and its refusal with the
reason, the archive form (a number already in another union's archive refused beside its input), a transfer and
who sees the archive after it, a merge, the carry-over of a new campaign and the inbox's count of it, and English."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import func, select

from workflows import verbs
from workflows.infra.clock import LOCAL
from workflows.inputs import parse_deadline
from workflows.models import Archive, AuditEvent, Case, Union
from workflows.states import State

from ..conftest import START
from ..factories import bank_account, case_data, id_number
from .conftest import snapshot


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(client) -> list[str]:
    with client.client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def household(name: str = "王建国", number: str | None = None, *members: str, **extra) -> dict:
    """An archive's input: the case body without the aid; `members` are ID numbers of children."""
    data = case_data(**extra)
    data.pop("aid")
    data["applicant"] = {**data["applicant"], "name": name, "id_number": number or id_number()}
    data["household"]["members"] = [{"name": f"{name[0]}小{i}", "relation": "子女", "id_number": m}
                                    for i, m in enumerate(members, 1)]
    return data


def opened(world, union, name: str = "王建国", number: str | None = None, *members: str, **extra) -> Archive:
    """An archive opened by the union's cadre (建档中)."""
    return verbs.create_archive(world.session, world.person("cadre", union), world.clock,
                                household(name, number, *members, **extra))


def fresh(world, model, key):
    """The record as the database holds it now (the test's session ends its transaction: on SQLite a read
    transaction keeps its snapshot)."""
    world.session.commit()
    world.session.expire_all()
    return world.session.get(model, key)


def everything(world) -> tuple:
    """What a refused request must leave as it was: the cases, members, documents and events, and the archives."""
    counts = snapshot(world)
    return counts, world.session.scalar(select(func.count()).select_from(Archive))


@pytest.fixture
def unions(world):
    return world.union("第一机床厂工会"), world.union("红星纺织厂工会")


@pytest.fixture
def last_winter(world, unions):
    """Last winter's campaign, in which some households of the first union were helped (their archives 在档); then
    this winter's campaign, open now (the tests' clock)."""
    world.clock.set(dt.datetime(2017, 1, 5, 9, 0, tzinfo=LOCAL))
    past = world.campaign(name="2017年元旦春节送温暖", deadline=parse_deadline("2017-01-25"))
    first, _second = unions
    helped = {}
    for name in ("张建华", "李国庆", "赵淑芬"):
        case = world.case(State.disbursed, first, past,
                          applicant={"name": name, "gender": "male", "id_number": id_number(),
                                     "phone": "13912345678", "employer": "第一机床厂"})
        helped[name] = case.archive
    world.clock.set(START)
    now = world.default_campaign()
    world.session.commit()
    return past, now, helped


# ---------------------------------------------------------------- the list

def test_the_list_filters_searches_and_masks(pages, world, unions):
    first, second = unions
    a = opened(world, first, "张建华", category="deep", worker_group="hardship_worker")
    b = opened(world, first, "李秀英", category="relative", worker_group="migrant_worker")
    c = opened(world, second, "王大明", category="deep", worker_group="model_worker")
    world.session.commit()
    reviewer = pages.as_(world.person("reviewer"))

    def names(path: str) -> set[str]:
        page = text(reviewer.get(path))
        return set(re.findall(r'href="/archives/\d+">([^<]+)</a>', page))

    assert names("/archives/") == {"张建华", "李秀英", "王大明"}
    assert names(f"/archives/?union={second.code}") == {"王大明"}
    assert names("/archives/?category=deep") == {"张建华", "王大明"}
    assert names("/archives/?worker_group=migrant_worker") == {"李秀英"}
    assert names("/archives/?status=active") == set()
    assert names("/archives/?status=pending") == {"张建华", "李秀英", "王大明"}
    assert names("/archives/?q=秀") == {"李秀英"}
    assert names(f"/archives/?q={c.id_number[-4:]}") == {"王大明"}
    assert names(f"/archives/?q={c.id_number[5:9]}") == set()  # never digits from inside a number

    page = text(reviewer.get("/archives/"))
    for record in (a, b, c):
        assert record.id_number not in page and record.masked_id_number in page
    assert "建档中" in page and "共 3 户" in page
    # A union's people see their own union's archives, and no union filter.
    cadre = text(pages.as_(world.person("cadre", second)).get("/archives/"))
    assert "王大明" in cadre and "张建华" not in cadre and 'name="union"' not in cadre
    assert 'href="/archives/new"' in cadre  # cadres open archives


def test_a_household_found_by_a_member_says_which_member(pages, world, unions):
    first, _second = unions
    child = id_number()
    opened(world, first, "张建华", None, child)
    opened(world, first, "李秀英")
    world.session.commit()
    reviewer = pages.as_(world.person("reviewer"))
    by_name = text(reviewer.get("/archives/?q=小1"))
    assert ">张建华</a> <span class=\"muted found-members\">（家庭成员：张小1）</span>" in by_name
    assert "李秀英" not in by_name
    assert "（家庭成员：张小1）" in text(reviewer.get(f"/archives/?q={child[-4:]}"))
    assert "家庭成员：" not in text(reviewer.get("/archives/?q=建华"))  # found by the head: nothing to explain
    reviewer.client.set_cookie("lang", "en")
    assert "(household member matched: 张小1)" in text(reviewer.get("/archives/?q=小1"))


def test_the_list_pages_twenty_at_a_time(pages, world, unions):
    first, _second = unions
    for i in range(23):
        opened(world, first, f"职工{i:02d}")
    world.session.commit()
    client = pages.as_(world.person("head", first))
    one = text(client.get("/archives/"))
    # The next page's link carries the last archive's key (keyset pagination), and `page=2` alone still works.
    [link] = re.findall(r'href="(/archives/\?page=2&after=[0-9.]+)"', one)
    two = text(client.get(link))
    by_page = text(client.get("/archives/?page=2"))
    assert "共 23 户，第 1 / 2 页" in one and "第 2 / 2 页" in two
    assert re.findall(r'href="/archives/\d+"', two) == re.findall(r'href="/archives/\d+"', by_page)
    assert len(re.findall(r'href="/archives/\d+"', one)) == 20 and len(re.findall(r'href="/archives/\d+"', two)) == 3
    assert 'href="/archives/new"' not in one  # a head opens none


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_others_have_no_archives(pages, world, unions, role):
    response = pages.as_(world.person(role)).get("/archives/")
    assert response.status_code == 403 and "只有" in text(response)
    assert 'href="/archives/"' not in text(response).split("<main")[0]  # nor is it in their header


# ---------------------------------------------------------------- the page

def test_the_page_shows_the_household_masked_its_history_and_its_status(pages, world, unions, last_winter):
    past, now, helped = last_winter
    record = helped["张建华"]
    verbs.edit_archive(world.session, world.person("cadre", unions[0]), world.clock, record.id, record.version,
                       {"national": {"archive_type": "urban_worker", "political": "party_member", "hukou": "agricultural",
                                     "hukou_area": "110105", "floor_area": "45.5", "single_parent": True,
                                     "national_number": "GH-0001"},
                        "causes": {"primary": "laid_off", "secondary": ["schooling", "uninsured"]},
                        "household": {"annual_income": "24000", "housing": "租住公房",
                                      "members": [{"name": "张小明", "relation": "儿子",
                                                   "id_number": id_number(dt.date(2008, 5, 1))}]}})
    world.session.commit()
    world.session.refresh(record)
    [case] = record.cases
    page = text(pages.as_(world.person("cadre", unions[0])).get(f"/archives/{record.id}"))

    for shown in ("张建华", "在档", record.masked_id_number, record.masked_bank_account, "第一机床厂工会",
                  "城镇困难职工", "中共党员", "农业", "110105", "45.50", "GH-0001", "下岗失业", "子女上学、未参加社会保险",
                  "张小明", "儿子", record.members[0].id_number[:6] + "********", "2017年", past.name, "增量",
                  "已发放", "建立档案", "修改户档案", "区总审定通过"):
        assert shown in page, shown
    for number in (record.id_number, record.bank_account, record.members[0].id_number):
        assert number not in page
    assert f'href="/cases/{case.id}"' in page  # the application, linked for one who may open it
    assert re.search(r'<g data-state="active" aria-current="step">', page)  # the diagram, its status highlighted
    assert 'data-flow="archive"' in page and "转移到其他工会（状态不变）" in page
    # A cadre applies in the open campaign, and moves nothing.
    assert f'name="campaign" value="{now.id}"' in page and "申请本活动帮扶" in page
    assert 'name="trigger"' not in page


def test_an_archive_of_another_union_is_not_found(pages, world, unions):
    record = opened(world, unions[0])
    world.session.commit()
    for role in ("cadre", "head"):
        client = pages.as_(world.person(role, unions[1]))
        assert client.get(f"/archives/{record.id}").status_code == 404
        assert client.get(f"/archives/{record.id}/edit").status_code == 404


# ---------------------------------------------------------------- the moves and their refusals

def form_of(page: str, trigger: str) -> str:
    match = re.search(rf'<details class="move" id="move-{trigger}"[^>]*>(.*?)</details>', page, re.S)
    assert match, trigger
    return match.group(1)


REFUSED = [
    # (who, trigger, what is sent, the reason shown in that move's form)
    ("head", "exit", {}, "请填写脱困的说明"),
    ("head", "deregister", {"comment": "本人去世"}, "请选择注销的原因"),
    ("reviewer", "deregister", {"comment": "本人去世", "reason": "no-such-reason"}, "请选择注销的原因"),
    ("reviewer", "transfer", {"comment": "原单位关闭"}, "请选择接收档案的基层工会"),
    ("reviewer", "transfer", {"comment": "原单位关闭", "union": "OWN"}, "档案已在该工会"),
]


@pytest.mark.parametrize("who,trigger,sent,reason", REFUSED, ids=[f"{w}-{t}-{r}" for w, t, _s, r in REFUSED])
def test_each_move_refused_says_why_beside_its_button_and_changes_nothing(pages, world, unions, last_winter, who,
                                                                          trigger, sent, reason):
    record = last_winter[2]["李国庆"]
    client = pages.as_(world.person(who, unions[0]))
    sent = {name: unions[0].code if value == "OWN" else value for name, value in sent.items()}
    before = everything(world)

    response = client.post(f"/archives/{record.id}/act", {"trigger": trigger, "version": str(record.version),
                                                          **sent})

    page = text(response)
    assert response.status_code == 409
    form = form_of(page, trigger)
    assert reason in form and 'role="alert"' in form
    assert re.search(rf'<details class="move" id="move-{trigger}" open>', page)
    if "comment" in sent:
        assert f">{sent['comment']}</textarea>" in form  # what was typed stays
    assert everything(world) == before


def test_a_move_blocked_now_shows_its_reason_and_is_refused_with_it(pages, world, unions, last_winter):
    """An archive with an application being handled cannot be exited, closed or transferred."""
    past, now, helped = last_winter
    record = helped["赵淑芬"]
    [case] = verbs.apply_for(world.session, world.person("cadre", unions[0]), world.clock, now.id, [record.id])
    world.session.commit()
    head = pages.as_(world.person("head", unions[0]))
    page = text(head.get(f"/archives/{record.id}"))
    blocked = re.search(r'<p class="blocked" id="blocked-exit">(.*?)</p>', page, re.S).group(1)
    assert "disabled" in blocked and f"#{case.id}" in blocked and "办结后才能脱困" in blocked
    assert 'id="move-exit"' not in page
    before = everything(world)
    response = head.post(f"/archives/{record.id}/act", {"trigger": "exit", "version": str(record.version),
                                                        "comment": "已脱困"})
    assert response.status_code == 409 and "办结后才能脱困" in text(response)
    assert everything(world) == before


def test_a_stale_page_is_refused(pages, world, unions, last_winter):
    record = last_winter[2]["李国庆"]
    seen = record.version
    head = world.person("head", unions[0])
    verbs.edit_archive(world.session, head, world.clock, record.id, seen, {"applicant": {"phone": "13700000000"}})
    world.session.commit()
    client = pages.as_(head)
    before = everything(world)
    response = client.post(f"/archives/{record.id}/act", {"trigger": "exit", "version": str(seen),
                                                          "comment": "经复核收入已超标准"})
    assert response.status_code == 409 and "已被他人修改" in text(response)
    assert everything(world) == before


def test_a_head_exits_a_household_and_brings_it_back(pages, world, unions, last_winter):
    record = last_winter[2]["李国庆"]
    head = pages.as_(world.person("head", unions[0]))
    page = text(head.get(f"/archives/{record.id}"))
    assert "脱困" in form_of(page, "exit") and 'id="move-transfer"' not in page  # a reviewer's move
    response = head.post(f"/archives/{record.id}/act", {"trigger": "exit", "version": str(record.version),
                                                        "comment": "家庭收入连续六个月超过标准"})
    assert response.status_code == 302 and "档案现为「脱困」" in " ".join(flashes(head))
    record = fresh(world, Archive, record.id)
    assert record.status == "exited"
    page = text(head.get(f"/archives/{record.id}"))
    assert "家庭收入连续六个月超过标准" in page and 'id="move-reactivate"' in page
    response = head.post(f"/archives/{record.id}/act", {"trigger": "reactivate", "version": str(record.version),
                                                        "comment": "再次患病"})
    assert response.status_code == 302, re.findall(r'role="alert">([^<]*)<', text(response))
    assert fresh(world, Archive, record.id).status == "active"


def test_a_head_closes_an_archive_with_its_reason(pages, world, unions):
    record = opened(world, unions[0], "钱德明")
    world.session.commit()
    head = pages.as_(world.person("head", unions[0]))
    page = text(head.get(f"/archives/{record.id}"))
    options = form_of(page, "deregister")
    assert "死亡" in options and "value=\"merged\"" not in options  # a merge is the merge's own
    response = head.post(f"/archives/{record.id}/act", {"trigger": "deregister", "version": str(record.version),
                                                        "reason": "death", "comment": "本人已去世"})
    assert response.status_code == 302
    page = text(head.get(f"/archives/{record.id}"))
    assert "注销" in page and "原因：死亡" in page and 'href="/archives/%d/edit"' % record.id not in page


# ---------------------------------------------------------------- transfer and merge

def test_a_transfer_moves_the_archive_to_the_other_union(pages, world, unions, last_winter):
    first, second = unions
    record = last_winter[2]["张建华"]
    [old_case] = record.cases
    reviewer = pages.as_(world.person("reviewer"))
    page = text(reviewer.get(f"/archives/{record.id}"))
    assert f'<option value="{second.code}"' in form_of(page, "transfer")
    assert f'<option value="{first.code}"' not in form_of(page, "transfer")  # not where it is

    response = reviewer.post(f"/archives/{record.id}/act", {"trigger": "transfer", "version": str(record.version),
                                                            "union": second.code, "comment": "原单位关闭，职工调入"})
    assert response.status_code == 302 and "红星纺织厂工会" in " ".join(flashes(reviewer))

    old, new = pages.as_(world.person("cadre", first)), pages.as_(world.person("cadre", second))
    assert old.get(f"/archives/{record.id}").status_code == 404
    assert old.get(f"/cases/{old_case.id}").status_code == 200  # the old application stays with its union
    page = text(new.get(f"/archives/{record.id}"))
    assert "红星纺织厂工会" in page and "转移到其他工会" in page and "原单位关闭，职工调入" in page
    assert f"案件#{old_case.id}" in page and f'href="/cases/{old_case.id}"' not in page  # listed, not theirs
    assert "张建华" in text(new.get("/archives/")) and "张建华" not in text(old.get("/archives/"))


def test_a_reviewer_merges_a_duplicate(pages, world, unions, last_winter):
    first, second = unions
    kept = last_winter[2]["李国庆"]
    child = id_number(dt.date(2009, 2, 1))
    duplicate = opened(world, second, "李国庆（重复）", None, child)
    world.session.commit()
    reviewer = pages.as_(world.person("reviewer"))

    for other, reason in ((str(kept.id), "不能与自身合并"), ("99999", "找不到档案#99999"), ("", "请填写要并入的档案编号")):
        before = everything(world)
        response = reviewer.post(f"/archives/{kept.id}/merge", {"other": other, "version": str(kept.version)})
        page = text(response)
        assert response.status_code == 400 and reason in page, other
        merge_form = re.search(r'<details class="move" id="merge" open>(.*?)</details>', page, re.S).group(1)
        assert reason in merge_form
        assert everything(world) == before

    response = reviewer.post(f"/archives/{kept.id}/merge", {"other": str(duplicate.id), "version": str(kept.version),
                                                            "comment": "同一户重复建档"})
    assert response.status_code == 302
    page = text(reviewer.get(f"/archives/{kept.id}"))
    assert "合并档案" in page and child[:6] + "********" + child[-4:] in page  # the member joined the household
    gone = text(reviewer.get(f"/archives/{duplicate.id}"))
    assert "注销" in gone and f'href="/archives/{kept.id}"' in gone and "合并" in gone
    # Merging the closed one again is refused, in words.
    response = reviewer.post(f"/archives/{kept.id}/merge", {"other": str(duplicate.id),
                                                            "version": str(fresh(world, Archive, kept.id).version)})
    assert response.status_code == 409 and "已注销" in text(response)


def test_only_reviewers_merge(pages, world, unions, last_winter):
    record = last_winter[2]["李国庆"]
    page = text(pages.as_(world.person("head", unions[0])).get(f"/archives/{record.id}"))
    assert 'id="merge"' not in page
    response = pages.as_(world.person("head", unions[0])).post(f"/archives/{record.id}/merge",
                                                               {"other": "1", "version": str(record.version)})
    assert response.status_code == 403 and "只有帮扶中心审核员可以合并档案" in text(response)


# ---------------------------------------------------------------- the archive form

def fields(**overrides) -> dict:
    values = {"applicant.name": "孙丽华", "applicant.gender": "female", "applicant.id_number": id_number(male=False),
              "applicant.phone": "13912345678", "applicant.employer": "第一机床厂", "worker_group": "hardship_worker",
              "category": "relative", "causes.primary": "serious_illness",
              "causes.secondary": ["schooling", "insurance_gap"], "household.annual_income": "30000",
              "household.housing": "自有住房", "household.members.0.name": "孙小雨",
              "household.members.0.relation": "女儿", "household.members.0.id_number": id_number(dt.date(2010, 4, 1)),
              "bank_account": bank_account(), "national.archive_type": "urban_worker", "national.marital": "divorced",
              "national.hukou_area": "110105", "national.single_parent": "y", "national.bank_name": "中国工商银行",
              "save": "1"}
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def test_a_cadre_opens_an_archive_with_the_national_fields(pages, world, unions):
    cadre = world.person("cadre", unions[0])
    world.session.commit()
    client = pages.as_(cadre)
    page = text(client.get("/archives/new"))
    assert 'name="national.hukou_area"' in page and '<option value="converted">农转居</option>' in page
    sent = fields()
    response = client.post("/archives/new", sent)
    assert response.status_code == 302
    record = world.session.scalars(select(Archive)).one()
    assert response.headers["Location"] == f"/archives/{record.id}"
    assert (record.applicant_name, record.status, record.union_id, record.id_number) == (
        "孙丽华", "pending", cadre.union_id, sent["applicant.id_number"])
    assert (record.primary_cause, record.secondary_causes) == ("serious_illness", ["schooling", "insurance_gap"])
    assert (record.archive_type, record.marital, record.hukou_area, record.single_parent, record.bank_name) == (
        "urban_worker", "divorced", "110105", True, "中国工商银行")
    assert [m.name for m in record.members] == ["孙小雨"]

    edit = text(client.get(f"/archives/{record.id}/edit"))
    assert sent["applicant.id_number"] not in edit and record.masked_id_number in edit  # masked, kept when empty
    assert re.search(r'<input checked[^>]*name="national.single_parent"', edit)
    response = client.post(f"/archives/{record.id}/edit", {
        **fields(**{"applicant.id_number": "", "household.members.0.id_number": "", "bank_account": "",
                    "national.hukou_area": "12345"}), "version": str(record.version)})
    assert response.status_code == 400 and 'id="national.hukou_area-error">格式不对' in text(response)


def test_a_number_in_another_unions_archive_is_refused_beside_its_input(pages, world, unions):
    first, second = unions
    child = id_number(dt.date(2009, 9, 9))
    holder = opened(world, first, "周福生", None, child)
    cadre = world.person("cadre", second)
    world.default_campaign()
    world.session.commit()
    client = pages.as_(cadre)
    before = everything(world)

    response = client.post("/archives/new", fields(**{"household.members.0.id_number": child}))

    page = text(response)
    assert response.status_code == 409
    message = re.search(r'id="household.members.0.id_number-error">([^<]+)<', page).group(1)
    assert "第一机床厂工会" in message and f"档案#{holder.id}" in message and "一户只能建一个档案" in message
    assert child not in message and f'value="{child}"' in page  # masked in the message, typed value kept
    assert 'href="#household.members.0.id_number"' in page  # and named in the summary
    assert everything(world) == before

    # The case form says the same, beside the applicant's ID input, when the household is another union's.
    response = client.post("/cases/new", {
        "campaign": str(world.default_campaign().id), "applicant.name": "周福生",
        "applicant.id_number": holder.id_number, "save": "1"})
    page = text(response)
    assert response.status_code == 409
    assert re.search(r'id="applicant.id_number-error">[^<]*第一机床厂工会', page)
    assert everything(world) == before


# ---------------------------------------------------------------- applying: one, and the carry-over

def test_a_cadre_applies_for_an_archive_in_the_open_campaign(pages, world, unions, last_winter):
    past, now, helped = last_winter
    record = helped["李国庆"]
    client = pages.as_(world.person("cadre", unions[0]))
    response = client.post(f"/archives/{record.id}/apply", {"campaign": str(now.id)})
    world.session.commit()
    case = world.session.scalars(select(Case).where(Case.campaign_id == now.id)).one()
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.id}/edit"
    assert (case.archive_id, case.application_kind, case.id_number, case.state) == (
        record.id, "existing", record.id_number, "drafted")
    page = text(client.get(f"/cases/{case.id}"))
    assert "存量" in page and f'href="/archives/{record.id}"' in page
    # Once applied, the button gives way to the reason, and a second application is refused with it.
    page = text(client.get(f"/archives/{record.id}"))
    assert f"一户在本活动中已有申请（案件#{case.id}）" in page and f'name="campaign" value="{now.id}"' not in page
    before = everything(world)
    response = client.post(f"/archives/{record.id}/apply", {"campaign": str(now.id)})
    assert response.status_code == 409 and "已有申请" in text(response)
    assert everything(world) == before


def test_the_carry_over_applies_for_many_at_once_from_the_archives(pages, world, unions, last_winter):
    past, now, helped = last_winter
    newcomer = opened(world, unions[0], "新建档户")  # 建档中: not carried over, it was never helped
    world.session.commit()
    client = pages.as_(world.person("cadre", unions[0]))

    page = text(client.get("/archives/carry-over"))
    listed = set(re.findall(r'<tr id="archive-(\d+)">', page))
    assert listed == {str(a.id) for a in helped.values()} and str(newcomer.id) not in listed
    assert past.name in page and now.name in page and "待结转 3 户" in page
    for record in helped.values():
        assert record.id_number not in page and record.masked_id_number in page
    assert not re.search(r'name="archive" value="\d+"[^>]*checked', page)
    everyone = text(client.get("/archives/carry-over?all=1"))
    assert len(re.findall(r'name="archive" value="\d+"[^>]*checked', everyone)) == 3  # 全部勾选

    chosen = [helped["张建华"], helped["赵淑芬"]]
    response = client.post("/archives/carry-over", {"campaign": str(now.id), "archive": [str(a.id) for a in chosen]})
    assert response.status_code == 302
    world.session.commit()
    cases = world.session.scalars(select(Case).where(Case.campaign_id == now.id).order_by(Case.id)).all()
    assert [c.archive_id for c in cases] == [a.id for a in chosen]
    for case, record in zip(cases, chosen):
        record = fresh(world, Archive, record.id)
        assert (case.applicant_name, case.id_number, case.bank_account, case.worker_group, case.primary_cause,
                case.secondary_causes, case.annual_income, case.state, case.application_kind, case.union_id) == (
            record.applicant_name, record.id_number, record.bank_account, record.worker_group, record.primary_cause,
            record.secondary_causes, record.annual_income, "drafted", "existing", unions[0].id)
        assert [(m.name, m.id_number) for m in case.members] == [(m.name, m.id_number) for m in record.members]

    page = text(client.get(response.headers["Location"]))
    assert "已为 2 户起草本活动的申请" in page
    created = re.search(r'<section class="card" id="created">(.*?)</section>', page, re.S).group(1)
    assert {f'href="/cases/{c.id}/edit"' in created for c in cases} == {True}
    assert set(re.findall(r'<tr id="archive-(\d+)">', page)) == {str(helped["李国庆"].id)}  # the one left


def test_a_second_carry_over_of_the_same_archive_is_refused(pages, world, unions, last_winter):
    past, now, helped = last_winter
    client = pages.as_(world.person("cadre", unions[0]))
    first = helped["张建华"]
    assert client.post("/archives/carry-over", {"campaign": str(now.id), "archive": [str(first.id)]}).status_code == 302
    before = everything(world)
    # The page the cadre still had open, sent again with another household ticked: all or none.
    response = client.post("/archives/carry-over", {"campaign": str(now.id),
                                                    "archive": [str(first.id), str(helped["李国庆"].id)]})
    page = text(response)
    assert response.status_code == 409
    error = re.search(r'id="carry-over-error">([^<]+)<', page).group(1)
    assert "张建华一户在本活动中已有申请" in error
    assert re.search(rf'name="archive" value="{helped["李国庆"].id}"[^>]*checked', page)  # what was ticked stays
    assert everything(world) == before
    nothing = client.post("/archives/carry-over", {"campaign": str(now.id)})
    assert nothing.status_code == 400 and "请选择要申请的档案" in text(nothing)


def test_the_carry_over_is_a_cadres_and_needs_an_open_campaign(pages, world, unions, last_winter):
    assert pages.as_(world.person("head", unions[0])).get("/archives/carry-over").status_code == 403
    world.clock.set(dt.datetime(2018, 3, 1, 9, tzinfo=LOCAL))  # this winter's deadline has passed
    page = text(pages.as_(world.person("cadre", unions[0])).get("/archives/carry-over"))
    assert "目前没有正在进行的送温暖活动" in page and 'name="archive"' not in page


def test_the_inbox_counts_the_carry_over(pages, world, unions, last_winter):
    past, now, helped = last_winter
    cadre = pages.as_(world.person("cadre", unions[0]))
    page = text(cadre.get("/inbox"))
    tile = re.search(r'<a href="([^"]+)" class="carry-over" id="carry-over"><b id="carry-over-count">(\d+)</b>'
                     r'待结转申请</a>', page)
    assert tile and tile.group(2) == "3" and tile.group(1) == f"/archives/carry-over?campaign={now.id}"
    cadre.post("/archives/carry-over", {"campaign": str(now.id), "archive": [str(helped["张建华"].id)]})
    assert 'id="carry-over-count">2<' in text(cadre.get("/inbox"))
    assert 'id="carry-over"' not in text(pages.as_(world.person("head", unions[0])).get("/inbox"))
    world.clock.set(dt.datetime(2018, 3, 1, 9, tzinfo=LOCAL))
    assert 'id="carry-over"' not in text(cadre.get("/inbox"))  # no campaign open, nothing to carry over


# ---------------------------------------------------------------- English

def test_the_archive_page_in_english(pages, world, unions, last_winter):
    record = last_winter[2]["张建华"]
    client = pages.as_(world.person("reviewer"))
    client.post("/language", {"lang": "en", "next": f"/archives/{record.id}"})
    page = text(client.get(f"/archives/{record.id}"))
    assert '<html lang="en">' in page
    for shown in ("Household archive", "Active", "Transfer to another union", "Household head and family",
                  "Applications by year", "Merge a duplicate archive", "National archive form"):
        assert shown in page, shown
    # Nothing of the screen's own is left in Chinese: only the data (names, unions, the campaign, comments).
    data = [record.applicant_name, record.union.name, last_winter[0].name, "第一机床厂", "红星纺织厂工会", "李秀英",
            *world.session.scalars(select(Union.name)),
            "配偶", "良好", "无业", "租住公房", "测试", "张干部", "李干部"] + [e.comment for e in world.session.scalars(
                select(AuditEvent).where(AuditEvent.comment.is_not(None)))]
    main = page.split("<main")[1]
    for value in sorted(data, key=len, reverse=True):
        main = main.replace(value, "")
    assert not re.search(r"[\u4e00-\u9fff]", main), re.findall(r"[\u4e00-\u9fff]+", main)
