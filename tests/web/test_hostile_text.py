"""Hostile text (issue 15). Every page, with hostile text in every field an administrator or a cadre can set:
tags, a hidden input named like a form's, a meta refresh, quotes, %-formats, template braces and line breaks. Each
page any role reaches is rendered for that role, and fails the test on any server error or any tag of that text
reaching the HTML as a tag (autoescaping everywhere, no stored text formatted as a format string). Every page template
must be rendered at least once, so that a new page is covered as soon as it is reachable. Then the other exits and
entrances of text: workbooks holding old rows, file names masked, searches by the last four digits only, personal
numbers normalised once, and text fields refusing control characters."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from flask import template_rendered
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from workflows import verbs
from workflows.archive_states import Status
from workflows.infra.outbox import notify
from workflows.models import Account, AuditEvent, Campaign, Case, NoticePosting, Union
from workflows.states import State

from ..conftest import START
from ..factories import PDF, bank_account, case_data, id_number
from .conftest import snapshot
from .test_screen_access import CALLERS, TABLE

# The same attack in the sizes the fields take. Each holds a tag that, unescaped, would change the page: a hidden
# input that replaces the bank account a cadre types, a meta refresh, a script; and %-formats, template braces,
# quotes. The line break is written into stored rows directly below (the inputs refuse it now: test_form_fuzz).
TAGS = ('<input name=bank_account>', '<meta http-equiv=refresh>', '<script>x', '<b>"\'')
LONG = '<script>x</script>"><input name=bank_account><meta http-equiv=refresh>%(x)s % %s {{7*7}} \'"'  # ≤ 100
SHORT = '"><input name=bank_account><script>x%(x)s{{7*7}}\''                                       # ≤ 50
TINY = '<b>"\'%(x)s%{{1}}'                                                                            # ≤ 20
TEXT = LONG + "\n第二行<meta http-equiv=refresh>\r\n\t%(y)s"                                         # free text
FILE = '"><input name=bank_account><meta http-equiv=refresh>%(x)s{{7*7}}.pdf'                      # no slash
BREAK = "\n第二行"  # what an old row may hold in a one-line field, from before the inputs refused it

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def unescaped(body: str) -> list[str]:
    return [tag for tag in TAGS if tag in body]


def household() -> dict:
    """A household whose every text is hostile (a new one each time: one ID number, one household)."""
    return {"applicant": {"name": SHORT, "gender": "male", "id_number": id_number(), "phone": "13912345678",
                          "employer": LONG},
            "household": {"annual_income": "24000", "housing": LONG,
                          "members": [{"name": SHORT, "relation": TINY, "id_number": id_number(male=False),
                                       "monthly_income": "800", "health": LONG, "occupation": LONG}]},
            "category_reason": TEXT}


def data(**aid) -> dict:
    """A case of a hostile household."""
    return case_data(**household(), aid={"kind": "funds", "amount": "1000", "medical": False,
                                         "amount_reason": TEXT} | aid)


@pytest.fixture
def scene(world):
    """The records the access table's paths name (test_screen_access), each text of them hostile."""
    district = world.district()
    district.name = LONG
    union = world.union(LONG)
    other = world.union(SHORT)
    world._union = union  # the factory's default union: the one every builder below uses
    people = {role: world.person(role, union) for role in ("cadre", "head", "reviewer", "finance", "auditor",
                                                           "admin")}
    people["cadre_b"], people["head_b"] = world.person("cadre", other), world.person("head", other)
    for account in people.values():
        verbs.update_account(world.session, people["admin"], world.clock, account.id, display_name=LONG[:64],
                             email='<b>"\'@example.com')
    # An archive a year old: due for its annual review, and drawn for the spot check.
    world.clock.set(START - dt.timedelta(days=400))
    old = case_data(**household())
    old.pop("aid")
    reviewed = verbs.create_archive(world.session, people["cadre"], world.clock, old)
    reviewed.status = Status.active
    world.session.flush()
    world.clock.set(START)
    verbs.review_archive(world.session, people["cadre"], world.clock, reviewed.id, reviewed.version, "propose_exit",
                         comment=TEXT)
    check = verbs.draw_spot_check(world.session, people["reviewer"], world.clock, START.year, rate="1")
    verbs.check_spot_item(world.session, people["reviewer"], world.clock, check.items[0].id, "discrepancy", TEXT)
    campaign = world.campaign(name=LONG)
    world._campaign = campaign
    verbs.record_notice(world.session, people["cadre"], world.clock, world.uploads, campaign.id, LONG,
                        world.clock.now().date(), FILE, PDF)
    draft = world.draft(**data())
    verbs.add_document(world.session, people["cadre"], world.clock, world.uploads, draft.id, "application", FILE,
                       PDF)
    publicized = world.case(State.publicized, **data())
    objection = verbs.record_objection(world.session, people["cadre"], world.clock, publicized.id, TEXT)
    resolved = verbs.record_objection(world.session, people["cadre"], world.clock, publicized.id, TEXT)
    verbs.resolve_objection(world.session, people["head"], world.clock, resolved.id, "dismissed", TEXT)
    entered, approved = world.case(State.entered, **data()), world.case(State.district_approved, **data())
    goods = world.case(State.district_approved, **data(kind="goods", goods_items=TEXT, goods_value="300"))
    verbs.record_receipt(world.session, people["cadre"], world.clock, world.uploads, goods.id, handed_by=SHORT,
                         received_by=SHORT, received_on="2018-01-08", scan_file_name=FILE, scan_bytes=PDF)
    rejected = world.case(State.entered, **data())
    world.fire(rejected, "reject", people["reviewer"], comment=TEXT)
    verbs.record_visit(world.session, people["cadre"], world.clock, draft.archive_id, world.clock.now().date(),
                       LONG, TEXT)
    note = notify(world.session, key="hostile", account_id=people["cadre"].id, kind="returned", text=TEXT,
                  now=world.clock.now(), case_id=draft.id)
    summary = verbs.submit_summary(world.session, people["cadre"], world.clock, world.uploads, campaign.id, TEXT,
                                   (FILE, PDF))
    returned = world.case(State.payment_returned, **data())
    batch = verbs.create_batch(world.session, people["finance"], world.clock,
                               [world.case(State.district_approved, **data()).id])
    world.session.commit()
    # Old rows: a line break in one-line fields, stored before the inputs refused it.
    for record in (campaign, union, other, district):
        record.name += BREAK
    for account in people.values():
        account.display_name = account.display_name[:50] + BREAK
    world.session.commit()
    ids = {"RT": returned.id, "B": batch.id, "D": draft.id, "doc": draft.documents[0].id, "E": entered.id,
           "P": publicized.id, "O": objection.id, "A": approved.id, "N": note.id, "S": summary.id,
           "C": campaign.id, "U": union.code, "me": people["admin"].id, "R": draft.archive_id,
           "NP": world.session.scalar(select(NoticePosting.id).where(NoticePosting.union_id == union.id))}
    return people, ids


