"""The auditor's screens: every event filtered, an event's changes, a case's history, the reveal log, the
verification of the chain and the exports. They show exactly what the database holds for a filter, change
nothing, never show a full personal number, name the first bad event after tampering, and are the auditor's only.
"""

from __future__ import annotations

import ast
import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from workflows import verbs
from workflows.actors import SYSTEM
from workflows.identity import mask_account, mask_id
from workflows.infra import audit
from workflows.infra.clock import LOCAL
from workflows.models import AuditHead, Base, Case
from workflows.states import State

from ..factories import bank_account, id_number
from .conftest import counting

ID, BANK, MEMBER_ID = id_number(), bank_account(), id_number(male=False)
OTHER_ID, OTHER_BANK = id_number(), bank_account()
FORMULA = '=HYPERLINK("http://example.com")'
K = 6  # the event the tamper tests change: in the middle of the chain


def html(response) -> str:
    return response.get_data(as_text=True)


def total(page: str) -> int:
    return int(re.search(r"共 (\d+) 条", page).group(1))


def seqs(page: str) -> list[int]:
    return [int(s) for s in re.findall(r'<tr id="event-(\d+)"', page)]


def sql(world, statement: str, **params) -> list:
    return world.session.execute(text(statement), params).all()


def raw(world, statement: str, **params) -> None:
    """What an intruder at the SQL prompt does, committed."""
    world.session.execute(text(statement), params)
    world.session.commit()


@pytest.fixture
def seeded(world, pages):
    """Two unions and two campaigns; a case with known numbers revealed by its cadre (through the case page) and a
    reviewer; a draft edited; a draft withdrawn with the full ID number and a formula typed into the comment; and
    an event written by a careless verb with an unmasked account number in its changes."""
    north, south = world.union("北方机械厂工会"), world.union("南方纺织厂工会")
    spring, winter = world.default_campaign(), world.campaign()
    known = world.case(State.district_approved, union=north, bank_account=BANK,
                       applicant={"name": "张建华", "gender": "male", "id_number": ID, "phone": "13912345678",
                                  "employer": "北方机械厂"},
                       household={"annual_income": "24000", "housing": "租住公房",
                                  "members": [{"name": "李秀英", "relation": "配偶", "id_number": MEMBER_ID,
                                               "monthly_income": "800", "health": "良好", "occupation": "无业"}]})
    world.clock.advance(hours=2)
    cadre, reviewer = world.person("cadre", north), world.person("reviewer")
    world.session.commit()
    revealed = pages.as_(cadre).post(f"/cases/{known.id}/reveal", {"field": "id_number"})
    assert revealed.status_code == 200 and ID in html(revealed)  # the cadre sees it; the audit screens never will
    world.clock.advance(days=1)
    verbs.reveal(world.session, reviewer, world.clock, known.id, "bank_account")
    world.case(State.publicized, union=south, campaign=winter)
    edited = world.case(State.drafted, union=north)
    verbs.edit_case(world.session, world.person("cadre", north), world.clock, edited.id, edited.version,
                       {"applicant": {"phone": "13800001111"}})
    world.clock.advance(days=1)
    withdrawn = world.case(State.drafted, union=south, campaign=winter)
    world.fire(withdrawn, "withdraw", world.person("head", south), comment=f"{FORMULA} 申请人身份证{OTHER_ID}")
    # Written past the verbs, unmasked: the screens mask it on the way out.
    audit.append_many(world.session, [audit.row(SYSTEM, world.clock.now(), "edit", case_id=withdrawn.id,
                                                changes={"bank_account": [OTHER_BANK, None]})])
    world.session.commit()
    return {"north": north, "south": south, "spring": spring, "winter": winter, "known": known, "edited": edited,
            "withdrawn": withdrawn, "cadre": cadre, "reviewer": reviewer}


@pytest.fixture
def auditor(world, pages, seeded):
    return pages.as_(world.account("auditor"))


# ---------------------------------------------------------------- who may look

