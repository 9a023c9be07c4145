"""The case page as its people see it: the buttons of what they may do now and, disabled, what they may not and
why; firing a button; refusals that change nothing and keep what was typed; revealing a full number; objections;
claims; the timeline and the diagram."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from workflows import verbs
from workflows.actors import CONSOLE
from workflows.models import AuditEvent, Case, Objection
from workflows.states import State

from ..factories import PDF, bank_account, id_number


class Page(HTMLParser):
    """What a person sees of the case page: the action buttons (enabled and disabled, with their hover text), the
    reasons written under them, the timeline's entries and the diagram's current state."""

    def __init__(self, response) -> None:
        super().__init__()
        self.enabled: list[str] = []  # the triggers of the buttons that can be pressed
        self.disabled: dict[str, str] = {}  # label → the reason on hover
        self.reasons: dict[str, str] = {}  # label → the reason written under the buttons
        self.timeline: list[str] = []
        self.current: list[str] = []  # the diagram's states marked as current
        self.textarea: dict[str, str] = {}
        self._button: dict | None = None
        self._in: str | None = None
        self._text: list[str] = []
        self._form = ""
        self.text = html.unescape(response.get_data(as_text=True))
        self.feed(response.get_data(as_text=True))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = (a.get("action") or "").partition("#")[0]  # each form posts to its own #fragment
        elif tag == "button" and self._form.endswith("/act"):
            self._button, self._text = a, []
        elif tag == "p" and a.get("class") == "blocked":
            self._in, self._text = "blocked", []
        elif tag == "ol" and a.get("id") == "timeline":
            self._in = "timeline"
        elif tag == "b" and self._in == "timeline":
            self._in, self._text = "timeline-entry", []
        elif tag == "textarea":
            self._in, self._text, self._textarea = "textarea", [], a["name"]
        elif tag == "g" and a.get("aria-current") == "step":
            self.current.append(a["data-state"])

    def handle_endtag(self, tag):
        text = "".join(self._text).strip()
        if tag == "button" and self._button is not None:
            if "disabled" in self._button:
                self.disabled[text] = self._button.get("title", "")
            else:
                self.enabled.append(self._button["value"])
            self._button = None
        elif tag == "p" and self._in == "blocked":
            label, _sep, reason = text.partition("：" if "：" in text else ": ")  # Chinese, or English
            self.reasons[label] = reason
            self._in = None
        elif tag == "b" and self._in == "timeline-entry":
            self.timeline.append(text)
            self._in = "timeline"
        elif tag == "ol" and self._in == "timeline":
            self._in = None
        elif tag == "textarea" and self._in == "textarea":
            self.textarea[self._textarea] = "".join(self._text)
            self._in = None
        elif tag == "form":
            self._form = ""

    def handle_data(self, data):
        self._text.append(data)


def flashes(client) -> list[str]:
    with client.client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def fresh(world, case) -> Case:
    """The case as the database has it now."""
    world.session.commit()
    world.session.expire_all()
    return world.session.get(Case, case.id)


def audit_count(world, case=None, action=None) -> int:
    world.session.commit()
    query = select(func.count()).select_from(AuditEvent)
    if case is not None:
        query = query.where(AuditEvent.case_id == case.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return world.session.scalar(query)


def act(client, case, trigger, **form):
    form.setdefault("version", str(case.version))
    return client.post(f"/cases/{case.id}/act", {"trigger": trigger, **form})


@pytest.fixture
def union(world):
    return world.default_union()


def people(world, union):
    return {role: world.person(role, union) for role in ("cadre", "head", "reviewer", "finance", "auditor")}


# ------------------------------------------------------------------ the buttons

# (state, role) → the buttons that can be pressed, on a case where nothing holds the role back (what does is shown
# disabled with its reason: the tests after this one). Moves of other roles are not shown at all.
BUTTONS = [
    (State.drafted, "cadre", ["document", "withdraw"]),
    (State.documented, "cadre", ["withdraw"]),
    (State.documented, "head", ["approve", "return", "withdraw"]),
    (State.grassroots_approved, "cadre", ["publicize", "withdraw"]),
    (State.grassroots_approved, "head", ["return", "publicize", "withdraw"]),
    (State.publicized, "cadre", ["enter", "withdraw"]),
    (State.publicized, "head", ["return", "withdraw"]),
    (State.entered, "reviewer", ["district_approve", "district_return", "reject"]),
    (State.entered, "cadre", []),
    (State.entered, "auditor", []),
    (State.district_approved, "finance", ["disburse"]),
    (State.district_approved, "reviewer", []),
    (State.disbursed, "head", []),
    (State.withdrawn, "cadre", []),
]


@pytest.mark.parametrize("state,role,expected", BUTTONS, ids=[f"{s.value}-{r}" for s, r, _e in BUTTONS])
def test_the_buttons_are_exactly_what_the_person_may_do_now(pages, world, union, state, role, expected):
    case = world.case(state)
    if state == State.drafted:
        world.attach(case)
    account = people(world, union)[role]
    world.session.commit()

    page = Page(pages.as_(account).get(f"/cases/{case.id}"))
    assert page.enabled == expected
    assert page.disabled == {} and page.reasons == {}
    if not expected:
        assert "您眼下对该案件没有可办理的事项。" in page.text and 'action="/cases/%d/act"' % case.id not in page.text
    # Finance types the payment reference beside its button; nobody else is asked for one.
    assert ('name="payment_reference"' in page.text) == ("disburse" in expected)


def test_a_head_sees_the_four_eyes_reason_on_a_case_they_drafted(pages, world, union):
    """A cadre who drafted and documented a case, then became the union's head, may not approve it."""
    case = world.case(State.documented)
    drafter = world.person("cadre", union)
    verbs.change_role(world.session, CONSOLE, world.clock, drafter.id, "head", union.code)
    world.session.commit()

    client = pages.as_(drafter)
    page = Page(client.get(f"/cases/{case.id}"))
    reason = "不能审核自己起草或提交的案件，须由另一位负责人审核"
    assert page.enabled == ["return", "withdraw"]
    assert page.disabled == {"基层审核通过": reason} and page.reasons == {"基层审核通过": reason}

    # Pressing it anyway (an old page, a crafted form) is refused with the same reason, and nothing moves.
    before = audit_count(world, case)
    response = act(client, case, "approve")
    assert response.status_code == 409 and reason in Page(response).text
    assert fresh(world, case).state == State.documented and audit_count(world, case) == before

    # Another head may.
    assert Page(pages.as_(world.person("head", union)).get(f"/cases/{case.id}")).enabled[0] == "approve"