@pytest.fixture
def rendered(app):
    """The names of the templates rendered while the test runs."""
    names: set[str] = set()

    def record(sender, template, context, **extra):
        names.add(template.name)

    template_rendered.connect(record, app)
    yield names
    template_rendered.disconnect(record, app)


SHOWN = "&lt;input name=bank_account&gt;"  # the hostile text on a page, escaped


def visit(client, method: str, path: str, data=None) -> tuple[list[str], bool]:
    """What is wrong with the page (a server error, a hostile tag unescaped), and whether it shows hostile text."""
    response = client.get(path) if method == "GET" else client.post(path, data=data or {})
    problem, shown = [], False
    if response.status_code >= 500:
        problem.append(f"{response.status_code}")
    if response.mimetype in ("text/html", "image/svg+xml"):
        body = response.get_data(as_text=True)
        if tags := unescaped(body):
            problem.append(f"unescaped {tags}")
        shown = SHOWN in body
    return problem, shown


def test_every_page_escapes_every_hostile_text(pages, world, scene, rendered):
    people, ids = scene
    seqs = world.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    wrong, shown = [], 0
    for caller in CALLERS:
        client = pages.anonymous() if caller == "anonymous" else pages.as_(people[caller])
        paths = [path for method, path, _data, expected in TABLE.values()
                 if method == "GET" and expected.split()[CALLERS.index(caller)] == "200"]
        if caller == "auditor":  # every event of the trail, each with its texts
            paths += [f"/audit/events/{seq}" for seq in seqs]
        for path in paths:
            problem, hostile = visit(client, "GET", path.format(**ids))
            wrong += [f"{caller} {path}: {problem}"] if problem else []
            shown += hostile
    assert not wrong, "\n".join(wrong)
    assert shown > 100  # the hostile text did reach the pages (escaped), or this test would prove nothing
    pages_ = {p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")
              if not p.name.startswith("_") and p.name != "base.html"}
    # Pages shown only after a POST (test_forms_typed_back_escape_what_was_typed) or on an error.
    later = {"admin/password.html", "errors/error.html", "auth/signin.html"}
    assert pages_ - rendered - later == set()