ROUTES = ["/audit/", "/audit/reveals", "/audit/events/1", "/audit/cases/{case}", "/audit/verify",
          "/audit/export.xlsx", "/audit/export.csv"]


def test_the_landing_page_is_audit_index(app):
    with app.test_request_context():
        from flask import url_for
        assert url_for("audit.index") == "/audit/"


@pytest.mark.parametrize("role", ["cadre", "head", "reviewer", "finance", "admin"])
def test_every_other_role_is_refused_everywhere(world, pages, seeded, role):
    client = pages.as_(world.person(role, seeded["north"]))
    for path in ROUTES:
        response = client.get(path.format(case=seeded["known"].id))
        assert response.status_code == 403, path
        assert "只有审计可以查看审计记录" in html(response)


def test_anonymous_people_are_sent_to_sign_in(pages, seeded):
    for path in ROUTES:
        response = pages.anonymous().get(path.format(case=seeded["known"].id))
        assert response.status_code == 302 and "/signin" in response.headers["Location"], path


def test_the_auditor_finds_the_audit_section_in_the_header(auditor):
    page = html(auditor.get("/audit/"))
    assert 'href="/audit/"' in page and "审计记录" in page and "审计链核验" in page and "查看号码记录" in page


# ---------------------------------------------------------------- exactly what the database holds

def filters_and_sql(seeded):
    """Query strings, each with the same filter written directly in SQL."""
    s = seeded
    join = "FROM audit_events e JOIN cases c ON c.id = e.case_id"
    return [
        ("", "FROM audit_events e", {}),
        ("order=oldest", "FROM audit_events e", {}),
        (f"campaign={s['spring'].id}", f"{join} WHERE c.campaign_id = :x", {"x": s["spring"].id}),
        (f"union={s['south'].code}", f"{join} JOIN unions u ON u.id = c.union_id WHERE u.code = :x",
         {"x": s["south"].code}),
        (f"campaign={s['winter'].id}&union={s['south'].code}",
         f"{join} JOIN unions u ON u.id = c.union_id WHERE u.code = :x AND c.campaign_id = :y",
         {"x": s["south"].code, "y": s["winter"].id}),
        (f"case={s['known'].id}", "FROM audit_events e WHERE e.case_id = :x", {"x": s["known"].id}),
        (f"actor={s['cadre'].username}", "FROM audit_events e WHERE e.actor = :x", {"x": s["cadre"].username}),
        ("role=reviewer", "FROM audit_events e WHERE e.role = 'reviewer'", {}),
        ("action=reveal", "FROM audit_events e WHERE e.action = 'reveal'", {}),
        ("action=sign_in", "FROM audit_events e WHERE e.action = 'sign_in' AND e.case_id IS NULL", {}),
        # Beijing's 9 January is 8 January 16:00 to 9 January 16:00 in UTC, as stored.
        ("since=2018-01-09&until=2018-01-09",
         "FROM audit_events e WHERE e.occurred_at >= :a AND e.occurred_at < :b",
         {"a": "2018-01-08 16:00:00", "b": "2018-01-09 16:00:00"}),
        ("since=2018-01-10&order=oldest", "FROM audit_events e WHERE e.occurred_at >= :a",
         {"a": "2018-01-09 16:00:00"}),
    ]


def test_the_list_shows_exactly_what_the_database_holds_for_each_filter(world, auditor, seeded):
    for query, where, params in filters_and_sql(seeded):
        oldest = "order=oldest" in query
        [[count]] = sql(world, f"SELECT count(*) {where}", **params)
        first_page = [row[0] for row in sql(world, f"SELECT e.seq {where} ORDER BY e.seq {'' if oldest else 'DESC'} "
                                                   "LIMIT 50", **params)]
        page = html(auditor.get(f"/audit/?{query}"))
        assert count > 0, query
        assert total(page) == count, query
        assert seqs(page) == first_page, query