def test_a_cadre_sees_which_documents_are_missing(pages, world, union):
    case = world.draft()
    world.attach(case, ["application", "hardship_proof"])
    world.session.commit()

    page = Page(pages.as_(world.person("cadre", union)).get(f"/cases/{case.id}"))
    reason = ("缺少：困难职工档案（加盖基层工会章）、户口本、身份证复印件、家庭经济状况核对授权书、子女入学证明、"
              "学费缴费凭证")
    assert page.enabled == ["withdraw"]
    assert page.disabled == {"资料齐全，提交审核": reason} and page.reasons == {"资料齐全，提交审核": reason}


def test_a_cadre_sees_when_the_public_notice_ends(pages, world, union):
    campaign = world.campaign(publicity_days=5)
    case = world.case(State.publicized, campaign=campaign)  # opened Monday 2018-01-08: five working days after it
    world.session.commit()

    page = Page(pages.as_(world.person("cadre", union)).get(f"/cases/{case.id}"))
    assert page.enabled == ["withdraw"]
    assert page.disabled == {"录入报送": "公示期未满，公示至2018-01-15，期满后才能录入"}
    assert "公示期：2018-01-08 — 2018-01-15 24:00" in page.text


def test_after_the_deadline_every_button_of_the_union_is_disabled_with_the_deadline(pages, world, union, clock):
    case = world.case(State.grassroots_approved)
    world.session.commit()
    clock.set(clock.now().replace(month=1, day=26))

    page = Page(pages.as_(world.person("cadre", union)).get(f"/cases/{case.id}"))
    reason = "已过报送截止时间（2018-01-25 24:00），不能再办理"
    assert page.enabled == []
    assert page.disabled == {"开始公示": reason, "撤回": reason}


def test_after_the_deadline_no_form_is_offered_that_would_be_refused(pages, world, union, clock):
    draft = world.draft()
    world.attach(draft, ["application"])
    publicized = world.case(State.publicized)
    world.session.commit()
    client = pages.as_(world.person("cadre", union))
    offered = ("修改申请", f"/cases/{draft.id}/documents#documents\"", "/remove#documents\"")
    page = client.get(f"/cases/{draft.id}").get_data(as_text=True)
    assert all(form in page for form in offered)
    assert "登记异议" in client.get(f"/cases/{publicized.id}").get_data(as_text=True)

    clock.set(clock.now().replace(month=1, day=26))
    client = pages.as_(world.person("cadre", union))  # signed in again: the session of January 8 has expired
    page = client.get(f"/cases/{draft.id}").get_data(as_text=True)
    assert not any(form in page for form in offered)
    assert "application.pdf" in page  # still listed, still to be looked at
    assert "登记异议" not in client.get(f"/cases/{publicized.id}").get_data(as_text=True)