def test_forms_typed_back_escape_what_was_typed(pages, world, scene, rendered):
    """A refused form comes back with what was typed, escaped: the case form, the archive form, the admin's."""
    people, ids = scene
    cadre, admin = pages.as_(people["cadre"]), pages.as_(people["admin"])
    posts = [
        (cadre, f"/cases/new", {"campaign": str(ids["C"]), "applicant.name": SHORT, "applicant.employer": LONG,
                                "applicant.id_number": "1101", "household.housing": LONG,
                                "category_reason": TEXT, "save": "1"}),
        (cadre, f"/cases/{ids['D']}/edit", {"applicant.name": SHORT, "applicant.id_number": LONG[:20],
                                             "version": "1", "save": "1"}),
        (cadre, "/archives/new", {"applicant.name": SHORT, "applicant.id_number": TINY, "save": "1"}),
        (cadre, f"/cases/{ids['P']}/objections", {"statement": ""}),
        (admin, "/admin/unions", {"code": "x y", "name": LONG, "parent": ids["U"], "kind": "grassroots"}),
        (admin, "/admin/accounts/new", {"username": "x", "display_name": LONG[:64], "role": "cadre",
                                        "email": LONG}),
        (admin, "/admin/campaigns/new", {"name": LONG + BREAK, "starts_on": "x"}),
        (admin, f"/admin/campaigns/{ids['C']}/edit", {"name": LONG, "starts_on": "2018-13-01"}),
        (admin, f"/admin/accounts/{ids['me']}/password", {"password": ""}),
        (admin, f"/admin/accounts/{ids['me']}/profile", {"display_name": LONG[:64], "email": LONG}),
    ]
    wrong = []
    for client, path, data in posts:
        problem, _shown = visit(client, "POST", path, data)
        wrong += [f"POST {path}: {problem}"] if problem else []
    for path in ("/no-such-page", f"/signin?next={LONG}"):
        problem, _shown = visit(pages.anonymous(), "GET", path)
        wrong += [f"GET {path}: {problem}"] if problem else []
    assert not wrong, "\n".join(wrong)
    assert {"admin/password.html", "errors/error.html", "auth/signin.html", "cases/form.html"} <= rendered


def test_a_percent_in_the_campaign_name_leaves_the_new_case_form_working(pages, world, scene):
    """A % (or %(x)s) in the campaign's name made the new-case form a 500 for every cadre (issue 15, hole 3)."""
    people, ids = scene
    page = pages.as_(people["cadre"]).get("/cases/new")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "%(x)s % %s {{7*7}}" in body and not unescaped(body)
    assert len(re.findall(r'name="bank_account"', body)) == 1  # the cadre's own input, and no other