def test_a_few_rows_show_what_their_events_hold(world, auditor, seeded):
    known = seeded["known"]
    page = html(auditor.get(f"/audit/?case={known.id}&order=oldest"))
    create, approve = sql(world, "SELECT seq, actor FROM audit_events WHERE case_id = :c AND action IN "
                                 "('create', 'district_approve') ORDER BY seq", c=known.id)
    for seq, actor, label, role in ((create[0], create[1], "起草申请", "基层工会干部"),
                                    (approve[0], approve[1], "区总审定通过", "帮扶中心审核员")):
        row = re.search(rf'<tr id="event-{seq}".*?</tr>', page, re.S).group(0)
        for shown in (actor, label, role, f"{known.id}号", "张建华", "北方机械厂工会"):
            assert shown in row, (seq, shown)
    assert "2018-01-08 09:00:00" in page  # Beijing time, to the second


def test_pages_follow_each_other_to_the_last_event(world, auditor, seeded):
    for _ in range(3):
        world.case(State.entered, union=seeded["north"])
    world.session.commit()
    [[count]] = sql(world, "SELECT count(*) FROM audit_events")
    assert 50 < count <= 100
    first, second = html(auditor.get("/audit/")), html(auditor.get("/audit/?page=2"))
    every = [row[0] for row in sql(world, "SELECT seq FROM audit_events ORDER BY seq DESC")]
    assert seqs(first) + seqs(second) == every
    assert "下一页" in first and "上一页" in second and "下一页" not in second
    assert f"共 {count} 条，第 2 / 2 页" in second


def test_an_event_shows_every_column_its_changes_and_its_hashes(world, auditor, seeded):
    edited = seeded["edited"]
    [(seq, prev_hash, hash_, actor)] = sql(world, "SELECT seq, prev_hash, hash, actor FROM audit_events "
                                                  "WHERE case_id = :c AND action = 'edit'", c=edited.id)
    page = html(auditor.get(f"/audit/events/{seq}"))
    for shown in (f"第{seq}号", "修改申请", "edit", actor, "基层工会干部", f"{edited.id}号", "已起草", "联系电话",
                  "13912345678", "13800001111", hash_, prev_hash, "一致", "2018-01-09 11:00:00", "2018-01-09 03:00:00"):
        assert shown in page, shown
    changes = re.search(r'<table class="audit-changes".*?</table>', page, re.S).group(0)
    assert changes.index("13912345678") < changes.index("13800001111")  # before, then after
    assert auditor.get("/audit/events/999999").status_code == 404


def test_a_case_history_is_every_event_of_the_case_in_order(world, auditor, seeded):
    known = seeded["known"]
    page = html(auditor.get(f"/audit/cases/{known.id}"))
    assert seqs(page) == [row[0] for row in sql(world, "SELECT seq FROM audit_events WHERE case_id = :c ORDER BY seq",
                                                c=known.id)]
    for shown in ("张建华", mask_id(ID), "北方机械厂工会", "区总审定", "查看完整号码", "身份证号", "工商银行账号"):
        assert shown in page, shown
    assert auditor.get("/audit/cases/999999").status_code == 404


def test_the_reveal_log_says_who_when_which_case_and_which_number(world, auditor, seeded):
    known, cadre, reviewer = seeded["known"], seeded["cadre"], seeded["reviewer"]
    page = html(auditor.get("/audit/reveals?order=oldest"))
    rows = sql(world, "SELECT seq, actor FROM audit_events WHERE action = 'reveal' ORDER BY seq")
    assert seqs(page) == [seq for seq, _ in rows] and len(rows) == 2
    first = re.search(rf'<tr id="event-{rows[0][0]}".*?</tr>', page, re.S).group(0)
    second = re.search(rf'<tr id="event-{rows[1][0]}".*?</tr>', page, re.S).group(0)
    for row, who, role, field, when in ((first, cadre, "基层工会干部", "身份证号", "2018-01-08 11:00:00"),
                                        (second, reviewer, "帮扶中心审核员", "工商银行账号", "2018-01-09 11:00:00")):
        for shown in (who.username, role, field, when, f"{known.id}号", "张建华"):
            assert shown in row, shown