# ------------------------------------------------------------------ firing

def test_pressing_a_button_moves_the_case_and_says_so(pages, world, union):
    case = world.case(State.documented)
    head = world.person("head", union)
    world.session.commit()
    client = pages.as_(head)

    response = act(client, case, "approve", comment="材料齐全，同意")
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.id}"
    assert flashes(client) == ["已完成：基层审核通过。案件现为「基层已审核」"]
    moved = fresh(world, case)
    assert moved.state == State.grassroots_approved and moved.approved_by_id == head.id

    page = Page(client.get(f"/cases/{case.id}"))
    assert '<span class="tag state" id="case-state">基层已审核</span>' in page.text
    assert page.enabled == ["return", "publicize", "withdraw"]
    assert page.timeline[-1] == "基层审核通过" and "材料齐全，同意" in page.text


def test_a_reviewer_who_returns_a_case_lands_on_the_inbox_not_on_a_page_they_may_no_longer_see(pages, world, union):
    case = world.case(State.entered)
    world.session.commit()
    client = pages.as_(world.person("reviewer"))

    response = act(client, case, "district_return", comment="缺少困难证明原件")
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    assert flashes(client) == ["已完成：区总退回。案件现为「已起草」"]
    assert fresh(world, case).state == State.drafted
    assert client.get("/inbox").status_code == 200
    # The union sees it back in its hands, with the reason.
    page = Page(pages.as_(world.person("cadre", union)).get(f"/cases/{case.id}"))
    assert page.timeline[-1] == "区总退回" and "缺少困难证明原件" in page.text


def test_a_return_without_a_comment_is_refused_and_changes_nothing(pages, world, union):
    case = world.case(State.documented)
    world.session.commit()
    client = pages.as_(world.person("head", union))
    before = audit_count(world, case), case.version

    response = act(client, case, "return", comment="   ")
    page = Page(response)
    assert response.status_code == 409
    assert '<p class="flash error" role="alert" id="actions-error">请填写「退回修改」的理由</p>' in page.text
    # the box to fill is marked and has the focus, the message read with it
    assert re.search(r'<textarea id="comment"[^>]* aria-invalid="true" aria-describedby="actions-error" autofocus>',
                     page.text)
    assert (audit_count(world, case), fresh(world, case).version) == before
    assert fresh(world, case).state == State.documented
    assert page.enabled == ["approve", "return", "withdraw"]  # ready to be pressed again, once a reason is typed


def test_a_refused_comment_stays_in_the_textarea(pages, world, union):
    case = world.case(State.documented)
    world.session.commit()
    client = pages.as_(world.person("head", union))
    before = audit_count(world, case)

    typed = "户口本复印件不清楚，" * 201  # 2010 characters, over the limit of 2000
    response = act(client, case, "return", comment=typed)
    page = Page(response)
    assert response.status_code == 400 and "太长，最多2000个字" in page.text
    assert page.textarea["comment"] == typed
    assert fresh(world, case).state == State.documented and audit_count(world, case) == before


def test_a_stale_page_says_who_changed_the_case_and_when_and_keeps_what_was_typed(pages, world, union, clock):
    case = world.case(State.documented)
    colleague = world.account("head", union)
    colleague.display_name = "王建华"
    world.session.commit()
    client = pages.as_(world.person("head", union))
    shown = Page(client.get(f"/cases/{case.id}"))  # the page this head keeps open
    seen = re.search(r'name="seen" value="(\d+)"', shown.text)[1]
    old_version = case.version
    # Meanwhile another head of the union approves it (and a reveal, which changes nothing, follows).
    clock.advance(minutes=20)
    world.fire(case, "approve", colleague, comment="同意")
    verbs.reveal(world.session, colleague, clock, case.id, "id_number")
    current = fresh(world, case)
    before = audit_count(world, case), current.version

    response = act(client, case, "return", comment="请补充户口本", version=str(old_version), seen=seen)
    page = Page(response)
    assert response.status_code == 409
    assert "该案件在您打开此页之后已有变动" in page.text and "请刷新" not in page.text
    # What changed, by whom (their name, not their username) and when, beside the buttons, in view.
    start = page.text.index('id="stale"')
    stale = re.sub(r"<(?!/?ul)[^>]+>", "", page.text[start:page.text.index("</ul>", start)])  # as read
    assert "基层审核通过 → 基层已审核" in stale and "2018-01-08 09:20 · 王建华（基层工会负责人）" in stale
    assert "同意" in stale and colleague.username not in stale and "查看完整号码" not in stale
    assert page.text.index('id="stale"') < page.text.index('name="comment"')
    assert 'role="alert" id="stale"' in page.text
    # The comment typed is still there; the case shown is the current one, with the actions now possible.
    assert page.textarea["comment"] == "请补充户口本"
    assert (audit_count(world, case), fresh(world, case).version) == before
    assert '<span class="tag state" id="case-state">基层已审核</span>' in page.text
    assert page.enabled == ["return", "publicize", "withdraw"]
    assert f'name="version" value="{before[1]}"' in page.text
    # Pressing again does what was meant.
    assert act(client, current, "return", comment="请补充户口本").status_code == 302
    assert fresh(world, case).state == State.drafted