def test_the_workbooks_download_though_old_rows_hold_line_breaks_and_control_characters(pages, api, world, scene):
    """A line break (or another control character) in a campaign or union name made the statistics .xlsx a 500
    (issue 15, hole 9): the inputs refuse them now, and every workbook writes what old rows hold without them (a
    cell cannot hold a control character, a download's file name not even a line break)."""
    people, ids = scene
    campaign, union = world.session.get(Campaign, ids["C"]), world.session.scalar(
        select(Union).where(Union.code == ids["U"]))
    campaign.name += "\x07\x1b"
    union.name += "\x0b"
    for account in (people["finance"], people["reviewer"]):
        account.display_name += "\x08"
    world.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).comment = "旧记录\x07"
    world.session.commit()  # (the trail's hash of that event no longer matches: the export shows it, as it is)
    finance = pages.as_(people["finance"])
    downloads = {
        "statistics": pages.as_(people["reviewer"]).get(f"/reports/statistics.xlsx?campaign={ids['C']}"),
        "statistics (API)": api.call("GET", f"/reports/statistics?campaign={ids['C']}&format=xlsx",
                                     people["reviewer"]),
        "trail": pages.as_(people["auditor"]).get("/audit/export.xlsx"),
        "payment list": finance.post("/finance/batch", {"action": "export", "case": str(ids["A"])}),
    }
    for what, response in downloads.items():
        assert response.status_code == 200, (what, response.get_data(as_text=True)[:300])
        assert "\n" not in response.headers.get("Content-Disposition", ""), what
        book = load_workbook(io.BytesIO(response.data))
        cells = [str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row if c.value]
        assert any("%(x)s" in c or "旧记录" in c for c in cells), what
        assert not any(ch in c for c in cells for ch in "\x07\x1b\x0b\x08"), what


# ---------------------------------------------------------------- file names: one mask at every exit

@pytest.mark.parametrize("spelled", [
    lambda n: f"{n}.pdf",                                   # as a scanner names it
    lambda n: f"身份证 {n[:6]}_{n[6:14]}_{n[14:]}.jpg",     # grouped, as people name files
    lambda n: "".join(chr(ord("０") + int(c)) if c.isdigit() else c for c in n) + "号.png",  # full width
])
def test_a_file_named_after_an_id_number_shows_it_masked_on_the_screens_the_api_and_the_trail(
        pages, api, world, spelled):
    """A scan named after its holder's ID number showed that number to everyone who saw the case (issue 15, hole
    5): the file name leaves masked like any text (identity.mask_numbers), as typed it stays only in the record."""
    case = world.draft()
    number = case.id_number
    name = spelled(number)
    cadre, auditor = world.person("cadre", case.union), world.person("auditor")
    world.session.commit()
    screen = pages.as_(cadre)
    boundary, body = encode_multipart({"kind": "application", "csrf_token": screen.csrf(),
                                       "file": FileStorage(io.BytesIO(PDF), filename=name)})
    uploaded = screen.client.post(f"/cases/{case.id}/documents", data=body,
                                  content_type=f"multipart/form-data; boundary={boundary}")
    assert uploaded.status_code == 302
    verbs.record_notice(world.session, cadre, world.clock, world.uploads, case.campaign_id, "厂区公告栏",
                        world.clock.now().date(), name, PDF)
    world.session.commit()
    masked = number[:6] + "********" + number[-4:]
    shown = {
        "case page (with the upload's message)": screen.get(f"/cases/{case.id}").get_data(as_text=True),
        "notice list": screen.get(f"/cases/notice?campaign={case.campaign_id}&union={case.union.code}")
        .get_data(as_text=True),
        "trail": pages.as_(auditor).get(f"/audit/cases/{case.id}").get_data(as_text=True),
        "API case": api.call("GET", f"/cases/{case.id}", cadre).get_data(as_text=True),
        "API notices": api.call("GET", f"/notices?campaign={case.campaign_id}", cadre).get_data(as_text=True),
        "API history": api.call("GET", f"/cases/{case.id}/history", cadre).get_data(as_text=True),
    }
    for where, text in shown.items():
        digits = re.sub(r"\D", "", re.sub(r"[０-９]", lambda d: str(ord(d.group()) - ord("０")), text))
        assert number[:17] not in digits and masked in text, where


# ---------------------------------------------------------------- searches: the last four digits, nothing inside