def test_a_filter_it_cannot_read_is_explained_and_shows_no_rows(auditor, seeded):
    for path in ("/audit/?since=2018-02-30", "/audit/reveals?case=abc", "/audit/export.csv?until=昨天",
                 "/audit/export.xlsx?since=2018-01-10&until=2018-01-01"):
        response = auditor.get(path)
        page = html(response)
        assert response.status_code == 400, path
        assert "筛选条件有误" in page and 'class="field-error"' in page and seqs(page) == [], path
    assert "日期格式应为 年-月-日" in html(auditor.get("/audit/?since=2018-02-30"))
    assert "结束日期不能早于开始日期" in html(auditor.get("/audit/?since=2018-01-10&until=2018-01-01"))
    assert 'value="2018-02-30"' in html(auditor.get("/audit/?since=2018-02-30"))  # what was typed is kept


# ---------------------------------------------------------------- exports

def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_exports_hold_exactly_the_filtered_view(world, auditor, seeded):
    now = world.clock.now().astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")
    for query, where, params in filters_and_sql(seeded):
        oldest = "order=oldest" in query
        expected = [row[0] for row in sql(world, f"SELECT e.seq {where} ORDER BY e.seq {'' if oldest else 'DESC'}",
                                          **params)]
        book = xlsx_rows(auditor.get(f"/audit/export.xlsx?{query}"))
        title, stamp, header, rows = book[0][0], book[1][0], book[2], book[3:]
        assert title.startswith("审计记录（") and "排序" in title, query
        assert stamp.startswith(f"导出时间：{now}（北京时间）") and f"共{len(expected)}条" in stamp, query
        assert header[:3] == ("序号", "时间（北京时间）", "操作人") and header[-1] == "哈希值"
        assert [row[0] for row in rows] == expected, query
        table = csv_rows(auditor.get(f"/audit/export.csv?{query}"))
        assert table[0] == list(header)
        assert [int(row[0]) for row in table[1:]] == expected, query


def test_an_exported_row_holds_what_its_event_holds(world, auditor, seeded):
    known = seeded["known"]
    [(seq, actor, hash_)] = sql(world, "SELECT seq, actor, hash FROM audit_events WHERE case_id = :c "
                                       "AND action = 'district_approve'", c=known.id)
    book = xlsx_rows(auditor.get(f"/audit/export.xlsx?campaign={seeded['spring'].id}&union={seeded['north'].code}"))
    assert seeded["spring"].name in book[0][0] and "北方机械厂工会" in book[0][0]
    row = next(r for r in book[3:] if r[0] == seq)
    assert row[2:11] == (actor, "帮扶中心审核员", known.id, "张建华", "北方机械厂工会", seeded["spring"].name,
                         "区总审定通过", "已录入报送", "区总已审定")
    assert row[-1] == hash_ and "状态：已录入报送 → 区总已审定" in row[12]
    [csv_row] = [r for r in csv_rows(auditor.get(f"/audit/export.csv?case={known.id}")) if r[0] == str(seq)]
    assert csv_row[2:5] == [actor, "帮扶中心审核员", str(known.id)] and csv_row[-1] == hash_


def test_a_comment_that_looks_like_a_formula_stays_text(auditor, seeded):
    case = seeded["withdrawn"].id
    [row] = [r for r in csv_rows(auditor.get(f"/audit/export.csv?case={case}&action=withdraw"))[1:]]
    assert row[11].startswith("'" + FORMULA)
    response = auditor.get(f"/audit/export.xlsx?case={case}&action=withdraw")
    cell = load_workbook(io.BytesIO(response.data)).active.cell(row=4, column=12)
    assert cell.data_type == "s" and cell.value.startswith(FORMULA)


def test_exporting_writes_no_audit_event(world, auditor, seeded):
    [[before]] = sql(world, "SELECT count(*) FROM audit_events")
    auditor.get("/audit/export.xlsx")
    auditor.get("/audit/export.csv")
    assert sql(world, "SELECT count(*) FROM audit_events") == [(before,)]