def test_a_stale_page_without_its_trail_mark_still_says_the_case_changed(pages, world, union):
    case = world.case(State.documented)
    world.session.commit()
    client = pages.as_(world.person("head", union))
    old_version = case.version
    world.fire(case, "approve", world.account("head", union))
    world.session.commit()

    response = act(client, case, "return", comment="请补充户口本", version=str(old_version))  # no "seen": an old form
    page = Page(response)
    assert response.status_code == 409 and "该案件在您打开此页之后已有变动" in page.text
    assert page.textarea["comment"] == "请补充户口本" and fresh(world, case).state == State.grassroots_approved


def test_finance_is_asked_for_the_payment_reference_and_keeps_it(pages, world, union):
    case = world.case(State.district_approved)
    world.session.commit()
    client = pages.as_(world.person("finance"))
    before = audit_count(world, case)

    response = act(client, case, "disburse", payment_reference=" ")
    assert response.status_code == 409 and "请填写付款凭证号" in Page(response).text
    typed = "ICBC-" + "9" * 60
    response = act(client, case, "disburse", payment_reference=typed)
    assert response.status_code == 400 and "太长，最多64个字" in Page(response).text
    assert f'name="payment_reference" maxlength="64" value="{typed}"' in Page(response).text
    assert fresh(world, case).state == State.district_approved and audit_count(world, case) == before

    response = act(client, case, "disburse", payment_reference="ICBC-20180110-001")
    assert response.status_code == 302 and flashes(client) == ["已完成：发放。案件现为「已发放」"]
    assert "付款凭证号</dt><dd>ICBC-20180110-001" in client.get(f"/cases/{case.id}").get_data(as_text=True)


def test_another_unions_cadre_does_not_find_the_case(pages, world, union):
    case = world.case(State.documented)
    stranger = world.person("cadre", world.union("远方纺织厂工会"))
    world.session.commit()
    client = pages.as_(stranger)
    before = audit_count(world, case), case.version

    assert client.get(f"/cases/{case.id}").status_code == 404
    for path, form in ((f"/cases/{case.id}/act", {"trigger": "withdraw", "comment": "撤回", "version": case.version}),
                       (f"/cases/{case.id}/reveal", {"field": "id_number"})):
        response = client.post(path, form)
        assert response.status_code == 404 and case.id_number not in response.get_data(as_text=True)
    assert (audit_count(world, case), fresh(world, case).version) == before


# ------------------------------------------------------------------ revealing a number

def test_the_full_id_number_is_shown_once_on_request_and_audited(pages, world, union):
    case = world.case(State.documented)
    world.session.commit()
    client = pages.as_(world.person("head", union))

    before = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert case.id_number not in before and case.masked_id_number in before
    assert case.bank_account not in before
    assert audit_count(world, case, "reveal") == 0

    response = client.post(f"/cases/{case.id}/reveal", {"field": "id_number"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count(case.id_number) == 1 and "（已记录查看）" in page
    assert case.bank_account not in page  # one number at a time
    world.session.commit()
    [event] = world.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                             AuditEvent.action == "reveal")).all()
    assert event.actor_id == world.person("head", union).id and event.changes == {"revealed": [None, "id_number"]}
    assert case.id_number not in str(event.changes)

    # Once: the next visit shows the masked number again, and writes nothing.
    again = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert case.id_number not in again and audit_count(world, case, "reveal") == 1

    response = client.post(f"/cases/{case.id}/reveal", {"field": "bank_account"})
    assert response.get_data(as_text=True).count(case.bank_account) == 1
    assert audit_count(world, case, "reveal") == 2