def test_an_auditor_searching_digits_from_inside_id_numbers_finds_nothing(pages, api, world):
    """The search matched any run of digits inside the stored number: an auditor, who sees only masks, recovered
    whole ID numbers in about 41 searches, with no reveal in the trail (issue 15, hole 1). Part of a name or the
    last four digits only, on the screens and the API, for cases and archives alike."""
    cases = [world.case(State.entered) for _ in range(4)]
    auditor = world.person("auditor")
    world.session.commit()
    number = cases[0].id_number
    screen = pages.as_(auditor)

    def found(q: str) -> dict[str, set[int]]:
        listed = {"screen cases": {int(i) for i in re.findall(r'href="/cases/(\d+)"',
                                                              screen.get(f"/cases/?q={q}").get_data(as_text=True))},
                  "screen archives": {int(i) for i in re.findall(
                      r'href="/archives/(\d+)"', screen.get(f"/archives/?q={q}").get_data(as_text=True))}}
        for what in ("cases", "archives"):
            response = api.call("GET", f"/{what}?q={q}", auditor)
            assert response.status_code == 200, response.json
            listed[f"API {what}"] = {item["id"] for item in response.json["items"]}
        return listed

    for start, length in [(0, 4), (2, 4), (6, 4), (8, 4), (10, 4), (12, 4), (6, 8), (10, 6), (3, 11)]:
        q = number[start:start + length]
        ends = {c for c in cases if c.id_number.endswith(q)} if length == 4 else set()  # another's last four
        expected = {"cases": {c.id for c in ends}, "archives": {c.archive_id for c in ends}}
        for where, ids in found(q).items():
            assert ids == expected[where.split()[-1]], (where, q)
    for where, ids in found(number[-4:]).items():
        assert (cases[0].id if "cases" in where else cases[0].archive_id) in ids, where


# ---------------------------------------------------------------- personal numbers: one normalisation

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def test_an_id_number_in_arabic_indic_digits_is_refused_in_chinese_at_the_form_and_the_api(pages, api, world):
    """str.isdigit() takes them and int() reads them, but to the duplicate rule, the yearly cap and the fraud views
    they are another number: one person was paid twice above the cap (issue 15, hole 2; closed since the ASCII
    check of ec61f2d: this keeps it closed, at both entrances)."""
    campaign, cadre = world.default_campaign(), world.person("cadre", world.default_union())
    world.session.commit()
    number = id_number().translate(ARABIC_INDIC)
    screen, _token = pages.as_(cadre), api.token(cadre)  # signed in before counting: a sign-in is an event
    before = snapshot(world)
    form = screen.post("/cases/new", {"campaign": str(campaign.id), "applicant.name": "王五",
                                                "applicant.id_number": number, "save": "1"})
    assert form.status_code == 400 and "身份证号码只能是数字，最后一位可以是X" in form.get_data(as_text=True)
    body = case_data(applicant={"name": "王五", "id_number": number}) | {"campaign": campaign.id}
    answer = api.call("POST", "/cases", cadre, json=body)
    assert answer.status_code == 400
    assert answer.json["fields"]["applicant.id_number"] == "身份证号码只能是数字，最后一位可以是X"
    account = api.call("POST", "/cases", cadre, json=case_data(bank_account="6222020200000000003".translate(
        ARABIC_INDIC)) | {"campaign": campaign.id})
    assert account.status_code == 400 and account.json["fields"]["bank_account"] == "银行账号只能包含数字"
    assert snapshot(world) == before


def test_full_width_numbers_are_the_same_ascii_number_to_the_rules(pages, api, world):
    """Typed with a Chinese input method, an ID number and an account come in full width: stored as the ASCII
    number, so that the duplicate rule (and the yearly cap, and the fraud views) see one person."""
    campaign, cadre = world.default_campaign(), world.person("cadre", world.default_union())
    world.session.commit()
    number, account = "11010519491231002X", bank_account()
    api.token(cadre)  # signed in before counting: a sign-in is an event
    typed = {"applicant.id_number": number.translate(FULL_WIDTH), "bank_account": account.translate(FULL_WIDTH)}
    made = pages.as_(cadre).post("/cases/new", {"campaign": str(campaign.id), "applicant.name": "王五", **typed,
                                                "save": "1"})
    assert made.status_code == 302, made.get_data(as_text=True)[:500]
    case = world.session.scalar(select(Case).order_by(Case.id.desc()).limit(1))
    assert (case.id_number, case.bank_account) == (number, account)
    before = snapshot(world)
    again = api.call("POST", "/cases", cadre, json=case_data(applicant={"name": "王五", "id_number": "１１０１０５"
                                                                        " １９４９１２３１ ００２ｘ"}) | {"campaign": campaign.id})
    assert again.status_code == 409 and "已有草稿" in again.json["message"]
    assert snapshot(world) == before