# ---------------------------------------------------------------- nothing here changes anything

def test_every_route_of_the_screens_is_a_read(app, auditor, seeded):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("audit.")]
    assert {rule.endpoint for rule in rules} == {"audit.index", "audit.reveals", "audit.event", "audit.case",
                                                 "audit.verify", "audit.export_xlsx", "audit.export_csv"}
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    for path in ROUTES:
        path = path.format(case=seeded["known"].id)
        for method in ("post", "put", "patch", "delete"):
            response = auditor.post(path) if method == "post" else getattr(auditor.client, method)(path)
            assert response.status_code == 405, (method, path)


def snapshot(world) -> dict:
    session = world.session
    session.expire_all()
    counts = {table.name: session.scalar(select(func.count()).select_from(table))
              for table in Base.metadata.sorted_tables}
    head = session.execute(select(AuditHead.seq, AuditHead.hash)).one()
    versions = session.scalar(select(func.sum(Case.version)))  # any change of a case raises its version
    session.commit()
    return {"counts": counts, "head": tuple(head), "digest": audit.digest(session), "versions": versions}


def every_page(world, seeded) -> list[str]:
    [(last,)] = sql(world, "SELECT max(seq) FROM audit_events")
    s = seeded
    return ["/audit/", "/audit/?page=2", "/audit/?order=oldest", f"/audit/?campaign={s['spring'].id}",
            f"/audit/?union={s['north'].code}&role=cadre&since=2018-01-08&until=2018-01-10",
            "/audit/?since=bad", "/audit/reveals", "/audit/reveals?order=oldest",
            *[f"/audit/events/{seq}" for seq in range(1, last + 1)],
            *[f"/audit/cases/{s[name].id}" for name in ("known", "edited", "withdrawn")],
            "/audit/verify", f"/audit/verify?digest={audit.digest(world.session)}", "/audit/verify?digest=1:xyz",
            "/audit/export.xlsx", "/audit/export.csv", f"/audit/export.xlsx?case={s['known'].id}",
            "/audit/export.csv?action=reveal"]


def test_visiting_every_screen_and_export_changes_nothing_but_the_checkpoints(world, auditor, seeded):
    before = snapshot(world)
    paths = every_page(world, seeded)
    world.session.commit()  # its reads done: what the pages write is seen by the next snapshot
    for path in paths:
        assert auditor.get(path).status_code in (200, 400), path
    after = snapshot(world)
    # The first successful verification records a checkpoint; the next, with no new event, records none.
    assert after["counts"].pop("audit_checkpoints") == before["counts"].pop("audit_checkpoints") + 1
    assert after == before
    assert audit.verify(world.session).ok


# ---------------------------------------------------------------- personal numbers

def test_no_full_personal_number_appears_on_any_screen_or_export(world, auditor, seeded):
    assert sql(world, "SELECT count(*) FROM audit_events WHERE action = 'reveal'") == [(2,)]
    shown = []
    for path in every_page(world, seeded):
        response = auditor.get(path)
        if path.endswith(".xlsx") or ".xlsx?" in path:
            book = load_workbook(io.BytesIO(response.data))
            shown.append(" ".join(str(v) for row in book.active.iter_rows(values_only=True) for v in row if v))
        else:
            shown.append(html(response))
    everything = "\n".join(shown)
    for number in (ID, BANK, MEMBER_ID, OTHER_ID, OTHER_BANK):
        assert number not in everything
        assert number[:-4] not in everything  # nor the digits the mask hides
    # What is there instead: the masked forms, from the services and from the safety net alike.
    for masked in (mask_id(ID), mask_account(BANK), mask_id(MEMBER_ID), mask_id(OTHER_ID), mask_account(OTHER_BANK)):
        assert masked in everything, masked


# ---------------------------------------------------------------- tampering, seen on the screen

def first_bad(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.search(r'<dd id="first-bad">.*?</dd>', page, re.S).group(0)))