def test_an_auditor_may_not_reveal_and_is_not_offered_to(pages, world, union):
    case = world.case(State.entered)
    auditor = world.person("auditor")
    world.session.commit()
    client = pages.as_(auditor)

    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "/reveal" not in page and "查看完整号码" not in page and case.id_number not in page

    response = client.post(f"/cases/{case.id}/reveal", {"field": "id_number"})
    assert response.status_code == 403 and case.id_number not in response.get_data(as_text=True)
    assert audit_count(world, case, "reveal") == 0


def test_a_member_id_number_is_masked_on_the_page(pages, world, union):
    member_id = id_number(male=False)
    case = world.draft(household={"annual_income": "24000", "housing": "租住公房", "members": [
        {"name": "李秀英", "relation": "配偶", "id_number": member_id, "monthly_income": "800"}]})
    world.session.commit()
    page = pages.as_(world.person("cadre", union)).get(f"/cases/{case.id}").get_data(as_text=True)
    assert member_id not in page and f"{member_id[:6]}********{member_id[-4:]}" in page


# ------------------------------------------------------------------ objections

def objections(world, case) -> list[Objection]:
    world.session.commit()
    world.session.expire_all()
    return world.session.scalars(select(Objection).where(Objection.case_id == case.id)).all()


def test_an_empty_objection_is_refused_and_stores_nothing(pages, world, union):
    case = world.case(State.publicized)
    world.session.commit()
    client = pages.as_(world.person("cadre", union))
    before = audit_count(world, case), case.version

    response = client.post(f"/cases/{case.id}/objections", {"statement": "  "})
    assert response.status_code == 400 and "请填写异议内容" in response.get_data(as_text=True)
    assert objections(world, case) == []
    assert (audit_count(world, case), fresh(world, case).version) == before

    typed = "反映其家庭另有住房，" * 201  # over 2000 characters: refused, and kept for shortening
    response = client.post(f"/cases/{case.id}/objections", {"statement": typed})
    assert response.status_code == 400 and "太长，最多2000个字" in response.get_data(as_text=True)
    assert Page(response).textarea["statement"] == typed
    assert objections(world, case) == [] and audit_count(world, case) == before[0]


@pytest.mark.parametrize("outcome", ["dismissed", "upheld"])
def test_an_objection_blocks_entering_until_the_head_resolves_it(pages, world, union, outcome):
    case = world.case(State.publicized)
    world.session.commit()
    cadre, head = pages.as_(world.person("cadre", union)), pages.as_(world.person("head", union))

    response = cadre.post(f"/cases/{case.id}/objections", {"statement": "有群众反映其家庭另有住房"})
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case.id}#objections"
    assert flashes(cadre) == ["异议已登记，须由负责人处理后才能录入"]
    [objection] = objections(world, case)
    assert objection.status == "open"

    page = Page(cadre.get(f"/cases/{case.id}"))
    assert "有群众反映其家庭另有住房" in page.text and "未处理" in page.text
    assert page.disabled == {"录入报送": "公示期间有未处理的异议，须由负责人处理后才能录入"}
    assert "异议不成立，继续办理" not in page.text  # only the head resolves

    # The head must say why: an empty resolution is refused, the objection stays open.
    response = head.post(f"/cases/{case.id}/objections/{objection.id}", {"outcome": outcome, "resolution": ""})
    assert response.status_code == 400 and "请填写处理意见" in response.get_data(as_text=True)
    assert objections(world, case)[0].status == "open"

    resolution = "经核实，反映不属实" if outcome == "dismissed" else "经核实，情况属实"
    # Before: the head's actions point to the objection to decide.
    assert "有待处理的异议：请在下方「异议」中作出处理" in Page(head.get(f"/cases/{case.id}")).text
    response = head.post(f"/cases/{case.id}/objections/{objection.id}", {"outcome": outcome, "resolution": resolution})
    # After: what is to be done now.
    assert response.status_code == 302 and flashes(head) == [
        "异议不成立，案件可继续办理" if outcome == "dismissed" else "异议成立：请退回修改或撤回该案件"]
    [objection] = objections(world, case)
    assert (objection.status, objection.resolution) == (outcome, resolution)

    page = Page(cadre.get(f"/cases/{case.id}"))
    assert f"处理意见：{resolution}" in page.text
    if outcome == "dismissed":
        assert page.enabled == ["enter", "withdraw"] and page.disabled == {}
        assert act(cadre, fresh(world, case), "enter").status_code == 302
        assert fresh(world, case).state == State.entered
    else:
        assert page.disabled == {"录入报送": "异议成立，须退回修改或撤回，不能录入"}
        shown = Page(head.get(f"/cases/{case.id}"))
        # Still the head's task (待处理异议) until the case is returned or withdrawn, and the page says what to do.
        assert shown.enabled == ["return", "withdraw"] and "异议成立：请退回修改或撤回该案件" in shown.text
    assert [e for e in Page(cadre.get(f"/cases/{case.id}")).timeline if "异议" in e] == ["登记异议", "处理异议"]