# ---------------------------------------------------------------- text fields: no control characters

def test_a_line_break_in_a_name_is_refused_with_a_message_on_the_screens(pages, world):
    """A line break in a campaign or union name was accepted, then broke the statistics workbook (issue 15, hole
    9). One-line fields refuse line breaks and control characters; the free texts take line breaks only."""
    admin = world.person("admin")
    parent = world.district().code
    world.session.commit()
    client = pages.as_(admin)
    campaigns = world.session.scalar(select(func.count()).select_from(Campaign))
    campaign = client.post("/admin/campaigns/new", {
        "name": "2018年送温暖\n第二行", "starts_on": "2018-01-01", "ends_on": "2018-02-28",
        "deadline_day": "2018-01-25", "publicity_days": "5", "reminder_days": "7,3,1"})
    union = client.post("/admin/unions", {"code": "JC9", "name": "某工会\r\n", "parent": parent,
                                          "kind": "grassroots"})
    union_tab = client.post("/admin/unions", {"code": "JC9", "name": "某\t工会", "parent": parent,
                                              "kind": "grassroots"})
    profile = client.post(f"/admin/accounts/{admin.id}/profile", {"display_name": "李\u2028四", "email": ""})
    for response in (campaign, union_tab, profile):
        assert response.status_code == 400 and "不能包含换行或控制字符" in response.get_data(as_text=True)
    assert union.status_code == 302  # a line break at the end is stripped as any space around a name is
    world.session.commit()
    assert world.session.scalar(select(Union.name).where(Union.code == "JC9")) == "某工会"
    assert world.session.scalar(select(func.count()).select_from(Campaign)) == campaigns
    assert world.session.scalar(select(Account.display_name).where(Account.id == admin.id)) == admin.display_name


def test_text_fields_refuse_control_characters_at_the_form_and_the_api(pages, api, world):
    case = world.case(State.entered)
    cadre, reviewer = world.person("cadre", case.union), world.person("reviewer")
    campaign = world.default_campaign()
    world.session.commit()
    screen, screen_reviewer, *_tokens = pages.as_(cadre), pages.as_(reviewer), api.token(cadre), api.token(reviewer)
    before = snapshot(world)
    form = screen.post("/cases/new", {"campaign": str(campaign.id), "applicant.name": "王\n五", "save": "1"})
    assert form.status_code == 400 and "不能包含换行或控制字符" in form.get_data(as_text=True)
    bell = screen_reviewer.post(f"/cases/{case.id}/act", {"trigger": "district_return",
                                                               "version": str(case.version), "comment": "退回\x07"})
    assert bell.status_code == 400 and "控制字符" in bell.get_data(as_text=True)
    for body, field, message in [
        ({"applicant": {"name": "王\n五"}}, "applicant.name", "不能包含换行或控制字符"),
        ({"household": {"housing": "租住\t公房"}}, "household.housing", "不能包含换行或控制字符"),
        ({"category_reason": "原因\x1b"}, "category_reason", "不能包含控制字符"),
    ]:
        answer = api.call("POST", "/cases", cadre, json=case_data(**body) | {"campaign": campaign.id})
        assert answer.status_code == 400 and answer.json["fields"][field] == message, answer.json
    comment = api.call("POST", f"/cases/{case.id}/transitions", reviewer,
                       json={"trigger": "district_return", "version": case.version, "comment": "退回\x85"})
    assert comment.status_code == 400, comment.json
    assert snapshot(world) == before
    # Free texts take line breaks and tabs.
    lines = api.call("POST", "/cases", cadre, json=case_data(category_reason="第一行\r\n第二行\t完") | {
        "campaign": campaign.id})
    assert lines.status_code == 201, lines.json