def test_an_untouched_chain_verifies_on_the_screen(world, auditor, seeded):
    [[count]] = sql(world, "SELECT count(*) FROM audit_events")
    page = html(auditor.get("/audit/verify"))
    assert "审计链完整" in page and f"已核验 {count} 条事件" in page
    assert audit.digest(world.session) in page  # the head, to keep outside


def events_now(world) -> int:
    """The chain's length, with the test's session committed before and after (on SQLite a transaction left
    open on an old snapshot could not write after the pages recorded their checkpoints)."""
    world.session.commit()
    [[count]] = sql(world, "SELECT count(*) FROM audit_events")
    world.session.commit()
    return count


def test_the_page_checks_from_the_checkpoint_and_walks_it_all_on_demand(world, auditor, seeded):
    count = events_now(world)
    first = html(auditor.get("/audit/verify"))
    assert f"全链核验：已核验 {count} 条事件" in first and f"上次核验无误到第{count}号事件" in first  # this very run
    assert 'href="/audit/verify?full=1"' in first
    world.case(State.drafted)
    grown = events_now(world)

    second = html(auditor.get("/audit/verify"))
    assert f"从检查点第{count}号事件之后核验：其后 {grown - count} 条事件没有被修改" in second
    assert f"上次核验无误到第{grown}号事件" in second and "只有全链核验才能发现" in second
    assert f"全链核验：已核验 {grown} 条事件" in html(auditor.get("/audit/verify?full=1"))

    # A change in place before the checkpoint: not read again from the checkpoint, named by the full walk.
    raw(world, "UPDATE audit_events SET comment = '同意' WHERE seq = :k", k=K)
    assert "检查点之后的审计链完整" in html(auditor.get("/audit/verify"))
    whole = html(auditor.get("/audit/verify?full=1"))
    assert f"第{K}号事件的内容被修改" in whole and 'id="kind">全链核验' in whole
    # Found once, it is not called whole again by a check from the checkpoint.
    again = html(auditor.get("/audit/verify"))
    assert "审计链已被破坏" in again and f"第{K}号事件的内容被修改" in again


def test_the_api_checks_from_the_checkpoint_or_in_full(world, api, seeded):
    account = world.account("auditor")
    api.token(account)  # issuing it is an event too
    count = events_now(world)
    assert api.call("GET", "/audit/verify", account).json == {"ok": True, "events": count, "full": True, "since": 0}
    world.case(State.drafted)
    grown = events_now(world)

    assert api.call("GET", "/audit/verify", account).json == \
        {"ok": True, "events": grown - count, "full": False, "since": count}
    assert api.call("GET", "/audit/verify?full=1", account).json == \
        {"ok": True, "events": grown, "full": True, "since": 0}
    assert api.call("GET", "/audit/verify?full=maybe", account).status_code == 400


def swap(world, a: int, b: int) -> None:
    far = 1_000_000
    raw(world, "UPDATE audit_events SET seq = :far WHERE seq = :a", far=far, a=a)
    raw(world, "UPDATE audit_events SET seq = :a WHERE seq = :b", a=a, b=b)
    raw(world, "UPDATE audit_events SET seq = :b WHERE seq = :far", b=b, far=far)


@pytest.mark.parametrize("tamper, problem, message, linked", [
    (lambda w: raw(w, "UPDATE audit_events SET comment = '同意' WHERE seq = :k", k=K), "changed",
     f"第{K}号事件的内容被修改", True),
    (lambda w: raw(w, "DELETE FROM audit_events WHERE seq = :k", k=K), "removed", f"第{K}号事件被删除", False),
    (lambda w: swap(w, K, K + 3), "moved", f"第{K}号事件被移动了位置", True),
], ids=["comment changed", "event deleted", "two events swapped"])
def test_tampering_by_sql_is_named_on_the_verification_page(world, auditor, seeded, tamper, problem, message, linked):
    tamper(world)
    page = html(auditor.get("/audit/verify"))

    assert "审计链已被破坏" in page and message in page
    assert f"之前已核验</dt><dd>{K - 1} 条事件" in page
    assert f"第{K}号" in first_bad(page)
    link = f'<a href="/audit/events/{K}">'
    assert (link in re.search(r'<dd id="first-bad">.*?</dd>', page, re.S).group(0)) == linked
    if linked:  # the event named is there to look at
        assert auditor.get(f"/audit/events/{K}").status_code == 200
    else:  # gone: its neighbours are offered instead
        assert "已不存在" in first_bad(page) and f'href="/audit/events/{K - 1}"' in page
        assert auditor.get(f"/audit/events/{K}").status_code == 404