def test_an_objection_cannot_be_resolved_twice(pages, world, union):
    case = world.case(State.publicized)
    world.session.commit()
    head = pages.as_(world.person("head", union))
    head.post(f"/cases/{case.id}/objections", {"statement": "反映其收入不实"})
    [objection] = objections(world, case)
    path = f"/cases/{case.id}/objections/{objection.id}"
    assert head.post(path, {"outcome": "dismissed", "resolution": "不属实"}).status_code == 302
    before = audit_count(world, case)

    response = head.post(path, {"outcome": "upheld", "resolution": "又查属实"})
    assert response.status_code == 409 and "该异议已经处理过了" in response.get_data(as_text=True)
    assert objections(world, case)[0].status == "dismissed" and audit_count(world, case) == before


# ------------------------------------------------------------------ claims

def test_a_claim_keeps_other_reviewers_off_the_case_until_released(pages, world, union):
    case = world.case(State.entered)
    first = world.account("reviewer")
    first.display_name = "张审核"
    second = world.account("reviewer")
    second.display_name = "李审核"
    world.session.commit()
    a, b = pages.as_(first), pages.as_(second)

    page = Page(a.get(f"/cases/{case.id}"))
    assert "认领该案件" in page.text and "放弃认领" not in page.text

    response = a.post(f"/cases/{case.id}/claim")
    assert response.status_code == 302 and flashes(a) == ["已认领，其他人不会同时办理该案件"]
    assert fresh(world, case).claimed_by_id == first.id
    page = Page(a.get(f"/cases/{case.id}"))
    assert "认领人 张审核" in page.text and "放弃认领" in page.text
    assert page.enabled == ["district_approve", "district_return", "reject"]

    page = Page(b.get(f"/cases/{case.id}"))
    reason = "该案件已由张审核认领，由其办理"
    assert page.enabled == []
    assert page.disabled == {"区总审定通过": reason, "区总退回": reason, "不合格，驳回": reason}
    assert "认领该案件" not in page.text and "放弃认领" not in page.text
    before = audit_count(world, case)
    response = b.post(f"/cases/{case.id}/claim")
    assert response.status_code == 409 and reason in response.get_data(as_text=True)
    response = act(b, fresh(world, case), "district_approve")
    assert response.status_code == 409 and fresh(world, case).state == State.entered
    assert audit_count(world, case) == before

    response = a.post(f"/cases/{case.id}/release")
    assert response.status_code == 302 and flashes(a) == ["已放弃认领"]
    page = Page(b.get(f"/cases/{case.id}"))
    assert page.enabled == ["district_approve", "district_return", "reject"] and "认领该案件" in page.text
    assert Page(a.get(f"/cases/{case.id}")).timeline[-2:] == ["认领", "放弃认领"]


@pytest.mark.parametrize("state,role,offered", [
    (State.entered, "reviewer", True),
    (State.district_approved, "finance", True),
    (State.district_approved, "reviewer", False),  # the reviewer's part is done: nothing to claim
    (State.disbursed, "finance", False),
    (State.entered, "cadre", False),
])
def test_the_claim_button_is_offered_only_where_a_claim_is_possible(pages, world, union, state, role, offered):
    case = world.case(state)
    account = people(world, union)[role]
    world.session.commit()
    client = pages.as_(account)
    assert ("认领该案件" in client.get(f"/cases/{case.id}").get_data(as_text=True)) == offered
    if offered:
        assert client.post(f"/cases/{case.id}/claim").status_code == 302


# ------------------------------------------------------------------ timeline and diagram

def test_the_timeline_lists_the_case_events_in_order(pages, world, union, clock):
    case = world.case(State.documented)
    cadre, head = world.person("cadre", union), world.person("head", union)
    other = world.draft()  # another case worked on in between: none of its events show
    for step, actor in (("approve", head), ("publicize", cadre), ("enter", cadre)):
        clock.advance(hours=1)
        world.attach(other, ["application"])
        world.fire(case, step, actor)
    world.session.commit()
    client = pages.as_(world.person("reviewer"))
    client.post(f"/cases/{case.id}/claim")

    page = Page(client.get(f"/cases/{case.id}"))
    # Seven papers: every case's five, and the school's two for a household paying for schooling.
    assert page.timeline == ["起草申请", *["上传资料"] * 7, "资料齐全，提交审核",
                             "基层审核通过", "开始公示", "录入报送", "认领"]
    timeline = page.text[page.text.index('id="timeline"'):page.text.index("</ol>")]
    times = re.findall(r"(\d{4}-\d\d-\d\d \d\d:\d\d) · ", timeline)
    assert times == ["2018-01-08 09:00"] * 9 + ["2018-01-08 10:00", "2018-01-08 11:00", "2018-01-08 12:00",
                                                 "2018-01-08 12:00"]  # the claim, at the time of the last step
    assert f"{head.name}（基层工会负责人）" in page.text  # the person's name, as the screens show people
    assert audit_count(world, other) == 4 and "上传资料" not in page.timeline[9:]


def test_the_timeline_names_the_document_and_the_people(pages, world, union):
    case = world.draft()
    cadre = world.person("cadre", union)
    cadre.display_name = "马秀梅"
    number = case.id_number
    document = verbs.add_document(world.session, cadre, world.clock, world.uploads, case.id, "household_ids",
                                  f"身份证{number}.pdf", PDF)
    verbs.add_document(world.session, cadre, world.clock, world.uploads, case.id, "application", "申请书.pdf", PDF)
    verbs.remove_document(world.session, cadre, world.clock, world.uploads, case.id, document.id)
    world.session.commit()

    page = Page(pages.as_(world.person("head", union)).get(f"/cases/{case.id}"))
    timeline = re.sub(r"<[^>]+>", "", page.text[page.text.index('id="timeline"'):page.text.index("</ol>")])
    masked = number[:6] + "********" + number[-4:]
    # Which paper, by its kind and file name (a number in the name masked), and who: a name, not a username.
    assert f"上传资料：户口本、身份证复印件「身份证{masked}.pdf」" in timeline
    assert "上传资料：个人救助申请报告「申请书.pdf」" in timeline
    assert f"删除资料：户口本、身份证复印件「身份证{masked}.pdf」" in timeline
    assert number not in page.text and "SHA-256" not in timeline
    assert "马秀梅（基层工会干部）" in timeline and cadre.username not in timeline


@pytest.mark.parametrize("state", list(State))
def test_the_diagram_marks_the_current_state(pages, world, union, state):
    case = world.case(state)
    world.session.commit()
    page = Page(pages.as_(world.person("auditor")).get(f"/cases/{case.id}"))
    assert page.current == [state.value]
    assert f"当前状态：{state.label}" in page.text


def test_a_full_number_typed_into_a_comment_is_shown_masked_everywhere(pages, world, union):
    """DOMAIN.md: no full number in a list or a notice; people type them into comments all the same."""
    case = world.case(State.documented)
    number = case.id_number
    world.fire(case, "return", world.person("head", union), comment=f"身份证{number}与户口本不符")
    world.session.commit()
    masked = number[:6] + "********" + number[-4:]
    for account, path in ((world.person("auditor"), f"/cases/{case.id}"),
                          (world.person("cadre", union), f"/cases/{case.id}"),
                          (world.person("cadre", union), "/notifications/")):
        page = pages.as_(account).get(path).get_data(as_text=True)
        assert number not in page and masked in page, path


# ------------------------------------------------------------------ refusals where the eye is