def test_a_changed_event_is_flagged_in_the_list_and_on_its_page(world, auditor, seeded):
    raw(world, "UPDATE audit_events SET actor = 'intruder' WHERE seq = :k", k=K)
    row = re.search(rf'<tr id="event-{K}"[^>]*>', html(auditor.get("/audit/?order=oldest"))).group(0)
    assert 'class="tampered"' in row
    assert "内容与其哈希值不符" in html(auditor.get(f"/audit/events/{K}"))


def test_verification_against_a_digest(world, auditor, seeded):
    kept = audit.digest(world.session)
    world.session.commit()  # no snapshot left open: the pages write their checkpoints meanwhile
    page = html(auditor.get(f"/audit/verify?digest={kept}"))
    assert "审计链完整" in page and "与所给摘要一致" in page

    malformed = auditor.get("/audit/verify?digest=12:abc")
    assert malformed.status_code == 400 and "摘要格式应为 序号:哈希值" in html(malformed)
    assert "审计链完整" not in html(malformed) and 'value="12:abc"' in html(malformed)

    [(last,)] = sql(world, "SELECT max(seq) FROM audit_events")
    raw(world, "DELETE FROM audit_events WHERE seq > :k", k=last - 2)
    page = html(auditor.get(f"/audit/verify?digest={kept}"))
    assert f"审计链从第{last - 1}号事件起被截断" in page and "已不存在" in first_bad(page)
    # The checkpoint the first visit recorded (at the old head) catches the cut without the digest, too.
    assert f"审计链从第{last - 1}号事件起被截断" in html(auditor.get("/audit/verify"))


# ---------------------------------------------------------------- a fixed number of queries per page

def test_the_lists_cost_the_same_queries_however_long_the_trail(app, world, auditor, seeded):
    known = seeded["known"]
    paths = ["/audit/", f"/audit/?campaign={seeded['spring'].id}&union={seeded['north'].code}",
             "/audit/?order=oldest&page=2", "/audit/reveals", f"/audit/cases/{known.id}"]
    few = {}
    for path in paths:
        with counting(app) as statements:
            assert auditor.get(path).status_code == 200
        few[path] = len(statements)
    rows = [{"occurred_at": world.clock.now().replace(tzinfo=None), "actor_id": None, "actor": "console",
             "role": "system", "case_id": known.id, "action": "reveal", "from_state": None, "to_state": None,
             "comment": None, "changes": {"revealed": [None, "id_number"]}} for _ in range(500)]
    audit.append_many(world.session, rows)
    world.session.commit()
    for path in paths:
        with counting(app) as statements:
            page = html(auditor.get(path))
        assert len(statements) == few[path], path
        assert seqs(page), path


def test_every_screen_also_opens_in_english(world, auditor, seeded):
    auditor.client.set_cookie("lang", "en")
    for path in every_page(world, seeded):
        assert auditor.get(path).status_code in (200, 400), path
    assert 'lang="en"' in html(auditor.get("/audit/"))


# ---------------------------------------------------------------- readable: people by name, fields in words

def test_the_trail_names_people_and_fields_in_words(world, pages):
    """Who acted is their name, the username under it (an account renamed later is still told apart, on a phone
    too) and on the event page; the accounts a change holds
    (who documented, who approved) are names, not account ids; and every field has a label, in both languages."""
    union = world.default_union()
    cadre, head = world.person("cadre", union), world.person("head", union)
    cadre.display_name, head.display_name = "周丽华", "马秀梅"
    case = world.case(State.grassroots_approved, union=union)
    world.session.commit()
    auditor = pages.as_(world.account("auditor"))

    listed = html(auditor.get(f"/audit/?case={case.id}"))
    assert f'>马秀梅<br><small class="muted">{head.username}</small></td>' in listed
    history = html(auditor.get(f"/audit/cases/{case.id}"))
    assert "<b>资料齐全确认人</b>：（空） → 周丽华" in history and "<b>基层审核人</b>：（空） → 马秀梅" in history
    assert "账号ID" not in history
    approve = world.session.scalar(select(func.max(text("seq"))).select_from(text("audit_events"))
                                   .where(text("action = 'approve'")))
    event = html(auditor.get(f"/audit/events/{approve}"))
    assert f"马秀梅 <span class=\"muted\">（用户名 {head.username}，账号ID {head.id}）</span>" in event

    auditor.client.set_cookie("lang", "en")
    english = html(auditor.get(f"/audit/cases/{case.id}"))
    assert "<b>Documents confirmed by</b>" in english and "<b>Approved at the union by</b>" in english
    assert "documented_by_id" not in english and "approved_by_id" not in english


def test_every_field_the_verbs_record_has_a_label():
    """A field the trail cannot name would show its code: every name a verb writes into `changes` has a label,
    whether written in the call (changes={"x": ...}, audit.diff(..., named=("x", ...))) or in a dict the verb
    builds first and passes by name (kept = {"x": ...}; changes["x"] = ...; changes.update(x=...))."""
    from pathlib import Path

    from workflows.reads import trail
    written = set()
    for path in (Path(__file__).resolve().parents[2] / "workflows").rglob("*.py"):
        written |= _recorded_fields(ast.parse(path.read_text(encoding="utf-8")))
    assert {"applicant_name", "documents", "sessions_ended"} <= written  # the scan finds each way of writing
    assert not sorted(written - set(trail.FIELD_LABELS))


def _recorded_fields(module: ast.Module) -> set[str]:
    """The string keys that reach a `changes=` argument within each function of `module`: the keys of the dicts
    in the argument, and those of every name it uses, followed through the function's assignments to that name."""
    found = set()
    for function in (n for n in ast.walk(module) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)):
        values: dict[str, list[ast.AST]] = {}  # name → what is assigned to it, its keys set, its updates
        for node in ast.walk(function):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name) and node.value is not None:
                        values.setdefault(target.id, []).append(node.value)
                    elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                        values.setdefault(target.value.id, []).append(ast.Dict([target.slice], [node.value]))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in
                  ("update", "setdefault") and isinstance(node.func.value, ast.Name)):
                keys = [ast.Dict([ast.Constant(k.arg)], [k.value]) for k in node.keywords if k.arg]
                setdefault = [ast.Dict([node.args[0]], [node.args[0]])] if node.func.attr == "setdefault" else []
                values.setdefault(node.func.value.id, []).extend([*node.args, *keys, *setdefault]
                                                                 if node.func.attr == "update" else setdefault)
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            for argument in (k.value for k in call.keywords if k.arg == "changes"):
                found |= _keys(argument, values, set())
    return found


def _keys(node: ast.AST, values: dict[str, list[ast.AST]], seen: set[str]) -> set[str]:
    keys = set()
    for part in ast.walk(node):
        if isinstance(part, ast.Dict):
            keys |= {k.value for k in part.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        elif isinstance(part, ast.Call):
            keys |= {k.arg for k in part.keywords if k.arg and getattr(part.func, "id", None) == "dict"}
            keys |= {k.value.elts[0].value for k in part.keywords if k.arg == "named" and isinstance(k.value, ast.Tuple)
                     and isinstance(k.value.elts[0], ast.Constant)}
        elif isinstance(part, ast.Name) and part.id in values and part.id not in seen:
            seen.add(part.id)
            for value in values[part.id]:
                keys |= _keys(value, values, seen)
    return keys