class Alerts(HTMLParser):
    """The messages of a page said as alerts, each with the ids of the elements around it; the forms' actions."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "wbr"}

    def __init__(self, response) -> None:
        super().__init__()
        self.alerts: dict[str, list[str]] = {}  # text → the ids it is within, outermost first
        self.actions: list[str] = []
        self._open: list[tuple[str, str | None]] = []
        self._alert: tuple[int, list[str]] | None = None
        self.feed(response.get_data(as_text=True))

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.actions.append(a.get("action") or "")
        if tag in self.VOID:
            return
        self._open.append((tag, a.get("id")))
        if a.get("role") == "alert" and self._alert is None:
            self._alert = (len(self._open), [])

    def handle_endtag(self, tag):
        while self._open:
            if self._alert and len(self._open) == self._alert[0]:
                text = "".join(self._alert[1]).strip()
                self.alerts[text] = [i for _t, i in self._open[:-1] if i]
                self._alert = None
            if self._open.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._alert:
            self._alert[1].append(data)


def _goods_case(world, union):
    return world.case(State.district_approved, union=union,
                      aid={"kind": "goods", "goods_items": "大米25公斤", "goods_value": "300", "medical": False})


# form → (the case and who uses it, the refused post, its place on the page, what is said there)
REFUSALS = {
    "action": (lambda world, union: (world.case(State.documented), world.person("head", union)),
               lambda case: ("act", {"trigger": "return", "comment": "", "version": str(case.version)}),
               "actions", "请填写「退回修改」的理由"),
    "objection": (lambda world, union: (world.case(State.publicized), world.person("cadre", union)),
                  lambda case: ("objections", {"statement": " "}), "new-objection", "请填写异议内容"),
    "resolution": (lambda world, union: (world.case(State.publicized), world.person("head", union)),
                   lambda case: (f"objections/{case.objections[0].id}", {"outcome": "dismissed", "resolution": ""}),
                   "objection-{objection}", "请填写处理意见"),
    "receipt": (lambda world, union: (_goods_case(world, union), world.person("cadre", union)),
                lambda case: ("receipt", {"handed_by": "周丽华", "received_by": "", "received_on": "2018-01-08"}),
                "receipt", "请填写签收人"),
    "account": (lambda world, union: (world.case(State.payment_returned), world.person("cadre", union)),
                lambda case: ("account", {"bank_account": "6222000000000000001", "version": str(case.version)}),
                "correct-account", "银行账号校验位错误"),
    "claim": (lambda world, union: (world.case(State.entered), world.account("reviewer")),
              lambda case: ("claim", {}), "claim", "认领"),
    "upload": (lambda world, union: (world.draft(), world.person("cadre", union)),
               lambda case: ("documents", {"kind": "application"}), "documents", "请选择文件"),
}


@pytest.mark.parametrize("form", REFUSALS)
def test_a_refusal_is_said_beside_the_form_used_where_the_page_opens(pages, world, union, form):
    make, post, place, message = REFUSALS[form]
    case, person = make(world, union)
    if form == "resolution":
        verbs.record_objection(world.session, world.person("cadre", union), world.clock, case.id, "反映其另有住房")
    if form == "claim":  # another reviewer has it
        verbs.claim(world.session, world.account("reviewer"), world.clock, case.id)
    world.session.commit()
    place = place.format(objection=case.objections[0].id if case.objections else "")
    path, data = post(case)
    before = audit_count(world, case), fresh(world, case).version

    response = pages.as_(person).post(f"/cases/{case.id}/{path}", data)
    page = Alerts(response)
    assert response.status_code in (400, 409)
    [(said, around)] = page.alerts.items()
    assert message in said and place in around, (said, around)
    # The form posts to its place (the page opens there), and the page takes the case page's address at it.
    assert any(action == f"/cases/{case.id}/{path}#{place}" for action in page.actions), page.actions
    assert f'data-address="/cases/{case.id}#{place}"' in response.get_data(as_text=True)
    assert (audit_count(world, case), fresh(world, case).version) == before


def test_an_objection_resolved_meanwhile_is_said_at_the_objection(pages, world, union):
    case = world.case(State.publicized)
    objection = verbs.record_objection(world.session, world.person("cadre", union), world.clock, case.id, "另有住房")
    world.session.commit()
    client = pages.as_(world.person("head", union))
    client.post(f"/cases/{case.id}/objections/{objection.id}", {"outcome": "dismissed", "resolution": "不属实"})
    # A second tab still showing the form.
    response = client.post(f"/cases/{case.id}/objections/{objection.id}", {"outcome": "upheld", "resolution": "属实"})
    [(said, around)] = Alerts(response).alerts.items()
    assert response.status_code == 409 and "该异议已经处理过了" in said and f"objection-{objection.id}" in around


def test_a_refusal_whose_form_is_gone_is_said_with_the_actions(pages, world, union):
    """A returned payment corrected and reissued meanwhile: the correction form of an old tab is no longer on the
    page; its refusal is said with the actions, at the top of the page."""
    case = world.case(State.payment_returned)
    cadre = world.person("cadre", union)
    world.session.commit()
    client = pages.as_(cadre)
    old_version = case.version
    verbs.correct_account(world.session, cadre, world.clock, case.id, case.version, bank_account())
    world.fire(case, "reissue", world.person("finance"))
    world.session.commit()

    response = client.post(f"/cases/{case.id}/account", {"bank_account": bank_account(), "version": str(old_version)})
    page = Alerts(response)
    [(said, around)] = page.alerts.items()
    assert response.status_code == 409 and "actions" in around and "只有退票待处理的案件可以更正银行账号" in said
    assert 'id="correct-account"' not in response.get_data(as_text=True)
    assert f'data-address="/cases/{case.id}#actions"' in response.get_data(as_text=True)
